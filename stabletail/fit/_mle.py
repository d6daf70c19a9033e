"""Maximum-likelihood fit with the compiled stable density."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .._params import PARAM_NAMES, check_parameterization
from .._typing import ArrayLike, FloatArray, Parameterization
from . import _kernels as _K
from ._common import check_fix, check_x
from ._ecf import ecf_s0
from .result import StableFit, make_result, transform_cov

__all__ = ["MLE_ALPHA_MIN", "mle"]

#: Smallest alpha the MLE searches (its FFT grid is accurate to ~1e-5 relative from here up).
MLE_ALPHA_MIN = 0.6
_SUBSAMPLE_ABOVE = 50_000
_SUBSAMPLE_SIZE = 20_000


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
        st, _, _ = ecf_s0(x, fixed, max_iter=2, with_cov=False)
        th0 = np.array([st[0], st[1], math.log(st[2]), st[3]])
    free = np.ones(4, dtype=bool)
    for i, k in enumerate(PARAM_NAMES):
        if k in fixed:
            free[i] = False
            th0[i] = math.log(fixed[k]) if k == "scale" else fixed[k]
    if "alpha" in fixed and fixed["alpha"] < MLE_ALPHA_MIN:
        raise ValueError(f"fix['alpha'] must be in [{MLE_ALPHA_MIN:g}, 2] for method='mle', got {fixed['alpha']:g}")
    th, ll, _, Hm, it, conv, msg = _newton(x, th0, free, max_iter)
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
    cov = transform_cov(np.diag([1.0, 1.0, math.exp(th[2]), 1.0]), cov_l)
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
    x = check_x(x, "mle")
    fixed = check_fix(fix, parameterization)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    theta, cov, ll, it, conv, msg = _mle_s0(x, fixed, int(max_iter))
    return make_result(theta, cov, method="mle", parameterization=parameterization, nobs=x.size,
                   fixed=fixed, loglik=ll, converged=conv, n_iter=it, message=msg)

