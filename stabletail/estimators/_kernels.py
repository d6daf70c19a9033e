"""Numba kernels of :mod:`stabletail.estimators` (private).

Three ideas make the one-pass estimators fast:

* ``_log_bits`` computes ``log|v|`` from the IEEE-754 bit pattern of ``v``
  (exponent times ``log 2`` plus a short series for the mantissa), with no
  call to ``libm``: the loop vectorises, which a loop calling ``math.log``
  does not. It is accurate to a few units in the last place of a float64
  (tested against :func:`numpy.log`). Zeros, subnormals, infinities and NaNs
  are *not* handled: every kernel counts them (``special``) and the caller
  falls back to the exact numpy path when the count is non-zero.
* ``mohammadi`` needs one log per block only: small blocks multiply their
  ``|x_j|`` in float64 (see :func:`block_log_diffs_chunk`), large ones their
  mantissas.
* Parallel loops run over a fixed partition of the data into chunks (never
  over "one chunk per thread"), and partial sums are combined in chunk order,
  so results do not depend on the number of threads.

The Hill double bootstrap and the bootstrap standard errors draw resample
``r`` from a counter-based generator (SplitMix64 seeded from ``seed`` and
``r``), so resample ``r`` is the same whichever thread runs it.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, prange
from .._vecmath import (  # noqa: F401
    _GOLDEN,
    _LN2,
    LAYOUT32,
    LAYOUT64,
    _is_special,
    _log_bits,
    _log_pos,
    _splitmix64_at,
    layout,
)

# Floating-point reassociation lets LLVM vectorise the reductions; no
# assumption about NaN/inf is made (those are counted and handled outside).
_FM = {"reassoc", "contract", "arcp", "nsz"}


@jit
def log_abs_bits(bits, shift, emask, bias, mmask, scale):
    """Elementwise ``log|v|`` from bit patterns (test helper for the series)."""
    out = np.empty(bits.size)
    for i in range(bits.size):
        out[i] = _log_bits(bits[i], shift, emask, bias, mmask, scale)
    return out


@jit(fastmath=_FM)
def log_power_sums_chunk(bits, lo, hi, shift, emask, bias, mmask, scale, center, out):
    """Write into ``out[:5]`` the sums of ``(log|x| - center)**p``, p = 1..4, over
    ``bits[lo:hi]`` and the count of zero/subnormal/non-finite values."""
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    sp = 0
    for i in range(lo, hi):
        sp += _is_special(bits[i], shift, emask)
        d = _log_bits(bits[i], shift, emask, bias, mmask, scale) - center
        d2 = d * d
        s1 += d
        s2 += d2
        s3 += d2 * d
        s4 += d2 * d2
    out[0] = s1
    out[1] = s2
    out[2] = s3
    out[3] = s4
    out[4] = sp


@jit(parallel=True)
def log_power_sums(bits, shift, emask, bias, mmask, scale, center, chunk):
    """:func:`log_power_sums_chunk` over fixed chunks in parallel, combined in chunk order.

    Returns an array ``(5,)``: the four power sums and the special count.
    """
    n = bits.size
    nch = (n + chunk - 1) // chunk
    part = np.zeros((nch, 5))
    for c in prange(nch):
        log_power_sums_chunk(bits, c * chunk, min(n, (c + 1) * chunk), shift, emask, bias, mmask, scale,
                             center, part[c])
    out = np.zeros(5)
    for c in range(nch):
        for j in range(5):
            out[j] += part[c, j]
    return out


_PROD_RUN = 512  # mantissas in [1, 2) multiplied before a log: product < 2**512, no overflow
_SMALL_K1 = 16  # block sizes up to this take the tiled product path
_TILE = 256  # blocks per tile of the small-K1 path (its buffers stay in L1)


@jit(inline="always")
def _block_sums_bits(x, bits, base, k1, shift, emask, bias, mmask, scale):
    """Exact per-block sums from the bit patterns of ``x[base:base+k1]``.

    Returns ``(sum of x, product of mantissas in [1, 2) of the last run, log of the
    earlier runs' products plus log 2 times the unbiased exponent sum, specials)``:
    ``sum_j log|x_j| = log(product) + offset``. Runs of 512 mantissas keep the product
    below 2**512; each finished run costs one ``math.log``.
    """
    sy = 0.0
    esum = 0
    off = 0.0
    sp = 0
    prod = 1.0
    for r0 in range(base, base + k1, _PROD_RUN):
        r1 = min(r0 + _PROD_RUN, base + k1)
        if r0 > base:  # long block: fold the previous run into the offset
            off += math.log(prod)
            prod = 1.0
        for t in range(r0, r1):
            bb = np.int64(bits[t])
            ef = (bb >> shift) & emask
            sp += np.int64((ef == 0) | (ef == emask))
            esum += ef
            prod *= 1.0 + np.float64(bb & mmask) * scale
            sy += np.float64(x[t])
    return sy, prod, off + np.float64(esum - bias * k1) * _LN2, sp


@jit(inline="always")
def _tile_sums_products(x, t0, nb, k1, checked, lo, hi, ysum, pbuf, redo):
    """For blocks ``t0 .. t0+nb-1``: ``ysum = |block sum|``, ``pbuf = product of |x_j|`` and,
    if ``checked``, ``redo`` = some ``|x_j|`` outside ``[lo, hi]`` (else False)."""
    if checked:
        for j in range(nb):
            base = (t0 + j) * k1
            sy = 0.0
            prod = 1.0
            mn = np.inf
            mx = 0.0
            for r in range(k1):
                v = np.float64(x[base + r])
                a = abs(v)
                sy += v
                prod *= a
                mn = a if a < mn else mn
                mx = a if a > mx else mx
            ysum[j] = abs(sy)
            pbuf[j] = prod
            redo[j] = (mn < lo) | (mx > hi)
    else:  # the same loop without the range
        for j in range(nb):
            base = (t0 + j) * k1
            sy = 0.0
            prod = 1.0
            for r in range(k1):
                v = np.float64(x[base + r])
                sy += v
                prod *= abs(v)
            ysum[j] = abs(sy)
            pbuf[j] = prod
            redo[j] = False


@jit(fastmath=_FM)
def block_log_diffs_chunk(x, bits, k1, b0, b1, shift, emask, bias, mmask, scale, out):
    """Mohammadi block statistics of blocks ``b0 .. b1-1`` (block i = ``x[i*k1:(i+1)*k1]``).

    For block ``i``: ``D_i = log|Y_i| - mean_{j in block i} log|x_j|`` with ``Y_i`` the
    float64 sum of the block. Writes ``(sum D, sum D**2, specials)`` into ``out[:3]``;
    specials counts zero/subnormal/non-finite values among the ``x_j`` and the ``Y_i``
    (the caller then takes the exact path).

    Blocks are processed in tiles of 256 whose buffers stay in L1: a first loop over the
    tile takes each block's sum and ``sum_j log|x_j|`` in the form ``log(P) + offset``,
    a second (vectorised) loop takes the two logs per block (``_vecmath._log_pos``; a zero,
    subnormal or non-finite ``|Y_i|`` gives a meaningless value but is counted as special).

    * ``k1 <= 16``: ``P`` is the float64 product of the ``|x_j|`` (offset 0), in a loop
      LLVM vectorises across blocks. It is exact up to rounding when every ``|x_j|`` lies
      in ``[2**-B, 2**B]``, ``B = 1020 // k1``: no partial product, in any order, leaves
      the normal range. That range is checked per block (minimum and maximum), except for
      float32 data with ``k1 <= 6``: every non-zero finite float32 magnitude lies in
      ``[2**-149, 2**128)``, so any product of at most six is a normal float64, and a
      zero or non-finite value shows in the product itself. Blocks that fail the check
      are redone as below.
    * otherwise: ``P`` is the product of the mantissas and the offset ``log 2`` times the
      unbiased exponent sum, from the bit patterns (:func:`_block_sums_bits`).
    """
    nt = _TILE
    inv_k1 = 1.0 / k1
    sd = 0.0
    sdd = 0.0
    sp = 0
    small = k1 <= _SMALL_K1
    checked = not (x.itemsize == 4 and k1 <= 6)
    ysum = np.empty(nt)
    pbuf = np.empty(nt)
    obuf = np.zeros(nt)
    redo = np.empty(nt, np.bool_)
    ybits = ysum.view(np.int64)
    pbits = pbuf.view(np.int64)
    bound = 1020 // k1
    lo = 2.0**-bound
    hi = 2.0**bound
    for t0 in range(b0, b1, nt):
        nb = min(nt, b1 - t0)
        if small:
            # the block size as a literal constant: LLVM unrolls the block and vectorises
            # across blocks (a run-time block size halves the speed)
            if k1 == 6:
                _tile_sums_products(x, t0, nb, 6, checked, lo, hi, ysum, pbuf, redo)
            elif k1 == 2:
                _tile_sums_products(x, t0, nb, 2, checked, lo, hi, ysum, pbuf, redo)
            elif k1 == 3:
                _tile_sums_products(x, t0, nb, 3, checked, lo, hi, ysum, pbuf, redo)
            elif k1 == 4:
                _tile_sums_products(x, t0, nb, 4, checked, lo, hi, ysum, pbuf, redo)
            elif k1 == 5:
                _tile_sums_products(x, t0, nb, 5, checked, lo, hi, ysum, pbuf, redo)
            elif k1 == 8:
                _tile_sums_products(x, t0, nb, 8, checked, lo, hi, ysum, pbuf, redo)
            else:
                _tile_sums_products(x, t0, nb, k1, checked, lo, hi, ysum, pbuf, redo)
        for j in range(nb):  # large blocks, and small blocks outside the product's range
            if not small or redo[j] or _is_special(pbits[j], 52, 0x7FF):
                sy, pbuf[j], obuf[j], spc = _block_sums_bits(x, bits, (t0 + j) * k1, k1, shift, emask, bias,
                                                             mmask, scale)
                ysum[j] = abs(sy)
                sp += spc
        for j in range(nb):
            sp += _is_special(ybits[j], 52, 0x7FF)
            lx = obuf[j] + _log_pos(pbuf[j])
            d = _log_pos(ysum[j]) - lx * inv_k1
            sd += d
            sdd += d * d
            obuf[j] = 0.0
    out[0] = sd
    out[1] = sdd
    out[2] = sp


@jit(parallel=True)
def block_log_diffs(x, bits, k1, k2, shift, emask, bias, mmask, scale, chunk_blocks):
    """:func:`block_log_diffs_chunk` over fixed groups of ``chunk_blocks`` blocks in
    parallel, combined in order. Returns ``(sum D, sum D**2, specials)``."""
    nch = (k2 + chunk_blocks - 1) // chunk_blocks
    part = np.zeros((nch, 3))
    for c in prange(nch):
        block_log_diffs_chunk(x, bits, k1, c * chunk_blocks, min(k2, (c + 1) * chunk_blocks), shift, emask,
                              bias, mmask, scale, part[c])
    out = np.zeros(3)
    for c in range(nch):
        for j in range(3):
            out[j] += part[c, j]
    return out


# ---------------------------------------------------------------- Hill / DBS


@jit(inline="always")
def _splitmix64(state):
    """One SplitMix64 step: returns (new state, 64 random bits) -- output 1 of the counter form."""
    return state + _GOLDEN, _splitmix64_at(state, 1)


@jit
def hill_moments(logs):
    """Hill's first and second log-moments for every k from one sorted array.

    ``logs`` is log of the data sorted in decreasing order (length n). For
    k = 1..n-1: ``M1[k-1] = mean_{i<=k} (L_i - L_{k+1})`` and ``M2[k-1] =
    mean_{i<=k} (L_i - L_{k+1})**2``.
    """
    n = logs.size
    m1 = np.empty(n - 1)
    m2 = np.empty(n - 1)
    ref = logs[0]
    s1 = 0.0
    s2 = 0.0
    for t in range(1, n):
        v = logs[t - 1] - ref
        s1 += v
        s2 += v * v
        w = logs[t] - ref
        a = s1 / t
        m1[t - 1] = a - w
        m2[t - 1] = s2 / t - 2.0 * w * a + w * w
    return m1, m2


@jit(inline="always")
def _resample_state(seed, r):
    """Start of the SplitMix64 stream of resample ``r``: independent of who runs it."""
    return np.uint64(seed) ^ (np.uint64(r) * np.uint64(0xD1B54A32D192ED03))


@jit(inline="always")
def _two_draws(state, nn):
    """Two indices uniform on ``0 .. nn-1`` (``(u32 * nn) >> 32``) from one SplitMix64 step."""
    state, z = _splitmix64(state)
    lo = np.int64(((z & np.uint64(0xFFFFFFFF)) * nn) >> np.uint64(32))
    hi = np.int64(((z >> np.uint64(32)) * nn) >> np.uint64(32))
    return state, lo, hi


@jit(inline="always")
def _count_draws(counts, seed, r, m, n, limit):
    """Resample ``r``: ``m`` draws uniform on ``0 .. n-1``; add to ``counts[i]`` how often each
    ``i < limit`` was drawn. Returns the number of draws below ``limit``."""
    nn = np.uint64(n)
    state = _resample_state(seed, r)
    got = 0
    for _ in range(m // 2):
        state, i, j = _two_draws(state, nn)
        if i < limit:
            counts[i] += 1
            got += 1
        if j < limit:
            counts[j] += 1
            got += 1
    if m % 2 == 1:
        state, i, j = _two_draws(state, nn)
        if i < limit:
            counts[i] += 1
            got += 1
    return got


_DRAW_BLOCK = 4096  # indices drawn per block by _count_draws_block (16 KB of uint32: L1)


@jit(inline="always")
def _count_draws_block(counts, buf, seed, r, m, n):
    """The counts of :func:`_count_draws` (same stream, all ``m`` draws counted), faster: the
    indices are drawn a block at a time by the counter-based form of SplitMix64 (output ``i``
    is a pure function of the state and ``i``: the loop vectorises) into ``buf`` (uint32,
    even length), then counted."""
    key = _resample_state(seed, r)
    nn = np.uint64(n)
    lo32 = np.uint64(0xFFFFFFFF)
    s32 = np.uint64(32)
    done = 0
    while done < m:
        size = min(buf.size, m - done)
        base = done // 2  # outputs drawn so far (done is even here)
        for i in range((size + 1) // 2):
            z = _splitmix64_at(key, base + i + 1)
            buf[2 * i] = np.uint32(((z & lo32) * nn) >> s32)
            buf[2 * i + 1] = np.uint32(((z >> s32) * nn) >> s32)
        for i in range(size):
            counts[buf[i]] += 1
        done += size


@jit(inline="always")
def _expand_counts(counts, w, sample):
    """Write the decreasing resample with multiplicities ``counts`` of ``w`` (decreasing) into
    ``sample``; returns the resample size. Surplus copies written ahead are overwritten by the
    next order statistic."""
    off = 0
    for j in range(w.size):
        c = np.int64(counts[j])
        x = w[j]
        sample[off] = x
        sample[off + 1] = x
        if c > 2:
            for q in range(2, c):
                sample[off + q] = x
        off += c
    return off


@jit
def _recount_wide(w, seed, r, m, buf, sample):
    """Resample ``r`` counted in int64 and expanded into ``sample`` (the rare path of
    :func:`dbs_group`; a separate function, which keeps the hot loop lean)."""
    wide = np.zeros(w.size, np.int64)
    _count_draws_block(wide, buf, seed, r, m, w.size)
    _expand_counts(wide, w, sample)


_LANES = 32  # segments of a resample whose AMSE terms are computed side by side (SIMD lanes)
_ROWS = 8  # rows per tile of the segment transpose


@jit(fastmath=_FM)
def dbs_group(w, m, r0, r1, seed, inv, acc):
    """Add ``(M2(k) - 2 M1(k)**2)**2`` of resamples ``r0 .. r1-1`` (size ``m``) into
    ``acc[k-1]``, k = 1..m-1.

    ``w`` is the log data sorted in decreasing order, minus its first value (length
    n < 2**31). Sorting a resample is replaced by counting how often each order statistic
    of ``w`` was drawn and expanding the counts in order: O(n + m) per resample. Resample
    ``r`` uses SplitMix64 seeded from ``seed`` and ``r``, two 32-bit indices per draw,
    ``idx = (u32 * n) >> 32``, drawn in vectorised blocks (:func:`_count_draws_block`).
    The counts are bytes (a quarter of the memory traffic of int32) cleared by one
    ``memset``; a count above 255 (probability below 1e-500 per index, since m <= n)
    shows as a short resample, which is then counted again in int64.

    The AMSE terms need the running sums of the sorted resample, a serial chain. The
    resample is cut into ``_LANES`` segments of ``seg = inv.shape[0]`` positions
    (``_LANES * seg >= m``); each segment starts from the sums of the segments before it
    (one vectorised pass), and after a tiled transpose the segments advance side by side,
    one SIMD lane each. ``inv[i, l] = 1/t`` and the terms are kept in the same layout, for
    position ``t = l * seg + i`` (``inv`` is 0 at t = 0); the terms of positions ``t >= m``
    (padding) are dropped.
    """
    n = w.size
    seg = inv.shape[0]
    counts = np.zeros(n, np.uint8)
    buf = np.empty(_DRAW_BLOCK, np.uint32)
    sample = np.zeros(_LANES * seg + 2)
    rows = sample[: _LANES * seg].reshape((_LANES, seg))
    lanes = np.empty((seg, _LANES))
    terms = np.zeros((seg, _LANES))
    s1 = np.empty(_LANES)
    s2 = np.empty(_LANES)
    for r in range(r0, r1):
        _count_draws_block(counts, buf, seed, r, m, n)
        got = _expand_counts(counts, w, sample)
        counts[:] = 0
        if got != m:
            _recount_wide(w, seed, r, m, buf, sample)
        c1 = 0.0
        c2 = 0.0
        for lane in range(_LANES):  # each segment starts from the sums before it
            v = sample[lane * seg : (lane + 1) * seg]
            a1 = 0.0
            a2 = 0.0
            for i in range(seg):
                x = v[i]
                a1 += x
                a2 += x * x
            s1[lane] = c1
            s2[lane] = c2
            c1 += a1
            c2 += a2
        for b in range(seg // _ROWS):  # transpose: segment lane becomes lane lane
            for lane in range(_LANES):
                for i in range(_ROWS):
                    lanes[b * _ROWS + i, lane] = rows[lane, b * _ROWS + i]
        for i in range(seg - seg % _ROWS, seg):
            for lane in range(_LANES):
                lanes[i, lane] = rows[lane, i]
        for i in range(seg):
            for lane in range(_LANES):
                x = lanes[i, lane]
                it = inv[i, lane]
                a = s1[lane] * it
                d1 = a - x
                d2 = s2[lane] * it - 2.0 * x * a + x * x
                q = d2 - 2.0 * d1 * d1
                terms[i, lane] += q * q
                s1[lane] += x
                s2[lane] += x * x
    for lane in range(_LANES):
        for i in range(seg):
            t = lane * seg + i
            if 1 <= t < m:
                acc[t - 1] += terms[i, lane]


@jit(parallel=True)
def dbs_amse_parallel(w, m, n_resamples, seed, n_groups, inv, acc):
    """Run :func:`dbs_group` for ``n_groups`` fixed groups of resamples in parallel."""
    per = (n_resamples + n_groups - 1) // n_groups
    for g in prange(n_groups):
        dbs_group(w, m, g * per, min(n_resamples, (g + 1) * per), seed, inv, acc[g])


def dbs_amse(logs, m, n_resamples, seed, n_groups, parallel=True):
    """Bootstrap mean of ``(M2(k) - 2 M1(k)**2)**2`` for k = 1..m-1 (see :func:`dbs_group`).

    Resamples are summed within ``n_groups`` fixed groups and the groups in order, so
    the result is the same serial or parallel and for any thread count.
    """
    w = logs - logs[0]
    seg = -(-m // _LANES)
    t = np.arange(seg)[:, None] + seg * np.arange(_LANES)[None, :]  # position of inv[i, l]
    inv = np.divide(1.0, t, out=np.zeros(t.shape), where=t > 0)
    acc = np.zeros((n_groups, m - 1))
    if parallel:
        dbs_amse_parallel(w, m, n_resamples, seed, n_groups, inv, acc)
    else:
        per = (n_resamples + n_groups - 1) // n_groups
        for g in range(n_groups):
            dbs_group(w, m, g * per, min(n_resamples, (g + 1) * per), seed, inv, acc[g])
    out = np.zeros(m - 1)
    for g in range(n_groups):  # fixed order
        out += acc[g]
    return out / n_resamples


# ---------------------------------------------------------------- bootstrap standard errors
# Every kernel runs resample r from its own counter-based stream (_resample_state), one
# resample per prange iteration, summing in draw order: the output depends only on the
# seed, never on the number of threads.


@jit(parallel=True)
def boot_moments(d, seed, n_boot, center, out):
    """For each resample ``r`` of ``d`` (``d.size`` draws with replacement): ``out[r, 0]`` =
    mean and ``out[r, 1]`` = mean of squares of ``d - center``."""
    m = d.size
    nn = np.uint64(m)
    for r in prange(n_boot):
        state = _resample_state(seed, r)
        s1 = 0.0
        s2 = 0.0
        for _ in range(m // 2):
            state, i, j = _two_draws(state, nn)
            a = d[i] - center
            b = d[j] - center
            s1 += a + b
            s2 += a * a + b * b
        if m % 2 == 1:
            state, i, j = _two_draws(state, nn)
            a = d[i] - center
            s1 += a
            s2 += a * a
        out[r, 0] = s1 / m + center
        out[r, 1] = s2 / m


@jit(parallel=True)
def boot_upper(logs, k, rank, seed, n_boot, out):
    """Upper order statistics of each resample (``n`` draws with replacement) of the data whose
    logs, sorted in decreasing order, are ``logs``: ``out[r, 0]`` = sum of the resample's ``k``
    largest logs, ``out[r, 1]`` = sum of their squares, ``out[r, 2]`` = its ``rank``-th largest
    log (``rank >= k``).

    The ``rank`` largest values of a resample are its ``rank`` smallest drawn indices, so only
    draws below a limit (``rank + 10 sqrt(rank) + 100``; about that many draws are expected
    below it, and fewer than ``rank`` has probability below 1e-20) are counted; if they are too
    few the same draws are counted again without a limit.
    """
    n = logs.size
    limit0 = min(n, rank + int(10.0 * math.sqrt(rank)) + 100)
    for r in prange(n_boot):
        limit = limit0
        counts = np.zeros(limit, np.int64)
        if _count_draws(counts, seed, r, n, n, limit) < rank:
            limit = n
            counts = np.zeros(n, np.int64)
            _count_draws(counts, seed, r, n, n, limit)
        # walk the drawn values in decreasing order
        s1 = 0.0
        s2 = 0.0
        t = 0  # order statistics passed
        j = 0
        while True:
            c = counts[j]
            v = logs[j]
            take = min(c, max(k - t, 0))
            s1 += take * v
            s2 += take * v * v
            if t + c >= rank:  # this value holds the rank-th largest
                out[r, 2] = v
                break
            t += c
            j += 1
        out[r, 0] = s1
        out[r, 1] = s2


@jit(inline="always")
def _kth_resampled(sorted_vals, blocks, counts, k):
    """The ``k``-th smallest of a block resample: ``sorted_vals`` ascending, ``blocks[t]``
    the block of ``sorted_vals[t]``, ``counts[b]`` how often block ``b`` was drawn."""
    cum = 0
    t = 0
    while True:
        cum += counts[blocks[t]]
        if cum >= k:
            return sorted_vals[t]
        t += 1


@jit(parallel=True)
def boot_block_quantiles(u_sorted, u_block, v_sorted, v_block, k2, ku, kv, seed, n_boot, out):
    """Block bootstrap of two order statistics: each resample draws ``k2`` blocks with
    replacement; ``out[r, 0]`` is the ``ku``-th smallest of the resampled ``u`` (one value
    per block; ``u_sorted`` ascending, ``u_block`` its blocks) and ``out[r, 1]`` the
    ``kv``-th smallest of the resampled ``v`` (``v_block[t]`` is the block of
    ``v_sorted[t]``)."""
    for r in prange(n_boot):
        counts = np.zeros(k2, np.int64)
        _count_draws(counts, seed, r, k2, k2, k2)
        out[r, 0] = _kth_resampled(u_sorted, u_block, counts, ku)
        out[r, 1] = _kth_resampled(v_sorted, v_block, counts, kv)
