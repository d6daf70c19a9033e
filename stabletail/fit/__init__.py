"""Full four-parameter alpha-stable fits: quantile, characteristic-function regression, MLE.

Three estimators of (alpha, beta, scale, loc), one result type:

- :func:`quantile` -- McCulloch (1986) quantile method, tables computed by
  ``scripts/make_quantile_tables.py`` from this package's own density.
- :func:`ecf` -- regression on the empirical characteristic function
  (Kogon & Williams 1998 in S0, iterated as in Koutrouvelis 1980), started
  from :func:`quantile`.
- :func:`mle` -- maximum likelihood with the density from FFT inversion of
  the characteristic function (alias-corrected, tail series beyond the grid),
  Newton/BHHH steps from the :func:`ecf` start; standard errors from the
  observed Fisher information.
- :func:`fit` -- one entry point: ``fit(x, method="mle", parameterization="S0", fix=None)``.

All work in Nolan's S0 parameterisation internally; ``parameterization="S1"``
converts the location (loc1 = loc0 - beta scale tan(pi alpha / 2), alpha != 1;
loc1 = loc0 - beta (2/pi) scale log(scale), alpha = 1) and its covariance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

import numpy as np
from scipy.special import ndtri

from .._typing import ArrayLike, FloatArray, Parameterization
from .._validation import as_float_array, check_choice, check_level, check_parameterization, check_scalar
from . import _kernels as _K

__all__ = ["StableFit", "StableParams", "fit", "mle", "ecf", "quantile", "MIN_POINTS", "MLE_ALPHA_MIN"]

PARAM_NAMES = ("alpha", "beta", "scale", "loc")
#: Fewest data points each method accepts (the 5% and 95% sample quantiles must be interior order statistics).
MIN_POINTS: Mapping[str, int] = MappingProxyType({"quantile": 20, "ecf": 20, "mle": 20})
#: Smallest alpha the MLE searches (its FFT grid is accurate to ~1e-5 relative from here up).
MLE_ALPHA_MIN = 0.6
_PROBS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
_ECF_DT = 0.1  # Kogon & Williams (1998): t = 0.1, 0.2, ..., 1.0 on standardised data
_ECF_M = 10
_SUBSAMPLE_ABOVE = 50_000
_SUBSAMPLE_SIZE = 20_000


class StableParams(NamedTuple):
    """One value per stable parameter."""

    alpha: float
    beta: float
    scale: float
    loc: float


@dataclass(frozen=True)
class StableFit:
    """Result of a stable fit (all four parameters in ``parameterization``).

    Attributes
    ----------
    alpha, beta, scale, loc : float
        Estimates.
    stderr : StableParams
        Standard errors (0 for fixed parameters, NaN where not available,
        e.g. beta at the Gaussian boundary).
    cov : ndarray, shape (4, 4)
        Covariance of (alpha, beta, scale, loc).
    loglik : float
        Log-likelihood at the estimate (MLE only; NaN for the other methods).
    converged : bool
        False when the optimiser or table inversion did not converge, or when
        alpha sits on the lower edge of the method's range; the estimate is
        then the best point found.
    n_iter : int
        Iterations used (Newton steps, ECF regressions, or 1).
    method, parameterization : str
    nobs : int
        Number of data points.
    fixed : tuple of str
        Names of parameters held fixed.
    gaussian : bool
        True when alpha is exactly 2 (the Gaussian boundary); beta is then
        not identified and is reported as 0 with NaN standard error.
    message : str
        Why ``converged`` is False, or "".
    """

    alpha: float
    beta: float
    scale: float
    loc: float
    stderr: StableParams
    cov: FloatArray = field(repr=False)
    loglik: float
    converged: bool
    n_iter: int
    method: str
    parameterization: str
    nobs: int
    fixed: tuple[str, ...] = ()
    gaussian: bool = False
    message: str = ""

    @property
    def params(self) -> StableParams:
        """The estimates as a named tuple."""
        return StableParams(self.alpha, self.beta, self.scale, self.loc)

    def ci(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Normal-approximation confidence intervals.

        Parameters
        ----------
        level : float
            Confidence level in (0, 1).

        Returns
        -------
        dict
            ``name -> (low, high)``.  alpha is clipped to (0, 2] and beta to
            [-1, 1]; the scale interval is formed on the log scale.
        """
        level = check_level(level)
        zq = float(ndtri(0.5 + 0.5 * level))
        out: dict[str, tuple[float, float]] = {}
        for name, est, se in zip(PARAM_NAMES, self.params, self.stderr):
            if name == "scale":
                lo, hi = est * math.exp(-zq * se / est), est * math.exp(zq * se / est)
            else:
                lo, hi = est - zq * se, est + zq * se
            if name == "alpha":
                lo, hi = max(lo, 0.0), min(hi, 2.0)
            elif name == "beta":
                lo, hi = max(lo, -1.0), min(hi, 1.0)
            out[name] = (lo, hi)
        return out

    def summary(self, level: float = 0.95) -> str:
        """A small text table of estimates, standard errors and intervals."""
        ci = self.ci(level)
        pct = f"{100 * level:g}%"
        lines = [
            f"Stable fit ({self.method}, {self.parameterization}), n = {self.nobs}, "
            f"converged = {self.converged}, iterations = {self.n_iter}",
            f"{'':8s}{'estimate':>12s}{'std err':>12s}{pct + ' low':>12s}{pct + ' high':>12s}",
        ]
        for name, est, se in zip(PARAM_NAMES, self.params, self.stderr):
            tag = "  (fixed)" if name in self.fixed else ""
            lo, hi = ci[name]
            lines.append(f"{name:8s}{est:12.6g}{se:12.4g}{lo:12.6g}{hi:12.6g}{tag}")
        if not math.isnan(self.loglik):
            lines.append(f"log-likelihood = {self.loglik:.6f}")
        if self.gaussian:
            lines.append("alpha is at the Gaussian boundary 2: beta is not identified (reported as 0).")
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# input checks


def _check_x(x: ArrayLike, method: str) -> FloatArray:
    arr = as_float_array(x, "x", dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"x must be one-dimensional, got shape {arr.shape}")
    need = MIN_POINTS[method]
    if arr.size < need:
        raise ValueError(f"x needs at least {need} points for method={method!r}, got {arr.size}")
    bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise ValueError(f"x contains {bad} non-finite value(s) (NaN or inf); remove them first")
    return np.ascontiguousarray(arr)


def _check_fix(fix: Mapping[str, Any] | None, parameterization: str) -> dict[str, float]:
    """Validate ``fix`` and return the fixed values in S0."""
    if fix is None:
        return {}
    if not isinstance(fix, Mapping):
        raise TypeError(f"fix must be a mapping of parameter names to values, got {type(fix).__name__}")
    unknown = [k for k in fix if k not in PARAM_NAMES]
    if unknown:
        raise ValueError(f"fix has unknown parameter name(s) {unknown}; allowed: {', '.join(PARAM_NAMES)}")
    out: dict[str, float] = {}
    if "alpha" in fix:
        out["alpha"] = check_scalar("fix['alpha']", fix["alpha"], 0.0, 2.0, low_open=True)
    if "beta" in fix:
        out["beta"] = check_scalar("fix['beta']", fix["beta"], -1.0, 1.0)
    if "scale" in fix:
        out["scale"] = check_scalar("fix['scale']", fix["scale"], 0.0, None, low_open=True)
    if "loc" in fix:
        out["loc"] = check_scalar("fix['loc']", fix["loc"])
        if parameterization == "S1" and out.get("beta", None) != 0.0:
            if not {"alpha", "beta", "scale"} <= out.keys():
                raise ValueError(
                    "fix['loc'] with parameterization='S1' needs beta fixed at 0, or alpha, beta and "
                    "scale all fixed (the S1 location depends on them); fix the S0 location instead"
                )
            out["loc"] = out["loc"] + _s1_shift(out["alpha"], out["beta"], out["scale"])
    return out


# ------------------------------------------------------------------------------------------------
# parameterisation


def _s1_shift(a: float, b: float, s: float) -> float:
    """loc0 - loc1."""
    if a == 1.0:
        return b * 2.0 / math.pi * s * math.log(s)
    return b * s * math.tan(0.5 * math.pi * a)


def _s1_jacobian(a: float, b: float, s: float) -> FloatArray:
    """d(alpha, beta, scale, loc1) / d(alpha, beta, scale, loc0)."""
    J = np.eye(4)
    if a == 1.0:
        J[3, :3] = [np.nan, -2.0 / math.pi * s * math.log(s), -b * 2.0 / math.pi * (math.log(s) + 1.0)]
    else:
        t = math.tan(0.5 * math.pi * a)
        J[3, :3] = [-b * s * 0.5 * math.pi * (1.0 + t * t), -s * t, -b * t]
    return J


def _transform_cov(J: FloatArray, cov: FloatArray) -> FloatArray:
    """``J @ cov @ J.T`` where NaN rows/columns (unidentified parameters) stay NaN
    instead of spreading into every entry through ``0 * NaN``."""
    unknown = np.isnan(cov).all(axis=1)
    out = J @ np.where(np.isnan(cov), 0.0, cov) @ J.T
    out[unknown, :] = np.nan
    out[:, unknown] = np.nan
    return out


def _result(
    theta: FloatArray,
    cov: FloatArray,
    *,
    method: str,
    parameterization: str,
    nobs: int,
    fixed: dict[str, float],
    loglik: float,
    converged: bool,
    n_iter: int,
    message: str = "",
) -> StableFit:
    """Build a StableFit from S0 estimates theta = (alpha, beta, scale, loc0) and their covariance."""
    a, b, s, m = (float(v) for v in theta)
    gaussian = a >= 2.0
    cov = np.array(cov, dtype=float)
    if gaussian:
        a, b = 2.0, 0.0
        cov[:2, :] = np.nan
        cov[:, :2] = np.nan
    if parameterization == "S1":
        J = _s1_jacobian(a, b, s)
        m = m - _s1_shift(a, b, s)
        cov = _transform_cov(J, cov)
    names = tuple(k for k in PARAM_NAMES if k in fixed)
    for i, k in enumerate(PARAM_NAMES):
        if k in fixed:
            cov[i, :] = 0.0
            cov[:, i] = 0.0
    se = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
    cov.setflags(write=False)
    return StableFit(
        alpha=a,
        beta=b,
        scale=s,
        loc=m,
        stderr=StableParams(*(float(v) for v in se)),
        cov=cov,
        loglik=float(loglik),
        converged=bool(converged),
        n_iter=int(n_iter),
        method=method,
        parameterization=parameterization,
        nobs=nobs,
        fixed=names,
        gaussian=gaussian,
        message=message,
    )


# ------------------------------------------------------------------------------------------------
# quantile method


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


def _quantile_s0(
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
    x = _check_x(x, "quantile")
    fixed = _check_fix(fix, parameterization)
    theta, cov, ok, msg = _quantile_s0(x, fixed)
    return _result(theta, cov, method="quantile", parameterization=parameterization, nobs=x.size,
                   fixed=fixed, loglik=math.nan, converged=ok, n_iter=1, message=msg)


# ------------------------------------------------------------------------------------------------
# characteristic-function regression


def _tan_term(a: FloatArray, u: FloatArray) -> FloatArray:
    """tan(pi a / 2) (u - u**a), u > 0, stable near a = 1 (vectorised over leading axes)."""
    eps = 1.0 - a
    lu = np.log(u)
    with np.errstate(divide="ignore", invalid="ignore"):
        gen = -u * np.expm1(-eps * lu) / np.tan(0.5 * np.pi * eps)
    return np.where(eps == 0.0, 2.0 / np.pi * u * lu, gen)


def _ecf_regress(re: FloatArray, im: FloatArray, fixed_std: dict[str, float]) -> FloatArray:
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
    a = np.clip(a, 0.05, 2.0)
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
        tt, tw, ty, wy = np.sum(t * t), np.sum(t * w, axis=-1), np.sum(t * arg, axis=-1), np.sum(w * arg, axis=-1)
        det = tt * ww - tw * tw
        ok = identified & (det > 1e-12 * tt * np.maximum(ww, 1e-300))
        dd = np.where(ok, det, 1.0)
        m = np.where(ok, (ww * ty - tw * wy) / dd, ty / tt)
        b = np.where(ok, (tt * wy - tw * ty) / dd, 0.0)
    b = np.clip(b, -1.0, 1.0)
    return np.stack([a, b, ls, m], axis=-1)


def _std_fixed(fixed: dict[str, float], scale: float) -> dict[str, float]:
    """Fixed values in standardised units (scale and loc are standardised away)."""
    out = {k: v for k, v in fixed.items() if k in ("alpha", "beta")}
    if "scale" in fixed:
        out["scale"] = 1.0
    if "loc" in fixed:
        out["loc"] = 0.0
    return out


def _ecf_s0(
    x: FloatArray, fixed: dict[str, float], max_iter: int = 4, with_cov: bool = True
) -> tuple[FloatArray, FloatArray, int]:
    theta, _, _, _ = _quantile_s0(x, fixed, with_cov=False)
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
    R, I = re[:_ECF_M], im[:_ECF_M]
    c_rr = 0.5 * (pp.real + pm.real) - np.outer(R, R)
    c_ii = 0.5 * (pm.real - pp.real) - np.outer(I, I)
    c_ri = 0.5 * (pp.imag - pm_im) - np.outer(R, I)
    cs = np.block([[c_rr, c_ri], [c_ri.T, c_ii]]) / n
    stat = np.concatenate([R, I])
    steps = np.full(stat.size, 1e-6)
    # all forward-difference perturbations in one vectorised regression
    V = stat[None, :] + np.vstack([np.zeros(stat.size), np.diag(steps)])
    out = _ecf_regress(V[:, :_ECF_M], V[:, _ECF_M:], fstd)
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
        empirical characteristic function values.

    Raises
    ------
    ValueError
        Too few points, non-finite values, constant data, or a bad ``fix``.
    """
    parameterization = check_parameterization(parameterization)
    x = _check_x(x, "ecf")
    fixed = _check_fix(fix, parameterization)
    theta, cov, it = _ecf_s0(x, fixed)
    return _result(theta, cov, method="ecf", parameterization=parameterization, nobs=x.size,
                   fixed=fixed, loglik=math.nan, converged=True, n_iter=it)


# ------------------------------------------------------------------------------------------------
# maximum likelihood


def _evaluate(x: FloatArray, th: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    """Log-likelihood, score, BHHH matrix and Hessian at th = (alpha, beta, log scale, loc0)."""
    G, P = _K.density_grids(float(th[0]), float(th[1]), 2)
    out = _K.loglik_pass(x, float(th[3]), math.exp(th[2]), G, P, 2)
    iu = np.triu_indices(4)
    B = np.empty((4, 4))
    B[iu] = out[5:15]
    B.T[iu] = out[5:15]
    Hm = np.empty((4, 4))
    Hm[iu] = out[15:25]
    Hm.T[iu] = out[15:25]
    return float(out[0]), out[1:5].copy(), B, Hm


_LOWER = np.array([MLE_ALPHA_MIN, -1.0, -np.inf, -np.inf])
_UPPER = np.array([2.0, 1.0, np.inf, np.inf])


def _newton(x: FloatArray, th: FloatArray, free: np.ndarray, max_iter: int, tol: float = 1e-10):
    """Projected Newton steps with Armijo backtracking.

    The step uses minus the Hessian where it is positive definite on the free
    coordinates, else the outer-product (BHHH) matrix.  Returns (theta,
    loglik, score, Hessian, n_iter, converged, message).
    """
    th = np.clip(th, _LOWER, _UPPER)
    ll, g, B, Hm = _evaluate(x, th)
    if not math.isfinite(ll):
        return th, ll, g, Hm, 0, False, "log-likelihood is not finite at the start"
    for it in range(1, max_iter + 1):
        act = free & ~((th <= _LOWER) & (g < 0)) & ~((th >= _UPPER) & (g > 0))
        if th[0] >= 2.0:
            act[1] = False  # beta is not identified at alpha = 2
        idx = np.flatnonzero(act)
        if idx.size == 0:
            return th, ll, g, Hm, it, True, ""
        try:
            M = -Hm[np.ix_(idx, idx)]
            np.linalg.cholesky(M)
        except np.linalg.LinAlgError:
            M = B[np.ix_(idx, idx)]
        M = M + 1e-12 * np.diag(np.diag(M)) + 1e-300 * np.eye(idx.size)
        try:
            d = np.linalg.solve(M, g[idx])
        except np.linalg.LinAlgError:
            return th, ll, g, Hm, it, False, "singular information matrix"
        dec = float(g[idx] @ d)
        if dec < tol:
            return th, ll, g, Hm, it, True, ""
        t = 1.0
        while True:
            tn = th.copy()
            tn[idx] += t * d
            tn = np.clip(tn, _LOWER, _UPPER)
            ll_n, g_n, B_n, H_n = _evaluate(x, tn)
            # below dec ~ 1e-6 the expected gain is under the rounding of a large sum: take the step
            if math.isfinite(ll_n) and (ll_n >= ll + 1e-4 * t * dec or dec < 1e-6):
                break
            t *= 0.5
            if t < 1e-8:
                return th, ll, g, Hm, it, dec < 1e-6, "line search failed"
        th, ll, g, B, Hm = tn, ll_n, g_n, B_n, H_n
    return th, ll, g, Hm, max_iter, False, f"no convergence in {max_iter} iterations"


def _mle_s0(x: FloatArray, fixed: dict[str, float], max_iter: int):
    n = x.size
    if n > _SUBSAMPLE_ABOVE:
        # converge on an evenly strided subsample first, then polish on all data
        th0 = _mle_s0(x[:: n // _SUBSAMPLE_SIZE], fixed, max_iter)[0].copy()
        th0[2] = math.log(th0[2])
    else:
        st, _, _ = _ecf_s0(x, fixed, max_iter=2, with_cov=False)
        th0 = np.array([st[0], st[1], math.log(st[2]), st[3]])
    free = np.ones(4, dtype=bool)
    for i, k in enumerate(PARAM_NAMES):
        if k in fixed:
            free[i] = False
            th0[i] = math.log(fixed[k]) if k == "scale" else fixed[k]
    if "alpha" in fixed and fixed["alpha"] < MLE_ALPHA_MIN:
        raise ValueError(f"fix['alpha'] must be in [{MLE_ALPHA_MIN:g}, 2] for method='mle', got {fixed['alpha']:g}")
    th, ll, g, Hm, it, conv, msg = _newton(x, th0, free, max_iter)
    if free[0] and th[0] <= MLE_ALPHA_MIN:
        conv, msg = False, f"alpha reached the lower edge {MLE_ALPHA_MIN:g} of the MLE's range"
    eff = free.copy()
    if th[0] >= 2.0:
        eff[:2] = False
    idx = np.flatnonzero(eff)
    cov_l = np.full((4, 4), np.nan)
    for i in np.flatnonzero(~free):
        cov_l[i, :] = 0.0
        cov_l[:, i] = 0.0
    if idx.size:
        info = -Hm[np.ix_(idx, idx)]  # observed Fisher information
        try:
            np.linalg.cholesky(info)
            cov_l[np.ix_(idx, idx)] = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            msg = msg or "observed information is not positive definite; standard errors are NaN"
    cov = _transform_cov(np.diag([1.0, 1.0, math.exp(th[2]), 1.0]), cov_l)
    theta = np.array([th[0], th[1], math.exp(th[2]), th[3]])
    return theta, cov, ll, it, conv, msg


def mle(
    x: ArrayLike,
    *,
    parameterization: Parameterization = "S0",
    fix: Mapping[str, float] | None = None,
    max_iter: int = 100,
) -> StableFit:
    """Maximum-likelihood fit with the characteristic-function (FFT) density.

    The S0 density is obtained by one FFT of the characteristic function on
    8192 points (spacing 0.02 in standardised units), corrected for the
    aliased heavy tails, interpolated by cubic Lagrange polynomials, and
    replaced by its asymptotic tail series beyond |z| = 65.5.  Its
    derivatives in alpha and beta come from the same FFT, so every
    likelihood evaluation also gives the exact score and Hessian.  Newton
    steps (outer-product matrix where the Hessian is not negative definite),
    with backtracking and the bounds 0.6 <= alpha <= 2, -1 <= beta <= 1,
    start from :func:`ecf`.  For more than
    50 000 points the fit first converges on an evenly strided subsample of
    20 000 and then polishes on all data.

    Parameters
    ----------
    x : array_like, 1-D
        Data; at least ``MIN_POINTS["mle"]`` (20) finite values, not constant.
    parameterization : {"S0", "S1"}
        Parameterisation of the result (and of ``fix``).
    fix : mapping, optional
        Parameters held at given values, e.g. ``{"beta": 0, "loc": 0}``.
    max_iter : int
        Maximum number of Newton steps.

    Returns
    -------
    StableFit
        Standard errors from the inverse observed Fisher information (minus
        the Hessian of the log-likelihood at the estimate).  ``converged=False`` (with the best point) when the optimiser
        stops early or alpha sits at 0.6.

    Raises
    ------
    ValueError
        Too few points, non-finite values, constant data, or a bad ``fix``.
    """
    parameterization = check_parameterization(parameterization)
    x = _check_x(x, "mle")
    fixed = _check_fix(fix, parameterization)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    theta, cov, ll, it, conv, msg = _mle_s0(x, fixed, int(max_iter))
    return _result(theta, cov, method="mle", parameterization=parameterization, nobs=x.size,
                   fixed=fixed, loglik=ll, converged=conv, n_iter=it, message=msg)


def fit(
    x: ArrayLike,
    method: str = "mle",
    parameterization: Parameterization = "S0",
    fix: Mapping[str, float] | None = None,
) -> StableFit:
    """Fit all four stable parameters.

    Parameters
    ----------
    x : array_like, 1-D
        Data (at least 20 finite values, not constant).
    method : {"mle", "ecf", "quantile"}
        Estimator: :func:`mle` (default), :func:`ecf` or :func:`quantile`.
    parameterization : {"S0", "S1"}
        Nolan's parameterisation of the result and of ``fix``.
    fix : mapping, optional
        Any subset of ``alpha, beta, scale, loc`` held at given values, e.g.
        ``{"beta": 0, "loc": 0}`` for symmetric data centred at zero.

    Returns
    -------
    StableFit

    Raises
    ------
    ValueError
        Unknown method, or as the chosen method.
    """
    method = check_choice("method", method, ("mle", "ecf", "quantile"))
    func = {"mle": mle, "ecf": ecf, "quantile": quantile}[method]
    return func(x, parameterization=parameterization, fix=fix)
