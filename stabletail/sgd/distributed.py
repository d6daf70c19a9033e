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
  straddles two ranks); the pooled and standardized Mohammadi block sums are
  kept per block (indexed by the block's global number), so a block that
  straddles two ranks receives a partial sum from each and the all-reduce
  completes it.

The harvest itself is :func:`stabletail.sgd.harvest`'s (one core,
:func:`stabletail.sgd.harvest.run`); this module only supplies a shard
(:class:`CollectiveShard`, a :class:`~stabletail.sgd.harvest.LocalShard`) whose hooks
combine the ranks' accumulators.

Launch one process per device with ``torchrun`` (see ``docs/scaling.md``)::

    torchrun --standalone --nproc-per-node 2 my_harvest.py

where ``my_harvest.py`` calls :func:`init_distributed` then
:func:`harvest_distributed` with the same model parameters, data and options on
every rank.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist

from .._typing import SeedLike
from .._validation import check_choice, check_int
from ._noisepass import MainPass
from ._torchstats import PrePass, row_blocks
from .harvest import HarvestOptions, HarvestResult, LocalShard, run

__all__ = ["CollectiveShard", "harvest_distributed", "init_distributed", "rank_rows"]

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

    Parameters
    ----------
    k : int
        Minibatches in the pass.
    world_size : int
        Number of ranks.
    rank : int
        This rank, in ``[0, world_size)``.

    Returns
    -------
    (start, stop) : tuple of int
    """
    k = check_int("k", k, 1)
    world_size = check_int("world_size", world_size, 1)
    rank = check_int("rank", rank, 0, world_size - 1)
    k1, k2 = row_blocks(k)
    unit, units = (k1, k2) if k1 >= 2 else (1, k)
    # ceilings: when there are fewer units than ranks, the last ranks are the idle ones
    start = unit * -(-units * rank // world_size)
    stop = unit * -(-units * (rank + 1) // world_size)
    if rank == world_size - 1:
        stop = k
    return start, stop


class CollectiveShard(LocalShard):
    """The rows of this rank of ``group``; hooks that turn per-rank accumulators into whole-partition ones.

    Parameters
    ----------
    group : torch.distributed.ProcessGroup or None
        The process group (None: the default group).
    """

    def __init__(self, group: Any) -> None:
        super().__init__()
        self.group = group
        self.world_size = dist.get_world_size(group)
        self.rank = dist.get_rank(group)
        self.src = dist.get_global_rank(group, 0) if group is not None else 0

    def seed(self, random_state: SeedLike) -> SeedLike:
        if random_state is None:  # one seed, drawn on rank 0
            seed = [int(np.random.default_rng().integers(2**62))]
            dist.broadcast_object_list(seed, src=self.src, group=self.group)
            random_state = seed[0]
        return random_state

    def rows(self, k: int, rank: int | None = None) -> tuple[int, int]:
        return rank_rows(k, self.world_size, self.rank if rank is None else rank)

    def all_sum(self, t: torch.Tensor) -> torch.Tensor:
        dist.all_reduce(t, op=dist.ReduceOp.SUM, group=self.group)
        return t

    def any_shard(self, flag: bool) -> bool:
        t = torch.tensor(float(flag), dtype=F64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self.group)
        return bool(t.item())

    def combine_first_pass(self, pre: PrePass, n_rows: int) -> torch.Tensor:
        """Make ``pre`` hold the sums of every rank's rows, shifted by global row 0.

        Parameters
        ----------
        pre : PrePass
            This rank's first-pass accumulators, updated in place.
        n_rows : int
            Number of minibatch rows this rank accumulated.

        Returns
        -------
        torch.Tensor
            The zero-noise mask of the whole partition (True where every row of every rank
            equals global row 0).
        """
        d = pre.s1.numel()
        device = pre.s1.device
        first = torch.zeros(d, dtype=F64, device=device) if pre.first is None else pre.first.clone()
        dist.broadcast(first, src=self.src, group=self.group)
        if n_rows:
            delta = pre.first - first
            # sum (g - c0) = sum (g - c_r) + n delta; sum (g - c0)^2 = s2 + 2 delta s1 + n delta^2
            s2 = pre.s2 + 2.0 * delta * pre.s1 + n_rows * delta.square()
            s1 = pre.s1 + n_rows * delta
            same = (pre.zero_mask() & (delta == 0)).to(F64)
        else:
            s1, s2 = torch.zeros_like(pre.s1), torch.zeros_like(pre.s2)
            same = torch.ones(d, dtype=F64, device=device)
        pre.first, pre.s1, pre.s2 = first, self.all_sum(s1), self.all_sum(s2)
        self.all_sum(pre.sq_norms)
        dist.all_reduce(same, op=dist.ReduceOp.MIN, group=self.group)
        return same == 1.0

    def combine_noise_pass(self, main: MainPass) -> None:
        """Make ``main`` hold the noise statistics of every rank's rows.

        Parameters
        ----------
        main : MainPass
            This rank's noise-pass accumulators, updated in place.
        """
        for t in main.summable():
            self.all_sum(t)


def harvest_distributed(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    data: Any,
    batch_size: int | None = None,
    *,
    group: Any = None,
    options: HarvestOptions | None = None,
    **kwargs: Any,
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
    options : HarvestOptions, optional
        As for :func:`stabletail.sgd.harvest`; ``store`` must be False.
    n_batches, sampling, full_gradient, protocols, zeros, per_coordinate_estimator, \
n_coordinates, gaussianity_tests, n_gaussianity, directions, eval_mode, eps, level
        As for :func:`stabletail.sgd.harvest` (fields of :class:`~stabletail.sgd.harvest.HarvestOptions`).
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
    one broadcast of a gradient, and an all-reduce of the per-block sums of the
    pooled streams (``N / K1`` numbers for a stream of ``N`` entries, about
    ``sqrt(N)``). As with :func:`stabletail.sgd.harvest`, the model's modes,
    buffers and the RNG state are restored on exit.
    """
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("torch.distributed is not initialised: call init_distributed() (under torchrun)")
    opts = HarvestOptions.build(options, **kwargs)
    if opts.store:
        raise ValueError("store=True is not available in harvest_distributed (no rank holds the whole noise)")
    return run(model, loss_fn, data, batch_size, opts.replace(progress=False), CollectiveShard(group))
