"""Data-parallel gradient-noise harvest under ``torch.distributed``.

:func:`harvest_distributed` is :func:`stabletail.sgd.harvest` split over the
processes of a ``torch.distributed`` group (one per GPU with ``nccl``, or CPU
processes with ``gloo``): every rank computes the minibatch gradients of its own
contiguous share of the fixed partition, and the statistics are combined with
collectives, so every rank returns the result of the single-process harvest on
the same partition (equal to float rounding):

- first pass: per-coordinate sums of the gradients, re-centred on the first
  minibatch's gradient (broadcast from rank 0) and all-reduced; the zero-noise
  mask by an all-reduced minimum; row norms and losses by sums of disjoint rows;
- noise pass: per-coordinate sums of ``log(|e| + eps)`` and of its square,
  row-block sums, norms, unit-vector sums and the Gaussianity sample by
  all-reduce (rows are split on row-block boundaries, so no row block
  straddles two ranks); the pooled and standardized Mohammadi block sums over
  the minibatch-major flattening do straddle ranks: each rank keeps its first
  and last partial block apart, the partial blocks are all-gathered, and every
  rank completes the straddling blocks in rank order.

Launch one process per device with ``torchrun`` (see ``docs/scaling.md``)::

    torchrun --standalone --nproc-per-node 2 my_harvest.py

where ``my_harvest.py`` calls :func:`init_distributed` then
:func:`harvest_distributed` with the same model parameters, data and options on
every rank.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.distributed as dist

from .._typing import SeedLike
from .._validation import check_choice, check_int, check_random_state
from . import _torchstats as ts
from .gaussianity import GAUSSIANITY_TESTS
from .harvest import (
    _CHUNK_BYTES,
    MODEL,
    HarvestResult,
    _Batches,
    _build_table,
    _check_options,
    _direction_rows,
    _gauss_index,
    _gauss_rows,
    _nan_table,
    _to,
    _trainable,
)
from .protocols import PROTOCOLS

__all__ = ["harvest_distributed", "init_distributed", "rank_rows"]

F64 = torch.float64


def init_distributed(device: str | torch.device | None = None) -> torch.device:
    """Join the process group ``torchrun`` describes (``env://``) and return this rank's device.

    Parameters
    ----------
    device : str or torch.device, optional
        ``"cuda"`` (this process uses GPU ``LOCAL_RANK``, backend ``nccl``) or
        ``"cpu"`` (backend ``gloo``); default CUDA when available.

    Returns
    -------
    torch.device
        The device to put this rank's model on.

    Notes
    -----
    Reads ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT`` and
    ``LOCAL_RANK`` from the environment (``torchrun`` sets them). Does nothing
    but pick the device when the default group already exists.
    """
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    check_choice("device", device.type, ("cpu", "cuda"))
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo", init_method="env://")
    return device


def rank_rows(k: int, world_size: int, rank: int) -> tuple[int, int]:
    """The contiguous minibatch rows ``[start, stop)`` that ``rank`` computes.

    The ``k2`` row blocks of ``k1`` rows used by the per-coordinate and norm
    protocols (:func:`stabletail.sgd._torchstats.row_blocks`) are dealt out as
    evenly as possible, so that no row block straddles two ranks; rows past
    the last block go to the last rank. When ``k`` is too small for row blocks
    the rows themselves are dealt out. Rank 0 always has rows; with fewer units
    than ranks the last ranks have none (they still take part in the
    collectives).
    """
    k = check_int("k", k, 1)
    world_size = check_int("world_size", world_size, 1)
    rank = check_int("rank", rank, 0, world_size - 1)
    k1, k2 = ts.row_blocks(k)
    unit, units = (k1, k2) if k1 >= 2 else (1, k)
    # ceilings: when there are fewer units than ranks, the last ranks are the idle ones
    start = unit * -(-units * rank // world_size)
    stop = unit * -(-units * (rank + 1) // world_size)
    if rank == world_size - 1:
        stop = k
    return start, stop


class _ShardBlocks(ts.FlatBlocks):
    """Block sums of one rank's piece of a sequence that starts at global position ``start``.

    The entries before the first block boundary at or after ``start`` (the
    ``head``, a block begun on an earlier rank) are summed apart; the carry left
    at the end (the ``tail``) is a block continued on a later rank. Both are
    completed by :func:`_complete_blocks`.
    """

    def __init__(self, block: int, eps: float, device: torch.device, start: int) -> None:
        super().__init__(block, eps, device)
        self.head_left = (-start) % block if block >= 2 else 0
        self.head = torch.zeros((), dtype=F64, device=device)
        self.head_n = 0

    def update(self, flat: torch.Tensor) -> None:
        if self.head_left:
            take = min(self.head_left, flat.numel())
            self.head += flat[:take].sum(dtype=F64)
            self.head_n += take
            self.head_left -= take
            flat = flat[take:]
        if flat.numel():
            super().update(flat)

    def partials(self) -> torch.Tensor:
        """``[head, head_n, tail, tail_n]`` as float64."""
        tail = self._carry if self._carry_n else torch.zeros((), dtype=F64, device=self.head.device)
        n = torch.tensor([self.head_n, self._carry_n], dtype=F64, device=self.head.device)
        return torch.stack((self.head, n[0], tail.reshape(()), n[1]))


def _complete_blocks(stream: ts.FlatBlocks, parts: torch.Tensor) -> None:
    """Add the blocks straddling ranks (``parts``: world x 4 partials, rank order) to ``stream``."""
    b = stream.block
    if b < 2:
        return
    acc, acc_n = None, 0
    for head, head_n, tail, tail_n in parts:
        hn, tn = int(head_n.item()), int(tail_n.item())
        if hn:
            acc = head if acc is None else acc + head
            acc_n += hn
            if acc_n == b:
                stream._add(acc.reshape(1))
                acc, acc_n = None, 0
        if tn:
            acc, acc_n = tail, tn
    if acc_n:  # pragma: no cover - block sizes divide the length, so every block closes
        raise RuntimeError("internal error: an unfinished block is left after combining ranks")


class _Collective:
    """The collectives that turn per-rank accumulators into the whole-partition ones."""

    def __init__(self, group: Any, device: torch.device) -> None:
        self.group = group
        self.world = dist.get_world_size(group)
        self.rank = dist.get_rank(group)
        self.src = dist.get_global_rank(group, 0) if group is not None else 0
        self.device = device

    def sum_(self, t: torch.Tensor) -> torch.Tensor:
        dist.all_reduce(t, op=dist.ReduceOp.SUM, group=self.group)
        return t

    def max_(self, t: torch.Tensor) -> torch.Tensor:
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self.group)
        return t

    def gather(self, t: torch.Tensor) -> torch.Tensor:
        out = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(out, t.contiguous(), group=self.group)
        return torch.stack(out)

    def prepass(self, pre: ts.PrePass, n_rows: int, d: int, dtype: torch.dtype) -> torch.Tensor:
        """Make ``pre`` hold the sums of every rank's rows, shifted by global row 0.

        Returns the zero-noise mask of the whole partition (True where every
        row of every rank equals global row 0).
        """
        first = torch.zeros(d, dtype=dtype, device=self.device) if pre.first is None else pre.first.clone()
        dist.broadcast(first, src=self.src, group=self.group)
        if n_rows:
            delta = pre.first.to(F64) - first.to(F64)
            # sum (g - c0) = sum (g - c_r) + n delta; sum (g - c0)^2 = s2 + 2 delta s1 + n delta^2
            s2 = pre.s2 + 2.0 * delta * pre.s1 + n_rows * delta.square()
            s1 = pre.s1 + n_rows * delta
            same = (pre.zero_mask() & (delta == 0)).to(F64)
        else:
            s1, s2 = torch.zeros_like(pre.s1), torch.zeros_like(pre.s2)
            same = torch.ones(d, dtype=F64, device=self.device)
        pre.first, pre.s1, pre.s2 = first, self.sum_(s1), self.sum_(s2)
        self.sum_(pre.sq_norms)
        dist.all_reduce(same, op=dist.ReduceOp.MIN, group=self.group)
        return same == 1.0

    def mainpass(self, main: ts.MainPass, start: int) -> None:
        """Make ``main`` hold the noise statistics of every rank's rows."""
        for t in (main.px, main.px2, main.row_sq_norms):
            self.sum_(t)
        if main.need_rows:
            self.sum_(main.py)
            if main.pxr is not main.px:
                self.sum_(main.pxr)
            own = main.block_sq_norms.clone()  # this rank's blocks were stored from row 0 on
            main.block_sq_norms.zero_()
            b0 = start // main.k1
            n_own = main._block_i
            main.block_sq_norms[b0 : b0 + n_own] = own[:n_own]
            self.sum_(main.block_sq_norms)
            main._block_i = main.k2
        if "directions" in main.want:
            self.sum_(main.unit_sums)
            self.sum_(main.unit_sum_model)
        if main.gauss_index is not None:
            self.sum_(main.gauss)
        streams = [s for group in main.flat.values() for s in group]
        if streams:
            parts = self.gather(torch.stack([s.partials() for s in streams]))  # world x S x 4
            sums = self.sum_(torch.stack([s.sums for s in streams]))
            counts = self.sum_(torch.tensor([float(s.n) for s in streams], dtype=F64, device=self.device))
            for i, s in enumerate(streams):
                s.sums, s.n = sums[i].clone(), int(counts[i].item())
                _complete_blocks(s, parts[:, i])


def _shard_streams(main: ts.MainPass, start: int) -> None:
    """Replace ``main``'s flat block streams by ones that know where this rank's rows start."""
    for (proto, variant), streams in main.flat.items():
        offs = dict(main.variants)[variant]
        ranges = list(zip(offs[:-1], offs[1:])) + [(0, offs[-1])]
        main.flat[(proto, variant)] = [
            _ShardBlocks(s.block, s.eps, s.sums.device, start * (b - a)) for s, (a, b) in zip(streams, ranges)
        ]


def harvest_distributed(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    data: Any,
    batch_size: int | None = None,
    *,
    group: Any = None,
    n_batches: int | None = None,
    sampling: str = "partition",
    full_gradient: str = "mean",
    protocols: Sequence[str] = PROTOCOLS,
    zeros: Sequence[str] = ("included", "excluded"),
    per_coordinate_estimator: str = "mohammadi",
    n_coordinates: int | None = None,
    gaussianity_tests: Sequence[str] | None = GAUSSIANITY_TESTS,
    n_gaussianity: int = 200,
    directions: bool = True,
    eval_mode: bool = True,
    buffer_bytes: int = 1 << 30,
    eps: float | None = None,
    level: float = 0.95,
    random_state: SeedLike = 0,
) -> HarvestResult:
    """:func:`stabletail.sgd.harvest` with the minibatch gradients shared out over a process group.

    Call it on every rank of ``group`` with the same model parameters, the same
    ``data`` (every rank indexes the whole partition; it only evaluates the
    minibatches of its share, :func:`rank_rows`) and the same options. Every rank
    returns the same :class:`~stabletail.sgd.HarvestResult`, equal to float
    rounding to ``harvest(model, loss_fn, data, batch_size, ...)`` in one process.

    Parameters
    ----------
    model, loss_fn, data, batch_size
        As for :func:`stabletail.sgd.harvest`; the model lives on this rank's
        device (``cuda:LOCAL_RANK`` with ``nccl``, the CPU with ``gloo``).
    group : torch.distributed.ProcessGroup, optional
        The process group (default: the default group, which must be
        initialised, e.g. by :func:`init_distributed`).
    n_batches, sampling, full_gradient, protocols, zeros, per_coordinate_estimator, \
n_coordinates, gaussianity_tests, n_gaussianity, directions, eval_mode, eps, level
        As for :func:`stabletail.sgd.harvest`.
    buffer_bytes : int
        Device memory allowed per rank for keeping its share of the gradients
        (one pass); above it each rank streams its rows in two passes.
    random_state : int or numpy.random.Generator or None
        As for :func:`stabletail.sgd.harvest`; an int (or Generators in the same
        state) on every rank. None draws a seed on rank 0 and broadcasts it.

    Returns
    -------
    HarvestResult
        The same on every rank. ``noise`` and ``per_coordinate_alpha`` are None
        (no rank holds the whole noise matrix; use :func:`~stabletail.sgd.harvest`
        with ``store=True`` for small models).

    Notes
    -----
    Communication: a handful of ``d``-vector all-reduces per pass (float64),
    one broadcast of a gradient, and an all-gather of 4 numbers per pooled
    block stream. As with :func:`stabletail.sgd.harvest`, the model's modes,
    buffers and the RNG state are restored on exit.
    """
    import time

    t0 = time.perf_counter()
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("torch.distributed is not initialised: call init_distributed() (under torchrun)")
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    protocols, zeros, tests, n_gaussianity, n_coordinates, buffer_bytes, eps, level = _check_options(
        sampling, full_gradient, protocols, per_coordinate_estimator, zeros, gaussianity_tests,
        n_gaussianity, n_coordinates, buffer_bytes, eps, level
    )

    names, params, device, dtype = _trainable(model)
    coll = _Collective(group, device)
    if random_state is None:
        seed = [int(np.random.default_rng().integers(2**62))]
        dist.broadcast_object_list(seed, src=coll.src, group=group)
        random_state = seed[0]
    rng = check_random_state(random_state)
    offsets = [0]
    for p in params:
        offsets.append(offsets[-1] + p.numel())
    d = offsets[-1]

    # the same draws, in the same order, as the single-process harvest
    batches = _Batches(data, batch_size, n_batches, sampling, rng)
    k = batches.k
    start, stop = rank_rows(k, coll.world, coll.rank)
    n_own = stop - start
    most = max(b - a for a, b in (rank_rows(k, coll.world, r) for r in range(coll.world)))
    itemsize = torch.empty((), dtype=dtype).element_size()
    keep = most * d * itemsize <= buffer_bytes
    chunk_rows = max(1, min(max(n_own, 1), _CHUNK_BYTES // max(1, d * itemsize)))
    seed_base = int(rng.integers(2**62))
    want = set(protocols)
    if directions:
        want.add("directions")
    n_passes = (1 if keep else 2) + (full_gradient == "exact")

    modes = [(m, m.training) for m in model.modules()]
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
    rng_devices = [device] if device.type != "cpu" else []
    try:
        model.train(not eval_mode)
        with torch.random.fork_rng(devices=rng_devices, device_type=device.type if rng_devices else None):
            with torch.enable_grad():

                def grad_into(x: Any, y: Any, row: torch.Tensor, i: int | None) -> torch.Tensor:
                    if i is not None and not eval_mode:  # the dropout draws of the single-process harvest
                        torch.default_generator.manual_seed(seed_base + i)
                        if device.type != "cpu":
                            getattr(torch, device.type).manual_seed(seed_base + i)
                    x, y = _to(x, device, dtype), _to(y, device, dtype)
                    loss = loss_fn(model(x), y)
                    grads = torch.autograd.grad(loss, params, allow_unused=True)
                    torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                               for g, p in zip(grads, params)], out=row)
                    return loss.detach()

                def rows_pass(buf: torch.Tensor, sink: Callable[[torch.Tensor, int], None]) -> torch.Tensor:
                    """One pass over this rank's rows; ``sink(rows, global_first_row)`` per chunk."""
                    pass_losses = torch.zeros(k, dtype=F64, device=device)
                    c0 = start
                    for i, (x, y) in enumerate(batches):
                        if i < start:
                            continue
                        if i >= stop:
                            break
                        slot = i - start if keep else i - c0
                        pass_losses[i] = grad_into(x, y, buf[slot], i)
                        if i + 1 - c0 == chunk_rows or i + 1 == stop:
                            sink(buf[c0 - start : i + 1 - start] if keep else buf[: i + 1 - c0], c0)
                            c0 = i + 1
                    return pass_losses

                buf = torch.empty((n_own if keep else chunk_rows), d, dtype=dtype, device=device)
                work = torch.empty(2, chunk_rows, d, dtype=dtype, device=device)
                pre = ts.PrePass(k, offsets, work[0])
                losses = coll.sum_(rows_pass(buf, pre.update))
                zero = coll.prepass(pre, n_own, d, dtype)
                sq = pre.sq_norms
                n_bad = int(k - (torch.isfinite(sq.sum(1)) & torch.isfinite(losses)).sum().item())
                if full_gradient == "exact" and n_bad == 0:
                    acc = torch.zeros(d, dtype=F64, device=device)
                    total = torch.zeros((), dtype=F64, device=device)
                    row = torch.empty(d, dtype=dtype, device=device)
                    for j, (x, y) in enumerate(batches.full()):
                        if j % coll.world == coll.rank:
                            m = int(x.shape[0])
                            grad_into(x, y, row, None)
                            acc += row.to(F64) * m
                            total += m
                    g_full64 = coll.sum_(acc) / coll.sum_(total)
                else:
                    g_full64 = pre.mean()
                if not torch.isfinite(g_full64).all():
                    n_bad = max(n_bad, 1)
                sd = pre.std()
                status, message, main = "ok", "", None
                if n_bad:
                    status = "nonfinite"
                    message = f"{n_bad} of {k} minibatch gradients or losses are not finite (diverged?)"
                else:
                    inv_sd = torch.where(zero | (sd == 0), 0.0, 1.0 / sd).to(dtype)
                    nz_index = torch.nonzero(~zero).reshape(-1) if bool(zero.any()) else None
                    gauss_index = _gauss_index(zero, offsets, n_gaussianity, rng, device) if tests else None
                    norms = torch.cat([sq, sq.sum(1, keepdim=True)], 1).sqrt()
                    inv_norms = torch.where(norms > 0, 1.0 / norms, 0.0)
                    main = ts.MainPass(k, offsets, g_full64.to(dtype), inv_sd, nz_index, frozenset(want), eps,
                                       gauss_index, inv_norms, (work[0], work[1]))
                    _shard_streams(main, start)
                    if keep:
                        for c0 in range(0, n_own, chunk_rows):
                            main.update(buf[c0 : c0 + chunk_rows], start + c0)
                    else:
                        losses2 = rows_pass(buf, main.update)
                        own = slice(start, stop)
                        same = torch.allclose(losses[own], losses2[own], rtol=1e-5, atol=0.0)
                        if coll.max_(torch.tensor(float(not same), device=device)).item():
                            status = "inconsistent_batches"
                            message = "the two passes saw different minibatches (reshuffling loader?)"
                    coll.mainpass(main, start)
    finally:
        for mod, flag in modes:
            mod.training = flag
        with torch.no_grad():
            for b, saved in saved_buffers:
                b.copy_(saved)

    # ------------------------------------------------------------ the tables, as harvest() builds them
    grad_norms = torch.cat([sq, sq.sum(1, keepdim=True)], 1).sqrt().cpu().numpy()
    full_np = g_full64.cpu().numpy()
    zero_np = zero.cpu().numpy()
    layer_names = names + [MODEL]
    ranges = list(zip(offsets[:-1], offsets[1:])) + [(0, d)]
    layers_tab = [
        {
            "layer": name,
            "shape": tuple(params[i].shape) if i < len(params) else (d,),
            "offset": a,
            "n_params": b - a,
            "n_zero": int(zero_np[a:b].sum()),
            "full_grad_norm": float(np.linalg.norm(full_np[a:b])),
        }
        for i, (name, (a, b)) in enumerate(zip(layer_names, ranges))
    ]
    common = {"level": level, "n_batches": k, "batch_size": batches.batch_size}
    if main is None:
        table = _nan_table(protocols, layer_names, layers_tab, per_coordinate_estimator, common, status)
        gauss_rows: list[dict[str, Any]] = []
        dir_rows: list[dict[str, Any]] = []
        noise_norms = np.full_like(grad_norms, np.nan)
    else:
        table, _, noise_norms = _build_table(
            main, protocols, layer_names, ranges, zero_np, sd, eps, level, per_coordinate_estimator,
            n_coordinates, rng, common, status, k
        )
        gauss_rows = _gauss_rows(main, layer_names, offsets, tests, level, random_state) if tests else []
        dir_rows = _direction_rows(main, layer_names, ranges, grad_norms) if directions else []
    return HarvestResult(
        status=status,
        message=message,
        table=tuple(r for r in table if r["zeros"] in zeros),
        gaussianity=tuple(gauss_rows),
        directions=tuple(dir_rows),
        layers=tuple(layers_tab),
        n_batches=k,
        batch_size=batches.batch_size,
        n_params=d,
        n_passes=n_passes,
        n_nonfinite=n_bad,
        full_gradient=full_np,
        grad_norms=grad_norms,
        noise_norms=noise_norms,
        batch_losses=losses.cpu().numpy(),
        noise=None,
        per_coordinate_alpha=None,
        seconds=time.perf_counter() - t0,
    )
