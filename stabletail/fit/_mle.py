"""Maximum-likelihood fit with the compiled stable density."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .._params import PARAM_NAMES
from .._typing import ArrayLike, FloatArray, Parameterization
from . import _kernels as _K
from . import _loggrid
from ._common import boundary, prepare
from ._ecf import ecf_s0
from .result import StableFit, make_result, transform_cov

__all__ = ["MLE_ALPHA_MIN", "mle"]

#: Smallest alpha the MLE searches.
MLE_ALPHA_MIN = 0.1
#: The FFT density serves alpha >= FFT_ALPHA_MIN (accurate to ~1e-5 relative there), the node-table
#: density alpha <= GRID_ALPHA_MAX; a fit that reaches the edge of one continues with the other.
FFT_ALPHA_MIN = 0.6
GRID_ALPHA_MAX = 0.8
_BOUNDS = {
    "fft": (np.array([FFT_ALPHA_MIN, -1.0, -np.inf, -np.inf]), np.array([2.0, 1.0, np.inf, np.inf])),
    "grid": (np.array([MLE_ALPHA_MIN, -1.0, -np.inf, -np.inf]), np.array([GRID_ALPHA_MAX, 1.0, np.inf, np.inf])),
}
_SUBSAMPLE_ABOVE = 50_000
_SUBSAMPLE_SIZE = 20_000


def _evaluate(x: FloatArray, th: FloatArray, mode: str) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    """Log-likelihood, score, BHHH matrix and Hessian at th = (alpha, beta, log scale, loc0)."""
    a, b, scale, loc = float(th[0]), float(th[1]), math.exp(th[2]), float(th[3])
    if mode == "fft":
        G, P = _K.density_grids(a, b, 2)
        out = _K.loglik_pass(x, loc, scale, G, P, 2)
    else:
        out = _loggrid.build(a, b).loglik(x, loc, scale, 2)
    iu = np.triu_indices(4)
    B = np.empty((4, 4))
    B[iu] = out[5:15]
    B.T[iu] = out[5:15]
    Hm = np.empty((4, 4))
    Hm[iu] = out[15:25]
    Hm.T[iu] = out[15:25]
    return float(out[0]), out[1:5].copy(), B, Hm


def _newton(x: FloatArray, th: FloatArray, free: np.ndarray, max_iter: int, mode: str, tol: float = 1e-10):
    """Projected Newton steps with Armijo backtracking.

    The step uses minus the Hessian where it is positive definite on the free
    coordinates, else the outer-product (BHHH) matrix.  Returns (theta,
    loglik, score, Hessian, n_iter, converged, message).
    """
    lower, upper = _BOUNDS[mode]
    th = np.clip(th, lower, upper)
    ll, g, B, Hm = _evaluate(x, th, mode)
    if not math.isfinite(ll):
        return th, ll, g, Hm, 0, False, "log-likelihood is not finite at the start"
    for it in range(1, max_iter + 1):
        act = free & ~((th <= lower) & (g < 0)) & ~((th >= upper) & (g > 0))
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
            tn = np.clip(tn, lower, upper)
            ll_n, g_n, B_n, H_n = _evaluate(x, tn, mode)
            # below dec ~ 1e-6 the expected gain is under the rounding of a large sum: take the step
            if math.isfinite(ll_n) and (ll_n >= ll + 1e-4 * t * dec or dec < 1e-6):
                break
            t *= 0.5
            if t < 1e-8:
                return th, ll, g, Hm, it, dec < 1e-6, "line search failed"
        th, ll, g, B, Hm = tn, ll_n, g_n, B_n, H_n
    return th, ll, g, Hm, max_iter, False, f"no convergence in {max_iter} iterations"


def _fit_modes(x: FloatArray, th0: FloatArray, free: np.ndarray, max_iter: int):
    """Newton in the density mode that serves the start; switch once when alpha leaves its range."""
    mode = "grid" if th0[0] < 0.5 * (FFT_ALPHA_MIN + GRID_ALPHA_MAX) else "fft"
    for _ in range(3):
        th, ll, _, Hm, it, conv, msg = _newton(x, th0, free, max_iter, mode)
        if free[0] and mode == "fft" and th[0] <= FFT_ALPHA_MIN + 1e-9:
            mode, th0 = "grid", th
        elif free[0] and mode == "grid" and th[0] >= GRID_ALPHA_MAX - 1e-9:
            mode, th0 = "fft", th
        else:
            break
    return th, ll, Hm, it, conv, msg


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
    th, ll, Hm, it, conv, msg = _fit_modes(x, th0, free, max_iter)
    if free[0] and th[0] <= MLE_ALPHA_MIN + 1e-9:
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
    parameterization, std = prepare(x, "mle", parameterization, fix)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    theta, cov, ll, it, conv, msg = _mle_s0(std.x, std.fixed, int(max_iter))
    edge = boundary(theta, std.fixed, MLE_ALPHA_MIN)
    return make_result(theta, cov, std, method="mle", parameterization=parameterization,
                       loglik=ll, converged=conv, n_iter=it, message=msg, at_boundary=edge)

