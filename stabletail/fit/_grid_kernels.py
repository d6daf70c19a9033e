"""Compiled kernels of the heavy-tail density of :mod:`stabletail.fit` (private).

For alpha below about 0.6 the characteristic function decays so slowly that
no FFT grid resolves the density: it has a spike of width ~1e-12 at the S1
origin (alpha = 0.1) and tails beyond 1e30.  The MLE then uses log f on a
grid in ``u = asinh((z - c) / eps)``, c = -beta tan(pi alpha / 2) the S1
origin in S0 coordinates, eps far below the spike's width: uniform in u
means geometric in |z - c| away from c and fine inside the spike.  The
node values are the exact density of :mod:`stabletail.stable`; between nodes
log f is the cubic Lagrange interpolant in u (z-derivatives by the chain
rule).  Beyond ``|z - c| = zc`` the convergent (alpha < 1) tail series of
:mod:`._kernels` is used, in log space.

Derivatives in alpha and beta are differences over ``N_GVAR`` variants of
the law, rows of the node table ``L`` (shape (N_GVAR, nodes)):

    0: (a, b0)  1: (a + h, b0)  2: (a - h, b0)  3: (a, b0 + h)  4: (a, b0 - h)  5: (a + h, b0 + h)

with b0 = clip(b, -1 + h, 1 - h) and the beta terms read from the parabola
through rows 0, 3, 4 at offset sb = (b - b0) / h (nonzero only within h of
beta = +-1, where no central stencil fits).  ``meta[v]`` = (c, eps, u0, du, zc).
"""

from __future__ import annotations

import math

import numpy as np

from stabletail._jit import jit

from ._kernels import _point, accumulate, tail_eval

N_GVAR = 6
M_C, M_EPS, M_U0, M_DU, M_ZC = 0, 1, 2, 3, 4
NO_META = np.zeros((1, 5))  # meta argument of loglik_pass for the FFT density


@jit
def _variant(z, L, meta, P, v):
    """log f, d log f / dz, d2 log f / dz2 of variant v at S0 point z."""
    c = meta[v, M_C]
    eps = meta[v, M_EPS]
    y = z - c
    if abs(y) > meta[v, M_ZC]:
        return tail_eval(z, P[v])
    u = math.asinh(y / eps)
    du = meta[v, M_DU]
    s = (u - meta[v, M_U0]) / du
    n = L.shape[1]
    k = min(max(math.floor(s), 1), n - 3)
    r = s - k
    rm, r1, r2 = r + 1.0, r - 1.0, r - 2.0
    g0, g1, g2, g3 = L[v, k - 1], L[v, k], L[v, k + 1], L[v, k + 2]
    lf = (-r * r1 * r2 / 6.0) * g0 + (rm * r1 * r2 / 2.0) * g1
    lf += (-rm * r * r2 / 2.0) * g2 + (rm * r * r1 / 6.0) * g3
    lu = (
        -(r1 * r2 + r * r2 + r * r1) / 6.0 * g0
        + (r1 * r2 + rm * r2 + rm * r1) / 2.0 * g1
        - (r * r2 + rm * r2 + rm * r) / 2.0 * g2
        + (r * r1 + rm * r1 + rm * r) / 6.0 * g3
    ) / du
    luu = (-r1 * g0 + (3.0 * r - 2.0) * g1 + (1.0 - 3.0 * r) * g2 + r * g3) / (du * du)
    # u = asinh(y / eps): du/dz = 1 / hypot(eps, y), d2u/dz2 = -y / hypot(eps, y)**3
    gz = 1.0 / math.hypot(eps, y)
    return lf, lu * gz, luu * gz * gz - lu * y * gz * gz * gz


@jit
def grid_point(z, L, meta, P, h, sb, level):
    """(l, l_z, l_zz, l_a, l_b, l_az, l_bz, l_aa, l_ab, l_bb) of the standard density at z; see module doc."""
    l0, z0, zz0 = _variant(z, L, meta, P, 0)
    la = lb = laz = lbz = laa = lab = lbb = 0.0
    if level == 2 or sb != 0.0:
        l3, z3, zz3 = _variant(z, L, meta, P, 3)
        l4, z4, zz4 = _variant(z, L, meta, P, 4)
        # parabola in beta through b0 - h, b0, b0 + h, read at b0 + sb h
        d1 = 0.5 * (l3 - l4)
        d2 = l3 - 2.0 * l0 + l4
        lb = (d1 + sb * d2) / h
        lbb = d2 / (h * h)
        lbz = (0.5 * (z3 - z4) + sb * (z3 - 2.0 * z0 + z4)) / h
        if sb != 0.0:
            l0 += sb * d1 + 0.5 * sb * sb * d2
            z0 += sb * 0.5 * (z3 - z4) + 0.5 * sb * sb * (z3 - 2.0 * z0 + z4)
            zz0 += sb * 0.5 * (zz3 - zz4) + 0.5 * sb * sb * (zz3 - 2.0 * zz0 + zz4)
        if level == 2:
            l1, z1, _ = _variant(z, L, meta, P, 1)
            l2, z2, _ = _variant(z, L, meta, P, 2)
            l5, _, _ = _variant(z, L, meta, P, 5)
            la = (l1 - l2) / (2.0 * h)
            laz = (z1 - z2) / (2.0 * h)
            laa = (l1 - 2.0 * l0 + l2) / (h * h)
            lab = (l5 - l1 - l3 + l0) / (h * h)
    return l0, z0, zz0, la, lb, laz, lbz, laa, lab, lbb


@jit
def loglik_pass(x, loc, scale, A, P, meta, h, sb, level, grid):
    """Log-likelihood and (level 2) its score, BHHH matrix and Hessian, for either density.

    ``grid`` False: A, P are the FFT grids and tail parameters of ``_kernels.density_grids``
    (meta, h, sb unused); True: the node tables of this module.  Coordinates (alpha, beta,
    log scale, loc0).  Returns a vector of 25: [loglik, g(4), B(10), Hess(10)], the 4x4 matrices
    as upper triangles, row-major.  Serial on purpose: on the shared two-core machine a threaded
    pass was measured up to 80 times slower than this one.
    """
    inv = 1.0 / scale
    acc = np.zeros(25)
    for i in range(x.size):
        z = (x[i] - loc) * inv
        if grid:
            r = grid_point(z, A, meta, P, h, sb, level)
        else:
            r = _point(z, A, P, level)
        if level == 2:
            accumulate(acc, z, inv, r)
        else:
            acc[0] += r[0]
    acc[0] -= x.size * math.log(scale)
    return acc


@jit
def grid_terms(z, L, meta, P, h, sb):
    """The ten log-density terms of :func:`grid_point` (level 2) at each standard point, shape (n, 10)."""
    out = np.empty((z.size, 10))
    for i in range(z.size):
        r = grid_point(z[i], L, meta, P, h, sb, 2)
        for j in range(10):
            out[i, j] = r[j]
    return out
