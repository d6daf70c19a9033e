"""Hostile input to the stable law and the shared argument checks (issue 15 items 7, 8, 9, 16, 18)."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabletail import estimators, fit, stable


def _mp_cf(t, a, b):
    """S0 characteristic function, standard law, t > 0, in 40-digit arithmetic (Nolan 2020 eq. 1.7)."""
    mp.mp.dps = 40
    t, b = mp.mpf(t), mp.mpf(b)
    return complex(mp.exp(-(t**a) * (1 + 1j * b * mp.tan(mp.pi * a / 2) * (t ** (1 - a) - 1))))


@pytest.mark.parametrize("d", [1e-6, 1e-12, 1e-14, -1e-13, -1e-15])
@pytest.mark.parametrize("t", [0.3, 2.0, 30.0])
def test_cf_keeps_its_digits_next_to_alpha_one(d, t):
    # the reference takes alpha = 1 + d exactly as the double 1 + d
    a = 1.0 + d
    ref = _mp_cf(t, mp.mpf(a), 0.5)
    assert abs(stable.cf(t, a, 0.5) - ref) <= 1e-13 * abs(ref)


def test_cf_at_infinity_is_zero():
    assert stable.cf(np.inf, 2.0) == 0 and stable.cf(-np.inf, 0.5, 0.3) == 0
    assert np.isnan(stable.cf(np.nan, 1.5))


@pytest.mark.parametrize("alpha", [0.02, 5e-324, 0.099, -1.0, 2.0001])
def test_alpha_outside_the_computed_range_is_refused(alpha):
    for call in (lambda: stable.pdf(0.0, alpha), lambda: stable.cdf(0.0, alpha),
                 lambda: stable.ppf(0.3, alpha),
                 lambda: stable.rvs(alpha, size=3, random_state=0), lambda: stable.cf(1.0, alpha)):
        with pytest.raises(ValueError, match=r"alpha must be in \[0.1, 2\]"):
            call()


def test_alpha_at_the_edge_is_consistent():
    # cdf(ppf(q)) = q at the smallest alpha served (the case that gave 0.362 at alpha = 0.02)
    for q in (0.1, 0.3, 0.7):
        assert stable.cdf(stable.ppf(q, 0.1, 0.5), 0.1, 0.5) == pytest.approx(q, abs=1e-9)


@pytest.mark.parametrize("scale", [1e150, 1e300, 1e-300])
def test_s1_location_shift_never_overflows(scale):
    # S1 with alpha = 1: the S0 location is loc + (2/pi) beta scale log(scale), beyond the float range
    # for scale 1e300; the law is still the standardised law shifted by (2/pi) beta log(scale) scales
    beta = 0.5
    c = 2.0 / math.pi * beta * math.log(scale)
    x = np.array([-3.0, 0.5, 7.0]) * scale
    z = x / scale - c
    np.testing.assert_allclose(stable.pdf(x, 1.0, beta, scale, 0.0, "S1") * scale, stable.pdf(z, 1.0, beta),
                               rtol=1e-12)
    np.testing.assert_allclose(stable.cdf(x, 1.0, beta, scale, 0.0, "S1"), stable.cdf(z, 1.0, beta),
                               rtol=1e-12)
    q = stable.ppf(0.5, 1.0, beta, scale, 0.0, "S1")
    assert q == pytest.approx((stable.ppf(0.5, 1.0, beta) + c) * scale, rel=1e-12)
    draws = stable.rvs(1.0, beta, scale, 0.0, size=5, random_state=0, parameterization="S1")
    ref = (stable.rvs(1.0, beta, size=5, random_state=0) + c) * scale
    np.testing.assert_allclose(draws, ref, rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    alpha=st.floats(0.1, 2.0),
    beta=st.floats(-1.0, 1.0),
    log_scale=st.floats(-300, 300),
    par=st.sampled_from(["S0", "S1"]),
)
def test_no_silent_nan_for_valid_laws_at_any_scale(alpha, beta, log_scale, par):
    scale = 10.0**log_scale
    x = np.array([-1.0, 0.0, 1.0]) * scale
    for f in (stable.pdf, stable.cdf, stable.sf):
        v = f(x, alpha, beta, scale, 0.0, par)
        assert not np.isnan(v).any(), (f.__name__, v)
    draws = stable.rvs(alpha, beta, scale, 0.0, size=4, random_state=1, parameterization=par)
    assert not np.isnan(draws).any()


def _tail_term(z, alpha, beta):
    """log of the leading tail term alpha C (1 + sign(z) beta) |z|^-(1 + alpha), C = Gamma(alpha)
    sin(pi alpha / 2) / pi (Samorodnitsky & Taqqu 1994, property 1.2.15, differentiated)."""
    c = alpha * math.gamma(alpha) * math.sin(math.pi * alpha / 2) / math.pi
    return np.log(c * (1 + np.sign(z) * beta)) - (1 + alpha) * np.log(np.abs(z))


@settings(max_examples=40, deadline=None)
@given(alpha=st.floats(0.1, 1.99), beta=st.floats(-0.99, 0.99), sign=st.sampled_from([-1.0, 1.0]))
def test_far_tail_logpdf_continues_the_exact_density(alpha, beta, sign):
    """Where the density still is a normal float but tiny (1e-250..1e-200) the exact kernel agrees
    with the leading tail term to 1e-12 relative (the next term is |z|^-alpha < 1e-18 smaller);
    beyond, where the density underflows, logpdf follows that term instead of reaching -inf."""
    z = sign * np.geomspace(10 ** (200 / (1 + alpha)), 10 ** (250 / (1 + alpha)), 5)
    np.testing.assert_allclose(stable.logpdf(z, alpha, beta), _tail_term(z, alpha, beta), rtol=1e-12)
    huge = sign * np.array([1e250, 1e280, 1e308])
    lp = stable.logpdf(huge, alpha, beta)
    assert np.isfinite(lp).all()
    np.testing.assert_allclose(lp, _tail_term(huge, alpha, beta), rtol=1e-12)


def test_far_tail_logpdf_edges():
    """Beyond the support of a totally skewed law (alpha < 1) logpdf is -inf, on the support side
    finite; the Gaussian (alpha = 2, variance 2) is exact in log space far out (scipy's norm)."""
    from scipy.stats import norm

    assert stable.logpdf(-1e250, 0.3, 1.0) == -np.inf
    assert np.isfinite(stable.logpdf(1e250, 0.3, 1.0))
    assert stable.logpdf(40.0, 2.0) == pytest.approx(norm.logpdf(40.0, scale=math.sqrt(2)), rel=1e-14)
    assert stable.logpdf(1e100, 2.0, scale=3.0) == pytest.approx(
        norm.logpdf(1e100, scale=3 * math.sqrt(2)), rel=1e-14)


def test_hill_bootstrap_fraction_names_the_argument():
    x = stable.rvs(1.5, size=2000, random_state=0)
    with pytest.raises(ValueError, match="t_bootstrap"):
        estimators.hill(x, t_bootstrap=1e-6)


@pytest.mark.parametrize(
    "data, words",
    [(np.arange(100).astype("timedelta64[s]"), "timedelta"),
     (np.random.default_rng(0).random(500) > 0.5, "booleans"),
     (np.ma.masked_array(np.arange(1.0, 101.0), mask=np.arange(100) % 7 == 0), "masked"),
     (np.array(["1", "2"]), "real numbers")],
)
def test_odd_data_types_are_refused(data, words):
    for call in (lambda: estimators.mohammadi(data), lambda: estimators.hill(data), lambda: fit.fit(data)):
        with pytest.raises(TypeError, match=words):
            call()
