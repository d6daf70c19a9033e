"""Speed of stabletail.estimators against a one-pass floor and peers, in the same run.

Run::

    OMP_NUM_THREADS=1 STABLETAIL_TAIL_ESTIMATION=/path/to/tail_estimation.py \\
        .venv/bin/pytest benchmarks/test_bench_estimators.py --benchmark-columns=min,median,max

Groups (compare medians inside a group):

* ``onepass-1e8-float32``: ``mohammadi`` and ``log_moment`` on 1e8 float32 values, the
  floor ``np.abs(x).sum()`` and the plain numpy formulas.
* ``hill-dbs-1e5``: ``hill(k="dbs")`` on 1e5 values and, when the environment variable
  ``STABLETAIL_TAIL_ESTIMATION`` points at the tail-estimation script of Voitalov et al.
  (2019) (kept outside this repository), its ``hill_estimator`` on the same data.

``test_dbs_agrees_with_tail_estimation`` checks that both double bootstraps pick the same
k and alpha up to bootstrap noise (20 runs each, two-sample bound).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import os

import numpy as np
import pytest

from stabletail import estimators as est

N_BIG = 10**8
N_HILL = 10**5


def _peer():
    path = os.environ.get("STABLETAIL_TAIL_ESTIMATION")
    if not path:
        pytest.skip("set STABLETAIL_TAIL_ESTIMATION to the tail-estimation script to compare with it")
    spec = importlib.util.spec_from_file_location("tail_estimation_peer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _peer_hill(mod, x):
    ordered = np.sort(np.abs(x))[::-1]
    with contextlib.redirect_stdout(io.StringIO()):  # the script prints its results
        res = mod.hill_estimator(ordered, eps_stop=0.99)
    return res[2], 1.0 / res[3]


@pytest.fixture(scope="module")
def big32():
    rng = np.random.default_rng(0)
    x = np.empty(N_BIG, np.float32)
    step = 10**7
    for i in range(0, N_BIG, step):
        x[i : i + step] = rng.standard_cauchy(step)
    return x


@pytest.fixture(scope="module")
def hill_data():
    rng = np.random.default_rng(1)
    return rng.standard_t(1.5, N_HILL)


def numpy_mohammadi(x, k1=6):
    k2 = x.size // k1
    w = x[: k1 * k2].reshape(k2, k1)
    return 1.0 / ((np.log(np.abs(w.sum(1))).mean() - np.log(np.abs(w)).mean()) / math.log(k1))


def numpy_log_moment(x):
    return (6 * np.log(np.abs(x)).var() / math.pi**2 - 0.5) ** -0.5


PEDANTIC = dict(rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="onepass-1e8-float32")
def test_floor_abs_sum(benchmark, big32):
    benchmark.pedantic(lambda: np.abs(big32).sum(), **PEDANTIC)


@pytest.mark.benchmark(group="onepass-1e8-float32")
def test_mohammadi_1e8(benchmark, big32):
    r = benchmark.pedantic(lambda: est.mohammadi(big32), **PEDANTIC)
    assert abs(r.alpha - 1.0) < 5 * r.stderr


@pytest.mark.benchmark(group="onepass-1e8-float32")
def test_log_moment_1e8(benchmark, big32):
    r = benchmark.pedantic(lambda: est.log_moment(big32), **PEDANTIC)
    assert abs(r.alpha - 1.0) < 5 * r.stderr


@pytest.mark.benchmark(group="onepass-1e8-float32")
def test_numpy_mohammadi_formula_1e8(benchmark, big32):
    a = benchmark.pedantic(lambda: numpy_mohammadi(big32), rounds=2, iterations=1)
    assert a == pytest.approx(est.mohammadi(big32).alpha, rel=1e-4)  # float32 logs in numpy


@pytest.mark.benchmark(group="onepass-1e8-float32")
def test_numpy_log_moment_formula_1e8(benchmark, big32):
    a = benchmark.pedantic(lambda: numpy_log_moment(big32), rounds=2, iterations=1)
    assert a == pytest.approx(est.log_moment(big32).alpha, rel=1e-4)


@pytest.mark.benchmark(group="hill-dbs-1e5")
def test_hill_dbs_1e5(benchmark, hill_data):
    est.hill(hill_data[:1000], random_state=0)  # compile outside the timing
    r = benchmark.pedantic(lambda: est.hill(hill_data, random_state=0), rounds=5, iterations=1)
    assert r.params["k"] > 10


@pytest.mark.benchmark(group="hill-dbs-1e5")
def test_tail_estimation_hill_dbs_1e5(benchmark, hill_data):
    mod = _peer()
    benchmark.pedantic(lambda: _peer_hill(mod, hill_data), rounds=2, iterations=1)


@pytest.mark.parametrize("dist", ["pareto-1.5", "student-t-2", "stable-1.5"])
def test_dbs_agrees_with_tail_estimation(dist):
    """Both double bootstraps, R = 20 runs each on the same 1e4 values (|x|).

    k* varies from run to run (bootstrap noise), so the two means of k* are compared with
    a two-sample z bound: |mean_ours - mean_peer| < 4 sqrt(sd_ours^2/R + sd_peer^2/R) (+1 for
    the rounding of k*); the same for alpha.
    """
    mod = _peer()
    rng = np.random.default_rng(2)
    n, R = 10_000, 20
    if dist == "pareto-1.5":
        x = (1.0 - rng.random(n)) ** (-1 / 1.5)
    elif dist == "student-t-2":
        x = rng.standard_t(2.0, n)
    else:
        a = 1.5
        u = rng.uniform(-np.pi / 2, np.pi / 2, n)
        w = rng.exponential(size=n)
        x = np.sin(a * u) / np.cos(u) ** (1 / a) * (np.cos((1 - a) * u) / w) ** ((1 - a) / a)
    peer = np.array([_peer_hill(mod, x) for _ in range(R)])
    ours = [est.hill(x, random_state=i) for i in range(R)]
    ours = np.array([(r.params["k"], r.alpha) for r in ours])
    for j, name in enumerate(("k*", "alpha")):
        mp, mo = peer[:, j].mean(), ours[:, j].mean()
        bound = 4 * math.sqrt((peer[:, j].var(ddof=1) + ours[:, j].var(ddof=1)) / R) + (1 if j == 0 else 1e-9)
        print(f"{dist} {name}: tail-estimation {mp:.4g} (sd {peer[:, j].std(ddof=1):.3g}), "
              f"stabletail {mo:.4g} (sd {ours[:, j].std(ddof=1):.3g})")
        assert abs(mo - mp) < bound, (dist, name, mp, mo, bound)
