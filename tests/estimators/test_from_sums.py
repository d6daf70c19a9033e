"""One home for the from-sums finalisation and the block-size rule (issues 11 and 15)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stabletail import estimators as est
from stabletail import stable


def _brute_block(n):
    return max(k for k in range(1, math.isqrt(n) + 1) if n % k == 0)


@given(st.integers(1, 10**7))
def test_sqrt_block_size_is_the_largest_divisor_below_the_root(n):
    assert est.sqrt_block_size(n) == _brute_block(n)


@pytest.mark.parametrize(
    "n, k1",
    [(2**61 - 1, 1), (10**16, 10**8), (2**62, 2**31), ((2**31 - 1) * (2**31 - 19), 2**31 - 19),
     (600851475143, 71 * 6857)],
)
def test_sqrt_block_size_of_large_n_is_exact_and_immediate(n, k1):
    # known factorisations: 2^61 - 1 is a Mersenne prime; 600851475143 = 71 * 839 * 1471 * 6857
    assert est.sqrt_block_size(n) == k1
    assert n % k1 == 0 and k1 * k1 <= n
    if n < 10**12:  # small enough for the brute-force rule
        assert k1 == _brute_block(n)


def _log_sums(x, k1):
    lx = np.log(np.abs(x))
    ly = np.log(np.abs(x.reshape(-1, k1).sum(1)))
    return lx.sum(), (lx * lx).sum(), lx.size, ly.sum(), (ly * ly).sum(), ly.size


def test_from_sums_gives_the_estimators_point_estimate():
    x = stable.rvs(1.4, 0.0, size=60_000, random_state=3)
    direct = est.mohammadi(x, block_size=6)
    r = est.mohammadi_from_log_sums(*_log_sums(x, 6), 6)
    assert r.alpha == pytest.approx(direct.alpha, rel=1e-10)
    # separate sums omit the (positive) covariance of a block sum with its own values:
    # the error is never below the paired one, and within a factor 2 of it here
    assert direct.stderr <= r.stderr <= 2 * direct.stderr
    lo, hi = r.ci(0.95)
    assert lo < r.alpha < hi and r.params["block_size"] == 6 and r.params["n_blocks"] == 10_000


def test_from_sums_interval_covers_the_truth():
    # 200 replications of n = 6,000 iid S alpha S(1.5): 95% intervals cover at least the
    # binomial lower limit (the separate-sums error is conservative); 4 sd of a 95% rate is 0.062
    hits = 0
    for seed in range(200):
        x = stable.rvs(1.5, 0.0, size=6_000, random_state=seed)
        lo, hi = est.mohammadi_from_log_sums(*_log_sums(x, 6), 6).ci(0.95)
        hits += lo <= 1.5 <= hi
    assert hits / 200 >= 0.95 - 0.062


def test_from_sums_without_an_estimate_is_nan_not_a_number():
    # no blocks, K1 < 2, non-finite sums, and noise that is the same constant everywhere
    # (a zero gradient: every log is log(eps)); the last gave alpha ~ 4e14 "ok" before
    cases = [(0.0, 0.0, 0, 0.0, 0.0, 0, 6), (1.0, 1.0, 10, 1.0, 1.0, 5, 1),
             (math.inf, math.inf, 10, 1.0, 1.0, 5, 2)]
    c = math.log(1e-30)
    cases.append((600 * c, 600 * c * c, 600, 100 * (c + math.log(6)), 100 * (c + math.log(6)) ** 2, 100, 6))
    for args in cases:
        r = est.mohammadi_from_log_sums(*args)
        assert math.isnan(r.alpha) and math.isnan(r.stderr) and all(math.isnan(v) for v in r.ci())


def test_no_growth_of_block_sums_gives_inf_alpha_with_undefined_stderr():
    # alternating signs: block sums of 6 values stay small, so 1/alpha is estimated below 0;
    # alpha = inf, the delta-method error is undefined (NaN), the interval reaches inf
    rng = np.random.default_rng(0)
    x = np.where(np.arange(60_000) % 2 == 0, 1.0, -1.0) * (1.0 + 0.1 * rng.uniform(size=60_000))
    r = est.mohammadi_from_log_sums(*_log_sums(x, 6), 6)
    assert r.xi < 0 and r.alpha == math.inf and math.isnan(r.stderr)
    assert r.ci()[1] == math.inf
