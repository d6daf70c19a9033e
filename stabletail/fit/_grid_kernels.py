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

Derivatives in alpha and beta come from node rows of five variants of the law,
(a, b), (a +- h, b) and two more betas: b +- h, or b - h, b - 2h within h of
beta = 1 (b + h, b + 2h within h of -1: one-sided, second order), each row
sampled at the same offsets y from its own S1 origin.  Their differences are
derivatives at fixed y, kept as three rows ``F`` = (log f, d/da, d/db); at S0
point z, y = z - c(a, b), so d/da log f(z) = F_a - F_y dc/da (and so for b):
one asinh and one set of interpolation weights serve all three.  Beyond zc the
tail series of each variant is differenced at fixed z.

``meta[0]`` = (c, eps, u0, du, zc, dc/da, dc/db, h, w0, w3, w4): the beta
derivative is w0 f(b) + w3 f(beta row 3) + w4 f(beta row 4).  Levels: 0 log f,
1 with its z-derivatives, 2 with the alpha and beta scores.  No second
alpha/beta derivatives: the log-likelihood is rough on their scale (points near
the S1 origin), so the fit steps and its standard errors use the expected
information instead.
"""

from __future__ import annotations

import math

import numpy as np

from stabletail._jit import jit

from ._kernels import _point, accumulate, cubic_weights, dot4, tail_eval

N_GVAR = 5  # variants of the law per table (rows of the exact density)
M_C, M_EPS, M_U0, M_DU, M_ZC, M_CA, M_CB, M_H, M_W0, M_W3, M_W4 = range(11)
NO_META = np.zeros((1, 11))  # meta argument of loglik_pass for the FFT density


@jit
def grid_point(z, F, meta, P, level):
    """(l, l_z, l_zz, l_a, l_b, l_az, l_bz, 0, 0, 0) of the standard density at z (the layout of
    ``_kernels.accumulate``; the alpha/beta terms at level 2 only); see module doc."""
    m = meta[0]
    y = z - m[M_C]
    la = lb = laz = lbz = 0.0
    if abs(y) > m[M_ZC]:
        lf, lz, lzz = tail_eval(z, P[0])
        if level == 2:
            h2 = 2.0 * m[M_H]
            l1, z1, _ = tail_eval(z, P[1])
            l2, z2, _ = tail_eval(z, P[2])
            l3, z3, _ = tail_eval(z, P[3])
            l4, z4, _ = tail_eval(z, P[4])
            la = (l1 - l2) / h2
            laz = (z1 - z2) / h2
            lb = m[M_W0] * lf + m[M_W3] * l3 + m[M_W4] * l4
            lbz = m[M_W0] * lz + m[M_W3] * z3 + m[M_W4] * z4
        return lf, lz, lzz, la, lb, laz, lbz, 0.0, 0.0, 0.0
    eps = m[M_EPS]
    du = m[M_DU]
    s = (math.asinh(y / eps) - m[M_U0]) / du
    k = min(max(math.floor(s), 1), F.shape[1] - 3)
    w, d, e = cubic_weights(s - k, du)
    lf = dot4(w, F, 0, k)
    lu = dot4(d, F, 0, k)
    luu = dot4(e, F, 0, k)
    # u = asinh(y / eps): du/dz = 1 / hypot(eps, y), d2u/dz2 = -y / hypot(eps, y)**3
    gz = 1.0 / math.hypot(eps, y)
    lz = lu * gz
    lzz = luu * gz * gz - lu * y * gz * gz * gz
    if level == 2:
        # l(z) = F(z - c(a, b)): the origin moves with alpha and beta
        la = dot4(w, F, 1, k) - lz * m[M_CA]
        lb = dot4(w, F, 2, k) - lz * m[M_CB]
        laz = dot4(d, F, 1, k) * gz - lzz * m[M_CA]
        lbz = dot4(d, F, 2, k) * gz - lzz * m[M_CB]
    return lf, lz, lzz, la, lb, laz, lbz, 0.0, 0.0, 0.0


@jit
def loglik_pass(x, loc, scale, A, P, meta, level, grid):
    """Log-likelihood and (level >= 1) its score, BHHH matrix and Hessian, for either density.

    ``grid`` False: A, P are the FFT grids and tail parameters of ``_kernels.density_grids``
    (meta unused); True: the node rows of this module, whose level 1 gives the log
    scale and loc terms only and level 2 adds the alpha and beta scores (the alpha/beta rows of
    the Hessian stay 0).  Coordinates (alpha, beta, log scale, loc0).  Returns a vector of 25:
    [loglik, g(4), B(10), Hess(10)], the 4x4 matrices as upper triangles, row-major.  Serial on
    purpose: on the shared two-core machine a threaded pass was measured up to 80 times slower
    than this one.
    """
    inv = 1.0 / scale
    acc = np.zeros(25)
    for i in range(x.size):
        z = (x[i] - loc) * inv
        if grid:
            r = grid_point(z, A, meta, P, level)
        else:
            r = _point(z, A, P, level)
        if level >= 1:
            accumulate(acc, z, inv, r)
        else:
            acc[0] += r[0]
    acc[0] -= x.size * math.log(scale)
    return acc


@jit
def grid_terms(z, F, meta, P, level):
    """The ten log-density terms of :func:`grid_point` at each standard point, shape (n, 10)."""
    out = np.empty((z.size, 10))
    for i in range(z.size):
        r = grid_point(z[i], F, meta, P, level)
        for j in range(10):
            out[i, j] = r[j]
    return out
