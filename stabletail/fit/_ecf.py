"""Regression on the empirical characteristic function (Kogon & Williams 1998, iterated)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .._typing import ArrayLike, FloatArray, Parameterization
from . import _kernels as _K
from ._common import boundary, prepare
from ._quantile import quantile_s0
from .result import StableFit, make_result

__all__ = ["ECF_ALPHA_MIN", "ecf"]

_ECF_DT = 0.1  # Kogon & Williams (1998): t = 0.1, 0.2, ..., 1.0 on standardised data
_ECF_M = 10
#: Below this alpha the regression's estimate is reported as not converged (outside the package's range).
ECF_ALPHA_MIN = 0.1


def _tan_term(a: FloatArray, u: FloatArray) -> FloatArray:
    """tan(pi a / 2) (u - u**a), u > 0, stable near a = 1 (vectorised over leading axes)."""
    eps = 1.0 - a
    lu = np.log(u)
    with np.errstate(divide="ignore", invalid="ignore"):
        gen = -u * np.expm1(-eps * lu) / np.tan(0.5 * np.pi * eps)
    return np.where(eps == 0.0, 2.0 / np.pi * u * lu, gen)


def _ecf_regress(
    re: FloatArray, im: FloatArray, fixed_std: dict[str, float], clip: bool = True
) -> FloatArray:
    """One Kogon-Williams regression on standardised data.

    re, im have shape (..., M) at t = DT, ..., M DT.  Returns (..., 4):
    alpha, beta, log scale', loc' (standardised units).
    """
    t = _ECF_DT * np.arange(1, _ECF_M + 1)
    lt = np.log(t)
    mod2 = np.clip(re * re + im * im, 1e-300, 1.0 - 1e-15)
    y = np.log(-np.log(mod2)) - math.log(2.0)  # = alpha (log scale' + log t)
    if "alpha" in fixed_std and "scale" in fixed_std:
        a = np.full(y.shape[:-1], fixed_std["alpha"])
        ls = np.zeros_like(a)
    elif "alpha" in fixed_std:
        a = np.full(y.shape[:-1], fixed_std["alpha"])
        ls = np.mean(y - a[..., None] * lt, axis=-1) / a
    elif "scale" in fixed_std:
        a = np.sum(y * lt, axis=-1) / np.sum(lt * lt)
        ls = np.zeros_like(a)
    else:
        ltc = lt - lt.mean()
        a = np.sum(y * ltc, axis=-1) / np.sum(ltc * ltc)
        ls = (np.mean(y, axis=-1) - a * lt.mean()) / a
    a = np.clip(a, 0.05, 2.0) if clip else a
    arg = np.arctan2(im, re)  # = loc' t + beta w(t)
    w = -_tan_term(a[..., None], np.exp(ls)[..., None] * t)
    ww = np.sum(w * w, axis=-1)
    identified = ww > 1e-20 * np.sum(t * t)
    if "beta" in fixed_std and "loc" in fixed_std:
        b = np.full(a.shape, fixed_std["beta"])
        m = np.zeros_like(a)
    elif "beta" in fixed_std:
        b = np.full(a.shape, fixed_std["beta"])
        m = np.sum(t * (arg - b[..., None] * w), axis=-1) / np.sum(t * t)
    elif "loc" in fixed_std:
        m = np.zeros_like(a)
        b = np.where(identified, np.sum(w * arg, axis=-1) / np.where(identified, ww, 1.0), 0.0)
    else:
        tt, tw = np.sum(t * t), np.sum(t * w, axis=-1)
        ty, wy = np.sum(t * arg, axis=-1), np.sum(w * arg, axis=-1)
        det = tt * ww - tw * tw
        ok = identified & (det > 1e-12 * tt * np.maximum(ww, 1e-300))
        dd = np.where(ok, det, 1.0)
        m = np.where(ok, (ww * ty - tw * wy) / dd, ty / tt)
        b = np.where(ok, (tt * wy - tw * ty) / dd, 0.0)
    b = np.clip(b, -1.0, 1.0) if clip else b
    return np.stack([a, b, ls, m], axis=-1)


def _std_fixed(fixed: dict[str, float], scale: float) -> dict[str, float]:
    """Fixed values in standardised units (scale and loc are standardised away)."""
    out = {k: v for k, v in fixed.items() if k in ("alpha", "beta")}
    if "scale" in fixed:
        out["scale"] = 1.0
    if "loc" in fixed:
        out["loc"] = 0.0
    return out


def ecf_s0(
    x: FloatArray, fixed: dict[str, float], max_iter: int = 4, with_cov: bool = True,
    qs: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, int]:
    theta, _, _, _ = quantile_s0(x, fixed, with_cov=False, qs=qs)
    a, b, s, m = theta
    fstd = _std_fixed(fixed, s)
    it = 0
    for it in range(1, max_iter + 1):
        # the last round takes the ecf up to 2 t_max: the covariance of the regression inputs needs it
        last = it == max_iter
        re, im = _K.ecf_values(x, m, s, _ECF_DT, 2 * _ECF_M if (last and with_cov) else _ECF_M)
        a_n, b_n, ls, mm = _ecf_regress(re[:_ECF_M], im[:_ECF_M], fstd)
        change = abs(a_n - a) + abs(b_n - b) + abs(ls) + abs(mm)
        s_cur, m_cur = s, m
        a, b, s, m = a_n, b_n, s * math.exp(ls), m + s * mm
        if last:
            break
        if change < 1e-5:
            max_iter = it + 1  # one more round, at the settled standardisation
    theta = np.array([a, b, fixed.get("scale", s), fixed.get("loc", m)])
    if not with_cov:
        return theta, np.full((4, 4), np.nan), it
    # delta method at the last regression (standardisation held fixed: the regression is equivariant)
    n = x.size
    phi = np.concatenate([[1.0 + 0j], re + 1j * im])
    j = np.arange(1, _ECF_M + 1)
    pp = phi[j[:, None] + j[None, :]]
    pm = phi[np.abs(j[:, None] - j[None, :])]
    pm_im = np.sign(j[:, None] - j[None, :]) * pm.imag
    re_m, im_m = re[:_ECF_M], im[:_ECF_M]
    c_rr = 0.5 * (pp.real + pm.real) - np.outer(re_m, re_m)
    c_ii = 0.5 * (pm.real - pp.real) - np.outer(im_m, im_m)
    c_ri = 0.5 * (pp.imag - pm_im) - np.outer(re_m, im_m)
    cs = np.block([[c_rr, c_ri], [c_ri.T, c_ii]]) / n
    stat = np.concatenate([re_m, im_m])
    steps = np.full(stat.size, 1e-6)
    # all forward-difference perturbations in one vectorised regression
    V = stat[None, :] + np.vstack([np.zeros(stat.size), np.diag(steps)])
    # unclipped: at an edge of the space the derivative of the clipped estimate would be 0
    out = _ecf_regress(V[:, :_ECF_M], V[:, _ECF_M:], fstd, clip=False)
    th = np.stack([out[:, 0], out[:, 1], s_cur * np.exp(out[:, 2]), m_cur + s_cur * out[:, 3]], axis=1)
    J = ((th[1:] - th[0]) / steps[:, None]).T
    return theta, J @ cs @ J.T, it


def ecf(
    x: ArrayLike, *, parameterization: Parameterization = "S0", fix: Mapping[str, float] | None = None
) -> StableFit:
    """Regression on the empirical characteristic function (Kogon & Williams 1998, iterated).

    The data are standardised with the current scale and location, the
    empirical characteristic function is taken at t = 0.1, ..., 1.0, and two
    least-squares regressions give alpha and scale (from log(-log|phi|^2))
    and beta and loc (from arg phi); this is repeated (Koutrouvelis 1980)
    from the :func:`quantile` start until the estimates change by less than
    1e-5, at most four rounds (for alpha < 1 the rounds keep wandering at the
    1e-3 level, a tenth of a standard error, so more rounds buy nothing).

    Parameters
    ----------
    x : array_like, 1-D
        Data; at least ``MIN_POINTS["ecf"]`` (20) finite values, not constant.
    parameterization : {"S0", "S1"}
        Parameterisation of the result (and of ``fix``).
    fix : mapping, optional
        Parameters held at given values.

    Returns
    -------
    StableFit
        Standard errors by the delta method from the sample covariance of the
        empirical characteristic function values (of the unclipped regression:
        an estimate clipped to beta = +-1 keeps an honest error and is listed
        in ``at_boundary``).  alpha below 0.1 gives ``converged=False``.

    Raises
    ------
    ValueError
        Too few points, non-finite values, constant data, or a bad ``fix``.
    """
    parameterization, std = prepare(x, "ecf", parameterization, fix)
    theta, cov, it = ecf_s0(std.x, std.fixed, qs=std.quantiles)
    edge = boundary(theta, std.fixed, ECF_ALPHA_MIN)
    ok, msg = "alpha" not in edge, ""
    if not ok:
        msg = (f"alpha fell below {ECF_ALPHA_MIN:g}, outside the method's range (with fixed values: "
               "are they compatible with the data?)")
    return make_result(theta, cov, std, method="ecf", parameterization=parameterization,
                       loglik=math.nan, converged=ok, n_iter=it, message=msg, at_boundary=edge)

