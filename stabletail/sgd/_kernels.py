"""Numba kernels of the CPU harvest (private).

They work in place on zero-copy numpy views of CPU tensors (the rows of
minibatch gradients and the float64 accumulators of
:mod:`stabletail.sgd._torchstats`), so the statistics of a chunk of rows take
one sweep over it instead of the dozen or so memory passes of the torch
formulation. Both kernels walk the rows in column tiles (``tile`` columns of
every row of the chunk, tiles never straddling a parameter tensor), so the
per-coordinate accumulators of a tile stay in the L1/L2 cache while all rows
go by. Rows go through the per-coordinate accumulators in pairs, which halves
their load/store traffic.

``log(|e| + eps)`` is taken from the bit pattern of ``|e| + eps`` with
:func:`stabletail._vecmath._log_bits` (a loop that vectorises, unlike one that
calls ``math.log``); values that are zero, subnormal or non-finite are counted
per tile row and redone with ``math.log``. For float32 rows a shorter series
(:func:`_log_short`, error below 1e-9) is enough.

The tiles are fixed by the layout (:func:`_tiles`), never by the number of
threads: with ``parallel`` numba's threads share them (``prange``), each tile
writing only its own columns; what crosses tiles (row norms, the block sums that
begin or end in a tile's row) is kept per tile and added in tile order
afterwards. The serial and parallel drivers run the same tile function, so the
results are the same bits on any number of threads.

Pooled block sums (Mohammadi's ``Y``) are accumulated into one float64 array
per stream, indexed by the block's global number, so a block that straddles
tiles, chunks, rows or ranks simply receives several partial sums. A stream is
one (variant, scope) pair: variant 0 takes every column, variant 1 only the
columns with non-zero noise (``nonzero_before`` counts them, ``nonzero_cols`` lists them); scope
is a parameter tensor or the whole model. Zero-noise columns hold an exact 0
in the noise, so a segment of original columns between two block boundaries of
variant 1 has the same sum as the compacted segment. Each row tile is walked
once, segment by segment between consecutive block boundaries of any stream.

:func:`order_stats` selects order statistics of positive values (the coordinate
alphas) in linear time, for the per-coordinate medians and quantiles.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, jit_variants, prange
from .._vecmath import _LN2, _SQRT2, LAYOUT64, _f64_as_i64, _is_special, _log, _log_bits

_FM = {"reassoc", "contract", "nsz"}
_S64, _E64, _B64, _M64, _C64 = LAYOUT64


@jit
def _tiles(offsets, tile):
    """``(n_tiles, 3)``: first column, end column and parameter tensor of every column tile.

    The tiles are fixed by the layout alone (``tile`` columns, never straddling a
    parameter tensor), whatever the number of threads.
    """
    n = 0
    for li in range(offsets.size - 1):
        n += (offsets[li + 1] - offsets[li] + tile - 1) // tile
    out = np.empty((n, 3), dtype=np.int64)
    n = 0
    for li in range(offsets.size - 1):
        for t0 in range(offsets[li], offsets[li + 1], tile):
            out[n, 0] = t0
            out[n, 1] = min(t0 + tile, offsets[li + 1])
            out[n, 2] = li
            n += 1
    return out


@jit(fastmath=_FM)
def _prepass_tile(g, t0, t1, first, s1, s2, spread, sq_t):
    """:func:`prepass` on the columns ``[t0, t1)``; ``sq_t[i]`` gets the tile's part of row ``i``'s norm."""
    r = g.shape[0]
    track = spread.size > 0
    w = t1 - t0
    # loops over views from index 0 vectorise (no wrap-around of negative indices)
    f, a1, a2 = first[t0:t1], s1[t0:t1], s2[t0:t1]
    sp = spread[t0:t1] if track else spread
    for i in range(0, r, 2):  # rows in pairs: half the traffic of the accumulators
        row0 = g[i, t0:t1]
        row1 = g[i + 1, t0:t1] if i + 1 < r else row0
        h = 1.0 if i + 1 < r else 0.0  # weight of the second row (0: there is none)
        acc0 = 0.0
        acc1 = 0.0
        for j in range(w):
            x0 = np.float64(row0[j])
            x1 = np.float64(row1[j])
            acc0 += x0 * x0
            acc1 += x1 * x1
            d0 = x0 - f[j]
            d1 = (x1 - f[j]) * h
            a1[j] += d0 + d1
            a2[j] += d0 * d0 + d1 * d1
            if track:  # loop-invariant: the compiler unswitches it
                sp[j] = max(sp[j], max(abs(d0), abs(d1)))
        sq_t[i] = acc0
        if i + 1 < r:
            sq_t[i + 1] = acc1


def _prepass_tiles(g, first, s1, s2, spread, tiles, part):
    for ti in prange(tiles.shape[0]):
        _prepass_tile(g, tiles[ti, 0], tiles[ti, 1], first, s1, s2, spread, part[ti])


_prepass_ser, _prepass_par = jit_variants(_prepass_tiles, nested=True)  # prepass holds the lock


@jit
def prepass(g, k0, first, s1, s2, spread, sq, offsets, tile, parallel):
    """Raw-gradient statistics of rows ``k0 .. k0 + len(g)``.

    Per coordinate ``j`` (float64): ``s1 += g - first``, ``s2 += (g - first)**2``,
    and, unless ``spread`` is empty, ``spread = max(spread, |g - first|)``; per
    row and parameter tensor ``l``: ``sq[k, l] += sum g**2``. With ``parallel``
    the column tiles are shared among numba's threads; the tiles' parts of the
    row norms are added in tile order afterwards, so the result is the same bits
    either way.
    """
    tiles = _tiles(offsets, tile)
    part = np.empty((tiles.shape[0], g.shape[0]))
    if parallel:
        _prepass_par(g, first, s1, s2, spread, tiles, part)
    else:
        _prepass_ser(g, first, s1, s2, spread, tiles, part)
    for ti in range(tiles.shape[0]):
        li = tiles[ti, 2]
        for i in range(g.shape[0]):
            sq[k0 + i, li] += part[ti, i]


@jit(inline="always")
def _log_short(b):
    """``log v`` for a normal, finite, positive float64 ``v`` with bits ``b``, to 1e-9.

    As :func:`stabletail._vecmath._log_bits` with the series for ``log f``
    (``|s| <= 0.172``) cut after ``s**9``: the truncation error is below
    ``2 * 0.172**11 / 11 < 1e-9``, which is finer than the rounding of a
    float32 value (the rows it is used for).
    """
    e = np.float64(((b >> _S64) & _E64) - _B64)
    f = 1.0 + np.float64(b & _M64) * _C64
    big = f > _SQRT2
    f = 0.5 * f if big else f
    e = e + 1.0 if big else e
    s = (f - 1.0) / (f + 1.0)
    z = s * s
    p = (((z * (1.0 / 9.0) + 1.0 / 7.0) * z + 1.0 / 5.0) * z + 1.0 / 3.0) * z + 1.0
    return e * _LN2 + 2.0 * s * p


@jit(inline="always")
def _log_of(b, short):
    """``log v`` from the bits ``b`` of a normal positive float64 ``v``."""
    return _log_short(b) if short else _log_bits(b, _S64, _E64, _B64, _M64, _C64)


@jit(inline="always")
def _block_end(v, blk, base, bsz, a_s, t1, nonzero_before, nonzero_cols):
    """First column (before ``t1``) of block ``blk + 1`` of a stream whose row starts at
    position ``base``; ``t1`` when that block starts at or after ``t1``.

    Variant 0 takes the columns from ``a_s`` on; variant 1 only the non-zero-noise ones
    (``nonzero_before[j]``: how many precede column ``j``; ``nonzero_cols``: their list).
    """
    cend = (blk + 1) * bsz - base
    if v == 0:
        return min(a_s + cend, t1)
    if cend >= nonzero_before[t1] - nonzero_before[a_s]:
        return t1
    return nonzero_cols[nonzero_before[a_s] + cend]


@jit(inline="always")
def _fix_logs(row, er, log_sum_t, log_sq_sum_t, used_log_sum_t, sep, w, short):
    """Redo exactly the logs of zero or subnormal ``|e| + eps`` (``eps = 0``) of one row."""
    for j in range(w):
        v = np.float64(abs(row[j]) + er)
        b = _f64_as_i64(v)
        if _is_special(b, _S64, _E64):
            good = math.log(v)
            bad = _log_of(b, short)
            log_sum_t[j] += good - bad
            log_sq_sum_t[j] += good * good - bad * bad
            if sep:
                used_log_sum_t[j] += good - bad


@jit(fastmath=_FM)
def _main_tile(ti, g, k0, t0, t1, li, nl, noise, coord, row_blocks, directions, streams, gather, rsq_t, bsq_t,
               heads, tails):
    """:func:`mainpass` on the columns ``[t0, t1)`` of parameter tensor ``li`` (tile ``ti``).

    Writes only the tile's columns of the per-coordinate sums and the block sums
    that lie wholly inside one of its rows (no other tile touches those). Its parts
    of the row norms go to ``rsq_t[i]``, of the row-block norms to ``bsq_t[i]`` (``i``:
    the row closing the block), and of the first and last block of every stream
    through each row to ``heads`` and ``tails`` (each ``(block, raw, std)`` indexed
    ``[ti, i, slot]``: the block's index into the stream sums or -1, then its partial sums),
    for :func:`mainpass` to add in tile order. The records are those of :func:`mainpass`.
    """
    g_full, inv_sd, er, eps, short = noise
    log_sum, log_sq_sum, used_log_sum, separate_used, _, with_moments, power_sums = coord
    k1, rows_used, block_vec, block_log_sum, _ = row_blocks
    with_directions, inv_norms, unit_sums, unit_sum_model = directions
    gather_cols, gathered = gather
    gp0 = np.searchsorted(gather_cols, t0)  # the gathered columns in this tile
    gp1 = np.searchsorted(gather_cols, t1)
    n_variants, first_col, length, block_size, first_sum = streams[:5]
    nonzero_before, nonzero_cols, raw_sums, std_sums = streams[5:]
    head_block, head_raw, head_std = heads
    tail_block, tail_raw, tail_std = tails
    r = g.shape[0]
    ns = nl + 1
    w = t1 - t0
    st_sid = np.empty(2 * n_variants, dtype=np.int64)  # streams through the tile: id, block, its end
    st_blk = np.empty(2 * n_variants, dtype=np.int64)
    st_next = np.empty(2 * n_variants, dtype=np.int64)
    st_first = np.empty(2 * n_variants, dtype=np.int64)  # the row's first block of the stream
    cur_p = np.empty(2 * n_variants)  # sums of the block being walked
    cur_s = np.empty(2 * n_variants)
    # loops over views from index 0 vectorise (no wrap-around of negative indices)
    g_full_t, isd_t = g_full[t0:t1], inv_sd[t0:t1]
    log_sum_t, log_sq_sum_t, used_log_sum_t = log_sum[t0:t1], log_sq_sum[t0:t1], used_log_sum[t0:t1]
    p1_t, p2_t = power_sums[0, t0:t1], power_sums[1, t0:t1]  # empty without moments
    p3_t, p4_t = power_sums[2, t0:t1], power_sums[3, t0:t1]
    block_vec_t, block_log_sum_t = block_vec[t0:t1], block_log_sum[t0:t1]  # empty without row blocks
    unit_sums_t, unit_sum_model_t = unit_sums[t0:t1], unit_sum_model[t0:t1]  # empty without directions
    if with_directions:  # sums over the rows in the rows' dtype, as a matrix-vector product would be
        ul = np.zeros_like(g[0, t0:t1])
        ml = np.zeros_like(g[0, t0:t1])
    for i in range(0, r, 2):
        two = i + 1 < r
        k = k0 + i
        row0 = g[i, t0:t1]
        row1 = g[i + 1, t0:t1] if two else row0
        if with_directions:
            wl0, wm0 = inv_norms[k, li], inv_norms[k, nl]
            wl1, wm1 = (inv_norms[k + 1, li], inv_norms[k + 1, nl]) if two else (wl0 - wl0, wm0 - wm0)
            for j in range(w):
                x0 = row0[j]
                x1 = row1[j]
                ul[j] += wl0 * x0 + wl1 * x1
                ml[j] += wm0 * x0 + wm1 * x1
        acc0 = 0.0
        acc1 = 0.0
        nsp = 0
        if two:
            for j in range(w):
                c = g_full_t[j]
                e0 = row0[j] - c
                e1 = row1[j] - c
                row0[j] = e0
                row1[j] = e1
                f0 = np.float64(e0)
                f1 = np.float64(e1)
                acc0 += f0 * f0
                acc1 += f1 * f1
                b0 = _f64_as_i64(np.float64(abs(e0) + er))
                b1 = _f64_as_i64(np.float64(abs(e1) + er))
                nsp += _is_special(b0, _S64, _E64) + _is_special(b1, _S64, _E64)
                l0 = _log_of(b0, short)
                l1 = _log_of(b1, short)
                log_sum_t[j] += l0 + l1
                log_sq_sum_t[j] += l0 * l0 + l1 * l1
        else:
            for j in range(w):
                e0 = row0[j] - g_full_t[j]
                row0[j] = e0
                f0 = np.float64(e0)
                acc0 += f0 * f0
                b0 = _f64_as_i64(np.float64(abs(e0) + er))
                nsp += _is_special(b0, _S64, _E64)
                l0 = _log_of(b0, short)
                log_sum_t[j] += l0
                log_sq_sum_t[j] += l0 * l0
        rsq_t[i] = acc0
        if two:
            rsq_t[i + 1] = acc1
        if with_moments:  # sums of the noise's powers (Jarque-Bera), the two rows at once
            if two:
                for j in range(w):
                    f0 = np.float64(row0[j])
                    f1 = np.float64(row1[j])
                    q0 = f0 * f0
                    q1 = f1 * f1
                    p1_t[j] += f0 + f1
                    p2_t[j] += q0 + q1
                    p3_t[j] += q0 * f0 + q1 * f1
                    p4_t[j] += q0 * q0 + q1 * q1
            else:
                for j in range(w):
                    f0 = np.float64(row0[j])
                    q0 = f0 * f0
                    p1_t[j] += f0
                    p2_t[j] += q0
                    p3_t[j] += q0 * f0
                    p4_t[j] += q0 * q0
        for q in range(2 if two else 1):  # gather the chosen columns' noise while the tile is in cache
            row = row1 if q else row0
            for gp in range(gp0, gp1):
                gathered[k + q, gp] = row[gather_cols[gp] - t0]
        for q in range(2 if two else 1):
            iq = i + q
            kq = k + q
            row = row1 if q else row0
            in_rows = k1 >= 2 and kq < rows_used
            if in_rows and separate_used:
                for j in range(w):
                    used_log_sum_t[j] += _log_of(_f64_as_i64(np.float64(abs(row[j]) + er)), short)
            if nsp:  # zero (eps = 0) or subnormal |e| + eps: redo those logs exactly
                _fix_logs(row, er, log_sum_t, log_sq_sum_t, used_log_sum_t, in_rows and separate_used, w,
                          short)
            # the blocks of every stream through this row's tile: one walk over the segments
            # between consecutive block boundaries of any stream (the row-block sums ride along)
            head_block[ti, iq] = -1  # no first or last block (yet)
            tail_block[ti, iq] = -1
            m = 0
            for v in range(n_variants):
                for sc in (li, nl):
                    sid = v * ns + sc
                    n_s = length[sid]
                    bsz = block_size[sid]
                    if bsz < 2 or n_s == 0:
                        continue
                    a_s = first_col[sid]
                    c = (t0 - a_s) if v == 0 else (nonzero_before[t0] - nonzero_before[a_s])
                    if c >= n_s:  # only zero-noise columns left: they add nothing
                        continue
                    st_sid[m] = sid
                    st_blk[m] = (kq * n_s + c) // bsz
                    st_first[m] = st_blk[m]
                    st_next[m] = _block_end(v, st_blk[m], kq * n_s, bsz, a_s, t1, nonzero_before,
                                            nonzero_cols)
                    cur_p[m] = 0.0
                    cur_s[m] = 0.0
                    m += 1
            j = t0
            while j < t1:
                jend = t1
                for q2 in range(m):
                    jend = min(jend, st_next[q2])
                seg = row[j - t0 : jend - t0]
                wseg = isd_t[j - t0 : jend - t0]
                sp = 0.0
                sw = 0.0
                if in_rows:
                    bseg = block_vec_t[j - t0 : jend - t0]
                    for jj in range(seg.size):
                        ef = np.float64(seg[jj])
                        sp += ef
                        sw += ef * wseg[jj]
                        bseg[jj] += ef
                elif m:
                    for jj in range(seg.size):
                        ef = np.float64(seg[jj])
                        sp += ef
                        sw += ef * wseg[jj]
                for q2 in range(m):
                    cur_p[q2] += sp
                    cur_s[q2] += sw
                    if st_next[q2] == jend and jend < t1:  # the block ends here, the next starts
                        sid = st_sid[q2]
                        y = first_sum[sid] + st_blk[q2]
                        if st_blk[q2] == st_first[q2]:  # it may have begun in another tile or row
                            head_block[ti, iq, q2] = y
                            head_raw[ti, iq, q2] = cur_p[q2]
                            head_std[ti, iq, q2] = cur_s[q2]
                        else:  # wholly inside this tile's row: no other tile adds to it
                            raw_sums[y] += cur_p[q2]
                            std_sums[y] += cur_s[q2]
                        cur_p[q2] = 0.0
                        cur_s[q2] = 0.0
                        v = sid // ns
                        st_blk[q2] += 1
                        st_next[q2] = _block_end(v, st_blk[q2], kq * length[sid], block_size[sid],
                                                 first_col[sid], t1, nonzero_before, nonzero_cols)
                j = jend
            for q2 in range(m):  # the open block: it may go on in another tile or row
                y = first_sum[st_sid[q2]] + st_blk[q2]
                if st_blk[q2] == st_first[q2]:
                    head_block[ti, iq, q2] = y
                    head_raw[ti, iq, q2] = cur_p[q2]
                    head_std[ti, iq, q2] = cur_s[q2]
                else:
                    tail_block[ti, iq, q2] = y
                    tail_raw[ti, iq, q2] = cur_p[q2]
                    tail_std[ti, iq, q2] = cur_s[q2]
            if in_rows and (kq + 1) % k1 == 0:
                acc = 0.0
                for j in range(w):
                    block_log_sum_t[j] += _log(abs(block_vec_t[j]) + eps)
                    acc += block_vec_t[j] * block_vec_t[j]
                    block_vec_t[j] = 0.0
                bsq_t[iq] = acc
    if with_directions:
        for j in range(w):
            unit_sums_t[j] += ul[j]
            unit_sum_model_t[j] += ml[j]


def _main_tiles(g, k0, tiles, nl, noise, coord, row_blocks, directions, streams, gather, part_rsq, part_bsq,
                heads, tails):
    for ti in prange(tiles.shape[0]):
        _main_tile(ti, g, k0, tiles[ti, 0], tiles[ti, 1], tiles[ti, 2], nl, noise, coord, row_blocks,
                   directions, streams, gather, part_rsq[ti], part_bsq[ti], heads, tails)


_main_ser, _main_par = jit_variants(_main_tiles, nested=True)  # mainpass holds the lock


@jit
def mainpass(g, k0, noise, layout, coord, row_blocks, directions, streams, gather, parallel):
    """Noise statistics of rows ``k0 .. k0 + len(g)``; ``g`` is overwritten with the noise.

    The accumulators come as records (tuples), one per group:

    - ``noise = (g_full, inv_sd, eps_row, eps, short)``: the noise is ``e = g - g_full`` and
      ``|e| + eps_row[0]`` in the rows' dtype; ``short`` picks :func:`_log_short` for its
      log (float32 rows);
    - ``layout = (offsets, tile)``: the layer boundaries and the tile width;
    - ``coord = (log_sum, log_sq_sum, used_log_sum, separate_used, row_sq_norms, moments,
      power_sums)``: per coordinate (float64) ``log_sum += log(|e| + eps)``, ``log_sq_sum +=
      log(...)**2`` (``used_log_sum`` the same over the first ``rows_used`` rows when
      ``separate_used``); ``row_sq_norms[k, l] += sum e**2``; when ``moments``,
      ``power_sums[p - 1] += e**p`` for ``p = 1..4`` (``e`` in float64);
    - ``row_blocks = (k1, rows_used, block_vec, block_log_sum, block_sq_norms)``: row blocks of
      ``k1`` rows: ``block_vec`` collects the sums, and when a block closes,
      ``block_log_sum += log(|block_vec| + eps)`` and ``block_sq_norms[block, l] +=
      sum block_vec**2`` (``k1 < 2``: none);
    - ``directions = (on, inv_norms, unit_sums, unit_sum_model)``: ``unit_sums +=
      inv_norms[k, l] g`` and ``unit_sum_model += inv_norms[k, -1] g`` (raw gradients; summed
      over the rows of a call in the rows' dtype, then added);
    - ``streams = (n_variants, first_col, length, block, first_sum, nonzero_before,
      nonzero_cols, raw_sums, std_sums)``: the block sums of every stream (a variant and a
      scope; its first column, entries per row, block size and the index of its first block
      sum) of the ``n_variants`` variants, ``raw_sums`` of ``e`` and ``std_sums`` of
      ``e * inv_sd``; ``nonzero_before[j]`` counts the non-zero-noise columns before ``j``,
      ``nonzero_cols`` lists them;
    - ``gather = (cols, gathered)``: ``gathered[k, p] = e[k, cols[p]]`` (``cols`` sorted; the
      noise of the coordinates of the order-statistic Gaussianity tests).

    Rows go in pairs through the per-coordinate sums, which halves the traffic of the
    accumulators. The column tiles (:func:`_tiles`) are independent; with ``parallel``
    numba's threads share them. What crosses tiles -- the row norms, the row-block norms and
    the block sums that begin or end in a tile's row -- is kept per tile and added here in
    tile order, so the result is the same bits with any number of threads.
    """
    g_full, inv_sd, eps_row, eps, short = noise
    offsets, tile = layout
    row_sq_norms = coord[4]
    k1, rows_used, _, _, block_sq_norms = row_blocks
    n_variants = streams[0]
    raw_sums, std_sums = streams[7], streams[8]
    r = g.shape[0]
    tiles = _tiles(offsets, tile)
    nt = tiles.shape[0]
    nslot = 2 * n_variants
    part_rsq = np.empty((nt, r))
    part_bsq = np.zeros((nt, r))
    head_block = np.empty((nt, r, nslot), dtype=np.int64)
    tail_block = np.empty((nt, r, nslot), dtype=np.int64)
    head_raw, head_std = np.empty((nt, r, nslot)), np.empty((nt, r, nslot))
    tail_raw, tail_std = np.empty((nt, r, nslot)), np.empty((nt, r, nslot))
    heads = (head_block, head_raw, head_std)
    tails = (tail_block, tail_raw, tail_std)
    nl = offsets.size - 1
    tile_noise = (g_full, inv_sd, eps_row[0], eps, short)
    if parallel:
        _main_par(g, k0, tiles, nl, tile_noise, coord, row_blocks, directions, streams, gather, part_rsq,
                  part_bsq, heads, tails)
    else:
        _main_ser(g, k0, tiles, nl, tile_noise, coord, row_blocks, directions, streams, gather, part_rsq,
                  part_bsq, heads, tails)
    for ti in range(nt):
        li = tiles[ti, 2]
        for i in range(r):
            kq = k0 + i
            row_sq_norms[kq, li] += part_rsq[ti, i]
            if k1 >= 2 and kq < rows_used and (kq + 1) % k1 == 0:
                block_sq_norms[kq // k1, li] += part_bsq[ti, i]
            for q2 in range(nslot):
                y = head_block[ti, i, q2]
                if y >= 0:
                    raw_sums[y] += head_raw[ti, i, q2]
                    std_sums[y] += head_std[ti, i, q2]
                y = tail_block[ti, i, q2]
                if y >= 0:
                    raw_sums[y] += tail_raw[ti, i, q2]
                    std_sums[y] += tail_std[ti, i, q2]


_INF_BITS = 0x7FF0000000000000  # bits of +inf; positive floats order like their bit patterns


@jit
def order_stats(bits, ranks, out):
    """``out[i]`` = the ``ranks[i]``-th smallest (0-based) of the float64 values with bits ``bits``.

    The values must be positive or ``+inf`` (no NaN). Two passes: a histogram of the
    values' leading bits (at most 65,536 bins, each a fraction of a binade), then the
    values of the few bins holding a wanted rank are gathered and sorted. Ranks at or
    past the number of finite values give ``inf``. Returns False (nothing written)
    when some value is not positive, so the caller can fall back to a partition.
    """
    n = bits.size
    lo = _INF_BITS
    hi = 0
    n_fin = 0
    for i in range(n):
        b = bits[i]
        if b <= 0:
            return False
        if b < _INF_BITS:
            n_fin += 1
            lo = min(lo, b)
            hi = max(hi, b)
    for q in range(ranks.size):
        out[q] = np.inf
    if n_fin == 0:
        return True
    shift = 40
    while (hi >> shift) - (lo >> shift) >= 65536:
        shift += 1
    base = lo >> shift
    nb = (hi >> shift) - base + 1
    start = np.zeros(nb + 1, dtype=np.int64)
    for i in range(n):
        b = bits[i]
        if b < _INF_BITS:
            start[(b >> shift) - base + 1] += 1
    for j in range(nb):
        start[j + 1] += start[j]
    wanted = np.zeros(nb, dtype=np.bool_)
    bin_of = np.empty(ranks.size, dtype=np.int64)
    for q in range(ranks.size):
        r = ranks[q]
        if r < n_fin:
            j = np.searchsorted(start, r, side="right") - 1
            bin_of[q] = j
            wanted[j] = True
        else:
            bin_of[q] = -1
    fill = start.copy()
    buf = np.empty(n_fin, dtype=np.int64)
    for i in range(n):
        b = bits[i]
        if b < _INF_BITS:
            j = (b >> shift) - base
            if wanted[j]:
                buf[fill[j]] = b
                fill[j] += 1
    for j in range(nb):
        if wanted[j]:
            buf[start[j] : start[j + 1]] = np.sort(buf[start[j] : start[j + 1]])
    vals = buf.view(np.float64)
    for q in range(ranks.size):
        if bin_of[q] >= 0:
            out[q] = vals[ranks[q]]
    return True
