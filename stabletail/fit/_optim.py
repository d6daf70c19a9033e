"""Newton iterations of the maximum-likelihood fit: density modes, coordinates, line search (private)."""

from __future__ import annotations

import math

import numpy as np

from .._typing import FloatArray
from . import _grid_kernels as _G
from . import _kernels as _K
from . import _loggrid

#: Smallest alpha the MLE searches.
MLE_ALPHA_MIN = 0.1
#: The FFT density serves alpha >= FFT_ALPHA_MIN (accurate to ~1e-5 relative there), the node-table
#: density alpha <= GRID_ALPHA_MAX; a fit that reaches the edge of one continues with the other.
FFT_ALPHA_MIN = 0.6
GRID_ALPHA_MAX = 0.8
_BOUNDS = {
    "fft": (np.array([FFT_ALPHA_MIN, -1.0, -np.inf, -np.inf]), np.array([2.0, 1.0, np.inf, np.inf])),
    "grid": (
        np.array([MLE_ALPHA_MIN, -1.0, -np.inf, -np.inf]), np.array([GRID_ALPHA_MAX, 1.0, np.inf, np.inf])
    ),
}
# Newton stops when the expected gain g' M^-1 g of a step is below this: the estimate is then within
# sqrt(tol) standard errors of the maximum.  The node-table log-likelihood is far from quadratic on
# the scale of a step (its curvature in beta and loc changes by 10-25% over 0.1 standard error, from
# the points near the S1 origin), so its steps use the expected information (Fisher scoring) and
# converge linearly: stop at 0.1 se (an error of 0.1 se adds 1% to the estimate's variance).
_TOL = {"fft": 1e-6, "grid": 1e-2}
_STEP_INV = np.array([10.0, 2.0, 1.0, 0.0])  # 1 / the largest step per coordinate (loc: none)


def _loglik(x: FloatArray, th: FloatArray, mode: str, level: int) -> FloatArray:
    """[loglik, g(4), B(10), Hess(10)] at th = (alpha, beta, log scale, loc0); level 0: loglik only."""
    a, b, scale, loc = float(th[0]), float(th[1]), math.exp(th[2]), float(th[3])
    if mode == "fft":
        G, P = _K.density_grids(a, b, level)
        return _G.loglik_pass(x, loc, scale, G, P, _G.NO_META, level, False)
    return _loggrid.build(a, b, level).loglik(x, loc, scale, level)


def _evaluate(
    x: FloatArray, th: FloatArray, mode: str, level: int
) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    """Log-likelihood, score, BHHH matrix and Hessian at th = (alpha, beta, log scale, loc0).

    The node tables give no alpha/beta rows of the Hessian (0; see ``_grid_kernels.loglik_pass``).
    """
    out = _loglik(x, th, mode, level)
    iu = np.triu_indices(4)
    B = np.empty((4, 4))
    B[iu] = out[5:15]
    B.T[iu] = out[5:15]
    Hm = np.empty((4, 4))
    Hm[iu] = out[15:25]
    Hm.T[iu] = out[15:25]
    return float(out[0]), out[1:5].copy(), B, Hm


def s1_coords(th: FloatArray) -> tuple[float, FloatArray, FloatArray]:
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


class Objective:
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
            out[3] += s1_coords(th)[0]
        return out

    def from_s0(self, th: FloatArray) -> FloatArray:
        out = np.array(th, dtype=float)
        if self.s1:
            out[3] -= s1_coords(th)[0]
        return out

    def jacobian(self, th: FloatArray) -> FloatArray:
        """d theta_S0 / d theta (identity in S0 coordinates)."""
        J = np.eye(4)
        if self.s1:
            J[3] += s1_coords(th)[1]
        return J

    def value(self, th: FloatArray) -> float:
        return float(_loglik(self.x, self.to_s0(th), self.mode, 0)[0])

    def fisher(self, th: FloatArray, du: float = 0.25) -> FloatArray:
        """Expected information of the sample in these coordinates (grid mode; quadrature of the
        node-table density at th, transformed from the standard law's (alpha, beta, log scale, loc0)).

        At du = 0.25 within 3% of the converged quadrature for alpha 0.15-0.7 (docs/fit.md); the tails
        beyond |z| = 1e100 are left out (see ``GridDensity.information``).
        """
        t0 = self.to_s0(th)
        info = _loggrid.build(float(t0[0]), float(t0[1])).information(du=du, zmax=1e100)
        d = np.diag([1.0, 1.0, 1.0, math.exp(-float(t0[2]))])  # loc in units of the scale
        J = self.jacobian(th)
        return self.x.size * (J.T @ d @ info @ d @ J)

    def full(self, th: FloatArray, level: int = 2) -> tuple[float, FloatArray, FloatArray, FloatArray]:
        ll, g, B, Hm = _evaluate(self.x, self.to_s0(th), self.mode, level)
        if not self.s1:
            return ll, g, B, Hm
        _, _, hphi = s1_coords(th)
        J = self.jacobian(th)
        return ll, J.T @ g, J.T @ B @ J, J.T @ Hm @ J + g[3] * hphi


def newton(obj: Objective, th: FloatArray, free: np.ndarray, max_iter: int, metric: FloatArray | None = None,
           level: int = 2):
    """Projected Newton steps with Armijo backtracking.

    The step uses minus the Hessian where it is positive definite on the free
    coordinates, else the outer-product (BHHH) matrix; with ``metric`` (an expected
    information) it uses that matrix throughout (Fisher scoring), each step scaled by the
    metric's curvature along the previous step over the sample's, and the node tables'
    ``level`` 2 (scores, no alpha/beta curvature) is enough.  Returns (theta, loglik,
    score, BHHH matrix, Hessian, n_iter, converged, message).
    """
    lower, upper = obj.lower, obj.upper
    th = np.clip(th, lower, upper)
    ll, g, B, Hm = obj.full(th, level)
    gain = 1.0  # Fisher scoring: the metric's curvature along the last step over the sample's
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
            M = -Hm[np.ix_(idx, idx)] if metric is None else metric[np.ix_(idx, idx)]
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
        d = gain * d
        # at most 0.1 in alpha, 0.5 in beta, a factor e in scale per step (far starts overshoot)
        t = min(1.0, 1.0 / max(float(np.max(np.abs(d * _STEP_INV[idx]))), 1e-300))
        full = True  # the first trial is usually taken: evaluate it with derivatives; retries value only
        while True:
            tn = th.copy()
            tn[idx] += t * d
            tn = np.clip(tn, lower, upper)
            if full:
                ll_n, g_n, B_n, H_n = obj.full(tn, level)
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
            ll_n, g_n, B_n, H_n = obj.full(tn, level)
        if metric is not None:
            # scale the next step by the metric's curvature along this one over the sample's (the
            # change of the score): where the expected information is half the sample's in some
            # direction, unscaled steps overshoot 2x and oscillate about the maximum for ever
            step = (tn - th)[idx]
            curv = float(step @ (g[idx] - g_n[idx]))
            if curv > 0.0:
                gain = min(max(float(step @ M @ step) / curv, 0.2), 2.0)
        th, ll, g, B, Hm = tn, ll_n, g_n, B_n, H_n
    return th, ll, g, B, Hm, max_iter, False, f"no convergence in {max_iter} iterations"
