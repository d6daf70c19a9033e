"""Vectorisable elementary functions for the numba kernels (private).

Loops that call ``math.log`` and friends do not vectorise (numba has no vector
math library here), so the hot kernels compute them from IEEE-754 bit patterns
with short polynomial or series evaluations that LLVM turns into SIMD code.
"""

from __future__ import annotations

import math

import numpy as np

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


