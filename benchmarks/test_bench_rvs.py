"""Speed of stabletail.stable.rvs against scipy.stats.levy_stable.rvs (same run).

Run: ``.venv/bin/pytest benchmarks/test_bench_rvs.py --benchmark-only --benchmark-columns=min,median,rounds``
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from stabletail import stable


def test_rvs_ours(benchmark):
    stable.rvs(1.5, 0.5, size=10, random_state=0)
    benchmark.group = "rvs 1e6"
    benchmark.extra_info["points"] = 10**6
    benchmark(stable.rvs, 1.5, 0.5, size=10**6, random_state=0)


def test_rvs_scipy(benchmark):
    benchmark.group = "rvs 1e6"
    benchmark.extra_info["points"] = 10**6
    rng = np.random.default_rng(0)
    benchmark.pedantic(stats.levy_stable.rvs, args=(1.5, 0.5), kwargs=dict(size=10**6, random_state=rng), rounds=3)
