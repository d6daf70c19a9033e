"""Hostile but fair input to stabletail.fit: regression tests of issue 15, items 1-4, and more.

Setup as in the issue: ``X = stable.rvs(1.5, .3, 2, 1, size=2000, random_state=1)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stabletail.fit as F
from stabletail import stable

X = stable.rvs(1.5, 0.3, 2, 1, size=2000, random_state=1)
METHODS = ("quantile", "ecf", "mle")


# ------------------------------------------------------------------------------------------------
# item 1: estimates on the boundary of the parameter space


@pytest.mark.parametrize("method", METHODS)
def test_boundary_estimate_has_honest_interval(method):
    """beta estimated at 1 (n = 200): flagged, a positive standard error, interval cut at the edge."""
    x = stable.rvs(1.5, 0.8, size=200, random_state=6)
    r = F.fit(x, method=method)
    if r.beta == 1.0:
        assert "beta" in r.at_boundary
        lo, hi = r.ci()["beta"]
        assert hi == 1.0 and lo < 1.0 and r.stderr.beta > 0.0
    else:
        assert "beta" not in r.at_boundary


@pytest.mark.slow
def test_boundary_coverage_of_beta():
    """R = 100, n = 200, alpha 1.5, beta 0.8: beta's 95% interval covers the truth in >= 88.5%.

    Before: 48-74% (ecf), 48-90% (quantile) from zero standard errors at the clip.  Coverage sd
    at R = 100 is 2.2 points: 95 - 3 sd = 88.5.  Measured 96-97% for all three methods, with
    20-43% of the estimates on the edge.
    """
    rng = np.random.default_rng(5)
    cover = dict.fromkeys(METHODS, 0)
    for _ in range(100):
        x = stable.rvs(1.5, 0.8, size=200, random_state=rng)
        for m in METHODS:
            lo, hi = F.fit(x, method=m).ci()["beta"]
            cover[m] += lo <= 0.8 <= hi
    assert min(cover.values()) >= 89, cover


# ------------------------------------------------------------------------------------------------
# item 2: fixed parameters


def test_fixed_scale_does_not_distort_quantile_errors():
    """alpha and beta of the quantile method do not depend on the scale: neither do their errors."""
    free = F.quantile(X)
    fixed = F.quantile(X, fix={"scale": 1000})
    assert fixed.alpha == pytest.approx(free.alpha, rel=1e-12)
    assert fixed.stderr.alpha == pytest.approx(free.stderr.alpha, rel=1e-6)
    assert fixed.stderr.beta == pytest.approx(free.stderr.beta, rel=1e-6)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fix", [{"scale": 0.2}, {"scale": 1000.0}, {"alpha": 0.3}])
def test_absurd_fixed_values_are_not_a_confident_fit(method, fix):
    """Never converged=True with a zero standard error for a free parameter; say why when in doubt."""
    r = F.fit(X, method=method, fix=fix)
    free_se = [se for name, se in zip(("alpha", "beta", "scale", "loc"), r.stderr) if name not in fix]
    if r.converged:
        assert all(se != 0.0 for se in free_se), r
    else:
        assert r.message


def test_mle_score_test_flags_rejected_fixed_value():
    r = F.mle(X, fix={"alpha": 0.3})
    assert "reject" in r.message and "alpha" in r.message
    ok = F.mle(X, fix={"scale": 2.0})
    assert "reject" not in ok.message


# ------------------------------------------------------------------------------------------------
# item 3: observations whose density underflows


def test_mle_does_not_ignore_far_outlier():
    """One point at 1e140 pulls alpha down (the likelihood's maximum moves to about 1.15), and the
    reported log-likelihood is the stable law's, outlier included (no floor)."""
    base = F.mle(X)
    r = F.mle(np.append(X, 1e140))
    assert r.alpha < base.alpha - 0.2
    ref = stable.logpdf(np.append(X, 1e140), r.alpha, r.beta, r.scale, r.loc).sum()
    assert np.isfinite(ref) and r.loglik == pytest.approx(ref, abs=1e-3)


# ------------------------------------------------------------------------------------------------
# item 4: scale equivariance over 1e-300..1e300


@settings(max_examples=8, deadline=None)
@given(st.integers(-300, 300), st.sampled_from(METHODS))
def test_scale_equivariance(e10, method):
    """fit(k X) = (alpha, beta, k scale, k loc) with standard errors scaled alike, k = 10**e10."""
    k = 10.0**e10
    base = F.fit(X, method=method)
    r = F.fit(X * k, method=method)
    assert r.converged == base.converged
    assert r.alpha == pytest.approx(base.alpha, rel=1e-9)
    assert r.beta == pytest.approx(base.beta, rel=1e-9, abs=1e-12)
    assert r.scale / k == pytest.approx(base.scale, rel=1e-9)
    assert r.loc / k == pytest.approx(base.loc, rel=1e-9)
    for name in ("alpha", "beta"):
        assert getattr(r.stderr, name) == pytest.approx(getattr(base.stderr, name), rel=1e-6)
    for name in ("scale", "loc"):
        assert getattr(r.stderr, name) / k == pytest.approx(getattr(base.stderr, name), rel=1e-6)
        assert math.isfinite(getattr(r.stderr, name))


def test_location_shift_equivariance():
    base = F.mle(X)
    r = F.mle(X + 1e6)
    assert r.alpha == pytest.approx(base.alpha, abs=1e-6)
    assert r.loc - 1e6 == pytest.approx(base.loc, abs=1e-4)


# ------------------------------------------------------------------------------------------------
# more hostile input


@pytest.mark.parametrize("method", METHODS)
def test_bad_inputs_name_the_argument(method):
    with pytest.raises(ValueError, match="x"):
        F.fit(np.append(X, np.nan), method=method)
    with pytest.raises(ValueError, match="x"):
        F.fit(X[:5], method=method)
    with pytest.raises(ValueError, match="interquartile|constant"):
        F.fit(np.ones(100), method=method)
    with pytest.raises(ValueError, match="parameterization"):
        F.fit(X, method=method, parameterization="S2")
    with pytest.raises(ValueError, match="beta"):
        F.fit(X, method=method, fix={"beta": 2.0})
    with pytest.raises(TypeError, match="fix"):
        F.fit(X, method=method, fix=[("beta", 0.0)])


def test_half_ties_have_a_clear_error():
    """More than half the points equal: the interquartile range is 0 and the scale is not estimable."""
    x = np.concatenate([np.zeros(800), X[:200]])
    with pytest.raises(ValueError, match="interquartile"):
        F.mle(x)


def test_values_near_float_limit():
    """Data near +-1e308: standardised without overflow, finite estimates."""
    x = X / np.abs(X).max() * 1e308
    r = F.mle(x)
    assert np.isfinite(list(r.params)).all() and r.converged


def test_mle_flags_a_rejected_fixed_value_also_at_small_alpha():
    # a scale fixed at a tenth of the truth pulls the fit to alpha ~0.5, where the small-alpha
    # search has no gradient for the score test: the likelihood ratio against the free fit
    # says the data reject the fixed value; a true fixed value is not flagged
    assert "reject" in F.mle(X, fix={"scale": 0.2}).message
    assert "reject" not in F.mle(X, fix={"scale": 2.0}).message
