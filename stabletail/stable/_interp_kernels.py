"""Piecewise Chebyshev interpolant of the standardised law for many points (private).

When many points share one ``(alpha, beta)``, one function per panel is
interpolated in ``u = asinh(z)``: log pdf for a density table; for a
distribution table log cdf where cdf <= sf at the panel's centre and log sf
otherwise (the other one is 1 minus it, and a panel is only kept if that
other one stays >= ``OTHER_MIN`` on it, so both keep relative accuracy).

Panels start ``WIDTH`` wide in u with ``POINTS + 1`` Chebyshev-Lobatto points
(16 for a density table; 8 for a distribution table, which is a Hermite
interpolant: every node also gives the pdf, i.e. the slope of log cdf, so 9
points give degree 17). A panel whose last ``TAIL`` Chebyshev coefficients are
not all below ``TOL`` (absolute, in the logarithm, i.e. a relative error of the
function) gets the points in between (twice the degree, old values reused), and
is bisected if that does not suffice either. Node values come from the exact
kernel, one call per round (parallel from ``PARALLEL_WORK`` nodes; every node
independent, so the result does not depend on the number of threads). The table reaches |z| = ``Z_CAP``;
farther points, panels where the function underflows and panels still failing
at ``MIN_WIDTH`` go to the exact kernel. The interpolation error is measured in
``tests/stable/test_stable.py`` against the exact kernel.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, jit_variants, prange
from . import _kernels as _k
from ._kernels import _illinois

POINTS = {True: 16, False: 8}  # Lobatto intervals of a first try: density / cdf tables
WIDTH = 1.5  # initial panel width in u
TOL = 5e-10  # on the last TAIL Chebyshev coefficients of the logarithm
TAIL = 3
OTHER_MIN = 0.1  # smallest value of 1 - (interpolated cdf or sf) on a panel
MIN_POINTS = 1000  # use the interpolant from this many points on
# quadrature tolerance at the nodes of distribution tables (they need cdf / sf, whose
# error is 10-50x below this bound: 5e-10 relative measured at 1e-7, against 7e-11 at 1e-8)
RTOL_CDF = 1e-7
Z_CAP = 1e5  # tables reach |z| = Z_CAP (or the tail-series cut-off if farther)
MAX_PANELS = 4000
MIN_WIDTH = 0.02  # in u; narrower failing panels are left to the exact kernel
NCOEF = 34  # coefficients stored per panel (the largest degree + 1 of the two tables)

# what a panel holds
KIND_PDF, KIND_CDF, KIND_SF, KIND_EXACT = 0, 1, 2, 3


def _lobatto(n: int, hermite: bool) -> tuple[np.ndarray, np.ndarray]:
    """Points cos(pi j / n), j = 0..n, and the matrix from data there to Chebyshev coefficients.

    The data are the values (degree n), or the values followed by the
    derivatives (Hermite interpolation, degree 2n + 1).
    """
    cheb = np.polynomial.chebyshev
    x = np.cos(np.pi * np.arange(n + 1) / n)
    eye = np.eye(2 * (n + 1) if hermite else n + 1)
    rows = [cheb.chebval(x, eye.T).T]
    if hermite:
        rows.append(np.stack([cheb.chebval(x, cheb.chebder(e)) for e in eye], axis=1))
    return x, np.linalg.inv(np.concatenate(rows))  # data = rows @ coefficients


_RULES = {density: (_lobatto(n, not density), _lobatto(2 * n, not density)) for density, n in POINTS.items()}


def _range(p1, p2, w) -> tuple[float, float]:
    """z-range to interpolate: to Z_CAP (or the tail-series cut-off if farther), or to where the pdf
    underflows."""
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


def _values(u, p1, p2, w, rtol):
    """(pdf, cdf, sf) at z = sinh(u) (flat), one kernel call (parallel from PARALLEL_WORK points).

    Threads get contiguous chunks and quadrature points (centre) cost ~100x
    series points (tails), so the points are dealt out evens first, then odds.
    Every point is computed on its own: the values do not depend on the order
    or on the number of threads.
    """
    perm = np.concatenate([np.arange(0, u.size, 2), np.arange(1, u.size, 2)])
    z = np.sinh(u[perm])
    f = np.empty_like(z)
    c = np.empty_like(z)
    s = np.empty_like(z)
    _k.eval_many(z, p1, p2, w, f, c, s, rtol)
    out = np.empty((3, u.size))
    out[0, perm] = f
    out[1, perm] = c
    out[2, perm] = s
    return out


@jit
def _fit(a, b, x, v, mat, density):
    """Judge panels [a, b] with values v (panels x (pdf, cdf, sf) x points x).

    Returns per panel the kind, the Chebyshev coefficients of the chosen
    logarithm (fitted with its derivative for cdf / sf, known from the pdf),
    whether they are good enough, and whether the panel is usable (finite
    logarithm, and for cdf / sf the other function >= OTHER_MIN on it), else
    it must be split.
    """
    npan = a.size
    npt = x.size
    kind = np.empty(npan, dtype=np.int64)
    coef = np.zeros((npan, mat.shape[0]))
    good = np.zeros(npan, dtype=np.bool_)
    usable = np.ones(npan, dtype=np.bool_)
    data = np.empty(mat.shape[1])
    mid = npt // 2
    for i in range(npan):
        if density:
            k = KIND_PDF
        else:
            k = KIND_CDF if v[i, 1, mid] <= v[i, 2, mid] else KIND_SF
            for j in range(npt):
                if not v[i, 3 - k, j] >= OTHER_MIN:
                    usable[i] = False
        kind[i] = k
        half = 0.5 * (b[i] - a[i])
        centre = 0.5 * (b[i] + a[i])
        for j in range(npt):
            y = v[i, k, j]
            if not y > 0.0:
                usable[i] = False
                break
            data[j] = math.log(y)
            if not density:
                # d log(cdf) / dt = pdf (dz/dt) / cdf, dz/dt = cosh(u) (b - a) / 2; minus for sf
                d = v[i, 0, j] * math.cosh(centre + half * x[j]) * half / y
                data[npt + j] = d if k == KIND_CDF else -d
        if not usable[i]:
            continue
        for r in range(mat.shape[0]):
            acc = 0.0
            for j in range(mat.shape[1]):
                acc += mat[r, j] * data[j]
            coef[i, r] = acc
        last = 0.0
        for r in range(mat.shape[0] - TAIL, mat.shape[0]):
            last = max(last, abs(coef[i, r]))
        good[i] = math.isfinite(last) and last <= TOL
        usable[i] = math.isfinite(last)
    return kind, coef, good, usable


@jit
def _nodes(new_a, new_b, up_a, up_b, x_low, odd):
    """u of the round's nodes: all points of the new panels, then the odd points of raised ones."""
    nl = x_low.size
    no = odd.size
    base = new_a.size * nl
    out = np.empty(base + up_a.size * no)
    for i in range(new_a.size):
        for j in range(nl):
            out[i * nl + j] = 0.5 * (new_a[i] + new_b[i]) + 0.5 * (new_b[i] - new_a[i]) * x_low[j]
    for i in range(up_a.size):
        for j in range(no):
            out[base + i * no + j] = 0.5 * (up_a[i] + up_b[i]) + 0.5 * (up_b[i] - up_a[i]) * odd[j]
    return out


@jit
def _round(new_a, new_b, up_a, up_b, up_v, vals, x_low, m_low, x_high, m_high, density):
    """Judge the panels of one round (vals: pdf, cdf, sf at the points from _nodes).

    Returns the finished panels (a, b, kind, coefficients padded to NCOEF; failing
    panels narrower than MIN_WIDTH finish as KIND_EXACT), the panels to evaluate
    next (halves of failed ones) and the panels to raise, with their values.
    """
    nl = x_low.size
    nh = x_high.size
    low = np.empty((new_a.size, 3, nl))
    for i in range(new_a.size):
        for r in range(3):
            low[i, r] = vals[r, i * nl : (i + 1) * nl]
    high = np.empty((up_a.size, 3, nh))
    base = new_a.size * nl
    no = nh - nl
    for i in range(up_a.size):
        for r in range(3):
            high[i, r, 0::2] = up_v[i, r]
            high[i, r, 1::2] = vals[r, base + i * no : base + (i + 1) * no]
    kl, cl, gl, ul = _fit(new_a, new_b, x_low, low, m_low, density)
    kh, ch, gh, uh = _fit(up_a, up_b, x_high, high, m_high, density)
    nmax = new_a.size + up_a.size
    fa = np.empty(nmax)
    fb = np.empty(nmax)
    fk = np.empty(nmax, dtype=np.int64)
    fc = np.zeros((nmax, NCOEF))
    sa = np.empty(2 * nmax)
    sb = np.empty(2 * nmax)
    ra = np.empty(new_a.size)
    rb = np.empty(new_a.size)
    rv = np.empty((new_a.size, 3, nl))
    nf = 0
    ns = 0
    nr = 0
    for grp in range(2):
        a, b, kind, coef, good, usable = (
            (new_a, new_b, kl, cl, gl, ul) if grp == 0 else (up_a, up_b, kh, ch, gh, uh)
        )
        for i in range(a.size):
            if good[i]:
                fa[nf] = a[i]
                fb[nf] = b[i]
                fk[nf] = kind[i]
                fc[nf, : coef.shape[1]] = coef[i]
                nf += 1
            elif grp == 0 and usable[i]:  # raise, keeping the values
                ra[nr] = a[i]
                rb[nr] = b[i]
                rv[nr] = low[i]
                nr += 1
            elif b[i] - a[i] < MIN_WIDTH:
                fa[nf] = a[i]
                fb[nf] = b[i]
                fk[nf] = KIND_EXACT
                nf += 1
            else:
                m = 0.5 * (a[i] + b[i])
                sa[ns] = a[i]
                sb[ns] = m
                sa[ns + 1] = m
                sb[ns + 1] = b[i]
                ns += 2
    return fa[:nf], fb[:nf], fk[:nf], fc[:nf], sa[:ns], sb[:ns], ra[:nr], rb[:nr], rv[:nr]


def build(p1: np.ndarray, p2: np.ndarray, w: float, density: bool):
    """Panels (edges, kinds, sizes, coefficients) of the interpolant, or None if not worth it.

    With ``density`` the panels hold log pdf, else log cdf or log sf (then only
    cdf and sf are accurate).
    """
    if w == 0.0 and p1[_k.P_KIND] in (_k.KIND_CAUCHY, _k.KIND_GAUSS, _k.KIND_LEVY):
        return None  # closed forms are as cheap as the interpolant
    zl, zr = _range(p1, p2, w)
    ul, ur = math.asinh(zl), math.asinh(zr)
    if not ur > ul:
        return None
    n0 = max(1, math.ceil((ur - ul) / WIDTH))
    e = np.linspace(ul, ur, n0 + 1)
    (x_low, m_low), (x_high, m_high) = _RULES[density]
    odd = np.ascontiguousarray(x_high[1::2])  # the points of the second try that the first lacks
    rtol = _k.RTOL if density else RTOL_CDF
    new_a, new_b = e[:-1], e[1:]  # panels to evaluate at the points of a first try
    up_a = up_b = np.empty(0)  # panels to raise to the second try ...
    up_v = np.empty((0, 3, x_low.size))  # ... with their values so far
    done = []
    total = 0
    while new_a.size or up_a.size:
        total += new_a.size
        if total > MAX_PANELS:
            return None
        vals = _values(_nodes(new_a, new_b, up_a, up_b, x_low, odd), p1, p2, w, rtol)
        *fin, new_a, new_b, up_a, up_b, up_v = _round(
            new_a, new_b, up_a, up_b, up_v, vals, x_low, m_low, x_high, m_high, density
        )
        done.append(fin)
    a, b, kinds, coefs = (np.concatenate(parts) for parts in zip(*done))
    order = np.argsort(a)
    edges = np.append(a[order], np.max(b))
    coefs = np.ascontiguousarray(coefs[order])
    # drop trailing coefficients whose absolute sum is below TOL / 10
    tail = np.cumsum(np.abs(coefs[:, ::-1]), axis=1)
    sizes = np.maximum(1, NCOEF - np.count_nonzero(tail <= 0.1 * TOL, axis=1)).astype(np.int64)
    return edges, kinds[order], sizes, coefs


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


def _evaluate(z, edges, kinds, sizes, coefs, p1, p2, w, out_f, out_c, out_s):
    """pdf, cdf, sf at z from the interpolant (exact kernel outside it); NaN for what a panel lacks.

    Points go in groups of four whose Clenshaw recurrences run interleaved
    (each recurrence alone is bound by the latency of its multiply-add chain);
    points for the exact kernel are marked (pdf = -1) and done in a second pass.
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
        lanes_k = (ka, kb, kc, kd)
        lanes_v = (
            (coefs[ja, 0] - a2) + ta * a1,
            (coefs[jb, 0] - b2) + tb * b1,
            (coefs[jc, 0] - c2) + tc * c1,
            (coefs[jd, 0] - d2) + td * d1,
        )
        for lane in range(min(4, n - i0)):
            i = i0 + lane
            kind = lanes_k[lane]
            v = math.exp(lanes_v[lane])
            f = math.nan
            c = math.nan
            s = math.nan
            if kind == KIND_PDF:
                f = v
            elif kind == KIND_CDF:
                c = v
                s = 1.0 - v
            elif kind == KIND_SF:
                s = v
                c = 1.0 - v
            else:
                f = -1.0  # marks the exact kernel
            out_f[i] = f
            out_c[i] = c
            out_s[i] = s
    for i in prange(n):
        if out_f[i] == -1.0:
            out_f[i], out_c[i], out_s[i] = _k._point_blended(z[i], p1, p2, w, _k.RTOL)


_evaluate_serial, _evaluate_parallel = jit_variants(_evaluate)


def evaluate(z, edges, kinds, sizes, coefs, p1, p2, w, out_f, out_c, out_s):
    """pdf (density table) or cdf and sf at z from the interpolant (exact kernel outside it).

    An interpolated point costs ~1/1000 of a quadrature: serial below
    1000 * PARALLEL_WORK points.
    """
    kernel = _evaluate_parallel if z.size >= 1000 * _k.PARALLEL_WORK else _evaluate_serial
    kernel(z, edges, kinds, sizes, coefs, p1, p2, w, out_f, out_c, out_s)


def edge_values(table, p1, p2, w) -> tuple[np.ndarray, np.ndarray]:
    """cdf and minus sf at the panel edges of a distribution table (both increasing), to invert it."""
    z = np.sinh(table[0])
    f = np.empty_like(z)
    c = np.empty_like(z)
    s = np.empty_like(z)
    evaluate(z, *table, p1, p2, w, f, c, s)
    return c, -s


@jit(inline="always")
def _panel_value(coefs, j, n, t):
    """The j-th panel's interpolated logarithm at t (Clenshaw)."""
    b1 = 0.0
    b2 = 0.0
    for k in range(n - 1, 0, -1):
        b1, b2 = (coefs[j, k] - b2) + 2.0 * t * b1, b1
    return (coefs[j, 0] - b2) + t * b1


@jit
def _invert_point(q, edges, kinds, sizes, coefs, ce, nse, p1, p2, w, lo_s, hi_s):
    """Quantile from the distribution table, polished by one Newton step on the exact kernel.

    Outside the table (and in panels left to the exact kernel) the exact
    solver is used.
    """
    if not (0.0 < q < 1.0):
        return _k._ppf_point(q, p1, p2, w, lo_s, hi_s)
    upper = q > 0.5
    qt = 1.0 - q if upper else q  # exact for q > 1/2 (Sterbenz)
    # the panel holding the quantile: cdf (lower half) or -sf (upper half) at the edges
    if upper:
        j = np.searchsorted(nse, -qt, side="right") - 1
    else:
        j = np.searchsorted(ce, qt, side="right") - 1
    if j < 0 or j >= kinds.size or kinds[j] == KIND_EXACT:
        return _k._ppf_point(q, p1, p2, w, lo_s, hi_s)
    kind = kinds[j]
    n = sizes[j]
    # solve g(t) = 0 with g increasing in t: log cdf - log q, or log(q_upper) - log sf
    if kind == KIND_CDF:
        sign = 1.0
        target = math.log(q)
    else:
        sign = -1.0
        target = math.log(qt) if upper else math.log1p(-q)
    a = -1.0
    b = 1.0
    ga = sign * (_panel_value(coefs, j, n, a) - target)
    gb = sign * (_panel_value(coefs, j, n, b) - target)
    t = a if ga >= 0.0 else (b if gb <= 0.0 else 0.0)
    if ga < 0.0 < gb:  # Illinois regula falsi
        side = 0
        for _ in range(100):
            t = b - gb * (b - a) / (gb - ga)
            gt = sign * (_panel_value(coefs, j, n, t) - target)
            if gt == 0.0 or b - a <= 1e-14:
                break
            a, ga, b, gb, side = _illinois(a, ga, b, gb, t, gt, side)
    u = 0.5 * (edges[j] + edges[j + 1]) + 0.5 * (edges[j + 1] - edges[j]) * t
    z = math.sinh(u)
    r, f = _k._resid(z, upper, qt, p1, p2, w)
    if f > 0.0:
        step = r / f
        if abs(step) <= 1e-6 * max(1.0, abs(z)):  # the table is good to ~1e-9
            z -= step
    return z


def _invert_many(q, edges, kinds, sizes, coefs, ce, nse, p1, p2, w, lo_s, hi_s, out):
    for i in prange(q.size):
        out[i] = _invert_point(q[i], edges, kinds, sizes, coefs, ce, nse, p1, p2, w, lo_s, hi_s)


_invert_serial, _invert_parallel = jit_variants(_invert_many)


def ppf_many(q, table, ce, nse, p1, p2, w, lo_s, hi_s, out):
    """Quantiles at probabilities q (flat) from a distribution table; each costs ~1 quadrature."""
    kernel = _invert_parallel if q.size >= _k.PARALLEL_WORK else _invert_serial
    kernel(q, *table, ce, nse, p1, p2, w, lo_s, hi_s, out)
