"""McCulloch's (1986) quantile method."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._params import check_parameterization
from .._typing import ArrayLike, FloatArray, Parameterization
from . import _kernels as _K
from ._common import check_fix, check_x
from .result import StableFit, make_result

__all__ = ["quantile"]

_PROBS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])


@lru_cache(maxsize=1)
def _table() -> tuple[FloatArray, FloatArray, float, float, float, float]:
    with np.load(Path(__file__).with_name("quantile_table.npz")) as z:
        al, be = z["alpha"], z["beta"]
        Q = np.ascontiguousarray(z["quantiles"])
        D = np.ascontiguousarray(z["density"])
    return Q, D, float(al[0]), float(al[1] - al[0]), float(be[0]), float(be[1] - be[0])


def _quantile_from_q(qs: FloatArray, fixed: dict[str, float]) -> tuple[FloatArray, bool, str]:
    """(alpha, beta, scale, loc0) from the five sample quantiles."""
    Q, _, a0, da, b0, db = _table()
    iqr = qs[3] - qs[1]
    spread = qs[4] - qs[0]
    nua = spread / iqr
    nub = (qs[4] + qs[0] - 2.0 * qs[2]) / spread
    afix = fixed.get("alpha", math.nan)
    bfix = fixed.get("beta", math.nan)
    a, b, _ = _K.quantile_invert(Q, a0, da, b0, db, nua, nub, afix, bfix, 1.5, 0.0)
    ok, msg = True, ""
    if math.isnan(afix) and a <= a0 + 1e-12:
        ok, msg = False, f"alpha is below the quantile table (alpha < {a0:g}); reported at the table edge"
    q = _K.table_at(Q, a0, da, b0, db, a, b, True)
    s = fixed.get("scale", iqr / (q[3] - q[1]))
    m = fixed.get("loc", qs[2] - s * q[2])
    return np.array([a, b, s, m]), ok, msg


def _delta_cov(func, stat: FloatArray, cov_stat: FloatArray, steps: FloatArray) -> FloatArray:
    """Delta-method covariance of func(stat) by forward differences."""
    base = func(stat)
    J = np.empty((base.size, stat.size))
    for j in range(stat.size):
        sp = stat.copy()
        sp[j] += steps[j]
        J[:, j] = (func(sp) - base) / steps[j]
    return J @ cov_stat @ J.T


def quantile_s0(
    x: FloatArray, fixed: dict[str, float], with_cov: bool = True
) -> tuple[FloatArray, FloatArray, bool, str]:
    qs = np.quantile(x, _PROBS)
    if not qs[3] > qs[1]:
        raise ValueError("x is constant or its interquartile range is zero; the scale cannot be estimated")
    theta, ok, msg = _quantile_from_q(qs, fixed)
    if not with_cov:
        return theta, np.full((4, 4), np.nan), ok, msg
    # asymptotic covariance of sample quantiles: p_i (1 - p_j) / (n f(q_i) f(q_j)), i <= j
    _, D, a0, da, b0, db = _table()
    fq = _K.table_at(D, a0, da, b0, db, theta[0], theta[1], False) / theta[2]
    P = np.minimum.outer(_PROBS, _PROBS) * (1.0 - np.maximum.outer(_PROBS, _PROBS))
    cq = P / np.outer(fq, fq) / x.size
    cov = _delta_cov(lambda q: _quantile_from_q(q, fixed)[0], qs, cq, 1e-5 * (qs[3] - qs[1]) * np.ones(5))
    return theta, cov, ok, msg


def quantile(
    x: ArrayLike, *, parameterization: Parameterization = "S0", fix: Mapping[str, float] | None = None
) -> StableFit:
    """McCulloch's (1986) quantile estimator of the four stable parameters.

    Parameters
    ----------
    x : array_like, 1-D
        Data; at least ``MIN_POINTS["quantile"]`` (20) finite values, not constant.
    parameterization : {"S0", "S1"}
        Parameterisation of the result (and of ``fix``).
    fix : mapping, optional
        Parameters held at given values, e.g. ``{"beta": 0}``.

    Returns
    -------
    StableFit
        Standard errors by the delta method from the asymptotic covariance of
        the sample quantiles.  The tables cover 0.5 <= alpha <= 2; data with
        heavier tails give alpha = 0.5 and ``converged=False``.  McCulloch's
        method is meant for alpha >= 0.6.

    Raises
    ------
    ValueError
        Too few points, non-finite values, constant data, or a bad ``fix``.
    """
    parameterization = check_parameterization(parameterization)
    x = check_x(x, "quantile")
    fixed = check_fix(fix, parameterization)
    theta, cov, ok, msg = quantile_s0(x, fixed)
    return make_result(theta, cov, method="quantile", parameterization=parameterization, nobs=x.size,
                   fixed=fixed, loglik=math.nan, converged=ok, n_iter=1, message=msg)

