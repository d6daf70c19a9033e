"""Gaussianity of per-coordinate gradient noise across minibatches.

Panigrahi et al. (2019) test, for each parameter, whether its ``K`` noise
values across minibatches look Gaussian. With many coordinates the summary is
the fraction of coordinates whose test does not reject at confidence ``level``
(rejection when the p-value is below ``1 - level``), set against the fraction
expected when every coordinate is Gaussian: the nominal ``level``, and the
fraction measured by seeded Monte-Carlo under the null at the same ``K`` (tests
whose p-values are asymptotic, such as Jarque-Bera at ``K = 100``, do not hit
the nominal size exactly).

Tests: ``"shapiro"`` (Shapiro-Wilk, Royston's AS R94), ``"anderson"``
(Anderson-Darling, p-value of D'Agostino & Stephens 1986), ``"jarque_bera"``; all
run over every column in one compiled pass (:func:`normality_tests`). Jarque-Bera
needs only the sums of the first four powers of each column, which the harvest's noise
pass keeps for every coordinate (:func:`jarque_bera_from_sums`), so the harvest runs it
on all of them and the order-statistic tests on a seeded subset.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Sequence

import numpy as np

from .._typing import SeedLike
from .._validation import as_float_array, check_choice, check_int, check_level, check_random_state

__all__ = ["GAUSSIANITY_TESTS", "normality_tests", "normality_pvalues", "gaussianity",
           "jarque_bera_from_sums", "fraction_row"]

#: Available tests.
GAUSSIANITY_TESTS: tuple[str, ...] = ("shapiro", "anderson", "jarque_bera")


def normality_tests(samples: Any, tests: Sequence[str] = GAUSSIANITY_TESTS) -> dict[str, np.ndarray]:
    """Statistic and p-value of each normality test on every column of ``samples``.

    All columns are tested in one compiled pass (sorted once, moments once; the
    Shapiro-Wilk coefficients depend on ``K`` only and are computed once).

    Parameters
    ----------
    samples : array_like, shape (K, m)
        ``K`` observations of ``m`` coordinates (``K >= 3``; ``K >= 8`` for
        ``"anderson"``).
    tests : sequence of {"shapiro", "anderson", "jarque_bera"}
        Tests to run.

    Returns
    -------
    dict
        ``{test: array of shape (2, m)}``: row 0 the statistic (``W``, ``A^2``, ``JB``),
        row 1 the p-value. NaN for a constant or non-finite column.

    Raises
    ------
    ValueError
        If ``samples`` is not 2-D, has too few rows, or a test name is unknown.

    Notes
    -----
    Shapiro-Wilk follows Royston's AS R94 (as scipy does); Anderson-Darling uses the
    p-value formula of D'Agostino & Stephens (1986, Table 4.9) for the normal law with
    estimated mean and variance; Jarque-Bera the chi-square (2 d.o.f.) limit.
    See :mod:`stabletail.sgd._normality_kernels` for the formulas.
    """
    tests = tuple(tests)
    for t in tests:
        check_choice("test", t, GAUSSIANITY_TESTS)
    x = as_float_array(samples, "samples", dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"samples must be 2-D (K observations x m coordinates), got shape {x.shape}")
    check_int("samples.shape[0]", x.shape[0], 8 if "anderson" in tests else 3)
    from ._normality_kernels import normality_columns

    out = np.full((3, 2, x.shape[1]), np.nan)
    coef = _shapiro_coefficients(x.shape[0]) if "shapiro" in tests else np.zeros(1)
    normality_columns(np.ascontiguousarray(x), coef, "shapiro" in tests, "anderson" in tests,
                      "jarque_bera" in tests, out)
    return {t: out[GAUSSIANITY_TESTS.index(t)] for t in tests}


@functools.lru_cache(maxsize=16)
def _shapiro_coefficients(k: int) -> np.ndarray:
    from ._normality_kernels import shapiro_coefficients

    return shapiro_coefficients(k)


def normality_pvalues(samples: Any, test: str = "shapiro") -> np.ndarray:
    """p-values of a normality test applied to each column of ``samples``.

    Parameters
    ----------
    samples : array_like, shape (K, m)
        ``K`` observations of ``m`` coordinates (``K >= 3``; ``K >= 8`` for
        ``"anderson"``).
    test : {"shapiro", "anderson", "jarque_bera"}
        The test (see :func:`normality_tests`).

    Returns
    -------
    numpy.ndarray, shape (m,)
        NaN for a constant column (no test is possible).
    """
    check_choice("test", test, GAUSSIANITY_TESTS)
    return normality_tests(samples, (test,))[test][1]


def jarque_bera_from_sums(power_sums: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Jarque-Bera statistic and p-value of every column from the sums of its powers.

    Parameters
    ----------
    power_sums : array_like, shape (4, m)
        Row ``p - 1`` holds ``sum_i x_i**p`` over the ``k`` observations of each column
        (``p = 1..4``).
    k : int
        Observations per column (>= 3).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``JB = k/6 (S^2 + (Kurt - 3)^2 / 4)`` from the biased central moments (as
        :func:`normality_tests`), and its p-value ``exp(-JB/2)`` (chi-square, 2 d.o.f.);
        NaN where the column's variance is not positive or a sum is not finite.

    Raises
    ------
    ValueError
        If ``power_sums`` does not have 4 rows or ``k < 3``.

    Notes
    -----
    The central moments are ``m2 = s2 - mu^2``, ``m3 = s3 - 3 mu s2 + 2 mu^3`` and
    ``m4 = s4 - 4 mu s3 + 6 mu^2 s2 - 3 mu^4`` with ``s_p`` the mean of the p-th powers and
    ``mu = s_1``; exact for the noise of a harvest, whose mean over the minibatches is
    zero or small against its spread.
    """
    k = check_int("k", k, 3)
    s = as_float_array(power_sums, "power_sums", dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != 4:
        raise ValueError(f"power_sums must have shape (4, m), got {s.shape}")
    from ._normality_kernels import jarque_bera_sums

    out = np.empty((2, s.shape[1]))
    jarque_bera_sums(np.ascontiguousarray(s), k, out)
    return out[0], out[1]


def fraction_row(
    test: str,
    pvalues: np.ndarray,
    k: int,
    *,
    level: float,
    n_null: int = 2000,
    random_state: SeedLike = 0,
    weights: np.ndarray | None = None,
) -> dict[str, Any]:
    """The summary row of one test over many coordinates (the rows of :func:`gaussianity`).

    Parameters
    ----------
    test : str
        The test's name (one of :data:`GAUSSIANITY_TESTS`).
    pvalues : numpy.ndarray
        One p-value per coordinate, NaN for one that could not be tested (constant).
    k : int
        Observations per coordinate (the null simulation draws ``k`` of them).
    level, n_null, random_state
        As for :func:`gaussianity`.
    weights : numpy.ndarray, optional
        One positive weight per coordinate, for coordinates sampled with unequal probabilities
        (the inverse of each one's probability): ``fraction_not_rejected`` is then the weighted
        fraction, an estimate of the fraction over the population sampled, and ``stderr`` its
        null standard error ``sqrt(level (1 - level) sum w^2) / sum w``; the counts stay counts.

    Returns
    -------
    dict
        The keys listed under :func:`gaussianity`.
    """
    check_choice("test", test, GAUSSIANITY_TESTS)
    level = check_level(level)
    n_null = check_int("n_null", n_null, 0)
    p = np.asarray(pvalues, dtype=np.float64)
    tested = np.isfinite(p)
    m = int(tested.sum())
    kept = tested & (p >= 1.0 - level)
    not_rej = int(kept.sum())
    w = np.ones(p.size) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != p.shape or not (w > 0).all():
        raise ValueError("weights must be positive, one per p-value")
    wsum = float(w[tested].sum())
    expected = math.nan
    if n_null:
        if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
            # identical simulations are shared between calls
            expected = _null_fraction_seeded(test, k, level, n_null, int(random_state))
        else:
            expected = _null_fraction(test, k, level, n_null, check_random_state(random_state))
    return {
        "test": test,
        "level": level,
        "n_coordinates": m,
        "n_constant": int(p.size - m),
        "n_not_rejected": not_rej,
        "fraction_not_rejected": float(w[kept].sum()) / wsum if m else math.nan,
        "stderr": math.sqrt(level * (1.0 - level) * float((w[tested] ** 2).sum())) / wsum if m else math.nan,
        "nominal_fraction": level,
        "expected_fraction": expected,
        "expected_stderr": math.sqrt(expected * (1 - expected) / n_null) if n_null else math.nan,
    }


def _null_fraction(test: str, k: int, level: float, n_null: int, rng: np.random.Generator) -> float:
    p = normality_pvalues(rng.standard_normal((k, n_null)), test)
    return float(np.mean(p >= 1.0 - level))


@functools.lru_cache(maxsize=64)
def _null_fraction_seeded(test: str, k: int, level: float, n_null: int, seed: int) -> float:
    return _null_fraction(test, k, level, n_null, np.random.default_rng(seed))


def gaussianity(
    samples: Any,
    *,
    level: float = 0.95,
    tests: Sequence[str] = GAUSSIANITY_TESTS,
    n_null: int = 2000,
    random_state: SeedLike = 0,
) -> list[dict[str, Any]]:
    """Fraction of coordinates whose noise is not rejected as Gaussian.

    Parameters
    ----------
    samples : array_like, shape (K, m)
        Noise of ``m`` coordinates across ``K`` minibatches.
    level : float
        Confidence level; a test rejects when its p-value is below ``1 - level``.
    tests : sequence of str
        Any of ``"shapiro"``, ``"anderson"``, ``"jarque_bera"``.
    n_null : int
        Gaussian replications for the expected fraction under the null (0 skips).
    random_state : int, numpy.random.Generator or None
        Seed of the null simulation.

    Returns
    -------
    list of dict
        One row per test with keys ``test``, ``level``, ``n_coordinates``
        (non-constant columns tested), ``n_constant``, ``n_not_rejected``,
        ``fraction_not_rejected``, ``stderr`` (binomial standard error of that
        fraction under the null, ``sqrt(level (1 - level) / m)``),
        ``nominal_fraction`` (= ``level``), ``expected_fraction`` (Monte-Carlo
        under the null at the same ``K``; NaN when ``n_null = 0``) and
        ``expected_stderr``.
    """
    level = check_level(level)
    n_null = check_int("n_null", n_null, 0)
    seeded = isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    gen = check_random_state(random_state)
    rng = random_state if seeded else gen  # a seed: the cached simulations; else one generator for all
    x = as_float_array(samples, "samples", dtype=np.float64)
    results = normality_tests(x, tests)
    return [fraction_row(test, results[test][1], x.shape[0], level=level, n_null=n_null, random_state=rng)
            for test in tests]
