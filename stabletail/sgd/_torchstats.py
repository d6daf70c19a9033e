"""Device-side streaming statistics of gradient noise (private).

Everything here runs in torch on the model's device: the harvester feeds chunks
of minibatch-gradient rows (``r x d``) and only small results (scalars, a few
d-vectors at the very end) ever reach the host. Reductions accumulate in
float64 whatever the gradient dtype.

Two accumulators:

- :class:`PrePass` -- the statistics that need no full gradient: sums of the
  gradients shifted by the first row (mean and variance per coordinate), the
  running max and min of ``g_k - g_1`` per coordinate (both zero exactly when
  the gradient is identical in every minibatch: zero noise), per-layer row norms.
- :class:`MainPass` -- everything that needs the noise ``e_k = g_k - g_full``:
  block sums over the minibatch-major flattening (with a carry across chunks),
  per-coordinate sums of ``log(|e| + eps)`` and its square, row-block sums,
  row norms, sums of unit gradients, and a gathered coordinate subset.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

F64 = torch.float64


def log_abs_into(x: torch.Tensor, out: torch.Tensor, eps: float) -> torch.Tensor:
    """``out = log(|x| + eps)`` elementwise (``out`` may be ``x``).

    On the CPU numpy's vectorised float32/float64 ``log`` is used on the same
    memory (no copy): it is about twice as fast as torch's here.
    """
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        a = out.numpy()
        np.abs(x.numpy(), out=a)
        if eps:
            np.add(a, eps, out=a)
        np.log(a, out=a)
        return out
    return torch.abs(x, out=out).add_(eps).log_()


def divisor_block(n: int) -> int:
    """Largest divisor of ``n`` that is ``<= sqrt(n)`` (Simsekli et al.'s block size)."""
    if n < 1:
        return 0
    cand = np.arange(1, math.isqrt(n) + 1, dtype=np.int64)
    return int(cand[n % cand == 0][-1])


def row_blocks(k: int) -> tuple[int, int]:
    """Block size and block count for a Mohammadi estimate on ``k`` rows.

    The largest divisor of ``k`` not above ``sqrt(k)``; when that is 1 (``k``
    prime) ``floor(sqrt(k))`` is used and the trailing ``k - k1 * k2`` rows are
    left out. Returns ``(k1, k2)``; ``k1 < 2`` means no estimate is possible.
    """
    k1 = divisor_block(k)
    if k1 < 2:
        k1 = math.isqrt(k)
    if k1 < 2:
        return k1, 0
    return k1, k // k1


class FlatBlocks:
    """Streaming Mohammadi block sums over a 1-D sequence fed in pieces.

    Blocks are ``block`` consecutive entries of the concatenation of every
    piece passed to :meth:`update` (so a block may straddle pieces: the partial
    block is carried). Accumulates ``sum log(|Y| + eps)``, its square and the
    number of blocks, as float64 tensors on the device.
    """

    def __init__(self, block: int, eps: float, device: torch.device) -> None:
        self.block = block
        self.eps = eps
        self.sums = torch.zeros(2, dtype=F64, device=device)
        self.n = 0
        self._carry: torch.Tensor | None = None
        self._carry_n = 0

    def _add(self, y: torch.Tensor) -> None:
        ly = log_abs_into(y, torch.empty_like(y), self.eps)
        self.sums += torch.stack((ly.sum(dtype=F64), ly.square().sum(dtype=F64)))
        self.n += y.numel()

    def update(self, flat: torch.Tensor) -> None:
        b = self.block
        if b < 2:
            return
        length = flat.numel()
        start = 0
        if self._carry_n:
            take = min(b - self._carry_n, length)
            self._carry = self._carry + flat[:take].sum(dtype=F64)
            self._carry_n += take
            start = take
            if self._carry_n == b:
                self._add(self._carry.reshape(1))
                self._carry, self._carry_n = None, 0
        m = (length - start) // b
        if m:  # sums within a block in the rows' dtype, logs accumulated in float64
            self._add(flat[start : start + m * b].view(m, b).sum(1))
        rest = start + m * b
        if rest < length:
            self._carry = flat[rest:].sum(dtype=F64)
            self._carry_n = length - rest


def _blocks_of_columns(stream: FlatBlocks, mat: torch.Tensor, a: int, b: int, scratch: torch.Tensor) -> None:
    """Feed the minibatch-major flattening of columns ``[a, b)`` of ``mat`` to ``stream``.

    When the blocks start at the first of these rows and tile each row (no carry,
    ``K1`` divides ``b - a``) the block sums are taken on a strided view, with no copy.
    """
    width = b - a
    if stream.block >= 2 and stream._carry_n == 0 and width % stream.block == 0 and mat.stride(1) == 1:
        r = mat.shape[0]
        stream._add(mat[:, a:b].view(r, width // stream.block, stream.block).sum(-1).reshape(-1))
        return
    stream.update(_flat(mat, a, b, scratch))


def _flat(mat: torch.Tensor, a: int, b: int, scratch: torch.Tensor) -> torch.Tensor:
    """Minibatch-major flattening of the column range ``[a, b)`` of ``mat``.

    A view when the range is all of ``mat``; else a copy into ``scratch`` (a
    reusable buffer with at least ``mat.numel()`` elements).
    """
    if a == 0 and b == mat.shape[1] and mat.is_contiguous():
        return mat.reshape(-1)
    r = mat.shape[0]
    dst = scratch.view(-1)[: r * (b - a)].view(r, b - a)
    dst.copy_(mat[:, a:b])
    return dst.view(-1)


class PrePass:
    """Statistics of the raw gradients (first pass)."""

    def __init__(self, k: int, offsets: Sequence[int], work: torch.Tensor) -> None:
        d = offsets[-1]
        dtype, device = work.dtype, work.device
        self.k = k
        self.offsets = list(offsets)
        self.first: torch.Tensor | None = None
        self.s1 = torch.zeros(d, dtype=F64, device=device)
        self.s2 = torch.zeros(d, dtype=F64, device=device)
        self.amax = torch.zeros(d, dtype=dtype, device=device)  # of g_k - g_1
        self.amin = torch.zeros(d, dtype=dtype, device=device)
        n_layers = len(offsets) - 1
        self.sq_norms = torch.zeros(k, n_layers, dtype=F64, device=device)
        self._work = work

    def update(self, g: torch.Tensor, k0: int) -> None:
        r = g.shape[0]
        if self.first is None:
            self.first = g[0].clone()
        w = self._work[:r]
        torch.mul(g, g, out=w)
        for i, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
            self.sq_norms[k0 : k0 + r, i] = w[:, a:b].sum(1)
        dev = torch.sub(g, self.first, out=w)
        self.s1 += dev.sum(0)
        torch.maximum(self.amax, dev.amax(0), out=self.amax)
        torch.minimum(self.amin, dev.amin(0), out=self.amin)
        self.s2 += dev.square_().sum(0)

    def mean(self) -> torch.Tensor:
        """Mean gradient over the rows (float64)."""
        return self.first.to(F64) + self.s1 / self.k

    def std(self) -> torch.Tensor:
        """Standard deviation across rows per coordinate (ddof=1, float64)."""
        if self.k < 2:
            return torch.zeros_like(self.s1)
        var = (self.s2 - self.s1.square() / self.k) / (self.k - 1)
        return var.clamp_min(0.0).sqrt()

    def zero_mask(self) -> torch.Tensor:
        """True where the gradient is identical in every row (zero noise)."""
        return (self.amax == 0) & (self.amin == 0)


class MainPass:
    """Noise statistics (second pass, or a pass over kept gradients).

    Parameters
    ----------
    k : number of rows (minibatches).
    offsets : layer boundaries in the flat parameter vector (``offsets[-1] = d``).
    g_full : the full gradient (dtype of the rows).
    inv_sd : 1 / sd per coordinate, 0 where the noise is zero (for "standardized").
    nz_index : indices of coordinates with non-zero noise, or None when all are.
    want : protocols and extras to accumulate.
    eps : added inside every log.
    gauss_index : coordinates to gather for Gaussianity tests (or None).
    inv_norms : (k, n_layers + 1) reciprocal row norms of the raw gradients
        (0 for a zero row), last column the whole model; for directions.
    work : two reusable buffers of at least the rows of a chunk each.

    :meth:`update` overwrites the rows it is given with the noise.
    """

    def __init__(
        self,
        k: int,
        offsets: Sequence[int],
        g_full: torch.Tensor,
        inv_sd: torch.Tensor,
        nz_index: torch.Tensor | None,
        want: frozenset[str],
        eps: float,
        gauss_index: torch.Tensor | None,
        inv_norms: torch.Tensor | None,
        work: tuple[torch.Tensor, torch.Tensor],
    ) -> None:
        device = g_full.device
        d = offsets[-1]
        self.k = k
        self.offsets = list(offsets)
        self.n_layers = len(offsets) - 1
        self.g_full = g_full
        self.inv_sd = inv_sd
        self.want = want
        self.eps = eps
        self.nz_index = nz_index
        if nz_index is not None:
            bounds = torch.tensor(self.offsets, device=device)
            counts = torch.searchsorted(nz_index, bounds).tolist()
            self.nz_offsets = counts
            self.inv_sd_nz = inv_sd.index_select(0, nz_index)
        # flat (pooled / standardized) block streams per variant and group
        self.flat: dict[tuple[str, str], list[FlatBlocks]] = {}
        variants = [("included", self.offsets)]
        if nz_index is not None:
            variants.append(("excluded", self.nz_offsets))
        self.variants = variants
        for proto in ("pooled", "standardized"):
            if proto in want:
                for name, offs in variants:
                    streams = []
                    for a, b in list(zip(offs[:-1], offs[1:])) + [(0, offs[-1])]:
                        n = k * (b - a)
                        streams.append(FlatBlocks(divisor_block(n), eps, device))
                    self.flat[(proto, name)] = streams
        # per-coordinate log sums (needed by pooled/standardized too)
        self.px = torch.zeros(d, dtype=F64, device=device)
        self.px2 = torch.zeros(d, dtype=F64, device=device)
        # row blocks (per-coordinate Mohammadi and norm)
        self.k1, self.k2 = row_blocks(k)
        self.rows_used = self.k1 * self.k2
        self.need_rows = bool({"per_coordinate", "norm"} & want) and self.k1 >= 2
        if self.need_rows:
            self.block_vec = torch.zeros(d, dtype=F64, device=device)
            self._block_fill = 0
            self._block_i = 0
            self.py = torch.zeros(d, dtype=F64, device=device)
            self.pxr = self.px if self.rows_used == k else torch.zeros(d, dtype=F64, device=device)
            self.block_sq_norms = torch.zeros(self.k2, self.n_layers, dtype=F64, device=device)
        self.row_sq_norms = torch.zeros(k, self.n_layers, dtype=F64, device=device)
        self.inv_norms = inv_norms
        if "directions" in want:
            self.unit_sums = torch.zeros(d, dtype=F64, device=device)  # per-layer units
            self.unit_sum_model = torch.zeros(d, dtype=F64, device=device)
        self._w, self._scratch = work
        self.gauss_index = gauss_index
        if gauss_index is not None:
            self.gauss = torch.zeros(k, gauss_index.numel(), dtype=g_full.dtype, device=device)

    def _layer_ranges(self, offs: Sequence[int]) -> list[tuple[int, int]]:
        return list(zip(offs[:-1], offs[1:])) + [(0, offs[-1])]

    def update(self, g: torch.Tensor, k0: int) -> None:
        """Accumulate rows ``k0 .. k0 + len(g)``; ``g`` is overwritten with the noise."""
        r = g.shape[0]
        want = self.want
        if "directions" in want:  # needs the raw gradients
            wt = self.inv_norms[k0 : k0 + r].to(g.dtype)
            for i, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
                self.unit_sums[a:b] += wt[:, i] @ g[:, a:b]
            self.unit_sum_model += wt[:, -1] @ g
        e = g.sub_(self.g_full)
        w = self._w[:r]
        for proto in ("pooled", "standardized"):
            if proto not in want:
                continue
            base = e if proto == "pooled" else torch.mul(e, self.inv_sd, out=w)
            for name, offs in self.variants:
                mat = base
                if name == "excluded":
                    mat = base.index_select(1, self.nz_index)
                for stream, (a, b) in zip(self.flat[(proto, name)], self._layer_ranges(offs)):
                    _blocks_of_columns(stream, mat, a, b, self._scratch)
        sq = torch.mul(e, e, out=w)
        for i, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
            self.row_sq_norms[k0 : k0 + r, i] = sq[:, a:b].sum(1)
        if self.need_rows:
            self._update_row_blocks(e, k0)
        if self.gauss_index is not None:
            self.gauss[k0 : k0 + r] = e.index_select(1, self.gauss_index)
        la = log_abs_into(e, w, self.eps)
        self.px += la.sum(0)
        if self.need_rows and self.pxr is not self.px:
            valid = min(r, self.rows_used - k0)
            if valid > 0:
                self.pxr += la[:valid].sum(0)
        self.px2 += la.square_().sum(0)

    def _update_row_blocks(self, e: torch.Tensor, k0: int) -> None:
        r = e.shape[0]
        valid = min(r, self.rows_used - k0)
        if valid <= 0:
            return
        i = 0
        while i < valid:
            take = min(self.k1 - self._block_fill, valid - i)
            self.block_vec += e[i : i + take].sum(0)
            self._block_fill += take
            i += take
            if self._block_fill == self.k1:
                self.py += log_abs_into(self.block_vec, torch.empty_like(self.block_vec), self.eps)
                for j, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
                    self.block_sq_norms[self._block_i, j] = self.block_vec[a:b].square().sum()
                self._block_i += 1
                self._block_fill = 0
                self.block_vec.zero_()
