"""Chambers-Mallows-Stuck random variates of the stable law (private kernels).

The randomness is drawn inside the parallel kernel from a counter-based
stream: draw ``i`` uses SplitMix64 outputs ``2i + 1`` and ``2i + 2`` of the
64-bit ``key`` (``_vecmath._splitmix64_at``), so the output depends only on
the key and the index, never on the number of threads or the chunking. All
elementary functions come from ``_vecmath`` so that the loops vectorise.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, prange
from .._vecmath import _exp, _log_pos, _sincos, _sincospi, _splitmix64_at, _uniform_oc, _uniform_sym
from ._kernels import HALF_PI

# |alpha - 1| below which the S0 map is interpolated in alpha. The direct map loses
# digits as 1 / |alpha - 1| (S1 value and shift zeta cancel); linear interpolation
# errs as (alpha - 1)**2. Against a 60-digit mpmath evaluation of the map at the same
# (V, W) (300 - 1000 draws, beta in {0.6, 1, -0.3}), the largest error near alpha = 1 was
# 2e-8 with 1e-6, 1.4e-7 with 1e-7 and 9e-8 with 1e-5.
DALPHA_RVS = 1e-6
_TINY = 2.0**-1022  # log arguments are clamped to [_TINY, _HUGE]
_HUGE = 2.0**1023
_INV_HALF_PI = 2.0 / math.pi
CHUNK = 4096  # draws per parallel work item (fixed: the output does not depend on it)
BLOCK = 512  # draws per pass through the scratch arrays (they stay in the L1 cache)
# a * b + c may be fused (FMA): the kernels are polynomial evaluations
FASTMATH = {"contract"}


@jit
def _cms_consts(alpha, beta):
    """(zeta, theta0, log scale factor) of the Chambers-Mallows-Stuck map."""
    if alpha == 1.0:
        return 0.0, 0.0, 0.0
    t = math.tan(HALF_PI * alpha)
    zeta = -beta * t
    return zeta, math.atan(beta * t) / alpha, 0.5 * math.log1p(zeta * zeta) / alpha


@jit(inline="always")
def _draw_y(key, i):
    """y of draw ``i``: uniform on (-1/2, 1/2) (V = pi y)."""
    return _uniform_sym(_splitmix64_at(key, np.uint64(2 * i + 1)))


@jit(inline="always")
def _draw(key, i):
    """Draw ``i``: (y uniform on (-1/2, 1/2), w = -log u with u uniform on (0, 1])."""
    # 0 - log u: +0 (not -0) for u = 1, so that W = 0 takes the limits of the map
    return _draw_y(key, i), 0.0 - _log_pos(_uniform_oc(_splitmix64_at(key, np.uint64(2 * i + 2))))


@jit(inline="always")
def _cms1(y, w, beta):
    """Standardised variate, alpha = 1 (S0 = S1 at unit scale), Weron's (1996) form.

    (2/pi) [pb tan V - beta log((pi/2) W cos V / pb)], pb = pi/2 + beta V, with
    one division: r = 1 / (pb cos V).
    """
    su, cu = _sincospi(y)
    pb = HALF_PI + beta * (math.pi * y)
    r = 1.0 / (pb * cu)
    t = pb * pb * su * r
    if beta != 0.0:
        t = t - beta * _log_pos(min(max(HALF_PI * w * cu * cu * r, _TINY), _HUGE))
    return t * _INV_HALF_PI


@jit(fastmath=FASTMATH)
def _draw_block(key, lo, y, w):
    """``y, w`` of draws ``lo .. lo + BLOCK - 1``."""
    for j in range(BLOCK):
        y[j], w[j] = _draw(key, lo + j)


@jit(fastmath=FASTMATH)
def _cauchy_block(key, lo, z):
    """Cauchy (alpha = 1, beta = 0) variates of draws ``lo .. lo + BLOCK - 1``: tan V, W unused."""
    for j in range(BLOCK):
        z[j] = _cms1(_draw_y(key, lo + j), 1.0, 0.0)


@jit(fastmath=FASTMATH)
def _weron_block(beta, y, w, z):
    """``z``: alpha = 1 variates from ``y, w``."""
    for j in range(BLOCK):
        z[j] = _cms1(y[j], w[j], beta)


@jit(fastmath=FASTMATH)
def _cms_block(alpha, inva, zeta, th0, lfac, y, w, sa, q, cu, z):
    """``z``: standardised S0 variates, alpha != 1, from V = pi y and W = w (Chambers, Mallows & Stuck 1976).

    S1: (1 + zeta^2)^(1/(2a)) sin(a(V + th0)) / cos(V)^(1/a) (cos(V - a(V + th0)) / W)^((1-a)/a);
    S0 adds zeta. cos(V - a(V + th0)) by the addition formula. Three passes
    through the scratch arrays ``sa, q, cu``: short loops keep their constants
    in registers (measured faster than one fused loop).
    """
    for j in range(BLOCK):
        su, c = _sincospi(y[j])
        s, ca = _sincos(alpha * (math.pi * y[j] + th0))
        sa[j] = s
        cu[j] = c
        # cos(V - a(V + th0)) >= 0 exactly (rounding may push it below); W may be 0
        # (U = 1, probability 2**-53): keep the log argument positive, normal, finite
        q[j] = min(max((c * ca + su * s) / w[j], _TINY), _HUGE)
    for j in range(BLOCK):
        z[j] = lfac + ((1.0 - alpha) * _log_pos(q[j]) - _log_pos(cu[j])) * inva
    for j in range(BLOCK):
        z[j] = sa[j] * _exp(z[j]) + zeta


@jit(fastmath=FASTMATH)
def _fill_chunks(key, c0, c1, alpha, beta, scale, loc, out):
    """``out[i] = loc + scale * Z_i`` for the draws ``i`` of chunks ``c0 .. c1 - 1`` (CHUNK draws each).

    Z_i: standardised S0 variate of draw ``i`` of ``key``. For 0 < |alpha - 1|
    < DALPHA_RVS the S1 shift zeta is huge and cancels; the (smooth in alpha)
    map is then interpolated linearly between alpha = 1 and alpha = 1 +-
    DALPHA_RVS. A chunk is done in whole blocks of BLOCK draws through small
    scratch arrays (the last block of ``out`` computes a few draws past its
    end and drops them). Every block kernel loops over the whole block (a
    compile-time trip count, so no scalar remainder whose rounding could
    differ, e.g. by FMA contraction): draw ``i`` is computed by the same code
    whatever the size, chunking and thread count.
    """
    n = out.size
    d = alpha - 1.0
    near = d != 0.0 and abs(d) < DALPHA_RVS
    a2 = 1.0 + math.copysign(DALPHA_RVS, d) if near else alpha
    wt = abs(d) / DALPHA_RVS
    zeta, th0, lfac = _cms_consts(a2, beta)
    inva = 1.0 / a2
    y = np.empty(BLOCK)
    w = np.empty(BLOCK)
    sa = np.empty(BLOCK)
    q = np.empty(BLOCK)
    cu = np.empty(BLOCK)
    z = np.empty(BLOCK)
    for lo in range(c0 * CHUNK, min(c1 * CHUNK, n), BLOCK):
        if d == 0.0 and beta == 0.0:
            _cauchy_block(key, lo, z)
        elif d == 0.0:
            _draw_block(key, lo, y, w)
            _weron_block(beta, y, w, z)
        else:
            _draw_block(key, lo, y, w)
            _cms_block(a2, inva, zeta, th0, lfac, y, w, sa, q, cu, z)
            if near:
                _weron_block(beta, y, w, sa)
                for j in range(BLOCK):
                    z[j] = (1.0 - wt) * sa[j] + wt * z[j]
        for j in range(BLOCK):
            z[j] = loc + scale * z[j]
        for j in range(min(BLOCK, n - lo)):
            out[lo + j] = z[j]


@jit(parallel=True)
def _fill_parallel(key, alpha, beta, scale, loc, out):
    """``_fill_chunks`` for all chunks of ``out``, one chunk per parallel work item."""
    for c in prange((out.size + CHUNK - 1) // CHUNK):
        _fill_chunks(key, c, c + 1, alpha, beta, scale, loc, out)


PARALLEL_MIN = 8 * CHUNK  # below this many draws the parallel launch costs more than it saves


def rvs_fill(key: np.uint64, alpha: float, beta: float, scale: float, loc: float, out: np.ndarray) -> None:
    """``out[i] = loc + scale * Z_i`` for all ``i`` (see ``_fill_chunks``); parallel for large ``out``.

    The result is the same either way: each chunk is computed by the same
    compiled ``_fill_chunks``.
    """
    key = np.uint64(key)
    if out.size < PARALLEL_MIN:
        _fill_chunks(key, 0, (out.size + CHUNK - 1) // CHUNK, alpha, beta, scale, loc, out)
    else:
        _fill_parallel(key, alpha, beta, scale, loc, out)
