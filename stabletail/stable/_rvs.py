"""Chambers-Mallows-Stuck random variates of the stable law (private kernels)."""

from __future__ import annotations

import math

from .._jit import jit, prange
from ._kernels import HALF_PI


@jit
def _cms_consts(alpha, beta):
    """(zeta, theta0, log scale factor) of the Chambers-Mallows-Stuck map."""
    if alpha == 1.0:
        return 0.0, 0.0, 0.0
    t = math.tan(HALF_PI * alpha)
    zeta = -beta * t
    return zeta, math.atan(beta * t) / alpha, 0.5 * math.log1p(zeta * zeta) / alpha


@jit
def _cms(u, e, alpha, beta, zeta, th0, lfac):
    """Chambers-Mallows-Stuck: standardised S0 variate from U(-pi/2, pi/2), Exp(1)."""
    if alpha == 1.0:
        # Weron (1996): S1 = S0 for alpha = 1 and unit scale
        pb = HALF_PI + beta * u
        return (pb * math.tan(u) - beta * math.log(HALF_PI * e * math.cos(u) / pb)) / HALF_PI
    au = alpha * (u + th0)
    # (1 + zeta^2)^(1/(2a)) sin(a(u + th0)) / cos(u)^(1/a) (cos(u - a(u + th0)) / e)^((1-a)/a), S1;
    # cos(u - au) by the addition formula (sin and cos of one argument share a sincos call)
    cu = math.cos(u)
    su = math.sin(u)
    sa = math.sin(au)
    ca = math.cos(au)
    x1 = sa * math.exp(lfac + ((1.0 - alpha) * math.log((cu * ca + su * sa) / e) - math.log(cu)) / alpha)
    return x1 + zeta


DALPHA_RVS = 1e-7  # |alpha - 1| below which the map is interpolated in alpha


@jit(parallel=True)
def rvs_many(u, e, alpha, beta, out):
    """Standardised S0 variates from uniforms u on (-pi/2, pi/2) and exponentials e.

    For 0 < |alpha - 1| < DALPHA_RVS the S1 shift zeta is huge and cancels; the
    (smooth in alpha) map is then interpolated linearly between alpha = 1 and
    alpha = 1 +- DALPHA_RVS.
    """
    d = alpha - 1.0
    near = d != 0.0 and abs(d) < DALPHA_RVS
    a2 = 1.0 + math.copysign(DALPHA_RVS, d) if near else alpha
    wt = abs(d) / DALPHA_RVS
    z1, t1, l1 = _cms_consts(1.0 if near else alpha, beta)
    z2, t2, l2 = _cms_consts(a2, beta)
    a1 = 1.0 if near else alpha
    for i in prange(u.size):
        if near:
            out[i] = (1.0 - wt) * _cms(u[i], e[i], 1.0, beta, z1, t1, l1) + wt * _cms(u[i], e[i], a2, beta, z2, t2, l2)
        else:
            out[i] = _cms(u[i], e[i], a1, beta, z1, t1, l1)
