"""Piecewise Chebyshev interpolant of the standardised law for many points (private).

When many points share one ``(alpha, beta)``, log pdf, log cdf and log sf are
interpolated in ``u = asinh(z)`` on panels with ``NODES`` Chebyshev points,
bisected until the last three Chebyshev coefficients of all three functions
are below ``TOL`` (absolute, in the logarithm, i.e. a relative error in the
functions). Values at the nodes come from the exact kernel; outside the
interpolated range (the tails beyond the tail-series cut-off, where the
kernel is cheap) and on panels where a function underflows, points go to the
exact kernel. The interpolation error is measured in ``tests/test_stable.py``
against the exact kernel.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, prange
from . import _kernels as _k

NODES = 16
TOL = 2e-9
MIN_POINTS = 1000  # use the interpolant from this many points on
Z_CAP = 1e5  # never interpolate beyond |z| = Z_CAP
MAX_PANELS = 4000
MIN_WIDTH = 1e-3  # in u; narrower failing panels are left to the exact kernel

_X = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)  # Chebyshev points of the first kind
# values at _X -> Chebyshev coefficients (discrete cosine transform)
_DCT = np.cos(np.pi * np.outer(np.arange(NODES), np.arange(NODES) + 0.5) / NODES) * (2.0 / NODES)
_DCT[0] *= 0.5


def _nodes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * _X[None, :]


def _range(p1, p2, w) -> tuple[float, float]:
    """z-range to interpolate: up to the tail-series cut-offs, or to where pdf underflows."""
    general = p1[_k.P_KIND] == _k.KIND_GENERAL and w == 0.0
    out = np.empty(1)
    c = np.empty(1)
    s = np.empty(1)
    ends = []
    for sign, off in ((1.0, _k.HEAD), (-1.0, _k.HEAD + _k.SIDE)):
        yc = p1[off + _k.S_YC] if general else math.inf
        if math.isfinite(yc):
            ends.append(p1[_k.P_ZETA] + sign * yc)
            continue

        def small(z):
            _k.eval_many(np.array([z]), p1, p2, w, out, c, s)
            return min(out[0], c[0] if sign < 0 else s[0]) < 1e-280

        # walk out from the centre of S0 until the density underflows (light
        # tail, or the end of the support) or Z_CAP
        inner = 0.0
        z = sign
        while abs(z) < Z_CAP and not small(z):
            inner = z
            z *= 2.0
        if abs(z) < Z_CAP:  # pin the underflow point down to 1/64 of the last step
            for _ in range(6):
                mid = 0.5 * (inner + z)
                if small(mid):
                    z = mid
                else:
                    inner = mid
            z = inner
        ends.append(max(-Z_CAP, min(Z_CAP, z)))
    return ends[1], ends[0]


def build(p1: np.ndarray, p2: np.ndarray, w: float, density: bool):
    """Panels (edges, kinds, coefficients) of the interpolant, or None if not worth it.

    With ``density`` the panels are refined for log pdf, else for log cdf and
    log sf (only those are then accurate).
    """
    use = slice(0, 1) if density else slice(1, 3)
    zl, zr = _range(p1, p2, w)
    ul, ur = math.asinh(zl), math.asinh(zr)
    if not ur > ul:
        return None
    n0 = max(2, int(math.ceil((ur - ul) / 0.75)))
    e = np.linspace(ul, ur, n0 + 1)
    pend_a, pend_b = e[:-1], e[1:]
    acc_a, acc_b, acc_kind, acc_coef = [], [], [], []
    total = 0
    while pend_a.size:
        u = _nodes(pend_a, pend_b)
        z = np.ascontiguousarray(np.sinh(u).ravel())
        f = np.empty_like(z)
        c = np.empty_like(z)
        s = np.empty_like(z)
        _k.eval_many(z, p1, p2, w, f, c, s)
        with np.errstate(divide="ignore"):
            vals = np.stack([np.log(f), np.log(c), np.log(s)]).reshape(3, pend_a.size, NODES)
        finite = np.all(np.isfinite(vals[use]), axis=(0, 2))
        coef = np.einsum("kn,fpn->pfk", _DCT, np.where(np.isfinite(vals), vals, 0.0))
        err = np.max(np.abs(coef[:, use, -3:]), axis=(1, 2))
        good = finite & (err <= TOL)
        narrow = (pend_b - pend_a) < MIN_WIDTH
        total += pend_a.size
        for sel, kind in ((good, 0), (~good & narrow, 1)):
            if np.any(sel):
                acc_a.append(pend_a[sel])
                acc_b.append(pend_b[sel])
                acc_kind.append(np.full(int(sel.sum()), kind, dtype=np.int64))
                acc_coef.append(coef[sel])
        split = ~good & ~narrow
        if total + 2 * int(split.sum()) > MAX_PANELS:
            return None
        a, b = pend_a[split], pend_b[split]
        m = 0.5 * (a + b)
        pend_a = np.concatenate([a, m])
        pend_b = np.concatenate([m, b])
    a = np.concatenate(acc_a)
    order = np.argsort(a)
    edges = np.append(a[order], np.concatenate(acc_b)[order][-1])
    kinds = np.concatenate(acc_kind)[order]
    coefs = np.ascontiguousarray(np.concatenate(acc_coef)[order])
    return edges, kinds, coefs


@jit
def _clenshaw(c, t):
    b1 = 0.0
    b2 = 0.0
    t2 = 2.0 * t
    for k in range(c.size - 1, 0, -1):
        b1, b2 = t2 * b1 - b2 + c[k], b1
    return t * b1 - b2 + c[0]


def _evaluate(z, edges, kinds, coefs, p1, p2, w, density, out_f, out_c, out_s):
    """pdf, cdf, sf at z from the interpolant (exact kernel outside it)."""
    ul = edges[0]
    ur = edges[-1]
    npan = kinds.size
    for i in prange(z.size):
        zi = z[i]
        u = math.asinh(zi) if math.isfinite(zi) else math.nan
        if not (ul <= u <= ur):
            f, c, s = _k._point2(zi, p1, p2, w)
        else:
            j = np.searchsorted(edges, u, side="right") - 1
            if j >= npan:
                j = npan - 1
            if j < 0:
                j = 0
            if kinds[j] != 0:
                f, c, s = _k._point2(zi, p1, p2, w)
            else:
                a = edges[j]
                b = edges[j + 1]
                t = (2.0 * u - a - b) / (b - a)
                if density:
                    f = math.exp(_clenshaw(coefs[j, 0], t))
                    c = math.nan
                    s = math.nan
                else:
                    f = math.nan
                    c = math.exp(_clenshaw(coefs[j, 1], t))
                    s = math.exp(_clenshaw(coefs[j, 2], t))
        out_f[i] = f
        out_c[i] = c
        out_s[i] = s


_evaluate_serial = jit(_evaluate)
_evaluate_parallel = jit(parallel=True)(_evaluate)


def evaluate(z, edges, kinds, coefs, p1, p2, w, density, out_f, out_c, out_s):
    """pdf (if ``density``, else cdf and sf) at z from the interpolant (exact kernel outside it).

    An interpolated point costs ~1/300 of a quadrature: serial below
    300 * PARALLEL_WORK points.
    """
    kernel = _evaluate_parallel if z.size >= 300 * _k.PARALLEL_WORK else _evaluate_serial
    kernel(z, edges, kinds, coefs, p1, p2, w, density, out_f, out_c, out_s)
