"""McCulloch's (1986) quantile method."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._typing import ArrayLike, FloatArray, Parameterization
from . import _kernels as _K
from ._common import QUANTILE_PROBS, boundary, prepare
from .result import StableFit, make_result

__all__ = ["quantile"]

_PROBS = QUANTILE_PROBS


@lru_cache(maxsize=1)
def _table() -> tuple[FloatArray, FloatArray, float, float, float, float]:
    with np.load(Path(__file__).with_name("quantile_table.npz")) as z:
        al, be = z["alpha"], z["beta"]
        Q = np.ascontiguousarray(z["quantiles"])
        D = np.ascontiguousarray(z["density"])
    return Q, D, float(al[0]), float(al[1] - al[0]), float(be[0]), float(be[1] - be[0])


def _edge_extrapolate(Q, a0, da, b0, db, a, b, nua, nub, free_a, free_b):
    """(alpha, beta) continued linearly past the table edges (for the delta method only).

    A clamped inversion has zero derivative at an edge, which would make the
    standard error 0; past the edge the residual of each ratio is divided by
    its slope at the edge, as if the table went on.
    """
    na, nb = Q.shape[0], Q.shape[1]
    amax = a0 + (na - 1) * da
    Fa, Fb = _K._nus(Q, a0, da, na, b0, db, nb, a, b)
    if free_b and abs(b) >= 1.0 - 1e-12:
        e = -1e-3 * math.copysign(1.0, b)
        slope = (_K._nus(Q, a0, da, na, b0, db, nb, a, b + e)[1] - Fb) / e
        if slope != 0.0:
            b = b + (nub - Fb) / slope
    if free_a and (a <= a0 + 1e-12 or a >= amax - 1e-12):
        e = 1e-3 if a <= a0 + 1e-12 else -1e-3
        slope = (_K._nus(Q, a0, da, na, b0, db, nb, a + e, min(max(b, -1.0), 1.0))[0] - Fa) / e
        if slope != 0.0:
            a = a + (nua - Fa) / slope
    return a, b


def _quantile_from_q(
    qs: FloatArray, fixed: dict[str, float], extrapolate: bool = False
) -> tuple[FloatArray, bool, str]:
    """(alpha, beta, scale, loc0) from the five sample quantiles."""
    Q, _, a0, da, b0, db = _table()
    iqr = qs[3] - qs[1]
    spread = qs[4] - qs[0]
    nua = math.log(spread / iqr)
    nub = (qs[4] + qs[0] - 2.0 * qs[2]) / spread
    afix = fixed.get("alpha", math.nan)
    bfix = fixed.get("beta", math.nan)
    a, b, ok = _K.quantile_invert(Q, a0, da, b0, db, nua, nub, afix, bfix, 1.5, 0.0)
    msg = "" if ok else "the quantile-table inversion did not converge; the last point is reported"
    if math.isnan(afix) and a <= a0 + 1e-9:
        ok, msg = False, f"alpha is below the quantile table (alpha < {a0:g}); reported at the table edge"
    q = _K.table_at(Q, a0, da, b0, db, a, b, True)
    s = fixed.get("scale", iqr / (q[3] - q[1]))
    m = fixed.get("loc", qs[2] - s * q[2])
    if extrapolate:
        a, b = _edge_extrapolate(Q, a0, da, b0, db, a, b, nua, nub, math.isnan(afix), math.isnan(bfix))
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
    x: FloatArray, fixed: dict[str, float], with_cov: bool = True, qs: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, bool, str]:
    """Estimates (S0) and covariance from the sample quantiles ``qs`` of x (computed when None)."""
    qs = np.quantile(x, _PROBS) if qs is None else qs
    if not qs[3] > qs[1]:
        raise ValueError("x is constant or its interquartile range is zero; the scale cannot be estimated")
    theta, ok, msg = _quantile_from_q(qs, fixed)
    if not with_cov:
        return theta, np.full((4, 4), np.nan), ok, msg
    # asymptotic covariance of sample quantiles: p_i (1 - p_j) / (n f(q_i) f(q_j)), i <= j
    # the spread of the sample quantiles follows the data's law: the free fit's, whatever is fixed
    free = theta if not fixed else _quantile_from_q(qs, {})[0]
    _, D, a0, da, b0, db = _table()
    fq = _K.table_at(D, a0, da, b0, db, free[0], free[1], False) / free[2]
    P = np.minimum.outer(_PROBS, _PROBS) * (1.0 - np.maximum.outer(_PROBS, _PROBS))
    cq = P / np.outer(fq, fq) / x.size
    steps = 1e-5 * (qs[3] - qs[1]) * np.ones(5)
    with np.errstate(over="ignore", invalid="ignore"):  # a vanishing fitted density at a quantile
        cov = _delta_cov(lambda q: _quantile_from_q(q, fixed, True)[0], qs, cq, steps)
    cov[~np.isfinite(cov)] = np.nan
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
        the sample quantiles (with a fixed parameter, from the density of the
        data's free fit; at a table edge, from the inversion continued past
        it, see ``at_boundary``).  The tables cover 0.1 <= alpha <= 2; data
        with heavier tails give alpha = 0.1 and ``converged=False``.
        McCulloch designed the method for alpha >= 0.6; below it serves as a
        start value (coarser: the table is bilinear in alpha).

    Raises
    ------
    ValueError
        Too few points, non-finite values, constant data, or a bad ``fix``.
    """
    parameterization, std = prepare(x, "quantile", parameterization, fix)
    theta, cov, ok, msg = quantile_s0(std.x, std.fixed, qs=std.quantiles)
    edge = boundary(theta, std.fixed, _table()[2])
    return make_result(theta, cov, std, method="quantile", parameterization=parameterization,
                       loglik=math.nan, converged=ok, n_iter=1, message=msg, at_boundary=edge)

