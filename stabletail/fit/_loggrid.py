"""Node tables of the heavy-tail density used by the MLE for small alpha (see ``_grid_kernels``)."""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import stable
from .._typing import FloatArray
from . import _grid_kernels as _G
from . import _kernels as _K

__all__ = ["GridDensity", "build"]

#: Node spacing in u = asinh((z - c) / eps) (interpolation error of log f measured in docs/fit.md).
DU = 0.15
#: Step of the alpha / beta differences.
STEP = 1e-5
#: eps as a fraction of the width scale (pi / Gamma(1 + 1/alpha))**(1 / (1 - alpha)) of the spike
#: (measured: 1e-4 keeps the interpolation error of log f below 1e-7 from alpha = 0.2 up; alpha = 0.1
#: needs 1e-6, its spike sits ~1e-12 beside the S1 origin).
EPS_FRACTION = 1e-4
EPS_FRACTION_SMALL = 1e-6
SMALL_ALPHA = 0.15
#: Floor of the node values of log f (beyond the support of a totally skewed law log f is -inf).
LOG_FLOOR = -2000.0
_CHUNK = 900  # below stable's interpolation-table threshold: every node from the exact kernel


class GridDensity:
    """Node table of log f for the variants of (alpha, beta); arguments of the grid kernels."""

    __slots__ = ("L", "P", "h", "meta", "sb")

    def __init__(self, L: FloatArray, meta: FloatArray, P: FloatArray, h: float, sb: float) -> None:
        self.L, self.meta, self.P, self.h, self.sb = L, meta, P, h, sb

    def loglik(self, x: FloatArray, loc: float, scale: float, level: int) -> FloatArray:
        """[loglik, g(4), B(10), Hess(10)] of the data x (see ``_grid_kernels.loglik_pass``)."""
        return _G.loglik_pass(x, loc, scale, self.L, self.P, self.meta, self.h, self.sb, level, True)

    def terms(self, z: FloatArray) -> FloatArray:
        """Per-point (l, l_z, l_zz, l_a, l_b, l_az, l_bz, l_aa, l_ab, l_bb) of the standard law."""
        return _G.grid_terms(np.ascontiguousarray(z, dtype=float), self.L, self.meta, self.P, self.h, self.sb)


    def information(self, du: float = 0.02) -> FloatArray:
        """Expected (Fisher) information per observation in (alpha, beta, log scale, loc0), scale 1.

        Simpson's rule in u = asinh((z - c) / eps) (dz = eps cosh(u) du, which resolves the spike at
        the S1 origin) out to |z - c| = 1e300: at alpha = 0.3 the tails beyond 1e40 still hold 1e-8 of it.
        """
        c, eps = self.meta[0, 0], self.meta[0, 1]
        umax = math.log(2e300) - math.log(eps)  # asinh(1e300 / eps) without overflow
        m = math.ceil(umax / du)
        u = du * np.arange(-m, m + 1)
        # eps sinh(u), eps cosh(u) without overflow: exp(|u| + log(eps / 2)) once |u| > 30
        big = np.abs(u) > 30.0
        far = np.exp(np.abs(np.where(big, u, 0.0)) + math.log(0.5 * eps))
        small = np.where(big, 0.0, u)
        z = c + np.where(big, np.sign(u) * far, eps * np.sinh(small))
        dz = np.where(big, far, eps * np.cosh(small))
        info = np.zeros((4, 4))
        for part in np.array_split(np.arange(u.size), 16):
            t = self.terms(z[part])
            s = np.stack([t[:, 3], t[:, 4], -z[part] * t[:, 1] - 1.0, -t[:, 1]], axis=1)
            wf = np.exp(t[:, 0]) * dz[part]
            s[~(wf > 0.0)] = 0.0  # where the density vanishes (beyond a skewed law's support)
            y = s[:, :, None] * s[:, None, :] * wf[:, None, None]
            w = np.where(part % 2 == 1, 4.0, 2.0)
            w[(part == 0) | (part == u.size - 1)] = 1.0
            info += du / 3.0 * np.tensordot(w, y, axes=(0, 0))
        return info


def _eps(alpha: float) -> float:
    frac = EPS_FRACTION_SMALL if alpha < SMALL_ALPHA else EPS_FRACTION
    if alpha >= 0.99:
        return frac
    width = (math.pi / math.gamma(1.0 + 1.0 / alpha)) ** (1.0 / (1.0 - alpha))
    return frac * min(1.0, width)


@functools.lru_cache(maxsize=4)  # the Fisher metric and the first Newton step share a table
def build(alpha: float, beta: float, level: int = 2) -> GridDensity:
    """Node tables of log f for the six variants around (alpha, beta), alpha < 1.

    At level 0 (log-likelihood only) just the rows the value needs are
    computed (row 0, and rows 3 and 4 within ``STEP`` of beta = +-1); the
    others are copies of row 0 and must not be used for derivatives.
    """
    h = STEP
    b0 = min(max(beta, -1.0 + h), 1.0 - h)
    sb = (beta - b0) / h
    av = alpha + h * np.array([0.0, 1.0, -1.0, 0.0, 0.0, 1.0])
    bv = b0 + h * np.array([0.0, 0.0, 0.0, 1.0, -1.0, 1.0])
    eps = _eps(alpha)
    zc = max(4.0 ** (1.0 / alpha), 50.0)  # the series' ratio |x|**-alpha <= 1/4 from here on
    umax = math.asinh(zc / eps) + 3 * DU
    n = 2 * math.ceil(umax / DU) + 1
    u0 = -DU * (n // 2)
    u = u0 + DU * np.arange(n)
    L = np.empty((_G.N_GVAR, n))
    meta = np.empty((_G.N_GVAR, 5))
    rows = range(_G.N_GVAR) if level == 2 else ((0, 3, 4) if sb != 0.0 else (0,))
    for v in range(_G.N_GVAR):
        if v not in rows:
            L[v], meta[v], av[v], bv[v] = L[0], meta[0], av[0], bv[0]
            continue
        c = -bv[v] * math.tan(0.5 * math.pi * av[v])
        z = c + eps * np.sinh(u)
        for i in range(0, n, _CHUNK):
            L[v, i : i + _CHUNK] = stable.logpdf(z[i : i + _CHUNK], av[v], bv[v])
        meta[v] = (c, eps, u0, DU, zc)
    np.maximum(L, LOG_FLOOR, out=L)
    P = _K.tail_params_at(av, bv)
    return GridDensity(L, meta, P, h, sb)
