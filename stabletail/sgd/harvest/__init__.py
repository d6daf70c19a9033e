"""Harvest stochastic gradient noise from a PyTorch model at its current parameters.

One call computes the ``K`` minibatch gradients ``g_k`` over a fixed partition of
the data (or ``K`` random draws), the full gradient ``g`` (their mean, or an
exact pass over all the data), the noise ``e_k = g_k - g`` per parameter tensor
and for the whole model, and every requested tail-index protocol
(:mod:`stabletail.sgd.protocols`), Gaussianity test
(:mod:`stabletail.sgd.gaussianity`) and directional statistic
(:mod:`stabletail.sgd.direction`) -- side by side, in one tidy table.

All statistics are accumulated on the model's device; only scalars and a few
``d``-vectors reach the host, once, at the end. When the ``K x d`` gradients fit
in ``buffer_bytes`` they are kept on the device and the harvest takes one pass
over the data; otherwise it streams in two passes (the full gradient, the
per-coordinate standard deviations and the zero-noise coordinates first, then
the noise statistics), with memory a few ``d``-sized buffers. On the CPU the
statistics of float32/float64 rows run in numba kernels
(:mod:`stabletail.sgd._kernels`, on as many threads as torch may use), elsewhere in torch
(:mod:`stabletail.sgd._torchstats`).
On the CPU the row buffer and the accumulators are reused by the next harvest in the
process (each up to 256 MiB), which spares it the page faults of fresh memory.

:func:`stabletail.sgd.distributed.harvest_distributed` runs the same core,
:func:`run`, over its own shard (a subclass of :class:`LocalShard`), whose hooks combine
the ranks' accumulators after each pass. Modules: :mod:`.api` (the call), :mod:`.options`
(:class:`HarvestOptions`, taken by the harvest, the distributed harvest and the monitor),
:mod:`.batches` (the minibatches and the checks of ``data`` and ``loss_fn``), :mod:`.state`
(the model's state, restored on exit, and the buffers reused between harvests),
:mod:`.shard` (the shard interface), :mod:`.driver` (the passes), :mod:`.perexample` (the
single-example rows of ``sampling="per_example"``), :mod:`.table` (the rows),
:mod:`.result` (the columns, :class:`HarvestResult` and its files).
"""

from .api import harvest
from .driver import run
from .options import HarvestOptions
from .result import MIN_BATCHES, MODEL, TABLE_COLUMNS, HarvestResult
from .shard import LocalShard

__all__ = [
    "harvest",
    "HarvestOptions",
    "HarvestResult",
    "MODEL",
    "TABLE_COLUMNS",
    "MIN_BATCHES",
    "LocalShard",
    "run",
]
