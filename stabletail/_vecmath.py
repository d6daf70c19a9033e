"""Vectorisable elementary functions for the numba kernels (private).

Loops that call ``math.log`` and friends do not vectorise (numba has no vector
math library here), so the hot kernels compute them from IEEE-754 bit patterns
with short polynomial or series evaluations that LLVM turns into SIMD code.

Contents: bit casts (``_f64_as_i64``, ``_i64_as_f64``), ``_log_bits`` /
``_log_pos`` / ``_log``, ``_exp``, ``_sincos``, ``_sincospi``, and a
counter-based random source (``_splitmix64_at``, ``_uniform_oc``,
``_uniform_sym``). Each function states its accuracy; ``tests/estimators/test_vecmath.py``
measures it, compiled with and without FMA contraction. Everything is
branch-free (selects only), so loops that call it vectorise.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ._jit import jit

_LN2 = math.log(2.0)
_SQRT2 = math.sqrt(2.0)

# Bit layout of float32 / float64: (shift to exponent, exponent mask, bias,
# mantissa mask, 2**-mantissa_bits).
LAYOUT32 = (23, 0xFF, 127, (1 << 23) - 1, 2.0**-23)
LAYOUT64 = (52, 0x7FF, 1023, (1 << 52) - 1, 2.0**-52)


def layout(dtype: np.dtype) -> tuple:
    """Bit layout and unsigned view dtype for a float32/float64 array."""
    if dtype == np.float32:
        return LAYOUT32, np.int32
    return LAYOUT64, np.int64


@jit(inline="always")
def _log_bits(b, shift, emask, bias, mmask, scale):
    """``log|v|`` for a normal, finite float whose bits are ``b``.

    ``v = 2**e * f`` with ``f`` in [1, 2); ``f`` is moved to [sqrt(1/2),
    sqrt(2)) and ``log f = 2 atanh(s)``, ``s = (f - 1)/(f + 1)``, |s| <= 0.172,
    summed to ``s**21`` (truncation error below 1e-17).
    """
    bb = np.int64(b)
    e = np.float64(((bb >> shift) & emask) - bias)
    f = 1.0 + np.float64(bb & mmask) * scale
    big = f > _SQRT2
    f = 0.5 * f if big else f
    e = e + 1.0 if big else e
    s = (f - 1.0) / (f + 1.0)
    z = s * s
    p = 1.0 / 21.0
    p = p * z + 1.0 / 19.0
    p = p * z + 1.0 / 17.0
    p = p * z + 1.0 / 15.0
    p = p * z + 1.0 / 13.0
    p = p * z + 1.0 / 11.0
    p = p * z + 1.0 / 9.0
    p = p * z + 1.0 / 7.0
    p = p * z + 1.0 / 5.0
    p = p * z + 1.0 / 3.0
    p = p * z + 1.0
    return e * _LN2 + 2.0 * s * p


@jit(inline="always")
def _is_special(b, shift, emask):
    """1 if the float with bits ``b`` is zero, subnormal, inf or NaN, else 0."""
    ef = (np.int64(b) >> shift) & emask
    return np.int64((ef == 0) | (ef == emask))


# ---------------------------------------------------------------- bit casts


@intrinsic
def _bitcast_f64_i64(typingctx, x):
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bitcast_i64_f64(typingctx, b):
    if b != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


def _f64_as_i64(x):
    """The IEEE-754 bits of a float64 as an int64 (compiled: an LLVM bitcast, free and vectorisable)."""
    return np.array(x, np.float64).view(np.int64)[()]


def _i64_as_f64(b):
    """The float64 whose IEEE-754 bits are the int64 ``b`` (compiled: an LLVM bitcast)."""
    return np.array(b, np.int64).view(np.float64)[()]


@overload(_f64_as_i64, inline="always")
def _ov_f64_as_i64(x):
    if x == types.float64:
        return lambda x: _bitcast_f64_i64(x)
    return None


@overload(_i64_as_f64, inline="always")
def _ov_i64_as_f64(b):
    if b == types.int64:
        return lambda b: _bitcast_i64_f64(b)
    return None


# ---------------------------------------------------------------- log, exp

_TINY = 2.0**-1022  # smallest normal float64
_TWO54 = 2.0**54
_LN2_HI = float.fromhex("0x1.62e42fefa3800p-1")  # ln 2 to 42 bits: k * _LN2_HI is exact for |k| < 2**11
_LN2_LO = float.fromhex("0x1.ef35793c76730p-45")  # ln 2 - _LN2_HI


# log f = 2 atanh(s) = 2s + 2s z Q(z), z = s**2 <= (3 - 2 sqrt 2)**2 = 0.0294 for f in
# [sqrt(1/2), sqrt(2)]: Q fitted by mpmath.chebyfit(Q, [0, 1.001 * 0.0294...], 7) at 40
# digits (max error 1.6e-16 on Q, i.e. below 5e-18 relative on log f); the fit is
# recomputed in tests/estimators/test_vecmath.py. Coefficients of z**6 .. z**0.
_LOGQ = (
    0.07308903576708663,
    0.07665805861027504,
    0.09091446216268435,
    0.11111105544689748,
    0.14285714313126918,
    0.19999999999949444,
    0.3333333333333335,
)
_Q6, _Q5, _Q4, _Q3, _Q2, _Q1, _Q0 = _LOGQ
_MANT64 = (1 << 52) - 1
_ONE64 = 0x3FF0000000000000  # bits of 1.0
_EXP_MAGIC = 0x4330000000000000  # bits of 2**52: (k | _EXP_MAGIC) as float is 2**52 + k for 0 <= k < 2**52
_EXP_OFFSET = 2.0**52 + 1023.0


@jit(inline="always")
def _log_pos(x):
    """Natural log of a positive, normal, finite float64, vectorisable (no checks).

    ``x = 2**e f``: ``f`` in [1, 2) and ``e`` are built from the bits of ``x``
    without integer-to-float conversions, ``f`` is moved to [sqrt(1/2),
    sqrt(2)), ``log f = 2 atanh(s)``, ``s = (f - 1)/(f + 1)``, by a 7-term
    minimax-like series in ``s**2`` (``_LOGQ``), and ``e ln 2`` with ln 2 in
    two parts. Zero gives log(2**-1023); other non-normal input gives
    meaningless values (``_log`` handles those). Accuracy
    (``tests/estimators/test_vecmath.py``): at most 2 ulp from ``numpy.log`` over dense
    grids (every binade, next to 1, [1/2, 2]) and hypothesis-drawn floats,
    with or without FMA contraction.
    """
    b = _f64_as_i64(x)
    f = _i64_as_f64((b & _MANT64) | _ONE64)
    e = _i64_as_f64((b >> 52) | _EXP_MAGIC) - _EXP_OFFSET
    big = f > _SQRT2
    f = 0.5 * f if big else f
    e = e + 1.0 if big else e
    s = (f - 1.0) / (f + 1.0)
    z = s * s
    p = _Q6
    p = p * z + _Q5
    p = p * z + _Q4
    p = p * z + _Q3
    p = p * z + _Q2
    p = p * z + _Q1
    p = p * z + _Q0
    t = s + s
    return e * _LN2_HI + (e * _LN2_LO + (t + t * z * p))


@jit(inline="always")
def _log(x):
    """Natural log of a float64, vectorisable (``_log_pos`` plus special cases).

    Handles every input like ``numpy.log``: subnormals are scaled by 2**54
    first, ``log(0) = -inf``, ``log(inf) = inf``, negative or NaN input gives
    NaN. Accuracy (``tests/estimators/test_vecmath.py``): at most 2 ulp from
    ``numpy.log`` over a dense grid of 10**6 points spanning every binade and
    over hypothesis-drawn floats, with or without FMA contraction.
    """
    small = x < _TINY
    v = _log_pos(x * _TWO54 if small else x)
    v = v - 54.0 * _LN2 if small else v
    v = -np.inf if x == 0.0 else v
    v = np.inf if x == np.inf else v
    return np.nan if (x < 0.0) | math.isnan(x) else v


_INV_LN2 = 1.0 / _LN2
_ROUND = 1.5 * 2.0**52  # adding and subtracting it rounds |v| < 2**51 to the nearest integer
_E = [1.0 / math.factorial(k) for k in range(14)]  # Taylor coefficients of exp
_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = _E[2:]


@jit(inline="always")
def _exp(x):
    """``exp(x)`` of a float64, vectorisable.

    ``x = k ln2 + r``, ``|r| <= ln2 / 2`` (ln 2 split in two, Cody-Waite),
    ``exp(r)`` by its Taylor series to ``r**13`` (truncation below 5e-18
    relative), ``2**k`` applied in two exact factors so results that are
    subnormal, overflow (inf) or underflow (0) come out as in ``numpy.exp``;
    NaN propagates. Accuracy (``tests/estimators/test_vecmath.py``): at most 2 ulp from
    ``numpy.exp`` (1 ulp measured), subnormal results included, over a dense
    grid of [-745.1, 709.78] and hypothesis-drawn floats, with or without FMA
    contraction.
    """
    xc = min(max(x, -1100.0), 1100.0)
    t = xc * _INV_LN2 + _ROUND
    kf = t - _ROUND
    k = _f64_as_i64(t) - _f64_as_i64(_ROUND)
    r = (xc - kf * _LN2_HI) - kf * _LN2_LO
    p = _E13
    p = p * r + _E12
    p = p * r + _E11
    p = p * r + _E10
    p = p * r + _E9
    p = p * r + _E8
    p = p * r + _E7
    p = p * r + _E6
    p = p * r + _E5
    p = p * r + _E4
    p = p * r + _E3
    p = p * r + _E2
    p = p * r + 1.0
    p = p * r + 1.0
    k1 = k >> 1
    k2 = k - k1
    v = p * _i64_as_f64((k1 + 1023) << 52) * _i64_as_f64((k2 + 1023) << 52)
    return x if math.isnan(x) else v


# ---------------------------------------------------------------- sin, cos

# pi / 2 in three parts of 33, 33 and 53 bits: k * _PIO2_1 and k * _PIO2_2 are exact
# for |k| < 2**20, so the reduction below loses nothing for |x| < 1.6e6.
_PIO2_1 = float.fromhex("0x1.921fb54400000p+0")
_PIO2_2 = float.fromhex("0x1.0b4611a600000p-34")
_PIO2_3 = float.fromhex("0x1.3198a2e037073p-69")
_TWO_OVER_PI = 2.0 / math.pi
# Taylor coefficients of sin (odd k) and cos (even k)
_S = [(-1) ** (k // 2) / math.factorial(k) for k in range(18)]
_S3, _S5, _S7, _S9, _S11, _S13, _S15, _S17 = _S[3::2]
_C4, _C6, _C8, _C10, _C12, _C14, _C16 = _S[4::2]


@jit(inline="always")
def _sincos_core(r, q):
    """(sin, cos) of ``r + q pi / 2`` for ``|r| <= pi / 4`` (plus rounding) and an int ``q``.

    Taylor series of sin to ``r**17`` and cos to ``r**16`` (truncation below
    1e-19 relative on the interval); the quadrant ``q mod 4`` picks and signs
    the two.
    """
    z = r * r
    ps = _S17
    ps = ps * z + _S15
    ps = ps * z + _S13
    ps = ps * z + _S11
    ps = ps * z + _S9
    ps = ps * z + _S7
    ps = ps * z + _S5
    ps = ps * z + _S3
    s = r + r * z * ps
    pc = _C16
    pc = pc * z + _C14
    pc = pc * z + _C12
    pc = pc * z + _C10
    pc = pc * z + _C8
    pc = pc * z + _C6
    pc = pc * z + _C4
    h = 0.5 * z
    w = 1.0 - h
    # 1 - z/2 + z**2 pc with the rounding error of 1 - z/2 added back
    c = w + (((1.0 - w) - h) + z * z * pc)
    odd = (q & 1) == 1
    s1 = c if odd else s
    c1 = s if odd else c
    s1 = -s1 if (q & 2) == 2 else s1
    c1 = -c1 if ((q + 1) & 2) == 2 else c1
    return s1, c1


@jit(inline="always")
def _sincos(x):
    """(sin x, cos x) of a float64, vectorisable, for ``|x| < 1.6e6``.

    ``x = k pi / 2 + r`` with pi / 2 in three parts (Cody-Waite), then
    ``_sincos_core``. Accuracy (``tests/estimators/test_vecmath.py``): at most 1 ulp
    from ``numpy.sin`` / ``numpy.cos`` on a dense grid of [-100, 100] and on
    hypothesis-drawn floats in [-1e5, 1e5], and from mpmath at the floats
    nearest to ``k pi / 2``, ``|k| < 64`` (relative accuracy next to the
    zeros), with or without FMA contraction. Outside the domain the result
    is meaningless (NaN in, NaN out).
    """
    t = x * _TWO_OVER_PI + _ROUND
    kf = t - _ROUND
    q = _f64_as_i64(t)
    r = ((x - kf * _PIO2_1) - kf * _PIO2_2) - kf * _PIO2_3
    return _sincos_core(r, q)


@jit(inline="always")
def _sincospi(y):
    """(sin pi y, cos pi y) of a float64 ``|y| < 2**50``, vectorisable.

    The reduction ``y = q / 2 + t``, ``|t| <= 1/4``, is exact, so the result
    is accurate relative to the value also next to the zeros (e.g. ``cos pi y``
    for ``y`` next to 1/2). Accuracy (``tests/estimators/test_vecmath.py``): at most 2
    ulp from mpmath's ``sinpi`` / ``cospi`` on a grid of [-3, 3], next to the
    integers and half-integers, and on hypothesis-drawn floats in [-1/2, 1/2];
    exact zeros where the value is zero.
    """
    t2 = 2.0 * y + _ROUND
    qf = t2 - _ROUND
    q = _f64_as_i64(t2)
    return _sincos_core(math.pi * (y - 0.5 * qf), q)


# ---------------------------------------------------------------- counter-based random bits

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@jit(inline="always")
def _splitmix64_at(key, j):
    """Output number ``j`` (1, 2, ...) of SplitMix64 started from the state ``key`` (uint64).

    SplitMix64 (Steele, Lea & Flood 2014) adds a constant to its state and
    hashes the state; output ``j`` is therefore a pure function of
    ``(key, j)`` and any index range can be drawn in any order or thread.
    The streams of two keys are offsets of one sequence of period 2**64, so
    two calls of n1 and n2 outputs overlap with probability about
    (n1 + n2) / 2**64.
    """
    z = key + np.uint64(j) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


_ONE_BITS = np.uint64(0x3FF0000000000000)


@jit(inline="always")
def _uniform_oc(h):
    """Uniform on (0, 1] from 53 bits of ``h``: ``m 2**-53`` for ``m`` in 1 .. 2**53, exact."""
    d = _i64_as_f64(np.int64(_ONE_BITS | (h >> np.uint64(12))))  # [1, 2), 52 bits
    b = 1.0 if (h >> np.uint64(11)) & np.uint64(1) else 0.0
    return (2.0 - d) - b * 2.0**-53


@jit(inline="always")
def _uniform_sym(h):
    """Uniform on (-1/2, 1/2) from 53 bits of ``h``: ``(m + 1/2) 2**-53 - 1/2``, m in 0 .. 2**53 - 1, exact.

    The set of values is symmetric about 0 and never reaches -1/2, 0 or 1/2.
    """
    d = _i64_as_f64(np.int64(_ONE_BITS | (h >> np.uint64(12))))  # [1, 2), 52 bits
    b = 1.0 if (h >> np.uint64(11)) & np.uint64(1) else 0.0
    return (d - 1.5) + (b + 0.5) * 2.0**-53
