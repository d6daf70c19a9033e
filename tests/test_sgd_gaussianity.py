"""Per-coordinate Gaussianity tests (Panigrahi et al. 2019 summary)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stabletail.sgd.gaussianity import GAUSSIANITY_TESTS, gaussianity, normality_pvalues

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


def test_pvalues_match_scipy_per_column():
    from scipy import stats

    x = np.random.default_rng(10).standard_normal((40, 3))
    for j in range(3):
        assert normality_pvalues(x, "shapiro")[j] == pytest.approx(stats.shapiro(x[:, j]).pvalue)
        assert normality_pvalues(x, "jarque_bera")[j] == pytest.approx(stats.jarque_bera(x[:, j]).pvalue)
        assert normality_pvalues(x, "anderson")[j] == stats.anderson(x[:, j], method="interpolate").pvalue


def test_anderson_outside_its_table_is_nan():
    x = np.random.default_rng(11).standard_normal((40, 3))
    row = gaussianity(x, level=0.5, tests=("anderson",), n_null=0)[0]
    assert math.isnan(row["fraction_not_rejected"])


def test_bad_input():
    with pytest.raises(ValueError, match="test"):
        normality_pvalues(np.zeros((10, 2)), "ks")
    with pytest.raises(ValueError, match="2-D"):
        normality_pvalues(np.zeros(10))
    with pytest.raises(ValueError, match="samples.shape"):
        normality_pvalues(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="level"):
        gaussianity(np.zeros((10, 2)), level=1.5)
