"""The noise pass of a harvest (private): :class:`MainPass`, on the model's device.

Everything that needs the noise ``e_k = g_k - g_full``: Mohammadi block sums over the
minibatch-major flattening (one float64 array per stream indexed by the global block
number, so a block that straddles chunks -- or ranks, :mod:`stabletail.sgd.distributed`
-- just receives several partial sums), per-coordinate sums of ``log(|e| + eps)`` and its
square, per-coordinate sums of ``e, e^2, e^3, e^4`` (the moments of Jarque-Bera), row-block
sums, row norms, sums of unit gradients, a gathered coordinate subset,
and the protocols' own accumulators. The kernel switches and helpers are those of
:mod:`stabletail.sgd._torchstats` (its ``USE_KERNELS``, ``_TILE`` and ``_PARALLEL_MIN`` hold here too).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ..estimators import sqrt_block_size
from . import _torchstats
from ._torchstats import F64, Arena, _np, _on_kernels, _run_kernel, log_abs_into, row_blocks

__all__ = ["MainPass"]


def _add_blocks(y: torch.Tensor, flat: torch.Tensor, pos: int, block: int) -> None:
    """Add the entries of ``flat`` (sequence positions ``pos ..``) to their blocks' sums ``y``."""
    n = flat.numel()
    head = min((-pos) % block, n)
    if head:
        y[pos // block] += flat[:head].sum(dtype=F64)
    m = (n - head) // block
    if m:
        b0 = (pos + head) // block
        y[b0 : b0 + m] += flat[head : head + m * block].view(m, block).sum(1, dtype=F64)
    rest = head + m * block
    if rest < n:
        y[(pos + rest) // block] += flat[rest:].sum(dtype=F64)


def _stream_blocks(y: torch.Tensor, mat: torch.Tensor, a: int, b: int, k0: int, block: int,
                   scratch: torch.Tensor) -> None:
    """Block sums of the minibatch-major flattening of columns ``[a, b)`` of rows ``k0 ..``."""
    width = b - a
    r = mat.shape[0]
    if width % block == 0 and mat.stride(1) == 1:  # blocks tile each row: a strided view, no copy
        b0 = k0 * width // block
        y[b0 : b0 + r * width // block] += (
            mat[:, a:b].view(r, width // block, block).sum(-1, dtype=F64).reshape(-1)
        )
        return
    if a == 0 and b == mat.shape[1] and mat.is_contiguous():
        flat = mat.reshape(-1)
    else:
        flat = scratch.view(-1)[: r * width].view(r, width)
        flat.copy_(mat[:, a:b])
        flat = flat.view(-1)
    _add_blocks(y, flat, k0 * width, block)


class MainPass:
    """Noise statistics (second pass, or a pass over kept gradients).

    Parameters
    ----------
    k : number of rows (minibatches).
    offsets : layer boundaries in the flat parameter vector (``offsets[-1] = d``).
    g_full : the full gradient (dtype of the rows).
    inv_sd : 1 / sd per coordinate (float64), 0 where the noise is zero (for "standardized").
    nz_index : indices of coordinates with non-zero noise, or None when all are.
    needs : built-in accumulators to keep (:data:`stabletail.sgd.protocols.ACCUMULATORS`),
        ``"directions"`` (sums of unit gradients) and ``"moments"`` (per-coordinate sums of
        the noise's first four powers, ``power_sums``, shape ``(4, d)``).
    eps : added inside every log.
    gauss_index : coordinates to gather for Gaussianity tests (or None).
    inv_norms : (k, n_layers + 1) reciprocal row norms of the raw gradients
        (0 for a zero row), last column the whole model; for directions.
    arena : where the d-vectors come from (fresh memory when None).
    extra : the protocols' own accumulators by name; each gets every chunk of noise rows
        (``update(noise, first_row)``) and lists its sums (``summable()``).

    :meth:`update` overwrites the rows it is given with the noise. Pooled and
    standardized block sums are kept per stream: ``variants[v]`` (``"included"``
    with every column, ``"excluded"`` with the non-zero-noise ones) times scope
    (each parameter tensor, then the model), stream ``v * (n_layers + 1) + scope``.
    """

    def __init__(
        self,
        k: int,
        offsets: Sequence[int],
        g_full: torch.Tensor,
        inv_sd: torch.Tensor,
        nz_index: torch.Tensor | None,
        needs: frozenset[str],
        eps: float,
        gauss_index: torch.Tensor | None,
        inv_norms: torch.Tensor,
        arena: Arena | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        device, dtype = g_full.device, g_full.dtype
        arena = arena or Arena(None, device)
        d = offsets[-1]
        self.k = k
        self.offsets = list(offsets)
        self.n_layers = nl = len(offsets) - 1
        self.g_full = g_full
        self.inv_sd = inv_sd
        self.directions = "directions" in needs
        self.extra = dict(extra or {})
        self.eps = eps
        self.nz_index = nz_index
        variants = [("included", self.offsets)]
        if nz_index is not None:
            bounds = torch.tensor(self.offsets, device=device)
            self.nz_offsets = torch.searchsorted(nz_index, bounds).tolist()
            variants.append(("excluded", self.nz_offsets))
        self.variants = variants
        # one block stream per (variant, scope): columns (a, b) in the variant's columns, length per
        # row, block size, index of its first block sum
        self.flat_wanted = "block_sums" in needs
        self.streams: list[tuple[int, int, int, int, int]] = []
        total = 0
        for _, offs in variants:
            for a, b in list(zip(offs[:-1], offs[1:])) + [(0, offs[-1])]:
                n = b - a
                block = sqrt_block_size(k * n) if k * n >= 1 else 0
                self.streams.append((a, b, n, block, total))
                if block >= 2:
                    total += k * n // block
        n_y = total if self.flat_wanted else 0
        self.raw_block_sums = torch.zeros(n_y, dtype=F64, device=device)
        self.std_block_sums = torch.zeros(n_y, dtype=F64, device=device)
        # per-coordinate log sums (needed by pooled/standardized too)
        self.log_sum = arena.zeros(d)
        self.log_sq_sum = arena.zeros(d)
        self.moments = "moments" in needs
        self.power_sums = arena.zeros(4 * d if self.moments else 0).view(4, -1)  # sums of e, e^2, e^3, e^4
        # row blocks (per-coordinate Mohammadi and norm)
        self.k1, self.k2 = row_blocks(k)
        self.rows_used = self.k1 * self.k2
        self.need_rows = "row_blocks" in needs and self.k1 >= 2
        rows_d = d if self.need_rows else 0
        self.block_vec = arena.zeros(rows_d)
        self.block_log_sum = arena.zeros(rows_d)
        self.used_log_sum = self.log_sum if (self.rows_used == k or not self.need_rows) else arena.zeros(d)
        self.block_sq_norms = torch.zeros(self.k2 if self.need_rows else 0, nl, dtype=F64, device=device)
        self.row_sq_norms = torch.zeros(k, nl, dtype=F64, device=device)
        self.inv_norms = inv_norms
        dir_d = d if self.directions else 0
        self.unit_sums = arena.zeros(dir_d)  # per-layer units
        self.unit_sum_model = arena.zeros(dir_d)
        self.gauss_index = gauss_index
        if gauss_index is not None:
            self.gauss = torch.zeros(k, gauss_index.numel(), dtype=dtype, device=device)
        self._kernel_records: tuple[Any, ...] | None = None
        self._scratch: torch.Tensor | None = None

    # ---------------------------------------------------------------- results

    def flat_stats(self) -> np.ndarray:
        """``(protocol, stream) -> [sum log(|Y| + eps), sum of its square, n blocks, block]``.

        An array of shape ``(2, n_streams, 4)`` (protocol 0 pooled, 1 standardized).
        """
        out = np.zeros((2, len(self.streams), 4))
        if not self.flat_wanted:
            return out
        sums = []
        for y in (self.raw_block_sums, self.std_block_sums):
            ly = torch.log(y.abs() + self.eps)
            parts = []
            for a, b, n, block, first in self.streams:
                m = self.k * n // block if block >= 2 else 0
                seg = ly[first : first + m]
                parts.append(torch.stack((seg.sum(), seg.square().sum())))
            sums.append(torch.stack(parts))
        host = torch.stack(sums).cpu().numpy()
        out[:, :, :2] = host
        for i, (a, b, n, block, first) in enumerate(self.streams):
            out[:, i, 2] = self.k * n // block if block >= 2 else 0
            out[:, i, 3] = block
        return out

    def summable(self) -> list[torch.Tensor]:
        """The accumulators that are plain sums over rows: summing each over disjoint sets
        of rows (e.g. the ranks of a distributed harvest) gives that of their union."""
        sums = [self.log_sum, self.log_sq_sum, self.power_sums, self.row_sq_norms, self.block_log_sum,
                self.block_sq_norms, self.unit_sums, self.unit_sum_model, self.raw_block_sums,
                self.std_block_sums]
        if self.used_log_sum is not self.log_sum:
            sums.append(self.used_log_sum)
        if self.gauss_index is not None:
            sums.append(self.gauss)
        for acc in self.extra.values():
            sums.extend(acc.summable())
        return [t for t in sums if t.numel()]

    # ---------------------------------------------------------------- accumulation

    def update(self, g: torch.Tensor, k0: int) -> None:
        """Accumulate rows ``k0 .. k0 + len(g)``; ``g`` is overwritten with the noise."""
        if _on_kernels(g):
            self._update_kernels(g, k0)
        else:
            self._update_torch(g, k0)
        for acc in self.extra.values():  # the rows now hold the noise
            acc.update(g, k0)

    def _update_kernels(self, g: torch.Tensor, k0: int) -> None:
        from . import _kernels

        if self._kernel_records is None:
            self._kernel_records = self._records(g)
        _run_kernel(_kernels.mainpass, g.numel(), _np(g), k0, *self._kernel_records)  # gathers too

    def _records(self, g: torch.Tensor) -> tuple[Any, ...]:
        """The accumulators as the records of :func:`stabletail.sgd._kernels.mainpass` (numpy views)."""
        d = self.offsets[-1]
        dt = _np(g).dtype
        nonzero = _np(self.nz_index.cpu()) if self.nz_index is not None else np.zeros(0, dtype=np.int64)
        nonzero_before = np.zeros(d + 1, dtype=np.int64)  # non-zero-noise columns before each column
        if self.nz_index is not None:
            mask = np.zeros(d, dtype=np.int64)
            mask[nonzero] = 1
            np.cumsum(mask, out=nonzero_before[1:])
        nonzero_cols = np.append(nonzero.astype(np.int64), d)
        n_scopes = self.n_layers + 1
        first_col = np.zeros(len(self.streams), dtype=np.int64)
        length, block_size, first_sum = first_col.copy(), first_col.copy(), first_col.copy()
        for sid, (_, _, n, block, first) in enumerate(self.streams):
            scope = sid % n_scopes
            first_col[sid] = self.offsets[scope] if scope < self.n_layers else 0  # original columns
            length[sid], block_size[sid], first_sum[sid] = n, block, first
        if self.flat_wanted:
            raw, std = _np(self.raw_block_sums), _np(self.std_block_sums)
        else:
            raw, std = np.zeros(1), np.zeros(1)
        noise = (_np(self.g_full), _np(self.inv_sd), np.array([self.eps], dtype=dt), float(self.eps),
                 dt == np.float32)
        layout = (np.asarray(self.offsets, dtype=np.int64), _torchstats._TILE)
        coord = (_np(self.log_sum), _np(self.log_sq_sum), _np(self.used_log_sum),
                 self.used_log_sum is not self.log_sum, _np(self.row_sq_norms), self.moments,
                 _np(self.power_sums))
        row_blocks = (self.k1 if self.need_rows else 0, self.rows_used, _np(self.block_vec),
                      _np(self.block_log_sum), _np(self.block_sq_norms))
        directions = (self.directions, _np(self.inv_norms.to(g.dtype)), _np(self.unit_sums),
                      _np(self.unit_sum_model))
        streams = (len(self.variants) if self.flat_wanted else 0, first_col, length, block_size, first_sum,
                   nonzero_before, nonzero_cols, raw, std)
        if self.gauss_index is not None:
            gather = (_np(self.gauss_index.cpu()).astype(np.int64), _np(self.gauss))
        else:
            gather = (np.zeros(0, dtype=np.int64), np.zeros((1, 0), dtype=dt))
        return noise, layout, coord, row_blocks, directions, streams, gather

    def _update_torch(self, g: torch.Tensor, k0: int) -> None:
        r = g.shape[0]
        if self.directions:  # sums of unit vectors of the raw gradients
            wt = self.inv_norms[k0 : k0 + r].to(g.dtype)
            for i, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
                self.unit_sums[a:b] += wt[:, i] @ g[:, a:b]
            self.unit_sum_model += wt[:, -1] @ g
        e = g.sub_(self.g_full)
        if self._scratch is None or self._scratch.shape[0] < r:
            self._scratch = torch.empty(r, g.shape[1], dtype=g.dtype, device=g.device)
        scratch = self._scratch
        if self.flat_wanted:
            ns = self.n_layers + 1
            inv_sd = self.inv_sd.to(g.dtype)
            for v, (name, offs) in enumerate(self.variants):
                cols = self.nz_index if name == "excluded" else None
                base = e if cols is None else e.index_select(1, cols)
                std = base * (inv_sd if cols is None else inv_sd.index_select(0, cols))
                for scope in range(ns):
                    a, b, n, block, first = self.streams[v * ns + scope]
                    if block < 2:
                        continue
                    m = self.k * n // block
                    _stream_blocks(self.raw_block_sums[first : first + m], base, a, b, k0, block, scratch)
                    _stream_blocks(self.std_block_sums[first : first + m], std, a, b, k0, block, scratch)
        e64 = e.to(F64)
        for i, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
            self.row_sq_norms[k0 : k0 + r, i] += e64[:, a:b].square().sum(1)
        if self.moments:
            e2 = e64.square()
            self.power_sums[0] += e64.sum(0)
            self.power_sums[1] += e2.sum(0)
            self.power_sums[2] += (e2 * e64).sum(0)
            self.power_sums[3] += e2.square_().sum(0)
        if self.need_rows:
            self._update_row_blocks(e64, k0)
        la = log_abs_into(e, scratch[:r], self.eps).to(F64)
        self.log_sum += la.sum(0)
        if self.used_log_sum is not self.log_sum:
            valid = min(r, self.rows_used - k0)
            if valid > 0:
                self.used_log_sum += la[:valid].sum(0)
        self.log_sq_sum += la.square_().sum(0)
        if self.gauss_index is not None:
            self.gauss[k0 : k0 + r] = e.index_select(1, self.gauss_index)

    def _update_row_blocks(self, e: torch.Tensor, k0: int) -> None:
        r = e.shape[0]
        valid = min(r, self.rows_used - k0)
        i = 0
        while i < valid:
            k = k0 + i
            take = min(self.k1 - k % self.k1, valid - i)
            self.block_vec += e[i : i + take].sum(0)
            i += take
            if (k + take) % self.k1 == 0:
                blk = (k + take) // self.k1 - 1
                self.block_log_sum += log_abs_into(self.block_vec, torch.empty_like(self.block_vec), self.eps)
                for j, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
                    self.block_sq_norms[blk, j] += self.block_vec[a:b].square().sum()
                self.block_vec.zero_()
