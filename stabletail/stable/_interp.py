"""Piecewise Chebyshev interpolant of the standardised law for many points (private).

When many points share one ``(alpha, beta)``, one function per panel is
interpolated in ``u = asinh(z)``: log pdf for a density table; for a
distribution table log cdf where cdf <= sf at the panel's centre and log sf
otherwise (the other one is 1 minus it, and a panel is only kept if that
other one stays >= ``OTHER_MIN`` on it, so both keep relative accuracy).

Panels start ``WIDTH`` wide in u with ``LOW + 1`` Chebyshev-Lobatto points;
a panel whose last two Chebyshev coefficients are not below ``TOL`` (absolute,
in the logarithm, i.e. a relative error of the function) gets the ``HIGH -
LOW`` points in between (degree ``HIGH``, all old values reused), and is
bisected if that does not suffice either. Node values come from the exact
kernel, one parallel call per round (every node independent, so the result
does not depend on the number of threads). Outside the interpolated range
(the tails beyond the tail-series cut-off, where the kernel is cheap) and on
panels where the function underflows or refinement stops at ``MIN_WIDTH``,
points go to the exact kernel. The interpolation error is measured in
``tests/test_stable.py`` against the exact kernel.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, prange
from . import _kernels as _k

LOW = 16
HIGH = 32
WIDTH = 1.5  # initial panel width in u
TOL = 1e-9  # on the last two coefficients of the logarithm
OTHER_MIN = 0.1  # smallest value of 1 - (interpolated cdf or sf) on a panel
MIN_POINTS = 1000  # use the interpolant from this many points on
Z_CAP = 1e5  # never interpolate beyond |z| = Z_CAP
MAX_PANELS = 4000
MIN_WIDTH = 0.02  # in u; narrower failing panels are left to the exact kernel

# what a panel holds
KIND_PDF, KIND_CDF, KIND_SF, KIND_EXACT = 0, 1, 2, 3


def _lobatto(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points cos(pi j / n), j = 0..n, and the matrix from values there to Chebyshev coefficients."""
    j = np.arange(n + 1)
    x = np.cos(np.pi * j / n)
    w = np.ones(n + 1)
    w[0] = w[-1] = 0.5
    m = (2.0 / n) * np.cos(np.pi * np.outer(j, j) / n) * w[None, :]
    m[0] *= 0.5
    m[-1] *= 0.5
    return x, m


_X_LOW, _DCT_LOW = _lobatto(LOW)
_X_HIGH, _DCT_HIGH = _lobatto(HIGH)
_ODD = _X_HIGH[1::2]  # the points of degree HIGH that degree LOW lacks (HIGH = 2 LOW)


def _range(p1, p2, w) -> tuple[float, float]:
    """z-range to interpolate: to Z_CAP (or the tail-series cut-off if farther), or to where pdf underflows."""
    general = p1[_k.P_KIND] == _k.KIND_GENERAL and w == 0.0
    out = np.empty(1)
    c = np.empty(1)
    s = np.empty(1)
    ends = []
    for sign, off in ((1.0, _k.HEAD), (-1.0, _k.HEAD + _k.SIDE)):
        yc = p1[off + _k.S_YC] if general else math.inf
        if math.isfinite(yc):
            # beyond yc the tail series is cheap, but still ~5x an interpolated
            # point: interpolate it too, up to Z_CAP (log pdf is nearly linear in u there)
            ends.append(p1[_k.P_ZETA] + sign * max(yc, Z_CAP))
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


def _values(u, p1, p2, w):
    """(pdf, cdf, sf) at z = sinh(u) (flat), one parallel kernel call.

    Points are handed to the kernel in a fixed shuffled order: the threads get
    contiguous chunks, and quadrature points (centre) cost ~100x series points
    (tails). Every point is computed on its own, so the values do not depend on
    the order or the number of threads.
    """
    perm = np.random.default_rng(0).permutation(u.size)
    z = np.sinh(u[perm])
    f = np.empty_like(z)
    c = np.empty_like(z)
    s = np.empty_like(z)
    _k.eval_many_parallel(z, p1, p2, w, f, c, s)
    out = np.empty((3, u.size))
    out[0, perm] = f
    out[1, perm] = c
    out[2, perm] = s
    return out


def _fit(a, b, v, dct, density):
    """Judge panels [a, b] with values v (panels x (pdf, cdf, sf) x points).

    Returns kind, Chebyshev coefficients of the chosen logarithm, whether they
    are good enough, and whether the panel may be raised (finite values, the
    other function of cdf / sf large enough); else it must be split.
    """
    idx = np.arange(a.size)
    mid = v.shape[2] // 2
    if density:
        kind = np.full(a.size, KIND_PDF)
        usable = np.ones(a.size, dtype=bool)
    else:
        kind = np.where(v[:, 1, mid] <= v[:, 2, mid], KIND_CDF, KIND_SF)
        usable = np.min(v[idx, 3 - kind], axis=1) >= OTHER_MIN
    with np.errstate(divide="ignore", invalid="ignore"):
        lv = np.log(v[idx, kind])
    usable &= np.all(np.isfinite(lv), axis=1)
    coef = np.where(usable[:, None], lv, 0.0) @ dct.T
    good = usable & (np.max(np.abs(coef[:, -2:]), axis=1) <= TOL)
    return kind, coef, good, usable


def build(p1: np.ndarray, p2: np.ndarray, w: float, density: bool):
    """Panels (edges, kinds, sizes, coefficients) of the interpolant, or None if not worth it.

    With ``density`` the panels hold log pdf, else log cdf or log sf (then only
    cdf and sf are accurate).
    """
    zl, zr = _range(p1, p2, w)
    ul, ur = math.asinh(zl), math.asinh(zr)
    if not ur > ul:
        return None
    n0 = max(1, int(math.ceil((ur - ul) / WIDTH)))
    e = np.linspace(ul, ur, n0 + 1)
    new_a, new_b = e[:-1], e[1:]  # panels to evaluate at LOW + 1 points
    up_a = up_b = np.empty(0)  # panels to raise to degree HIGH ...
    up_v = np.empty((0, 3, LOW + 1))  # ... with their values so far
    acc_a, acc_b, acc_kind, acc_coef = [], [], [], []
    total = 0
    while new_a.size or up_a.size:
        total += new_a.size
        if total > MAX_PANELS:
            return None
        # one kernel call for the round: new panels and the odd points of raised ones
        un = 0.5 * (new_a + new_b)[:, None] + 0.5 * (new_b - new_a)[:, None] * _X_LOW[None, :]
        uu = 0.5 * (up_a + up_b)[:, None] + 0.5 * (up_b - up_a)[:, None] * _ODD[None, :]
        vals = _values(np.concatenate([un.ravel(), uu.ravel()]), p1, p2, w)
        low = vals[:, : un.size].reshape(3, new_a.size, LOW + 1).transpose(1, 0, 2)
        high = np.empty((up_a.size, 3, HIGH + 1))
        high[:, :, 0::2] = up_v
        high[:, :, 1::2] = vals[:, un.size :].reshape(3, up_a.size, LOW).transpose(1, 0, 2)
        split_a, split_b = [], []
        for a, b, v, dct in ((new_a, new_b, low, _DCT_LOW), (up_a, up_b, high, _DCT_HIGH)):
            kind, coef, good, usable = _fit(a, b, v, dct, density)
            narrow = (b - a) < MIN_WIDTH
            if v is low:  # usable panels that fail are raised, keeping their values
                grow = usable & ~good
                up_next = (a[grow], b[grow], v[grow])
                split = ~usable
            else:
                split = ~good
            acc_a += [a[good], a[split & narrow]]
            acc_b += [b[good], b[split & narrow]]
            acc_kind += [kind[good], np.full(int(np.sum(split & narrow)), KIND_EXACT)]
            pad = np.zeros((int(np.sum(good)), HIGH + 1))
            pad[:, : coef.shape[1]] = coef[good]
            acc_coef += [pad, np.zeros((int(np.sum(split & narrow)), HIGH + 1))]
            split &= ~narrow
            m = 0.5 * (a[split] + b[split])
            split_a += [a[split], m]
            split_b += [m, b[split]]
        new_a, new_b = np.concatenate(split_a), np.concatenate(split_b)
        up_a, up_b, up_v = up_next
    a = np.concatenate(acc_a)
    order = np.argsort(a)
    edges = np.append(a[order], np.max(np.concatenate(acc_b)))
    kinds = np.concatenate(acc_kind)[order].astype(np.int64)
    coefs = np.ascontiguousarray(np.concatenate(acc_coef)[order])
    # drop trailing coefficients whose absolute sum is below TOL / 10
    tail = np.cumsum(np.abs(coefs[:, ::-1]), axis=1)
    sizes = np.maximum(1, HIGH + 1 - np.count_nonzero(tail <= 0.1 * TOL, axis=1)).astype(np.int64)
    return edges, kinds, sizes, coefs


@jit(inline="always")
def _locate(zi, edges, kinds):
    """(kind, panel, t in [-1, 1]) of the point zi; KIND_EXACT outside the interpolant."""
    u = math.asinh(zi) if math.isfinite(zi) else math.nan
    if not (edges[0] <= u <= edges[-1]):
        return KIND_EXACT, 0, 0.0
    j = min(max(np.searchsorted(edges, u, side="right") - 1, 0), kinds.size - 1)
    a = edges[j]
    b = edges[j + 1]
    return kinds[j], j, (2.0 * u - a - b) / (b - a)


@jit(inline="always")
def _store(i, kind, v, z, p1, p2, w, out_f, out_c, out_s):
    """Write point i: from the interpolated logarithm v, or by the exact kernel."""
    f = math.nan
    c = math.nan
    s = math.nan
    if kind == KIND_EXACT:
        f, c, s = _k._point2(z[i], p1, p2, w)
    elif kind == KIND_PDF:
        f = math.exp(v)
    elif kind == KIND_CDF:
        c = math.exp(v)
        s = 1.0 - c
    else:
        s = math.exp(v)
        c = 1.0 - s
    out_f[i] = f
    out_c[i] = c
    out_s[i] = s


def _evaluate(z, edges, kinds, sizes, coefs, p1, p2, w, out_f, out_c, out_s):
    """pdf, cdf, sf at z from the interpolant (exact kernel outside it); NaN for what a panel lacks.

    Points go in groups of four whose Clenshaw recurrences run interleaved
    (each recurrence alone is bound by the latency of its multiply-add chain).
    """
    n = z.size
    for g in prange((n + 3) // 4):
        i0 = 4 * g
        # lanes past the end repeat the last point (their results are not stored)
        ka, ja, ta = _locate(z[i0], edges, kinds)
        kb, jb, tb = _locate(z[min(i0 + 1, n - 1)], edges, kinds)
        kc, jc, tc = _locate(z[min(i0 + 2, n - 1)], edges, kinds)
        kd, jd, td = _locate(z[min(i0 + 3, n - 1)], edges, kinds)
        m = max(sizes[ja], sizes[jb], sizes[jc], sizes[jd])
        a1 = a2 = b1 = b2 = c1 = c2 = d1 = d2 = 0.0
        for k in range(m - 1, 0, -1):  # coefficients past a panel's size are zero
            a1, a2 = (coefs[ja, k] - a2) + 2.0 * ta * a1, a1
            b1, b2 = (coefs[jb, k] - b2) + 2.0 * tb * b1, b1
            c1, c2 = (coefs[jc, k] - c2) + 2.0 * tc * c1, c1
            d1, d2 = (coefs[jd, k] - d2) + 2.0 * td * d1, d1
        _store(i0, ka, (coefs[ja, 0] - a2) + ta * a1, z, p1, p2, w, out_f, out_c, out_s)
        if i0 + 1 < n:
            _store(i0 + 1, kb, (coefs[jb, 0] - b2) + tb * b1, z, p1, p2, w, out_f, out_c, out_s)
        if i0 + 2 < n:
            _store(i0 + 2, kc, (coefs[jc, 0] - c2) + tc * c1, z, p1, p2, w, out_f, out_c, out_s)
        if i0 + 3 < n:
            _store(i0 + 3, kd, (coefs[jd, 0] - d2) + td * d1, z, p1, p2, w, out_f, out_c, out_s)


_evaluate_serial = jit(_evaluate)
_evaluate_parallel = jit(parallel=True)(_evaluate)


def evaluate(z, edges, kinds, sizes, coefs, p1, p2, w, out_f, out_c, out_s):
    """pdf (density table) or cdf and sf at z from the interpolant (exact kernel outside it).

    An interpolated point costs ~1/1000 of a quadrature: serial below
    1000 * PARALLEL_WORK points.
    """
    kernel = _evaluate_parallel if z.size >= 1000 * _k.PARALLEL_WORK else _evaluate_serial
    kernel(z, edges, kinds, sizes, coefs, p1, p2, w, out_f, out_c, out_s)
