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
from ._quantile import quantile_s0
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
# Newton stops when the expected gain g' M^-1 g of a step is below this: the estimate is then within
# sqrt(tol) standard errors of the maximum.  The node-table log-likelihood is far from quadratic on
# the scale of a step (its curvature in beta and loc changes by 10-25% over 0.1 standard error, from
# the points near the S1 origin), so Newton converges only linearly there: stop at 0.03 se.
_TOL = {"fft": 1e-6, "grid": 1e-3}
#: Below this alpha (at the start) the S1 origin is first put on a data point (see _align_s1_origin).
ALIGN_ALPHA = 0.25
_ALIGN_CANDIDATES = 64
_STEP_INV = np.array([10.0, 2.0, 1.0, 0.0])  # 1 / the largest step per coordinate (loc: none)
_SUBSAMPLE_ABOVE = 50_000
_SUBSAMPLE_SIZE = 20_000


def _loglik(x: FloatArray, th: FloatArray, mode: str, level: int) -> FloatArray:
    """[loglik, g(4), B(10), Hess(10)] at th = (alpha, beta, log scale, loc0); level 0: loglik only."""
    a, b, scale, loc = float(th[0]), float(th[1]), math.exp(th[2]), float(th[3])
    if mode == "fft":
        G, P = _K.density_grids(a, b, level)
        return _K.loglik_pass(x, loc, scale, G, P, level)
    return _loggrid.build(a, b, level).loglik(x, loc, scale, level)


def _evaluate(x: FloatArray, th: FloatArray, mode: str) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    """Log-likelihood, score, BHHH matrix and Hessian at th = (alpha, beta, log scale, loc0)."""
    out = _loglik(x, th, mode, 2)
    iu = np.triu_indices(4)
    B = np.empty((4, 4))
    B[iu] = out[5:15]
    B.T[iu] = out[5:15]
    Hm = np.empty((4, 4))
    Hm[iu] = out[15:25]
    Hm.T[iu] = out[15:25]
    return float(out[0]), out[1:5].copy(), B, Hm


def _s1_coords(th: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """loc0 - loc1 = beta e^ls tan(pi alpha / 2) and its gradient / Hessian in (alpha, beta, ls, loc1)."""
    a, b, sc = float(th[0]), float(th[1]), math.exp(th[2])
    t = math.tan(0.5 * math.pi * a)
    t1 = 0.5 * math.pi * (1.0 + t * t)
    t2 = math.pi * t * t1
    phi = b * sc * t
    grad = np.array([b * sc * t1, sc * t, phi, 0.0])
    hess = np.zeros((4, 4))
    hess[:3, :3] = [[b * sc * t2, sc * t1, b * sc * t1], [sc * t1, 0.0, sc * t], [b * sc * t1, sc * t, phi]]
    return phi, grad, hess


class _Objective:
    """Log-likelihood in one density mode and one coordinate system.

    With ``s1`` the last coordinate is the S1 location (loc1 = loc0 - beta
    scale tan(pi alpha / 2)): for alpha < 1 the density's sharpest feature
    sits at the S1 origin, so in these coordinates it stays put when alpha,
    beta or the scale move and the log-likelihood is far closer to quadratic
    (measured: Newton needs about half the steps at alpha = 0.3).
    """

    def __init__(self, x: FloatArray, mode: str, s1: bool) -> None:
        self.x, self.mode, self.s1 = x, mode, s1
        self.lower, self.upper = _BOUNDS[mode]
        self.tol = _TOL[mode]

    def to_s0(self, th: FloatArray) -> FloatArray:
        out = np.array(th, dtype=float)
        if self.s1:
            out[3] += _s1_coords(th)[0]
        return out

    def from_s0(self, th: FloatArray) -> FloatArray:
        out = np.array(th, dtype=float)
        if self.s1:
            out[3] -= _s1_coords(th)[0]
        return out

    def jacobian(self, th: FloatArray) -> FloatArray:
        """d theta_S0 / d theta (identity in S0 coordinates)."""
        J = np.eye(4)
        if self.s1:
            J[3] += _s1_coords(th)[1]
        return J

    def value(self, th: FloatArray) -> float:
        return float(_loglik(self.x, self.to_s0(th), self.mode, 0)[0])

    def full(self, th: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray]:
        ll, g, B, Hm = _evaluate(self.x, self.to_s0(th), self.mode)
        if not self.s1:
            return ll, g, B, Hm
        _, _, hphi = _s1_coords(th)
        J = self.jacobian(th)
        return ll, J.T @ g, J.T @ B @ J, J.T @ Hm @ J + g[3] * hphi


def _newton(obj: _Objective, th: FloatArray, free: np.ndarray, max_iter: int):
    """Projected Newton steps with Armijo backtracking.

    The step uses minus the Hessian where it is positive definite on the free
    coordinates, else the outer-product (BHHH) matrix.  Returns (theta,
    loglik, score, BHHH matrix, Hessian, n_iter, converged, message).
    """
    lower, upper = obj.lower, obj.upper
    th = np.clip(th, lower, upper)
    ll, g, B, Hm = obj.full(th)
    if not math.isfinite(ll):
        return th, ll, g, B, Hm, 0, False, "log-likelihood is not finite at the start"
    for it in range(1, max_iter + 1):
        act = free & ~((th <= lower) & (g < 0)) & ~((th >= upper) & (g > 0))
        if th[0] >= 2.0:
            act[1] = False  # beta is not identified at alpha = 2
        idx = np.flatnonzero(act)
        if idx.size == 0:
            return th, ll, g, B, Hm, it, True, ""
        try:
            M = -Hm[np.ix_(idx, idx)]
            np.linalg.cholesky(M)
        except np.linalg.LinAlgError:
            M = B[np.ix_(idx, idx)]
        M = M + 1e-12 * np.diag(np.diag(M)) + 1e-300 * np.eye(idx.size)
        try:
            d = np.linalg.solve(M, g[idx])
        except np.linalg.LinAlgError:
            return th, ll, g, B, Hm, it, False, "singular information matrix"
        dec = float(g[idx] @ d)
        if dec < obj.tol:
            return th, ll, g, B, Hm, it, True, ""
        # at most 0.1 in alpha, 0.5 in beta, a factor e in scale per step (far starts overshoot)
        t = min(1.0, 1.0 / max(float(np.max(np.abs(d * _STEP_INV[idx]))), 1e-300))
        full = True  # the first trial is usually taken: evaluate it with derivatives; retries value only
        while True:
            tn = th.copy()
            tn[idx] += t * d
            tn = np.clip(tn, lower, upper)
            if full:
                ll_n, g_n, B_n, H_n = obj.full(tn)
            else:
                ll_n = obj.value(tn)
            # below dec ~ 1e-6 the expected gain is under the rounding of a large sum: take the step
            if math.isfinite(ll_n) and (ll_n >= ll + 1e-4 * t * dec or dec < 1e-6):
                break
            t *= 0.5
            full = False
            if t < 1e-8:
                # the log-likelihood is rough on the scale of the step: within 0.1 se, call it converged
                return th, ll, g, B, Hm, it, dec < 1e-2, f"line search failed (expected gain {dec:.2g})"
        if not full:
            ll_n, g_n, B_n, H_n = obj.full(tn)
        th, ll, g, B, Hm = tn, ll_n, g_n, B_n, H_n
    return th, ll, g, B, Hm, max_iter, False, f"no convergence in {max_iter} iterations"


def _align_s1_origin(obj: _Objective, x: FloatArray, th: FloatArray) -> FloatArray:
    """Put the S1 origin on the data point that maximises the log-likelihood, among those nearest it.

    For small alpha the density has a spike of width ~1e-12 (alpha = 0.1) at the S1
    origin and falls like |x - loc1|**(alpha - 1) around it, so the log-likelihood in
    loc1 has a narrow peak at every data point: Newton from a start between them
    cannot climb.  The maximum sits where the points pile up around the origin, i.e.
    where neighbouring order statistics are closest: try the ``_ALIGN_CANDIDATES``
    central points with the smallest gaps (one table, one pass per candidate).
    """
    loc1 = float(th[3])
    xs = np.sort(x)
    n = xs.size
    mid = xs[n // 4 : n - n // 4]
    gap = mid[2:] - mid[:-2]
    near = 1 + np.argsort(gap, kind="stable")[:_ALIGN_CANDIDATES]
    best, best_ll = loc1, obj.value(th)
    g = _loggrid.build(float(th[0]), float(th[1]), 0)
    sc = math.exp(th[2])
    shift = _s1_coords(th)[0]
    for c in mid[near]:
        ll = float(g.loglik(x, float(c) + shift, sc, 0)[0])
        if ll > best_ll:
            best, best_ll = float(c), ll
    out = th.copy()
    out[3] = best
    return out


def _small_alpha(obj: _Objective, th: FloatArray, free: np.ndarray, max_iter: int):
    """Fit for alpha below ALIGN_ALPHA: S1 origin on a data point, then Nelder-Mead in the rest.

    The point at the spike fixes loc1 to ~1e-12 of the scale; it also makes the
    log-likelihood rough on that scale in alpha and beta (the spike's shape moves
    under it), so derivative steps fail while a simplex search on the values
    converges.  Measured: alpha = 0.1, 0.15, 0.2 recovered to 1e-3 at n = 10^4.
    Standard errors from the expected information at the estimate.
    """
    from scipy.optimize import minimize

    th = _align_s1_origin(obj, obj.x, th)
    loc1 = float(th[3])
    idx = np.flatnonzero(free[:3])
    lower, upper = obj.lower, obj.upper

    def negll(p: FloatArray) -> float:
        t = th.copy()
        t[idx] = p
        if np.any(t[:2] < lower[:2]) or np.any(t[:2] > upper[:2]):
            return math.inf
        v = obj.value(t)
        return -v if math.isfinite(v) else math.inf

    steps = np.array([0.01, 0.05, 0.1])[idx]
    base = th[idx]
    simplex = [base]
    for j in range(idx.size):
        v = base.copy()
        inward = base[j] + steps[j] <= upper[idx[j]]
        v[j] += steps[j] if inward else -steps[j]
        simplex.append(v)
    res = minimize(negll, base, method="Nelder-Mead",
                   options={"xatol": 1e-5, "fatol": 1e-4, "maxiter": 40 * max_iter,
                            "initial_simplex": np.array(simplex)})
    th = th.copy()
    th[idx] = res.x
    th[3] = loc1
    ll = obj.value(th)
    # the observed information is dominated by the few points at the spike, whose curvature is
    # the spike's 1e-12 fine structure (measured: 100x the Cramer-Rao information at alpha = 0.12);
    # the expected information, by quadrature of the same density, is the honest one
    th0 = obj.to_s0(th)
    d = np.array([1.0, 1.0, 1.0, math.exp(-th0[2])])
    info = obj.x.size * d[:, None] * _loggrid.build(float(th0[0]), float(th0[1])).information() * d[None, :]
    J = obj.jacobian(th)
    Hm = -(J.T @ info @ J)
    B = -Hm
    msg = "loc: the S1 origin sits on a data point (the density's spike at small alpha); its standard error is not estimated"
    if not res.success:
        msg = f"simplex search did not converge ({res.message}); " + msg
    return th, ll, B, Hm, int(res.nit), bool(res.success), msg, True


def _fit_modes(x: FloatArray, th0: FloatArray, free: np.ndarray, max_iter: int):
    """Newton in the density mode that serves the start; switch once when alpha leaves its range.

    Returns theta (S0), loglik, the BHHH matrix and Hessian in S0 coordinates (the
    Hessian's S1-coordinate curvature term vanishes at a stationary point), n_iter, converged, message and whether loc1 was held on a data point.
    """
    mode = "grid" if th0[0] < 0.5 * (FFT_ALPHA_MIN + GRID_ALPHA_MAX) else "fft"
    for _ in range(3):
        obj = _Objective(x, mode, s1=mode == "grid" and bool(free[3]))
        start = obj.from_s0(th0)
        if obj.s1 and start[0] < ALIGN_ALPHA:
            # the simplex search is local and the ecf start is rough down here: also start it from
            # the quantile method's estimate and keep the better end
            tries = [_small_alpha(obj, start, free, max_iter)]
            q = quantile_s0(x, {}, with_cov=False)[0]
            alt = obj.from_s0(np.where(free, [q[0], q[1], math.log(q[2]), q[3]], th0))
            alt[0] = min(alt[0], ALIGN_ALPHA)
            tries.append(_small_alpha(obj, alt, free, max_iter))
            th, ll, B, Hm, it, conv, msg, held = max(tries, key=lambda r: r[1])
        else:
            th, ll, _, B, Hm, it, conv, msg = _newton(obj, start, free, max_iter)
            held = False
        th0 = obj.to_s0(th)
        if free[0] and mode == "fft" and th[0] <= FFT_ALPHA_MIN + 1e-9:
            mode = "grid"
        elif free[0] and mode == "grid" and th[0] >= GRID_ALPHA_MAX - 1e-9:
            mode = "fft"
        else:
            break
    Ji = np.linalg.inv(obj.jacobian(th))
    return th0, ll, Ji.T @ B @ Ji, Ji.T @ Hm @ Ji, it, conv, msg, held


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
    th, ll, B, Hm, it, conv, msg, held = _fit_modes(x, th0, free, max_iter)
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
        except np.linalg.LinAlgError:
            # a rough log-likelihood (alpha < 0.5: points at the S1 origin) can leave the observed
            # information indefinite; the outer product of the scores estimates the same matrix
            info = B[np.ix_(idx, idx)]
            msg = msg or "observed information not positive definite: standard errors from the score outer product"
        try:
            np.linalg.cholesky(info)
            cov_l[np.ix_(idx, idx)] = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            msg = msg or "information matrix is singular; standard errors are NaN"
    if held:
        cov_l[3, :] = np.nan
        cov_l[:, 3] = np.nan
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

