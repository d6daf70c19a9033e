"""Power-law tails (Clauset-Shalizi-Newman): stabletail's xmin scan against the ``powerlaw`` package.

Run::

    OMP_NUM_THREADS=1 .venv/bin/pytest benchmarks/test_bench_powerlaw.py --benchmark-columns=min,median,max

Data: Pareto, tail index 1.5 (the package's exponent 2.5), seeded. Goals (issue 13): the whole
scan at n = 10^5 within 0.1 s; at n = 10^4 at least 100x the package (its fit grows as n^2: the
package's n = 10^5 takes minutes, so it runs at 10^4 only); 2,500 bootstrap replicates of the
goodness-of-fit test at n = 10^4 within 10 s. The peer is skipped when the package is not
installed (it is no dependency of stabletail).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from stabletail.estimators import powerlaw_gof, powerlaw_tail


def _pareto(n, seed):
    return (1.0 - np.random.default_rng(seed).random(n)) ** (-1.0 / 1.5)


@pytest.mark.parametrize("n", [10_000, 100_000])
@pytest.mark.benchmark(group="powerlaw-fit")
def test_stabletail_fit(benchmark, n):
    x = _pareto(n, 0)
    powerlaw_tail(x)  # compile outside the timing
    res = benchmark(powerlaw_tail, x)
    assert abs(res.alpha - 1.5) < 5 * res.stderr


@pytest.mark.benchmark(group="powerlaw-fit")
def test_powerlaw_package_fit(benchmark):
    powerlaw = pytest.importorskip("powerlaw")
    x = _pareto(10_000, 0)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return powerlaw.Fit(x, verbose=False)

    f = benchmark.pedantic(run, rounds=3, iterations=1)
    assert f.xmin == powerlaw_tail(x, min_tail=2).xmin


@pytest.mark.benchmark(group="powerlaw-gof")
def test_stabletail_gof_2500(benchmark):
    x = _pareto(10_000, 1)
    fit = powerlaw_tail(x)
    powerlaw_gof(x, fit, n_boot=64, random_state=0, progress=False)  # compile
    res = benchmark.pedantic(powerlaw_gof, args=(x, fit), kwargs={"n_boot": 2500, "random_state": 1,
                                                                  "progress": False}, rounds=3, iterations=1)
    assert res.n_boot == 2500
