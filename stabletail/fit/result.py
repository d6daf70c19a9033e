"""Result types of the stable fits: :class:`StableParams` and :class:`StableFit`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from scipy.special import ndtri

from .._params import PARAM_NAMES, s1_jacobian, s1_shift
from .._typing import FloatArray
from .._validation import check_level
from ._common import Standardized

__all__ = ["StableFit", "StableParams", "make_result", "transform_cov"]


class StableParams(NamedTuple):
    """One value per stable parameter (the standard errors of a fit use it too).

    Attributes
    ----------
    alpha, beta, scale, loc : float
        Stability index, skewness, scale and location (of the fit's parameterisation).
    """

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
    at_boundary : tuple of str
        Free parameters estimated on the edge of the parameter space (beta at
        -1 or 1, alpha at the lower edge of the method's range).  Their
        standard errors are those of the unconstrained statistic (never a
        clipped 0) and :meth:`ci` cuts the interval at the edge.
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
    at_boundary: tuple[str, ...] = ()

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

    def gof(self, x: Any, **options: Any) -> Any:
        """Goodness of fit by parametric bootstrap: :func:`stabletail.fit.gof` of this fit and ``x``.

        Parameters
        ----------
        x : array_like
            The sample this fit was made on.
        **options
            Passed to :func:`stabletail.fit.gof` (``n_boot``, ``random_state``, ...).

        Returns
        -------
        GofResult
        """
        from .gof import gof

        return gof(self, x, **options)

    def plot(self, x: Any, path: Any = None, **options: Any) -> Any:
        """QQ (with bands), PP, density and tails: :func:`stabletail.fit.plot_fit` of this fit.

        Parameters
        ----------
        x : array_like
            The sample this fit was made on.
        path : path-like, optional
            Where to save the figure; None only returns it.
        **options
            Passed to :func:`stabletail.fit.plot_fit`.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plot import plot_fit

        return plot_fit(self, x, path, **options)

    def summary(self, level: float = 0.95) -> str:
        """A small text table of estimates, standard errors and intervals.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of the intervals.

        Returns
        -------
        str
        """
        ci = self.ci(level)
        pct = f"{100 * level:g}%"
        lines = [
            (f"Stable fit ({self.method}, {self.parameterization}), n = {self.nobs}, "
             f"converged = {self.converged}, iterations = {self.n_iter}"),
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
        if self.at_boundary:
            lines.append(f"on the edge of the parameter space: {', '.join(self.at_boundary)} "
                         "(interval cut at the edge)")
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)



def transform_cov(J: FloatArray, cov: FloatArray) -> FloatArray:
    """``J @ cov @ J.T`` where NaN rows/columns (unidentified parameters) stay NaN
    instead of spreading into every entry through ``0 * NaN``."""
    unknown = np.isnan(np.diag(cov))
    out = J @ np.where(np.isnan(cov), 0.0, cov) @ J.T
    out[unknown, :] = np.nan
    out[:, unknown] = np.nan
    return out


def _row_stderr(J: FloatArray, cov: FloatArray) -> FloatArray:
    """sqrt(diag(J cov J.T)) without overflow: each row of J is scaled to unit size first."""
    unknown = np.isnan(np.diag(cov))
    c = np.where(np.isnan(cov), 0.0, cov)
    se = np.empty(J.shape[0])
    for i, row in enumerate(J):
        big = float(np.max(np.abs(np.where(np.isnan(row), 0.0, row))))
        if np.isnan(row).any():
            se[i] = np.nan
            continue
        w = row / big if big > 0 else row
        v = float(w @ c @ w)
        se[i] = big * math.sqrt(v) if v >= 0 else np.nan
    se[unknown] = np.nan
    return se


def make_result(
    theta: FloatArray,
    cov: FloatArray,
    std: Standardized,
    *,
    method: str,
    parameterization: str,
    loglik: float,
    converged: bool,
    n_iter: int,
    message: str = "",
    at_boundary: tuple[str, ...] = (),
) -> StableFit:
    """Build a StableFit from S0 estimates of the standardised data (x - center) / spread.

    theta = (alpha, beta, scale, loc0) and cov are in standardised units; the
    result is in data units and ``parameterization``.  Standard errors are
    formed row by row so that they stay finite for any spread in
    (1e-300, 1e300) (``cov`` itself may then hold inf: a variance beyond 1e308).
    """
    nobs, fixed, center, spread = std.x.size, std.fixed, std.center, std.spread
    a, b, ss, ms = (float(v) for v in theta)
    s = spread * ss
    m = center + spread * ms
    gaussian = a >= 2.0
    cov = np.array(cov, dtype=float)
    if gaussian:
        a, b = 2.0, 0.0
        cov[:2, :] = np.nan
        cov[:, :2] = np.nan
    names = tuple(k for k in PARAM_NAMES if k in fixed)
    for i, k in enumerate(PARAM_NAMES):
        if k in fixed:
            cov[i, :] = 0.0
            cov[:, i] = 0.0
    J = np.diag([1.0, 1.0, spread, spread])
    if parameterization == "S1":
        J1 = s1_jacobian(a, b, s)
        # at alpha = 1 the shift has no alpha derivative (NaN): harmless when alpha is fixed
        for i, k in enumerate(PARAM_NAMES):
            if k in fixed:
                J1[:, i] = np.where(np.isnan(J1[:, i]), 0.0, J1[:, i])
        J = J1 @ J
        m = m - s1_shift(a, b, s)
    se = _row_stderr(J, cov)
    # a free parameter is never known exactly: a zero here is a degenerate map (e.g. beta not
    # identified by the ecf regression), not a standard error
    for i, k in enumerate(PARAM_NAMES):
        if k in fixed or (gaussian and i < 2):
            continue
        if not se[i] > 0.0 or not math.isfinite(se[i]):
            se[i] = np.nan
            message = message or f"the standard error of {k} is not available (degenerate estimate)"
    with np.errstate(over="ignore", invalid="ignore"):
        full = transform_cov(J, cov)
    full.setflags(write=False)
    return StableFit(
        alpha=a,
        beta=b,
        scale=s,
        loc=m,
        stderr=StableParams(*(float(v) for v in se)),
        cov=full,
        loglik=float(loglik) - nobs * math.log(spread),
        converged=bool(converged),
        n_iter=int(n_iter),
        method=method,
        parameterization=parameterization,
        nobs=nobs,
        fixed=names,
        gaussian=gaussian,
        message=message,
        at_boundary=tuple(k for k in at_boundary if k not in names),
    )
