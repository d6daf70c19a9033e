"""Speed of stabletail.stable against scipy.stats.levy_stable (and libstable when importable).

Run::

    .venv/bin/pytest benchmarks/test_bench_stable.py --benchmark-only --benchmark-columns=min,median,rounds
(libstable is measured when ``pystable`` imports: put its package on ``PYTHONPATH`` and
a ``libgsl.so.25`` on ``LD_LIBRARY_PATH``, see ``docs/stable.md``).

Per point times are what to compare: scipy is timed on a smaller point set
(it takes ~0.2-1 ms per point) in the same run. Our pdf / cdf on 10^4 points is
timed "cold" (the per-(alpha, beta) interpolant cache is cleared before every
round, so its construction is included) and "warm" (cached, as in repeated
calls with the same parameters). ppf: ours on 10^4 probabilities (cold),
scipy's generic root finding on 4.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import stats

from stabletail import stable

N_OURS = 10_000
N_SCIPY = 40
CASES = [(1.5, 0.5), (0.8, -0.3), (1.9, 0.9), (0.4, 0.2)]


def _points(alpha, beta, n, seed=0):
    return np.sort(stable.rvs(alpha, beta, size=n, random_state=seed, parameterization="S1"))


def _clear():
    stable._table.cache_clear()
    stable._plans.cache_clear()
    stable._edge_values.cache_clear()


@pytest.mark.parametrize("alpha,beta", CASES)
@pytest.mark.parametrize("fn", ["pdf", "cdf"])
def test_ours_cold(benchmark, fn, alpha, beta):
    x = _points(alpha, beta, N_OURS)
    f = getattr(stable, fn)
    f(x[:10], alpha, beta, parameterization="S1")  # compile

    def run():
        _clear()
        return f(x, alpha, beta, parameterization="S1")

    benchmark.group = f"{fn} a={alpha} b={beta}"
    benchmark.extra_info["points"] = N_OURS
    benchmark(run)


def _bench_ours_warm(benchmark, fn, alpha, beta, n):
    x = _points(alpha, beta, n)
    f = getattr(stable, fn)
    f(x, alpha, beta, parameterization="S1")
    benchmark.group = f"{fn} a={alpha} b={beta}"
    benchmark.extra_info["points"] = n
    benchmark(f, x, alpha, beta, parameterization="S1")


@pytest.mark.parametrize("alpha,beta", CASES)
@pytest.mark.parametrize("fn", ["pdf", "cdf"])
def test_ours_warm(benchmark, fn, alpha, beta):
    _bench_ours_warm(benchmark, fn, alpha, beta, N_OURS)


@pytest.mark.parametrize("alpha,beta", CASES)
@pytest.mark.parametrize("fn", ["pdf", "cdf"])
def test_ours_direct_small(benchmark, fn, alpha, beta):
    """A call below the interpolant threshold (every point by quadrature / series)."""
    _bench_ours_warm(benchmark, fn, alpha, beta, N_SCIPY)


@pytest.mark.parametrize("alpha,beta", CASES)
@pytest.mark.parametrize("fn", ["pdf", "cdf"])
def test_scipy(benchmark, fn, alpha, beta):
    x = _points(alpha, beta, N_SCIPY)
    f = getattr(stats.levy_stable, fn)
    benchmark.group = f"{fn} a={alpha} b={beta}"
    benchmark.extra_info["points"] = N_SCIPY
    benchmark.pedantic(f, args=(x, alpha, beta), rounds=3, iterations=1)


@pytest.mark.parametrize("alpha,beta", CASES)
@pytest.mark.parametrize("fn", ["pdf", "cdf"])
def test_libstable(benchmark, fn, alpha, beta):
    """libstable (C) through pystable; its bundled .so is picked by the glibc version,
    so the Linux build is passed explicitly (it needs libgsl.so.25 on LD_LIBRARY_PATH)."""
    pystable = pytest.importorskip("pystable")
    path = os.path.join(
        os.path.dirname(pystable.__file__), "_extensions", "linux", "gclib-2-33", "libstable.so"
    )
    try:
        dist = pystable.create(alpha=alpha, beta=beta, sigma=1.0, mu=0.0, parameterization=1, path=path)
    except OSError as exc:  # pragma: no cover
        pytest.skip(f"libstable does not load: {exc}")
    x = _points(alpha, beta, 2000)
    benchmark.group = f"{fn} a={alpha} b={beta}"
    benchmark.extra_info["points"] = x.size
    benchmark.pedantic(
        getattr(pystable, fn), args=(dist, x.tolist(), x.size), kwargs=dict(path=path), rounds=3
    )


N_SCIPY_PPF = 4


def _probs(n, seed=0):
    return np.random.default_rng(seed).uniform(0.0, 1.0, n)


@pytest.mark.parametrize("alpha,beta", CASES)
def test_ppf_ours_cold(benchmark, alpha, beta):
    q = _probs(N_OURS)
    stable.ppf(q[:10], alpha, beta, parameterization="S1")  # compile

    def run():
        _clear()
        return stable.ppf(q, alpha, beta, parameterization="S1")

    benchmark.group = f"ppf a={alpha} b={beta}"
    benchmark.extra_info["points"] = N_OURS
    benchmark.pedantic(run, rounds=5, iterations=1)


@pytest.mark.parametrize("alpha,beta", CASES)
def test_ppf_scipy(benchmark, alpha, beta):
    q = _probs(N_SCIPY_PPF)
    benchmark.group = f"ppf a={alpha} b={beta}"
    benchmark.extra_info["points"] = N_SCIPY_PPF
    benchmark.pedantic(stats.levy_stable.ppf, args=(q, alpha, beta), rounds=1, iterations=1)
