"""Numba kernels of the power-law tail fit (Clauset, Shalizi & Newman 2009): the xmin scan and
its semi-parametric bootstrap.

Data arrive sorted in increasing order. For a candidate ``xmin = y[i]`` (the first index of its
value) the tail is ``y[i:]`` (``m = n - i`` values), the continuous MLE is
``s = alpha - 1 = m / sum(log(y[i:] / y[i]))``, the fitted CDF is ``F(y) = 1 - (y / y[i])**-s``
and the empirical CDF is the fraction of the tail strictly below each value, ``E_j =
(first[j] - i) / m`` (the convention of CSN's reference code and of the ``powerlaw`` package).

The distance of a candidate is found by branch and bound over index blocks: on a block
``[a, b]`` both ``E`` and ``F`` are non-decreasing, so ``E - F <= E_b - F_a`` and ``F - E <=
F_b - E_a`` inside it; a block is split only while its bound could raise the maximum, and a
candidate is dropped as soon as its distance provably reaches the best one found. The result
is the exact minimiser of the full scan, computed in far fewer than ``n * m`` evaluations.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, jit_variants, prange
from .._vecmath import _splitmix64_at, _uniform_oc

KS, KUIPER, AD = 0, 1, 2

_STACK = 256


@jit(inline="always")
def _cdf(ly, li, s):
    return -math.expm1(-s * (ly - li))


@jit
def first_index(y):
    """``first[j]``: the first index holding the value ``y[j]`` (``y`` sorted)."""
    n = y.size
    first = np.empty(n, np.int64)
    for j in range(n):
        first[j] = j if j == 0 or y[j] != y[j - 1] else first[j - 1]
    return first


@jit
def tail_log_sums(ly):
    """``S[i] = sum(ly[i:])``, accumulated from the largest index down."""
    n = ly.size
    s = np.empty(n + 1)
    s[n] = 0.0
    for j in range(n - 1, -1, -1):
        s[j] = s[j + 1] + ly[j]
    return s


@jit
def _ad_distance(ly, i, s):
    """Anderson-Darling A^2 of the tail ``y[i:]`` against the fitted law (the usual computing
    formula over the order statistics; every value counts, ties included)."""
    n = ly.size
    m = n - i
    li = ly[i]
    acc = 0.0
    for k in range(m):
        fk = _cdf(ly[i + k], li, s)
        fr = _cdf(ly[n - 1 - k], li, s)
        fk = min(max(fk, 1e-300), 1.0)
        sr = max(1.0 - fr, 1e-300)
        acc += (2.0 * k + 1.0) * (math.log(fk) + math.log(sr))
    return -m - acc / m


@jit(inline="always")
def _record(d, j, p_max, m_max, arg):
    """Fold the difference ``d = E - F`` at index ``j`` into the two running maxima."""
    if d > p_max:
        p_max, arg = d, j
    if -d > m_max:
        m_max, arg = -d, j
    return p_max, m_max, arg


@jit(inline="always")
def _combine(p_max, m_max, metric):
    return p_max + m_max if metric == KUIPER else max(p_max, m_max)


@jit
def _distance(ly, first, i, s, metric, stop, hint):
    """Distance of candidate ``i`` (exact when below ``stop``; otherwise some value >= stop) and
    the index where ``|E - F|`` was largest."""
    n = ly.size
    if metric == AD:
        return _ad_distance(ly, i, s), hint
    li = ly[i]
    inv_m = 1.0 / (n - i)
    p_max = 0.0  # max(E - F)
    m_max = 0.0  # max(F - E)
    arg = i
    # the hint (where the previous candidate peaked) often decides at once
    if hint > i and hint < n:
        d = (first[hint] - i) * inv_m - _cdf(ly[hint], li, s)
        p_max, m_max, arg = _record(d, hint, p_max, m_max, arg)
        if _combine(p_max, m_max, metric) >= stop:
            return stop, arg
    last = n - 1
    d = (first[last] - i) * inv_m - _cdf(ly[last], li, s)
    p_max, m_max, arg = _record(d, last, p_max, m_max, arg)
    sa = np.empty(_STACK, np.int64)
    sb = np.empty(_STACK, np.int64)
    sa[0] = i
    sb[0] = last
    top = 1
    while top > 0:
        top -= 1
        a = sa[top]
        b = sb[top]
        if b - a < 2:
            continue
        # inside [a, b] both E and F grow: E - F <= E_b - F_a and F - E <= F_b - E_a
        up_p = (first[b] - i) * inv_m - _cdf(ly[a], li, s)
        up_m = _cdf(ly[b], li, s) - (first[a] - i) * inv_m
        if metric == KUIPER:
            need = up_p > p_max or up_m > m_max
        else:
            cur = max(p_max, m_max)
            need = up_p > cur or up_m > cur
        if not need:
            continue
        c = (a + b) // 2
        d = (first[c] - i) * inv_m - _cdf(ly[c], li, s)
        p_max, m_max, arg = _record(d, c, p_max, m_max, arg)
        if _combine(p_max, m_max, metric) >= stop or top + 2 > _STACK:  # the stack cannot fill for n < 2**120
            return stop, arg
        sa[top] = a
        sb[top] = c
        sa[top + 1] = c
        sb[top + 1] = b
        top += 2
    return _combine(p_max, m_max, metric), arg


@jit
def scan(y, lo, hi, min_tail, metric):
    """Best candidate of the continuous scan.

    Parameters: ``y`` sorted positive data; candidates are the distinct values in ``[lo, hi]``
    except the largest one, with at least ``min_tail`` values at or above them.

    Returns ``(i, s, distance, n_candidates)``; ``i = -1`` when there is no candidate. The
    smallest ``i`` among equal distances wins, as in a plain scan in increasing order.
    """
    n = y.size
    ly = np.log(y)
    first = first_index(y)
    tail = tail_log_sums(ly)
    cand = np.empty(n, np.int64)
    slope = np.empty(n)
    nc = 0
    for i in range(n - 1):
        if first[i] != i or y[i] < lo or y[i] > hi or y[i] == y[n - 1]:
            continue
        m = n - i
        if m < min_tail:
            break
        den = tail[i] - m * ly[i]
        if den > 0.0:
            cand[nc] = i
            slope[nc] = m / den
            nc += 1
    best_i = -1
    best_s = math.nan
    best_d = math.inf
    # a coarse pass first: the best distance it finds lets the full pass drop most candidates
    # after a few evaluations (in increasing order the distance often falls all the way)
    stride = max(1, nc // 256)
    hint = -1
    for k in range(0, nc, stride):
        d, hint = _distance(ly, first, cand[k], slope[k], metric, best_d, hint)
        if d < best_d:
            best_d, best_i, best_s = d, cand[k], slope[k]
    hint = -1
    for k in range(nc):
        i = cand[k]
        stop = best_d * (1.0 + 1e-12) if i < best_i else best_d
        d, hint = _distance(ly, first, i, slope[k], metric, stop, hint)
        if d < best_d or (d == best_d and i < best_i):
            best_d, best_i, best_s = d, i, slope[k]
    return best_i, best_s, best_d, nc


@jit
def distance_at(y, i, metric):
    """``(s, distance)`` of the candidate ``y[i]`` (``i`` the first index of its value)."""
    n = y.size
    ly = np.log(y)
    first = first_index(y)
    m = n - i
    den = 0.0
    for j in range(i, n):
        den += ly[j] - ly[i]
    s = m / den
    d, _ = _distance(ly, first, i, s, metric, math.inf, -1)
    return s, d


@jit
def _synthetic(body, xmin, s, n, n_tail, key):
    """One synthetic sample of CSN's bootstrap: each value comes, with probability
    ``n_tail / n``, from the fitted power law above ``xmin``, otherwise uniformly from ``body``."""
    out = np.empty(n)
    p_tail = n_tail / n
    nb = body.size
    for j in range(n):
        u = _uniform_oc(_splitmix64_at(key, 2 * j + 1))
        v = _uniform_oc(_splitmix64_at(key, 2 * j + 2))
        if nb == 0 or u <= p_tail:
            out[j] = xmin * v ** (-1.0 / s)
        else:
            out[j] = body[min(int((1.0 - v) * nb), nb - 1)]
    out.sort()
    return out


def _boot(body, xmin, s, n, n_tail, keys, lo, hi, min_tail, metric, fixed):
    """Distance of the refit on each synthetic sample (NaN when a sample had no candidate)."""
    r = keys.size
    out = np.empty(r)
    for k in prange(r):
        y = _synthetic(body, xmin, s, n, n_tail, keys[k])
        if fixed:
            i = int(np.searchsorted(y, xmin))
            if i >= n - 1:
                out[k] = math.nan
            else:
                out[k] = distance_at(y, i, metric)[1]
        else:
            bi, _, d, _ = scan(y, lo, hi, min_tail, metric)
            out[k] = d if bi >= 0 else math.nan
    return out


boot_serial, boot_parallel = jit_variants(_boot)
