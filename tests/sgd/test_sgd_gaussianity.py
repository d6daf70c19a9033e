"""Per-coordinate Gaussianity tests (Panigrahi et al. 2019 summary)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabletail.sgd.gaussianity import GAUSSIANITY_TESTS, gaussianity, normality_pvalues, normality_tests

pytestmark = pytest.mark.torch  # lives in the torch-only subpackage


def test_gaussian_columns_are_not_rejected_at_the_nominal_rate():
    # 400 independent Gaussian columns of K = 100: the number not rejected is
    # Binomial(400, expected); 4 sd is 4 * sqrt(.95 * .05 / 400) = 0.044
    rng = np.random.default_rng(7)
    rows = gaussianity(rng.standard_normal((100, 400)) * 3.0 + 1.0, level=0.95, random_state=1)
    assert [r["test"] for r in rows] == list(GAUSSIANITY_TESTS)
    for r in rows:
        assert r["n_coordinates"] == 400 and r["nominal_fraction"] == 0.95
        assert abs(r["fraction_not_rejected"] - r["expected_fraction"]) < 4 * r["stderr"], r
        # the null simulation (2000 draws) matches the nominal size within 4 of its sd,
        # plus the known undersize of the asymptotic Jarque-Bera test at K = 100
        slack = 0.03 if r["test"] == "jarque_bera" else 0.0
        assert abs(r["expected_fraction"] - 0.95) < 4 * r["expected_stderr"] + slack, r


def test_heavy_tailed_columns_are_rejected():
    rng = np.random.default_rng(8)
    rows = gaussianity(rng.standard_cauchy((100, 200)), tests=("shapiro", "jarque_bera"), n_null=0)
    for r in rows:
        assert r["fraction_not_rejected"] < 0.1, r
        assert math.isnan(r["expected_fraction"])


def test_constant_columns_are_not_tested():
    x = np.random.default_rng(9).standard_normal((30, 5))
    x[:, 2] = 4.0
    p = normality_pvalues(x, "shapiro")
    assert np.isnan(p[2]) and np.isfinite(np.delete(p, 2)).all()
    row = gaussianity(x, tests=("shapiro",), n_null=0)[0]
    assert row["n_coordinates"] == 4 and row["n_constant"] == 1


def _mixed_columns(rng, k, m):
    """Gaussian, Student-t(3), uniform and shifted-scaled exponential columns."""
    q = m // 4
    return np.concatenate([rng.standard_normal((k, q)), rng.standard_t(3, (k, q)),
                           rng.uniform(size=(k, q)), rng.exponential(size=(k, m - 3 * q)) * 1e3 + 5], axis=1)


@pytest.mark.parametrize("k", [3, 4, 5, 8, 11, 12, 40, 100, 300])
def test_statistics_and_pvalues_match_scipy(k):
    # 1,000 columns per K in all: Jarque-Bera and the Anderson-Darling statistic to 1e-10.
    # Shapiro-Wilk: scipy's routine builds its AS R94 coefficients from a normal-quantile
    # approximation that differs from the exact quantiles (used here) by up to 1.7e-8
    # relative (measured at K = 4..500), so W agrees to 1e-8 and its p-value to 1e-6 relative.
    from scipy import stats

    x = _mixed_columns(np.random.default_rng(k), k, 1000 // 9 + 4)
    tests = ("shapiro", "jarque_bera") + (("anderson",) if k >= 8 else ())
    res = normality_tests(x, tests)
    for j in range(x.shape[1]):
        sw = stats.shapiro(x[:, j])
        jb = stats.jarque_bera(x[:, j])
        assert res["shapiro"][0, j] == pytest.approx(sw.statistic, abs=1e-8)
        assert res["shapiro"][1, j] == pytest.approx(sw.pvalue, rel=1e-6, abs=1e-300)
        assert res["jarque_bera"][0, j] == pytest.approx(jb.statistic, rel=1e-10)
        assert res["jarque_bera"][1, j] == pytest.approx(jb.pvalue, rel=1e-10, abs=1e-300)
        if k >= 8:
            ad = stats.anderson(x[:, j], method="interpolate")
            assert res["anderson"][0, j] == pytest.approx(ad.statistic, rel=1e-10)


def test_shapiro_w_is_the_squared_correlation_with_royston_coefficients():
    # independent numpy twin: AS R94 coefficients from scipy's exact normal quantiles
    from scipy import special

    k = 50
    x = np.random.default_rng(3).standard_t(5, (k, 40))
    i = np.arange(1, k // 2 + 1)
    m = special.ndtri((i - 0.375) / (k + 0.25))  # lower half (negative)
    u = 1 / np.sqrt(k)
    a1 = np.polyval([-2.706056, 4.434685, -2.071190, -0.147981, 0.221157, 0.0], u) - m[0] / np.sqrt(2 * m @ m)
    a2 = np.polyval([-3.582633, 5.682633, -1.752461, -0.293762, 0.042981, 0.0], u) - m[1] / np.sqrt(2 * m @ m)
    fac = np.sqrt((2 * m @ m - 2 * m[0] ** 2 - 2 * m[1] ** 2) / (1 - 2 * a1**2 - 2 * a2**2))
    a = np.concatenate([[a1, a2], -m[2:] / fac])
    full = np.concatenate([-a, a[::-1]])
    xs = np.sort(x, axis=0)
    r = np.array([np.corrcoef(full, xs[:, j])[0, 1] for j in range(x.shape[1])])
    np.testing.assert_allclose(normality_tests(x, ("shapiro",))["shapiro"][0], r**2, rtol=1e-12)


@pytest.mark.parametrize("k", [20, 100])
def test_anderson_pvalue_formula_is_calibrated(k):
    # 20,000 Gaussian columns: the rejection rate at each nominal size lies within 4 binomial
    # standard errors (0.0057 at 5%) of it; the D'Agostino-Stephens formula is the reference
    p = normality_pvalues(np.random.default_rng(k).standard_normal((k, 20_000)), "anderson")
    for size in (0.01, 0.05, 0.10, 0.5):
        assert abs(np.mean(p < size) - size) < 4 * math.sqrt(size * (1 - size) / p.size), size


@settings(max_examples=40, deadline=None)
@given(
    scale=st.floats(1e-6, 1e6),
    shift=st.floats(-10, 10),
    k=st.integers(8, 200),
    seed=st.integers(0, 2**32 - 1),
)
def test_statistics_are_location_scale_invariant(scale, shift, k, seed):
    x = np.random.default_rng(seed).standard_t(4, (k, 3))
    a = normality_tests(x)
    b = normality_tests(x * scale + shift * scale)
    for t in GAUSSIANITY_TESTS:
        np.testing.assert_allclose(b[t][0], a[t][0], rtol=1e-8)


def test_non_finite_columns_are_not_tested():
    x = np.random.default_rng(12).standard_normal((20, 4))
    x[3, 1] = np.nan
    x[5, 2] = np.inf
    res = normality_tests(x)
    for t in GAUSSIANITY_TESTS:
        assert np.isnan(res[t][:, 1:3]).all() and np.isfinite(res[t][:, [0, 3]]).all()


def test_bad_input():
    with pytest.raises(ValueError, match="test"):
        normality_pvalues(np.zeros((10, 2)), "ks")
    with pytest.raises(ValueError, match="2-D"):
        normality_pvalues(np.zeros(10))
    with pytest.raises(ValueError, match="samples.shape"):
        normality_pvalues(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="level"):
        gaussianity(np.zeros((10, 2)), level=1.5)
