"""Per-coordinate normality tests: the compiled pass against scipy's per-column loop.

Run::

    OMP_NUM_THREADS=1 .venv/bin/pytest benchmarks/test_bench_gaussianity.py --benchmark-columns=min,median,max

Group ``normality-K100-d79400``: :func:`stabletail.sgd.gaussianity.normality_tests` (all three
tests, every column) against the loop the package used before (``scipy.stats.shapiro`` with
``axis=0``, ``scipy.stats.anderson`` per column, ``scipy.stats.jarque_bera`` with ``axis=0``).
The scipy loop is timed on the first 2,000 columns and scaled to d = 79,400 (its cost is linear
in the number of columns); ``test_speed_ratio`` prints the ratio of medians.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

from stabletail.sgd.gaussianity import normality_tests

K, D, D_SCIPY = 100, 79_400, 2_000


@pytest.fixture(scope="module")
def noise():
    return np.random.default_rng(0).standard_t(5, (K, D))


def _scipy_loop(x):
    stats.shapiro(x, axis=0)
    [stats.anderson(x[:, j], method="interpolate") for j in range(x.shape[1])]
    stats.jarque_bera(x, axis=0)


@pytest.mark.benchmark(group="normality-K100-d79400")
def test_stabletail(benchmark, noise):
    normality_tests(noise)  # compile outside the timing
    benchmark(normality_tests, noise)


@pytest.mark.benchmark(group="normality-K100-d79400")
def test_scipy_loop_2000_columns(benchmark, noise):
    benchmark.pedantic(_scipy_loop, args=(noise[:, :D_SCIPY],), rounds=3, iterations=1)


def test_speed_ratio(noise):
    normality_tests(noise)
    ours, peer = [], []
    for _ in range(3):  # alternated rounds, median of each
        t = time.perf_counter()
        normality_tests(noise)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        _scipy_loop(noise[:, :D_SCIPY])
        peer.append((time.perf_counter() - t) * D / D_SCIPY)
    ratio = np.median(peer) / np.median(ours)
    print(f"\nnormality tests, K = {K}, d = {D}: stabletail {np.median(ours) * 1e3:.0f} ms, "
          f"scipy loop {np.median(peer):.1f} s (scaled from {D_SCIPY} columns): {ratio:.0f}x")
    assert ratio > 1.0  # a sanity floor only; the goal (100x) is read from the printed ratio
