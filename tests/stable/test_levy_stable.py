"""stabletail.levy_stable inside scipy's machinery, and array parameters (issue 12, section 2)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

import stabletail
from stabletail import levy_stable, stable

S0 = levy_stable(parameterization="S0")

alphas = st.floats(0.5, 2.0).filter(lambda a: abs(a - 1.0) >= 0.02)  # scipy snaps |alpha - 1| < 0.005


@settings(max_examples=30, deadline=None)
@given(a=alphas, b=st.floats(-0.99, 0.99), loc=st.floats(-3, 3), scale=st.floats(0.2, 5),
       xs=st.lists(st.floats(-8, 8), min_size=1, max_size=4))
def test_pdf_and_cdf_agree_with_scipy(a, b, loc, scale, xs):
    # scipy's levy_stable (S1 by default) by quadrature, ~1e-8 away from its weak spots (see
    # tests/stable/test_stable.py::test_agrees_with_scipy): points near zeta are skipped
    t = b * math.tan(math.pi * a / 2)
    x = np.array([v for v in xs if min(abs((v - loc) / scale - s) for s in (0.0, t, -t)) >= 0.02])
    assume(x.size > 0)
    ref = stats.levy_stable
    np.testing.assert_allclose(levy_stable.pdf(x, a, b, loc, scale), ref.pdf(x, a, b, loc, scale),
                               rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(levy_stable.cdf(x, a, b, loc, scale), ref.cdf(x, a, b, loc, scale), atol=1e-7)


def test_parameterization_is_per_instance():
    assert levy_stable.parameterization == "S1" and S0.parameterization == "S0"
    assert not hasattr(type(levy_stable), "parameterization")  # no class attribute
    x = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(S0.pdf(x, 1.5, 0.5), stable.pdf(x, 1.5, 0.5, parameterization="S0"),
                               rtol=1e-14)
    np.testing.assert_allclose(levy_stable.pdf(x, 1.5, 0.5), stable.pdf(x, 1.5, 0.5, parameterization="S1"),
                               rtol=1e-14)
    assert S0(1.5, 0.5).dist.parameterization == "S0"  # freezing keeps the instance's choice


def test_frozen_distribution_machinery():
    fr = levy_stable(1.5, 0.3, loc=1.0, scale=2.0)
    lo, hi = fr.interval(0.9)
    assert fr.cdf(lo) == pytest.approx(0.05, abs=1e-9) and fr.cdf(hi) == pytest.approx(0.95, abs=1e-9)
    assert fr.cdf(fr.median()) == pytest.approx(0.5, abs=1e-9)
    assert fr.sf(2.0) == pytest.approx(1.0 - fr.cdf(2.0), abs=1e-12)
    assert fr.isf(0.2) == pytest.approx(fr.ppf(0.8), rel=1e-10)
    # E|X - 1|^(1/2) by scipy's quadrature against a direct integral of our density
    from scipy import integrate

    direct = integrate.quad(lambda v: abs(v - 1.0) ** 0.5 * fr.pdf(v), -np.inf, np.inf, limit=200)[0]
    assert fr.expect(lambda v: np.abs(v - 1.0) ** 0.5) == pytest.approx(direct, rel=1e-5)


def test_rvs_through_scipy_follow_the_law():
    x = levy_stable.rvs(1.3, -0.4, loc=2.0, scale=0.5, size=4000, random_state=np.random.RandomState(0))
    assert stats.kstest(x, levy_stable(1.3, -0.4, loc=2.0, scale=0.5).cdf).pvalue > 1e-3
    a = levy_stable.rvs(1.3, 0.2, size=5, random_state=np.random.default_rng(4))
    b = levy_stable.rvs(1.3, 0.2, size=5, random_state=np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)


def test_fit_is_stabletails_mle_and_fast():
    x = levy_stable.rvs(1.5, 0.3, loc=1.0, scale=2.0, size=2000, random_state=np.random.default_rng(2))
    start = time.process_time()
    alpha, beta, loc, scale = levy_stable.fit(x)
    assert time.process_time() - start < 5.0  # scipy's generic fit takes about a minute at n = 200
    res = stabletail.fit.mle(x, parameterization="S1")
    assert (alpha, beta, loc, scale) == pytest.approx((res.alpha, res.beta, res.loc, res.scale), rel=1e-12)
    assert levy_stable.fit(x, fa=1.5)[0] == 1.5


def test_goodness_of_fit_and_scipy_fit_accept_it():
    x = levy_stable.rvs(1.5, 0.3, loc=1.0, scale=2.0, size=300, random_state=np.random.default_rng(5))
    res = stats.goodness_of_fit(levy_stable, x, known_params={"alpha": 1.5, "beta": 0.3, "loc": 1.0,
                                                               "scale": 2.0},
                                statistic="ks", n_mc_samples=99, random_state=1)
    assert 0.0 <= res.pvalue <= 1.0 and res.null_distribution.shape == (99,)
    bounds = {"alpha": (0.5, 2.0), "beta": (-1.0, 1.0), "loc": (-5.0, 5.0), "scale": (0.1, 10.0)}
    fitted = stats.fit(levy_stable, x, bounds=bounds)
    assert fitted.success and abs(fitted.params.scale - 2.0) < 0.5


def test_array_parameters_compute_each_law_and_broadcast():
    x = np.linspace(-3, 3, 7)[:, None]
    got = stable.pdf(x, alpha=[1.2, 1.5], beta=0.0)
    assert got.shape == (7, 2)
    for j, a in enumerate((1.2, 1.5)):
        np.testing.assert_allclose(got[:, j], stable.pdf(x[:, 0], a, 0.0), rtol=1e-14)
    a = np.array([[0.5, 1.0, 1.7]])
    b = np.array([[0.2], [-0.5]])
    s, m = np.array([1.0, 2.0, 3.0]), -1.0
    for f in (stable.pdf, stable.logpdf, stable.cdf, stable.sf):
        got = f(0.3, a, b, s, m, "S1")
        assert got.shape == (2, 3)
        for i in range(2):
            for j in range(3):
                assert got[i, j] == pytest.approx(f(0.3, a[0, j], b[i, 0], s[j], m, "S1"), rel=1e-13)
    q = stable.ppf([0.1, 0.9], [1.5, 0.8], 0.3, 2.0, 1.0)
    assert q == pytest.approx([stable.ppf(0.1, 1.5, 0.3, 2.0, 1.0), stable.ppf(0.9, 0.8, 0.3, 2.0, 1.0)])
    c = stable.cf([0.5, 2.0], [1.5, 1.0], 0.3, [2.0, 3.0], 1.0, "S1")
    assert c == pytest.approx([stable.cf(0.5, 1.5, 0.3, 2.0, 1.0, "S1"),
                               stable.cf(2.0, 1.0, 0.3, 3.0, 1.0, "S1")])
    r = stable.rvs([1.5, 0.8], 0.3, size=(4000, 2), random_state=0)
    assert r.shape == (4000, 2)
    for j, al in enumerate((1.5, 0.8)):
        assert stats.kstest(r[:, j], lambda v, al=al: stable.cdf(v, al, 0.3)).pvalue > 1e-3
    with pytest.raises(ValueError, match="alpha must be in"):
        stable.pdf(0.0, [1.5, 3.0])
    with pytest.raises(ValueError, match="scale"):
        stable.cdf(0.0, 1.5, 0.0, [1.0, -1.0])
