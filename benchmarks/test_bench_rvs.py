"""Speed of stabletail.stable.rvs against scipy.stats.levy_stable.rvs (same run).

10**6 draws per call for several (alpha, beta, parameterisation); ours with all
numba threads and with one (scipy is single-threaded). Each case is its own
benchmark group, so the ratio column compares the three rows of one case.

Run: ``.venv/bin/pytest benchmarks/test_bench_rvs.py --benchmark-only --benchmark-columns=min,median,rounds``
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from stabletail import stable

N = 10**6
CASES = [
    (1.5, 0.5, "S0"),  # the case
    (0.5, 0.0, "S0"),
    (1.0, 0.0, "S0"),
    (0.7, 0.7, "S0"),
    (1.5, 0.7, "S0"),
    (1.9, 0.7, "S0"),
    (1.0, 0.7, "S1"),
]
IDS = [f"a{a}-b{b}-{p}" for a, b, p in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("threads", ["all", "1"])
def test_rvs_ours(benchmark, case, threads):
    a, b, par = case
    benchmark.group = f"rvs 1e6 {a} {b} {par}"
    benchmark.extra_info["points"] = N
    stable.rvs(a, b, size=10, random_state=0, parameterization=par)  # compile / load outside the timing
    old = numba.get_num_threads()
    try:
        if threads == "1":
            numba.set_num_threads(1)
        benchmark(stable.rvs, a, b, size=N, random_state=0, parameterization=par)
    finally:
        numba.set_num_threads(old)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_rvs_scipy(benchmark, case):
    # scipy's default parameterisation (S1); its S0 only adds a shift
    a, b, par = case
    benchmark.group = f"rvs 1e6 {a} {b} {par}"
    benchmark.extra_info["points"] = N
    rng = np.random.default_rng(0)
    benchmark.pedantic(stats.levy_stable.rvs, args=(a, b), kwargs={"size": N, "random_state": rng}, rounds=3)
