"""Normality tests of every column of a (K, m) sample in compiled loops (private).

No torch here: the kernels take numpy arrays. Each column is one coordinate's noise
across K minibatches. Columns are processed in fixed tiles (``prange`` over tiles),
so results do not depend on the number of threads.

- Jarque-Bera (Jarque & Bera 1987): ``JB = K/6 (S^2 + (Kurt - 3)^2 / 4)`` from the
  biased central moments; p-value ``exp(-JB/2)`` (chi-square, 2 d.o.f.).
- Anderson-Darling for the normal law with estimated mean and variance (ddof 1):
  ``A^2 = -K - sum_i (2i - 1)/K [log Phi(w_(i)) + log Phi(-w_(K+1-i))]``; p-value from
  the modified statistic ``A* = A^2 (1 + 0.75/K + 2.25/K^2)`` by the piecewise
  exponential fit of D'Agostino & Stephens (1986, "Goodness-of-fit techniques",
  Table 4.9).
- Shapiro-Wilk by Royston's algorithm AS R94 (Royston 1995, Applied Statistics 44):
  the coefficients depend on K only and are computed once (:func:`shapiro_coefficients`),
  ``W`` is the squared correlation of the sorted column with them, and the p-value
  comes from Royston's normalising transformation of ``log(1 - W)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .._jit import jit, prange

_TILE = 64  # columns per tile (fixed: thread-count independent)
_SQRT1_2 = 1.0 / math.sqrt(2.0)


def shapiro_coefficients(k: int) -> np.ndarray:
    """The ``K // 2`` Shapiro-Wilk coefficients of AS R94 (lower half, positive).

    ``a[i]`` multiplies ``x_(K-i) - x_(i+1)`` (0-based ``i``).
    """
    if k == 3:
        return np.array([math.sqrt(0.5)])
    half = k // 2
    i = np.arange(1, half + 1, dtype=np.float64)
    m = -special.ndtri((i - 0.375) / (k + 0.25))  # positive expected normal order statistics
    summ2 = 2.0 * np.sum(m * m)
    ssumm2 = math.sqrt(summ2)
    rsn = 1.0 / math.sqrt(k)
    a = np.empty(half)
    a[0] = np.polyval([-2.706056, 4.434685, -2.071190, -0.147981, 0.221157, 0.0], rsn) + m[0] / ssumm2
    if k > 5:
        a[1] = np.polyval([-3.582633, 5.682633, -1.752461, -0.293762, 0.042981, 0.0], rsn) + m[1] / ssumm2
        fac = math.sqrt((summ2 - 2 * m[0] ** 2 - 2 * m[1] ** 2) / (1 - 2 * a[0] ** 2 - 2 * a[1] ** 2))
        a[2:] = m[2:] / fac
    else:
        fac = math.sqrt((summ2 - 2 * m[0] ** 2) / (1 - 2 * a[0] ** 2))
        a[1:] = m[1:] / fac
    return a


@jit
def _normal_sf(z):
    return 0.5 * math.erfc(z * _SQRT1_2)


@jit
def _log_normal_cdfs(w):
    """``(log Phi(w), log Phi(-w))`` from one erfc (the smaller probability keeps its digits)."""
    tail = 0.5 * math.erfc(abs(w) * _SQRT1_2)
    if w < 0.0:
        return math.log(tail), math.log1p(-tail)
    return math.log1p(-tail), math.log(tail)


@jit
def _shapiro_pvalue(w, k):
    if k == 3:
        return max(0.0, 6.0 / math.pi * (math.asin(math.sqrt(w)) - math.pi / 3.0))
    y = math.log1p(-w) if w < 1.0 else -math.inf
    if k <= 11:
        gamma = -2.273 + 0.459 * k
        if y >= gamma:
            return 1e-99  # beyond the range of the transformation: W is far in the lower tail
        y = -math.log(gamma - y)
        m = 0.544 + k * (-0.39978 + k * (0.025054 + k * -6.714e-4))
        s = math.exp(1.3822 + k * (-0.77857 + k * (0.062767 + k * -0.0020322)))
    else:
        lk = math.log(k)
        m = -1.5861 + lk * (-0.31082 + lk * (-0.083751 + lk * 0.0038915))
        s = math.exp(-0.4803 + lk * (-0.082676 + lk * 0.0030302))
    return _normal_sf((y - m) / s)


@jit
def _anderson_pvalue(a2, k):
    a = a2 * (1.0 + 0.75 / k + 2.25 / (k * k))
    if a >= 0.6:
        return math.exp(1.2937 - 5.709 * a + 0.0186 * a * a)
    if a >= 0.34:
        return math.exp(0.9177 - 4.279 * a - 1.38 * a * a)
    if a >= 0.2:
        return 1.0 - math.exp(-8.318 + 42.796 * a - 59.938 * a * a)
    return 1.0 - math.exp(-13.436 + 101.14 * a - 223.73 * a * a)


@jit
def _bitonic_sort_rows(t):
    """Sort every column of ``t`` (rows = a power of two) ascending in place.

    A bitonic sorting network: the same compare-exchanges for every column, so the
    inner loop runs along a row, branch-free and vectorised across columns.
    """
    p, w = t.shape
    size = 2
    while size <= p:
        stride = size >> 1
        while stride > 0:
            for i in range(p):
                partner = i ^ stride
                if partner > i:
                    up = (i & size) == 0
                    for c in range(w):
                        a = t[i, c]
                        b = t[partner, c]
                        lo = a if a < b else b
                        hi = b if a < b else a
                        t[i, c] = lo if up else hi
                        t[partner, c] = hi if up else lo
            stride >>= 1
        size <<= 1


@jit
def _tile_tests(t, k, j0, coef, do_sw, do_ad, do_jb, out):
    """Tests of the columns of tile ``t`` (rows 0..k-1 hold the data, rows k.. are +inf)."""
    w = t.shape[1]
    mean = np.zeros(w)
    m2 = np.zeros(w)
    m3 = np.zeros(w)
    m4 = np.zeros(w)
    for i in range(k):
        for c in range(w):
            mean[c] += t[i, c]
    for c in range(w):
        mean[c] /= k
    for i in range(k):
        for c in range(w):
            d = t[i, c] - mean[c]
            d2 = d * d
            m2[c] += d2
            m3[c] += d2 * d
            m4[c] += d2 * d2
    if do_jb:
        for c in range(w):
            s2 = (m3[c] / k) ** 2 / (m2[c] / k) ** 3
            kurt = (m4[c] / k) / (m2[c] / k) ** 2
            jb = k / 6.0 * (s2 + 0.25 * (kurt - 3.0) ** 2)
            out[2, 0, j0 + c] = jb
            out[2, 1, j0 + c] = math.exp(-0.5 * jb)
    if do_sw or do_ad:
        _bitonic_sort_rows(t)
    if do_sw:
        # W = squared correlation of the sorted column with the antisymmetric coefficients;
        # 1 - W formed as (|v| - s)(|v| + s)/|v|^2 keeps its digits when W is near 1
        sax = np.zeros(w)
        ssa = 0.0
        for i in range(k // 2):
            ssa += 2.0 * coef[i] * coef[i]
            for c in range(w):
                sax[c] += coef[i] * (t[k - 1 - i, c] - t[i, c])
        for c in range(w):
            ssassx = math.sqrt(ssa * m2[c])
            w1 = (ssassx - sax[c]) * (ssassx + sax[c]) / (ssa * m2[c])
            out[0, 0, j0 + c] = 1.0 - w1
            out[0, 1, j0 + c] = _shapiro_pvalue(1.0 - w1, k)
    if do_ad:
        # the i-th order statistic enters as log Phi(w) with weight 2i + 1 and as
        # log Phi(-w) with weight 2(K - 1 - i) + 1
        acc = np.zeros(w)
        inv_sd = np.empty(w)
        for c in range(w):
            inv_sd[c] = 1.0 / math.sqrt(m2[c] / (k - 1))
        for i in range(k):
            for c in range(w):
                lo, hi = _log_normal_cdfs((t[i, c] - mean[c]) * inv_sd[c])
                acc[c] += (2.0 * i + 1.0) * lo + (2.0 * (k - 1 - i) + 1.0) * hi
        for c in range(w):
            a2 = -k - acc[c] / k
            out[1, 0, j0 + c] = a2
            out[1, 1, j0 + c] = _anderson_pvalue(a2, k)
    for c in range(w):
        if not m2[c] > 0.0:  # constant (or non-finite) column: no test is possible
            for test in range(3):
                out[test, 0, j0 + c] = np.nan
                out[test, 1, j0 + c] = np.nan


@jit(parallel=True)
def normality_columns(x, coef, do_sw, do_ad, do_jb, out):
    """Fill ``out[test, {statistic, pvalue}, column]`` for tests (shapiro, anderson, jarque_bera)."""
    k, m = x.shape
    p = 1
    while p < k:
        p <<= 1
    n_tiles = (m + _TILE - 1) // _TILE
    for tile in prange(n_tiles):
        j0 = tile * _TILE
        j1 = min(m, j0 + _TILE)
        t = np.full((p, j1 - j0), np.inf)  # padding rows sort to the end
        t[:k] = x[:, j0:j1]
        _tile_tests(t, k, j0, coef, do_sw, do_ad, do_jb, out)


@jit
def jarque_bera_sums(s, k, out):
    """Jarque-Bera of every column from the sums of its powers (``s[p - 1] = sum x**p``).

    ``out[0]`` the statistic, ``out[1]`` the p-value ``exp(-JB/2)``; NaN where the biased
    variance is not positive or a sum is not finite. Central moments from the raw ones:
    ``m2 = s2 - mu^2``, ``m3 = s3 - 3 mu s2 + 2 mu^3``, ``m4 = s4 - 4 mu s3 + 6 mu^2 s2 - 3 mu^4``
    (means over ``k``).
    """
    inv_k = 1.0 / k
    for j in range(s.shape[1]):
        mu = s[0, j] * inv_k
        a2 = s[1, j] * inv_k
        a3 = s[2, j] * inv_k
        a4 = s[3, j] * inv_k
        mu2 = mu * mu
        m2 = a2 - mu2
        m3 = a3 - 3.0 * mu * a2 + 2.0 * mu2 * mu
        m4 = a4 - 4.0 * mu * a3 + 6.0 * mu2 * a2 - 3.0 * mu2 * mu2
        if m2 > 0.0 and math.isfinite(m3) and math.isfinite(m4):
            v2 = m2 * m2
            kurt = m4 / v2 - 3.0
            jb = k / 6.0 * (m3 * m3 / (v2 * m2) + 0.25 * kurt * kurt)
            out[0, j] = jb
            out[1, j] = math.exp(-0.5 * jb)
        else:
            out[0, j] = np.nan
            out[1, j] = np.nan
