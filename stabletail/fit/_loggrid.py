"""Node tables of the heavy-tail density used by the MLE for small alpha (see ``_grid_kernels``)."""

from __future__ import annotations

import math

import numpy as np

from .._typing import FloatArray
from ..stable import _kernels as _SK  # the exact density kernel: the node values
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
#: Quadrature tolerance of the node values (see ``stable._kernels._integrate``): 1e-6 moves log f
#: by < 1e-9 against the default 1e-8 (measured), far below the interpolation error, at 3/4 the cost.
NODE_RTOL = 1e-6


class GridDensity:
    """Node rows of log f and its alpha/beta derivatives at (alpha, beta); arguments of the grid kernels.

    ``F`` (3, nodes): log f, d/dalpha, d/dbeta at fixed offset from the S1 origin (the
    derivative rows are 0 below level 2); ``meta`` (1, 11) and ``P`` (tail series of the five
    variants) as in ``_grid_kernels``.
    """

    __slots__ = ("F", "P", "level", "meta")

    def __init__(self, F: FloatArray, meta: FloatArray, P: FloatArray, level: int) -> None:
        self.F, self.meta, self.P, self.level = F, meta, P, level

    def loglik(self, x: FloatArray, loc: float, scale: float, level: int) -> FloatArray:
        """[loglik, g(4), B(10), Hess(10)] of the data x (see ``_grid_kernels.loglik_pass``)."""
        return _G.loglik_pass(x, loc, scale, self.F, self.P, self.meta, min(level, self.level), True)

    def terms(self, z: FloatArray) -> FloatArray:
        """Per-point (l, l_z, l_zz, l_a, l_b, l_az, l_bz, 0, 0, 0) of the standard law (the alpha
        and beta terms from a level-2 table only)."""
        return _G.grid_terms(np.ascontiguousarray(z, dtype=float), self.F, self.meta, self.P, self.level)

    def information(self, du: float = 0.02, zmax: float = 1e300) -> FloatArray:
        """Expected (Fisher) information per observation in (alpha, beta, log scale, loc0), scale 1.

        Simpson's rule in u = asinh((z - c) / eps) (dz = eps cosh(u) du, which resolves the spike at
        the S1 origin) out to |z - c| = zmax: at alpha = 0.3 the tails beyond 1e40 still hold 1e-8 of
        it.  zmax = 1e100 moved the standard errors by < 4e-5 for alpha = 0.12-0.5 (measured at du =
        0.1); at alpha = 0.1, beta = 0 by 12%, where the quadrature itself is unresolved (moving the
        end of the grid by one node changes it as much).
        Needs a level-2 table (the scores).
        """
        if self.level < 2:
            raise ValueError(f"information needs a level-2 table (the scores), got level {self.level}")
        c, eps = self.meta[0, 0], self.meta[0, 1]
        umax = math.log(2.0 * zmax) - math.log(eps)  # asinh(zmax / eps) without overflow
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


_ROWS: dict[tuple[float, float, float, float, int], FloatArray] = {}
_MAX_ROWS = 64


def _rows(keys: list[tuple[float, float]], eps: float, u0: float, n: int) -> list[FloatArray]:
    """Exact log f of each law (alpha, beta) in ``keys`` at the nodes z = c + eps sinh(u0 + DU j).

    The rows not yet known are computed together (one parallel pass of the exact kernel at
    quadrature tolerance ``NODE_RTOL``) and kept: the tables of one fit share rows (a level-0 or
    level-1 table's rows are among those of the level-2 table at the same point); ``clear``
    forgets them at the start of every fit.  The rows returned are collected here, so a
    ``clear`` from another thread's fit cannot take them away between storing and returning.
    """
    rows = {k: _ROWS.get(k) for k in [(a, b, eps, u0, n) for a, b in keys]}
    new = [k for k, row in rows.items() if row is None]
    if new:
        s = eps * np.sinh(u0 + DU * np.arange(n))
        z = np.array([s - b * math.tan(0.5 * math.pi * a) for a, b, *_ in new])
        plans = np.array([_SK.make_plan(a, b) for a, b, *_ in new])
        with np.errstate(divide="ignore"):
            logf = np.maximum(np.log(_SK.pdf_laws(z, plans, NODE_RTOL)), LOG_FLOOR)
        logf.flags.writeable = False
        rows.update(zip(new, logf))
        if len(_ROWS) + len(new) > _MAX_ROWS:  # a long fit: start afresh, with this table's rows
            _ROWS.clear()
        _ROWS.update(rows)
    return [rows[(a, b, eps, u0, n)] for a, b in keys]


def clear() -> None:
    """Forget the node rows (a fit's tables are its own: timings and memory stay per fit)."""
    _ROWS.clear()


def build(alpha: float, beta: float, level: int = 2) -> GridDensity:
    """Node rows of log f around (alpha, beta), alpha < 1.

    Level 2 (the scores): the exact density of five variants, (alpha, beta), (alpha +- h, beta)
    and two betas (central, or one-sided within h of beta = +-1); levels 0 and 1: the first only.
    """
    h = STEP
    if beta + h > 1.0:
        b3, b4, wb = beta - h, beta - 2.0 * h, (1.5 / h, -2.0 / h, 0.5 / h)
    elif beta - h < -1.0:
        b3, b4, wb = beta + h, beta + 2.0 * h, (-1.5 / h, 2.0 / h, -0.5 / h)
    else:
        b3, b4, wb = beta + h, beta - h, (0.0, 0.5 / h, -0.5 / h)
    keys = [(alpha, beta), (alpha + h, beta), (alpha - h, beta), (alpha, b3), (alpha, b4)]
    eps = _eps(alpha)
    zc = max(4.0 ** (1.0 / alpha), 50.0)  # the series' ratio |x|**-alpha <= 1/4 from here on
    umax = math.asinh(zc / eps) + 3 * DU
    n = 2 * math.ceil(umax / DU) + 1
    u0 = -DU * (n // 2)
    F = np.zeros((3, n))
    if level < 2:
        F[0] = _rows(keys[:1], eps, u0, n)[0]
    else:
        L = _rows(keys, eps, u0, n)
        F[0] = L[0]
        F[1] = (L[1] - L[2]) / (2.0 * h)
        F[2] = wb[0] * L[0] + wb[1] * L[3] + wb[2] * L[4]
    t = math.tan(0.5 * math.pi * alpha)
    meta = np.array([[-beta * t, eps, u0, DU, zc, -beta * 0.5 * math.pi * (1.0 + t * t), -t, h, *wb]])
    P = _K.tail_params_at(np.array([k[0] for k in keys]), np.array([k[1] for k in keys]))
    return GridDensity(F, meta, P, level)
