"""Goodness of fit of a stable fit by parametric bootstrap: 1,000 refitted samples at n = 10^4.

Run::

    OMP_NUM_THREADS=1 .venv/bin/pytest benchmarks/test_bench_gof.py --benchmark-columns=min,median,max

The goal (issue 12) is 10 s for 1,000 replicates at n = 10^4; one replicate is a draw of
10^4 values, an MLE fit and the fitted distribution function at the sample. There is no
peer that refits (scipy's ``goodness_of_fit`` with ``fit_params`` would call scipy's own
levy_stable fit, about a minute per fit at n = 200).
"""

from __future__ import annotations

import pytest

from stabletail import fit, stable


@pytest.fixture(scope="module")
def fitted():
    x = stable.rvs(1.5, 0.2, size=10_000, random_state=0)
    return fit.fit(x), x


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.benchmark(group="gof-1000-n1e4")
def test_gof_1000_replicates(benchmark, fitted, workers):
    res, x = fitted
    benchmark.pedantic(fit.gof, args=(res, x), kwargs={"n_boot": 1000, "random_state": 1, "workers": workers,
                                                       "progress": False}, rounds=3, iterations=1)
