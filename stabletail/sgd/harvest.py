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

:func:`stabletail.sgd.distributed.harvest_distributed` runs the same private core,
:func:`_harvest`, with hooks that combine the ranks' accumulators after each pass.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from .._io import atomic_write as atomic_write_text
from .._io import csv_text
from .._typing import SeedLike
from .._validation import check_choice, check_int, check_level, check_random_state, check_scalar
from ..estimators import mohammadi_from_log_sums
from . import _torchstats as ts
from .direction import direction_summary
from .gaussianity import GAUSSIANITY_TESTS, gaussianity
from .protocols import (
    PER_COORDINATE_ESTIMATORS,
    PROTOCOLS,
    per_coordinate_alpha,
    summarize_per_coordinate,
)

__all__ = ["harvest", "HarvestResult", "MODEL", "TABLE_COLUMNS", "MIN_BATCHES"]

#: The ``layer`` value of whole-model rows.
MODEL = "__model__"

#: Columns of :attr:`HarvestResult.table`, in order.
#: The fewest minibatches K at which a protocol that estimates from the K rows alone informs:
#: per coordinate, the median alpha of Gaussian noise is 1.63 at K = 8, 1.81 at 16, 1.89 at 24,
#: 1.90 at 32 and 1.95 at 100 (20,000 columns each); below 32 its bias passes 0.1. The norm form
#: has one series of K norms. Rows below get status "too_few_minibatches(K>=32)".
MIN_BATCHES: dict[str, int] = {"per_coordinate": 32, "norm": 32}

TABLE_COLUMNS: tuple[str, ...] = (
    "layer",
    "protocol",
    "zeros",
    "estimator",
    "alpha",
    "stderr",
    "ci_low",
    "ci_high",
    "level",
    "n",
    "block_size",
    "n_coordinates",
    "n_zero",
    "q05",
    "q25",
    "q75",
    "q95",
    "frac_ge_2",
    "n_batches",
    "batch_size",
    "status",
)

# Rows handed together to the statistics: at least _MIN_CHUNK_ROWS (each call streams the
# d-vector accumulators once, so a chunk needs enough rows to amortise that) or _CHUNK_BYTES;
# kept rows go to the CPU kernels all at once (they need no temporaries).
_CHUNK_BYTES = 1 << 22
_MIN_CHUNK_ROWS = 16


@dataclass(frozen=True, eq=False)
class HarvestResult:
    """Gradient noise of a model at one set of parameters.

    Attributes
    ----------
    status : str
        ``"ok"``; ``"nonfinite"`` when some minibatch gradient (or loss) is
        NaN/inf (a diverged run: no statistic is computed, ``alpha`` is NaN);
        ``"inconsistent_batches"`` when the second pass of a streaming harvest
        saw different minibatches than the first (a data loader that
        reshuffles; the statistics are then unreliable).
    message : str
        Human-readable explanation of ``status``.
    table : tuple of dict
        The tidy tail-index table, one row per (layer, protocol, zeros); keys
        :data:`TABLE_COLUMNS`:

        - ``layer``: parameter name, or :data:`MODEL` for the whole model;
        - ``protocol``: ``"pooled"``, ``"standardized"``, ``"per_coordinate"``, ``"norm"``;
        - ``zeros``: ``"included"`` or ``"excluded"`` (zero-noise coordinates);
        - ``estimator``: ``"mohammadi"`` or ``"log_moment"``;
        - ``alpha``, ``stderr``, ``ci_low``, ``ci_high``, ``level``: the estimate
          and its confidence interval at ``level`` (for ``per_coordinate``: the
          median of the unclipped coordinate alphas and the order-statistic
          interval of the median; it may exceed 2);
        - ``n``: sample size entering the estimate (entries for pooled and
          standardized, coordinates for per_coordinate, noise vectors for norm);
        - ``block_size``: Mohammadi's ``K1`` (0 for log-moment);
        - ``n_coordinates``: coordinates of the layer in this variant;
        - ``n_zero``: zero-noise coordinates of the layer;
        - ``q05``, ``q25``, ``q75``, ``q95``: quantiles of the (unclipped)
          coordinate alphas (per_coordinate only, NaN otherwise);
        - ``frac_ge_2``: fraction of coordinates whose alpha is at or above 2
          (per_coordinate only, NaN otherwise);
        - ``n_batches``, ``batch_size``: ``K`` and the minibatch size;
        - ``status``: ``"ok"``, ``"undefined"`` (no finite estimate possible,
          e.g. a one-element layer with prime ``K``; for ``per_coordinate`` only
          when no coordinate has an estimate: its median is ``inf`` when most
          coordinates of the layer have no noise), ``"too_few_minibatches(K>=32)"``
          (per-coordinate and norm rows with fewer minibatches than
          :data:`MIN_BATCHES` asks: the number is reported but does not inform) or the
          result's status.
    gaussianity : tuple of dict
        One row per (layer, test): ``layer`` plus the keys of
        :func:`stabletail.sgd.gaussianity.gaussianity` (zero-noise coordinates
        are never tested).
    directions : tuple of dict
        One row per layer: ``layer``, ``dim``, ``n``, ``resultant_length``,
        ``resultant_length_uniform``, ``kappa``, ``kappa_banerjee``,
        ``norm_mean``, ``norm_std``, ``norm_cv`` of the minibatch gradients.
    layers : tuple of dict
        One row per parameter tensor and the model: ``layer``, ``shape``,
        ``offset``, ``n_params``, ``n_zero``, ``full_grad_norm``.
    n_batches, batch_size, n_params, n_passes, n_nonfinite : int
        ``K``, the minibatch size (None when the data loader decides), ``d``,
        passes over the data (1 or 2, plus 1 for an exact full gradient), and
        the number of minibatches with a non-finite gradient.
    full_gradient : numpy.ndarray, shape (d,)
        The full gradient (float64).
    grad_norms, noise_norms : numpy.ndarray, shape (K, n_layers + 1)
        Norms of ``g_k`` and of ``e_k`` per layer; last column the whole model.
    batch_losses : numpy.ndarray, shape (K,)
    noise : numpy.ndarray of shape (K, d), or None
        The noise matrix (``store=True`` only).
    per_coordinate_alpha : numpy.ndarray of shape (d,), or None
        ``alpha_j`` of every coordinate, unclipped (``inf`` for zero-noise
        coordinates; ``store=True`` only).
    seconds : float
        Wall time of the harvest.
    """

    status: str
    message: str
    table: tuple[dict[str, Any], ...]
    gaussianity: tuple[dict[str, Any], ...]
    directions: tuple[dict[str, Any], ...]
    layers: tuple[dict[str, Any], ...]
    n_batches: int
    batch_size: int | None
    n_params: int
    n_passes: int
    n_nonfinite: int
    full_gradient: np.ndarray
    grad_norms: np.ndarray
    noise_norms: np.ndarray
    batch_losses: np.ndarray
    noise: np.ndarray | None
    per_coordinate_alpha: np.ndarray | None
    seconds: float

    def rows(
        self, protocol: str | None = None, layer: str | None = None, zeros: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows of :attr:`table` matching the given values (None matches all)."""
        return [
            r
            for r in self.table
            if (protocol is None or r["protocol"] == protocol)
            and (layer is None or r["layer"] == layer)
            and (zeros is None or r["zeros"] == zeros)
        ]

    def alpha(self, protocol: str = "pooled", layer: str = MODEL, zeros: str = "included") -> float:
        """The ``alpha`` of one row of :attr:`table`."""
        found = self.rows(protocol, layer, zeros)
        if not found:
            raise KeyError(f"no row for protocol={protocol!r}, layer={layer!r}, zeros={zeros!r}")
        return float(found[0]["alpha"])

    def to_csv(self, path: str | os.PathLike[str], which: str = "table") -> None:
        """Write :attr:`table` (or ``"gaussianity"``, ``"directions"``, ``"layers"``) as CSV, atomically."""
        check_choice("which", which, ("table", "gaussianity", "directions", "layers"))
        rows = list(getattr(self, which))
        columns = TABLE_COLUMNS if which == "table" else (list(rows[0]) if rows else [])
        atomic_write_text(path, csv_text(rows, columns))

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the tables and scalar fields as one JSON document, atomically."""
        doc = {
            "status": self.status,
            "message": self.message,
            "n_batches": self.n_batches,
            "batch_size": self.batch_size,
            "n_params": self.n_params,
            "n_passes": self.n_passes,
            "n_nonfinite": self.n_nonfinite,
            "seconds": self.seconds,
            "table": list(self.table),
            "gaussianity": list(self.gaussianity),
            "directions": list(self.directions),
            "layers": list(self.layers),
        }
        atomic_write_text(path, json.dumps(doc, indent=1, default=_json_default, allow_nan=True))


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (tuple, np.ndarray)):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


# ----------------------------------------------------------------------------- data


_DATA_HELP = "data must be a pair (X, y) of torch tensors or an iterable of (x, y) tensor batches"


def _check_data(data: Any) -> None:
    """Refuse, up front and by name, what ``data`` cannot be."""
    if isinstance(data, (tuple, list)):
        tensors = [torch.is_tensor(t) for t in data]
        if len(data) == 0:
            raise ValueError(f"{_DATA_HELP}; got an empty {type(data).__name__}")
        if all(tensors) and len(data) != 2:
            raise TypeError(f"{_DATA_HELP}; got a {type(data).__name__} of {len(data)} tensors")
        if len(data) == 2 and any(tensors) and not all(tensors):
            kinds = ", ".join(type(t).__name__ for t in data)
            raise TypeError(f"{_DATA_HELP}; got ({kinds}) (convert with torch.as_tensor)")
        if len(data) == 2 and not any(tensors) and not all(isinstance(b, (tuple, list)) for b in data):
            kinds = ", ".join(type(t).__name__ for t in data)
            raise TypeError(f"{_DATA_HELP}; got ({kinds}) (convert with torch.as_tensor)")
    elif isinstance(data, (dict, str, bytes)) or torch.is_tensor(data) or not hasattr(data, "__iter__"):
        raise TypeError(f"{_DATA_HELP}; got {type(data).__name__}")


def _check_batch(item: Any, i: int) -> None:
    if not (isinstance(item, (tuple, list)) and len(item) >= 2 and torch.is_tensor(item[0])
            and torch.is_tensor(item[1])):
        raise TypeError(f"{_DATA_HELP}; batch {i} is {type(item).__name__}"
                        + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""))


def _check_loss_value(loss: Any) -> None:
    if not (torch.is_tensor(loss) and loss.numel() == 1):
        got = type(loss).__name__ if not torch.is_tensor(loss) else f"a tensor of shape {tuple(loss.shape)}"
        raise TypeError(
            f"loss_fn(model(x), y) must return the mean loss of the minibatch as a scalar tensor; got {got}"
        )


def _check_mean_reduction(model: Any, loss_fn: Any, x: torch.Tensor, y: torch.Tensor, probe: bool) -> None:
    """The exact full gradient weights chunk gradients by their sizes: the loss must be a mean.

    A loss module says so (``reduction``); any loss is probed: the mean loss of a batch equals
    that of the batch repeated twice, a summed loss doubles (probed in eval mode only: dropout
    would change the values)."""
    if getattr(loss_fn, "reduction", "mean") != "mean":
        raise ValueError(
            f"loss_fn has reduction={loss_fn.reduction!r}: the harvest needs the mean loss of each "
            "minibatch (reduction='mean'); with a sum the exact full gradient weights a partial "
            "last chunk wrongly"
        )
    if not probe:
        return
    with torch.no_grad():
        one = float(loss_fn(model(x), y))
        two = float(loss_fn(model(torch.cat([x, x])), torch.cat([y, y])))
    if math.isfinite(one) and one != 0.0 and abs(two - 2.0 * one) < 1e-3 * abs(one) < abs(two - one):
        raise ValueError("loss_fn returns a sum over the batch (doubling the batch doubles it): the harvest "
                         "needs the mean loss of each minibatch (e.g. reduction='mean')")


class _Batches:
    """The K minibatches (fixed for both passes) and the exact full-data pass."""

    def __init__(
        self,
        data: Any,
        batch_size: int | None,
        n_batches: int | None,
        sampling: str,
        rng: np.random.Generator,
    ) -> None:
        self.tensors: tuple[torch.Tensor, torch.Tensor] | None = None
        self.iterable: Iterable[Any] | None = None
        _check_data(data)
        self.one_shot = False
        if isinstance(data, (tuple, list)) and len(data) == 2 and all(torch.is_tensor(t) for t in data):
            x, y = data
            if x.shape[0] != y.shape[0]:
                raise ValueError(
                    f"data: X and y must have the same length, got {x.shape[0]} and {y.shape[0]}"
                )
            n = int(x.shape[0])
            if batch_size is None:
                raise ValueError("batch_size must be given when data is a pair of tensors (X, y)")
            batch_size = check_int("batch_size", batch_size, 1, n)
            self.tensors = (x, y)
            self.n = n
            if sampling == "partition":
                most = n // batch_size
                k = most if n_batches is None else check_int("n_batches", n_batches, 1, most)
                self.index = [slice(i * batch_size, (i + 1) * batch_size) for i in range(k)]
            else:
                if n_batches is None:
                    raise ValueError("n_batches must be given when sampling='random'")
                k = check_int("n_batches", n_batches, 1)
                self.index = [torch.from_numpy(rng.choice(n, batch_size, replace=False)) for _ in range(k)]
        else:
            if not hasattr(data, "__iter__"):
                raise TypeError("data must be a pair of tensors (X, y) or an iterable of (x, y) batches")
            if sampling != "partition":
                raise ValueError("sampling='random' needs data as a pair of tensors (X, y)")
            self.iterable = data
            self.one_shot = iter(data) is data  # a generator or iterator: one pass only
            if n_batches is None:
                try:
                    k = len(data)  # type: ignore[arg-type]
                except TypeError:
                    raise ValueError("n_batches must be given when data has no len()") from None
            else:
                k = check_int("n_batches", n_batches, 1)
        self.k = k
        self.batch_size = batch_size

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.tensors is not None:
            x, y = self.tensors
            for idx in self.index:
                yield x[idx], y[idx]
            return
        count = 0
        for item in self.iterable:  # type: ignore[union-attr]
            if count == self.k:
                break
            _check_batch(item, count)
            yield item[0], item[1]
            count += 1
        if count < self.k:
            raise ValueError(f"data yielded {count} batches, fewer than n_batches={self.k}")

    def full(self) -> Iterator[tuple[Any, Any]]:
        """Every example once (chunks of batch_size; the whole iterable)."""
        if self.tensors is not None:
            x, y = self.tensors
            b = self.batch_size or self.n
            for i in range(0, self.n, b):
                yield x[i : i + b], y[i : i + b]
        else:
            for item in self.iterable:  # type: ignore[union-attr]
                yield item[0], item[1]


def _to(t: Any, device: torch.device, dtype: torch.dtype) -> Any:
    if torch.is_tensor(t):
        if t.is_floating_point():
            return t.to(device=device, dtype=dtype, non_blocking=True)
        return t.to(device=device, non_blocking=True)
    return t


# ----------------------------------------------------------------------------- harvest


def _check_options(
    sampling: str,
    full_gradient: str,
    protocols: Sequence[str],
    per_coordinate_estimator: str,
    zeros: Sequence[str],
    gaussianity_tests: Sequence[str] | None,
    n_gaussianity: int,
    n_coordinates: int | None,
    buffer_bytes: int,
    eps: float | None,
    level: float,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], int, int | None, int, float, float]:
    """Validate the options shared by :func:`harvest` and the distributed harvest."""
    check_choice("sampling", sampling, ("partition", "random"))
    check_choice("full_gradient", full_gradient, ("mean", "exact"))
    protocols = tuple(protocols)
    for p in protocols:
        check_choice("protocols", p, PROTOCOLS)
    check_choice("per_coordinate_estimator", per_coordinate_estimator, PER_COORDINATE_ESTIMATORS)
    zeros = tuple(zeros)
    if not zeros:
        raise ValueError("zeros must name at least one of 'included', 'excluded'")
    for z in zeros:
        check_choice("zeros", z, ("included", "excluded"))
    tests = tuple(gaussianity_tests or ())
    for t in tests:
        check_choice("gaussianity_tests", t, GAUSSIANITY_TESTS)
    n_gaussianity = check_int("n_gaussianity", n_gaussianity, 0)
    if n_coordinates is not None:
        n_coordinates = check_int("n_coordinates", n_coordinates, 1)
    buffer_bytes = check_int("buffer_bytes", buffer_bytes, 0)
    eps = float(np.spacing(1.0)) if eps is None else check_scalar("eps", eps, 0.0)
    return protocols, zeros, tests, n_gaussianity, n_coordinates, buffer_bytes, eps, check_level(level)


def _trainable(model: torch.nn.Module) -> tuple[list[str], list[torch.Tensor], torch.device, torch.dtype]:
    """Names and tensors of the trainable parameters, which must share one device and dtype."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("model has no parameter with requires_grad=True")
    names = [n for n, _ in named]
    params = [p for _, p in named]
    device, dtype = params[0].device, params[0].dtype
    if any(p.device != device or p.dtype != dtype for p in params):
        raise ValueError(
            "model: every trainable parameter must have the same device and dtype "
            f"(found {sorted({f'{p.device}/{p.dtype}' for p in params})})"
        )
    return names, params, device, dtype


def harvest(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    data: Any,
    batch_size: int | None = None,
    *,
    n_batches: int | None = None,
    sampling: str = "partition",
    full_gradient: str = "mean",
    protocols: Sequence[str] = PROTOCOLS,
    zeros: Sequence[str] = ("included", "excluded"),
    per_coordinate_estimator: str = "mohammadi",
    n_coordinates: int | None = None,
    gaussianity_tests: Sequence[str] | None = GAUSSIANITY_TESTS,
    n_gaussianity: int = 1000,
    directions: bool = True,
    eval_mode: bool = True,
    store: bool = False,
    buffer_bytes: int = 1 << 30,
    eps: float | None = None,
    level: float = 0.95,
    random_state: SeedLike = 0,
    progress: bool | None = None,
) -> HarvestResult:
    """Measure the stochastic gradient noise of ``model`` at its current parameters.

    Parameters
    ----------
    model : torch.nn.Module
        Its trainable parameters (``requires_grad=True``), in
        ``named_parameters()`` order, are the coordinates. Computation runs on
        their device and in their dtype (they must share both).
    loss_fn : callable
        ``loss_fn(model(x), y)`` returns the mean loss of the minibatch
        (reduction ``"mean"``).
    data : (X, y) tensors, or an iterable of ``(x, y)`` batches
        A DataLoader-like iterable must yield the same batches each time it is
        iterated (no reshuffling) when the harvest streams in two passes; the
        harvest checks the per-batch losses of both passes and reports
        ``status="inconsistent_batches"`` otherwise.
    batch_size : int, optional
        Minibatch size (required for tensors; ignored for an iterable).
    n_batches : int, optional
        ``K``. Partition: the first ``K`` batches (default: all full batches; a
        trailing partial batch is left out). Random: required.
    sampling : {"partition", "random"}
        A fixed partition into consecutive minibatches (the published
        protocol), or ``K`` independent draws of ``batch_size`` distinct
        examples (tensors only, seeded by ``random_state``).
    full_gradient : {"mean", "exact"}
        ``"mean"``: the mean of the ``K`` minibatch gradients (the published
        protocol; then the noise sums to zero). ``"exact"``: the gradient of
        the mean loss over all of ``data`` (an extra pass; chunks weighted by
        their size).
    protocols : sequence of str
        Any of :data:`~stabletail.sgd.protocols.PROTOCOLS`.
    zeros : sequence of {"included", "excluded"}
        Which variants to report: with the zero-noise coordinates (identical
        gradient in every minibatch), without them, or both (default).
    per_coordinate_estimator : {"mohammadi", "log_moment"}
        Estimator of ``"per_coordinate"`` (see :mod:`stabletail.sgd.protocols`
        for why Mohammadi is the default).
    n_coordinates : int, optional
        Summarise ``"per_coordinate"`` on a seeded uniform subset of this many
        coordinates of the model (default all); layer rows use the subset's
        coordinates in that layer.
    gaussianity_tests : sequence of str or None
        Tests of :mod:`stabletail.sgd.gaussianity` (None: none).
    n_gaussianity : int
        Coordinates tested per layer (seeded, among the non-zero-noise ones);
        the model row tests the union.
    directions : bool
        Compute the vMF concentration and gradient-norm spread.
    eval_mode : bool
        Evaluate with ``model.eval()`` (the published protocol); False uses
        ``model.train()`` (dropout draws are then seeded per minibatch, the same
        in both passes, and batch-norm running statistics are restored after).
    store : bool
        Keep the gradients on the device and return the noise matrix and the
        per-coordinate alphas.
    buffer_bytes : int
        Device memory allowed for keeping the ``K x d`` gradients (one pass);
        above it the harvest streams in two passes.
    eps : float, optional
        Added inside every ``log(|x| + eps)``; default ``np.spacing(1)`` as in
        Simsekli et al.'s code (it only matters for exact zeros).
    level : float
        Confidence level of every interval and test.
    random_state : int, numpy.random.Generator or None
        Seeds random draws, coordinate subsets and dropout.
    progress : bool, optional
        A tqdm progress bar (default: when stderr is a terminal).

    Returns
    -------
    HarvestResult
        ``table`` holds one row per (layer, protocol, zeros) with the columns
        :data:`TABLE_COLUMNS`; see :class:`HarvestResult` for every field. A
        non-finite gradient never raises: it gives ``status="nonfinite"``.

    Notes
    -----
    The model's train/eval flags (per module), its buffers, the parameters'
    ``.grad`` and the global grad mode and RNG state are the same after the
    call as before, also when it raises.
    """
    return _harvest(
        model, loss_fn, data, batch_size, _Local(), n_batches=n_batches, sampling=sampling,
        full_gradient=full_gradient, protocols=protocols, zeros=zeros,
        per_coordinate_estimator=per_coordinate_estimator, n_coordinates=n_coordinates,
        gaussianity_tests=gaussianity_tests, n_gaussianity=n_gaussianity, directions=directions,
        eval_mode=eval_mode, store=store, buffer_bytes=buffer_bytes, eps=eps, level=level,
        random_state=random_state, progress=progress,
    )


class _Local:
    """Hooks of the single-process harvest; :mod:`stabletail.sgd.distributed` overrides them.

    A shard computes the minibatch rows ``[start, stop)`` of :meth:`rows`; the
    hooks turn its accumulators into those of the whole partition after each pass.
    """

    world, rank = 1, 0
    device = torch.device("cpu")  # the model's, set by the harvest

    def seed(self, random_state: SeedLike) -> SeedLike:
        """The random state every shard uses (the same on all)."""
        return random_state

    def rows(self, k: int, rank: int | None = None) -> tuple[int, int]:
        """Rows ``[start, stop)`` of shard ``rank`` (default: this one)."""
        return 0, k

    def sum_(self, t: torch.Tensor) -> torch.Tensor:
        """Sum ``t`` over the shards, in place."""
        return t

    def any_(self, flag: bool) -> bool:
        """True when ``flag`` is True on some shard."""
        return flag

    def prepass(self, pre: ts.PrePass, n_rows: int) -> torch.Tensor:
        """Combine the first-pass statistics; return the zero-noise mask."""
        return pre.zero_mask()

    def mainpass(self, main: ts.MainPass) -> None:
        """Combine the noise statistics."""


# Workspaces for the K x d rows and for the float64 d-vector accumulators are kept between
# harvests (each up to _KEEP_BYTES) so that a monitor harvesting every N steps does not touch
# fresh memory (page faults) each time; see docs/sgd.md.
_N_ACC = 12  # d-vectors of accumulators: 4 first-pass (s1, s2, spread, sd), 7 noise-pass, 1 spare
_KEEP_BYTES = 1 << 28
_workspaces: dict[tuple[str, str, torch.dtype], torch.Tensor] = {}
_workspace_lock = threading.Lock()


def _take_workspace(role: str, n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A 1-D tensor of at least ``n`` elements for ``role`` (reused when one is free)."""
    with _workspace_lock:
        ws = _workspaces.pop((role, str(device), dtype), None)
    if ws is None or ws.numel() < n:
        ws = torch.empty(n, dtype=dtype, device=device)
    return ws


def _give_workspace(role: str, ws: torch.Tensor) -> None:
    # CPU only: torch's CUDA allocator already keeps freed blocks, and device memory is scarcer
    if ws.device.type == "cpu" and ws.numel() * ws.element_size() <= _KEEP_BYTES:
        with _workspace_lock:
            _workspaces[(role, str(ws.device), ws.dtype)] = ws


def _harvest(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    data: Any,
    batch_size: int | None,
    shard: _Local,
    *,
    n_batches: int | None,
    sampling: str,
    full_gradient: str,
    protocols: Sequence[str],
    zeros: Sequence[str],
    per_coordinate_estimator: str,
    n_coordinates: int | None,
    gaussianity_tests: Sequence[str] | None,
    n_gaussianity: int,
    directions: bool,
    eval_mode: bool,
    store: bool,
    buffer_bytes: int,
    eps: float | None,
    level: float,
    random_state: SeedLike,
    progress: bool | None,
) -> HarvestResult:
    """The harvest of the rows of ``shard`` (all of them for :class:`_Local`)."""
    t0 = time.perf_counter()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    protocols, zeros, tests, n_gaussianity, n_coordinates, buffer_bytes, eps, level = _check_options(
        sampling, full_gradient, protocols, per_coordinate_estimator, zeros, gaussianity_tests,
        n_gaussianity, n_coordinates, buffer_bytes, eps, level
    )
    names, params, device, dtype = _trainable(model)
    shard.device = device
    random_state = shard.seed(random_state)
    rng = check_random_state(random_state)
    offsets = [0]
    for p in params:
        offsets.append(offsets[-1] + p.numel())
    d = offsets[-1]

    batches = _Batches(data, batch_size, n_batches, sampling, rng)  # the same draws on every shard
    if batches.one_shot and full_gradient == "exact":
        raise ValueError(
            "full_gradient='exact' needs a second pass over data, but data is a one-shot iterator "
            "(a generator?): pass a list or a re-iterable loader, or full_gradient='mean'"
        )
    k = batches.k
    start, stop = shard.rows(k)
    n_own = stop - start
    most = max(b - a for a, b in (shard.rows(k, r) for r in range(shard.world)))
    itemsize = torch.empty((), dtype=dtype).element_size()
    keep = store or most * d * itemsize <= buffer_bytes
    chunk_rows = max(_MIN_CHUNK_ROWS, _CHUNK_BYTES // max(1, d * itemsize))
    if keep and ts.uses_kernels(device, dtype):
        chunk_rows = n_own
    chunk_rows = max(1, min(max(n_own, 1), chunk_rows))
    seed_base = int(rng.integers(2**62))
    want = set(protocols)
    if directions:
        want.add("directions")
    n_passes = (1 if keep else 2) + (full_gradient == "exact")
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_own * (1 if keep else 2) + (full_gradient == "exact"), desc="harvest", leave=False)

    # ------------------------------------------------------------ state to restore
    modes = [(m, m.training) for m in model.modules()]
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
    rng_devices = [device] if device.type != "cpu" else []
    ws = _take_workspace("rows", (n_own if keep else chunk_rows) * d, device, dtype)
    acc_ws = _take_workspace("acc", _N_ACC * d, device, torch.float64)
    arena = ts.Arena(acc_ws, device)
    threads = contextlib.ExitStack()  # the kernels' parallel regions use as many threads as torch
    if ts.uses_kernels(device, dtype):
        threads.enter_context(ts.kernel_threads(torch.get_num_threads()))
    try:
        model.train(not eval_mode)
        with torch.random.fork_rng(devices=rng_devices, device_type=device.type if rng_devices else None):
            with torch.enable_grad():

                def grad_into(x: Any, y: Any, row: torch.Tensor, i: int | None) -> torch.Tensor:
                    if i is not None and not eval_mode:  # same dropout draws in both passes
                        torch.default_generator.manual_seed(seed_base + i)
                        if device.type != "cpu":
                            getattr(torch, device.type).manual_seed(seed_base + i)
                    x, y = _to(x, device, dtype), _to(y, device, dtype)
                    loss = loss_fn(model(x), y)
                    _check_loss_value(loss)
                    grads = torch.autograd.grad(loss, params, allow_unused=True)
                    flat = [
                        (g if g is not None else torch.zeros_like(p)).reshape(-1)
                        for g, p in zip(grads, params)
                    ]
                    torch.cat(flat, out=row)
                    if bar is not None:
                        bar.update(1)
                    return loss.detach()

                # this shard's rows: all of them when kept, one reused chunk when streaming
                buf = ws[: (n_own if keep else chunk_rows) * d].view(-1, d)

                def rows_pass(sink: Callable[[torch.Tensor, int], None]) -> torch.Tensor:
                    """One pass over this shard's rows; ``sink(rows, first_row)`` per chunk of rows."""
                    own_losses = []
                    c0 = start
                    for i, (x, y) in enumerate(batches):
                        if i < start:
                            continue
                        if i >= stop:
                            break
                        slot = i - start if keep else i - c0
                        own_losses.append(grad_into(x, y, buf[slot], i))
                        if i + 1 - c0 == chunk_rows or i + 1 == stop:
                            sink(buf[c0 - start : i + 1 - start] if keep else buf[: i + 1 - c0], c0)
                            c0 = i + 1
                    pass_losses = torch.zeros(k, dtype=torch.float64, device=device)
                    if own_losses:
                        pass_losses[start:stop] = torch.stack(own_losses).to(torch.float64)
                    return pass_losses

                pre = ts.PrePass(k, offsets, dtype, device, arena)
                losses = shard.sum_(rows_pass(pre.update))
                zero = shard.prepass(pre, n_own)
                sq = pre.sq_norms
                n_bad = int(k - (torch.isfinite(sq.sum(1)) & torch.isfinite(losses)).sum().item())
                if full_gradient == "exact" and n_bad == 0:
                    acc = torch.zeros(d, dtype=torch.float64, device=device)
                    total = torch.zeros((), dtype=torch.float64, device=device)
                    row = torch.empty(d, dtype=dtype, device=device)
                    for j, (x, y) in enumerate(batches.full()):
                        if j == 0:
                            _check_mean_reduction(
                                model, loss_fn, _to(x, device, dtype), _to(y, device, dtype), eval_mode
                            )
                        if j % shard.world == shard.rank:
                            m = int(x.shape[0])
                            grad_into(x, y, row, None)
                            acc += row.to(torch.float64) * m
                            total += m
                    total = shard.sum_(total)
                    if float(total) == 0.0:
                        raise ValueError(
                            "full_gradient='exact' found no data in its pass over data: an iterator "
                            "or generator is exhausted after the minibatch passes; pass a list or "
                            "a re-iterable loader, or full_gradient='mean'"
                        )
                    g_full64 = shard.sum_(acc) / total
                else:
                    g_full64 = pre.mean()
                if not torch.isfinite(g_full64).all():
                    n_bad = max(n_bad, 1)
                sd = pre.std(arena.zeros(d))
                status, message, main = "ok", "", None
                if n_bad:
                    status = "nonfinite"
                    message = f"{n_bad} of {k} minibatch gradients or losses are not finite (diverged?)"
                else:
                    inv_sd = torch.where(zero | (sd == 0), 0.0, 1.0 / sd)
                    nz_index = torch.nonzero(~zero).reshape(-1) if bool(zero.any()) else None
                    gauss_index = _gauss_index(zero, offsets, n_gaussianity, rng, device) if tests else None
                    norms = torch.cat([sq, sq.sum(1, keepdim=True)], 1).sqrt()
                    inv_norms = torch.where(norms > 0, 1.0 / norms, 0.0)
                    main = ts.MainPass(k, offsets, g_full64.to(dtype), inv_sd, nz_index, frozenset(want), eps,
                                       gauss_index, inv_norms, arena)
                    if keep:
                        for c0 in range(0, n_own, chunk_rows):
                            main.update(buf[c0 : c0 + chunk_rows], start + c0)
                    else:
                        losses2 = rows_pass(main.update)
                        own = slice(start, stop)
                        if shard.any_(not torch.allclose(losses[own], losses2[own], rtol=1e-5, atol=0.0)):
                            status = "inconsistent_batches"
                            message = (
                                "the two passes over data saw different minibatches (reshuffling loader?)"
                            )
                    shard.mainpass(main)
                    if store:  # the rows now hold the noise
                        noise = buf.to(torch.float64, copy=True).cpu().numpy()  # not the workspace
    finally:
        threads.close()
        _give_workspace("rows", ws)
        for mod, flag in modes:
            mod.training = flag
        with torch.no_grad():
            for b, saved in saved_buffers:
                b.copy_(saved)
        if bar is not None:
            bar.close()

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
    pc_alpha = None
    if main is None:
        noise = None
        table = _nan_table(protocols, layer_names, layers_tab, per_coordinate_estimator, common, status)
        gauss_rows: list[dict[str, Any]] = []
        dir_rows: list[dict[str, Any]] = []
        noise_norms = np.full_like(grad_norms, np.nan)
    else:
        if not store:
            noise = None
        table, pc_alpha, noise_norms = _build_table(
            main, protocols, layer_names, ranges, zero_np, sd, eps, level, per_coordinate_estimator,
            n_coordinates, rng, common, status, k
        )
        gauss_rows = _gauss_rows(main, layer_names, offsets, tests, level, random_state) if tests else []
        dir_rows = _direction_rows(main, layer_names, ranges, grad_norms) if directions else []
    _give_workspace("acc", acc_ws)  # nothing returned below refers to it
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
        noise=noise,
        per_coordinate_alpha=pc_alpha if store else None,
        seconds=time.perf_counter() - t0,
    )


def _gauss_index(
    zero: torch.Tensor, offsets: Sequence[int], m: int, rng: np.random.Generator, device: torch.device
) -> torch.Tensor | None:
    if m == 0:
        return None
    zero_np = zero.cpu().numpy()
    picks = []
    for a, b in zip(offsets[:-1], offsets[1:]):
        nz = a + np.flatnonzero(~zero_np[a:b])
        if nz.size:
            picks.append(np.sort(rng.choice(nz, min(m, nz.size), replace=False)))
    if not picks:
        return None
    return torch.from_numpy(np.concatenate(picks)).to(device)


def _nan_table(
    protocols: Sequence[str],
    layer_names: Sequence[str],
    layers_tab: Sequence[dict[str, Any]],
    estimator: str,
    common: dict[str, Any],
    status: str,
) -> list[dict[str, Any]]:
    rows = []
    for name, info in zip(layer_names, layers_tab):
        for proto in protocols:
            for zeros in ("included", "excluded"):
                row = dict.fromkeys(TABLE_COLUMNS, math.nan)
                row.update(common)
                row.update(
                    layer=name,
                    protocol=proto,
                    zeros=zeros,
                    estimator=estimator if proto == "per_coordinate" else "mohammadi",
                    n=0,
                    block_size=0,
                    n_coordinates=info["n_params"] - (info["n_zero"] if zeros == "excluded" else 0),
                    n_zero=info["n_zero"],
                    status=status,
                )
                rows.append(row)
    return rows


def _build_table(
    main: ts.MainPass,
    protocols: Sequence[str],
    layer_names: Sequence[str],
    ranges: Sequence[tuple[int, int]],
    zero: np.ndarray,
    sd: torch.Tensor,
    eps: float,
    level: float,
    estimator: str,
    n_coordinates: int | None,
    rng: np.random.Generator,
    common: dict[str, Any],
    status: str,
    k: int,
) -> tuple[list[dict[str, Any]], np.ndarray | None, np.ndarray]:
    px = main.px.cpu().numpy()
    px2 = main.px2.cpu().numpy()
    nz = ~zero
    with np.errstate(divide="ignore"):
        log_sd = np.where(nz, np.log(sd.cpu().numpy()), 0.0)
    row_sq = main.row_sq_norms.cpu().numpy()
    noise_norms = np.sqrt(np.concatenate([row_sq, row_sq.sum(1, keepdims=True)], 1))
    pc_alpha = None
    subset = None
    if "per_coordinate" in protocols:
        py = main.py.cpu().numpy() if main.need_rows else None
        pxr = main.pxr.cpu().numpy() if main.need_rows else None
        pc_alpha = per_coordinate_alpha(px, px2, py, pxr, k, main.k1, main.k2, estimator, zero)
        if n_coordinates is not None and n_coordinates < px.size:
            subset = np.zeros(px.size, dtype=bool)
            subset[rng.choice(px.size, n_coordinates, replace=False)] = True
    if "norm" in protocols and main.need_rows:
        blk_sq = main.block_sq_norms.cpu().numpy()
        block_norms = np.sqrt(np.concatenate([blk_sq, blk_sq.sum(1, keepdims=True)], 1))
    flat = main.flat_stats()  # (pooled / standardized, stream, [sum, sum of squares, n, block])
    # per-scope sums of the per-coordinate log sums (x = log(|e| + eps), c = log sd): rows
    # sum x, sum x^2, sum c, sum c x, sum c^2; columns the layers then the model; with (0) and
    # without (1) the zero-noise coordinates
    starts = np.asarray([a for a, _ in ranges[:-1]])
    scope = np.empty((2, 5, len(ranges)))
    with np.errstate(invalid="ignore"):  # eps = 0: x = -inf on zero-noise coordinates (c = 0 there)
        for t, term in enumerate((px, px2, log_sd, log_sd * px, log_sd * log_sd)):
            scope[0, t, :-1] = np.add.reduceat(term, starts)
            scope[1, t, :-1] = (
                np.add.reduceat(np.where(nz, term, 0.0), starts) if not nz.all() else scope[0, t, :-1]
            )
        scope[:, :, -1] = scope[:, :, :-1].sum(2)
    rows = []
    n_layers = len(ranges) - 1
    for li, (name, (a, b)) in enumerate(zip(layer_names, ranges)):
        sel = slice(a, b)
        n_zero = int(zero[sel].sum())
        nz_sel = nz[sel]
        for zeros in ("included", "excluded"):
            drop = zeros == "excluded" and n_zero > 0
            n_coord = (b - a) - (n_zero if drop else 0)
            sum_x, sum_x2, sum_c, sum_cx, sum_c2 = scope[int(drop), :, li]
            for proto in protocols:
                out = dict.fromkeys(TABLE_COLUMNS, math.nan)
                out.update(common)
                out.update(layer=name, protocol=proto, zeros=zeros, estimator="mohammadi",
                           n_coordinates=n_coord, n_zero=n_zero, status=status)
                est = None
                if proto in ("pooled", "standardized"):
                    v = int(zeros == "excluded" and main.nz_index is not None)
                    sy, sy2, ny, block = flat[int(proto == "standardized"), v * (n_layers + 1) + li]
                    if (
                        proto == "standardized"
                    ):  # sums of (x - c) and (x - c)^2 over the K rows; c = 0 on zeros
                        sx, sx2 = sum_x - k * sum_c, sum_x2 - 2.0 * sum_cx + k * sum_c2
                    else:
                        sx, sx2 = sum_x, sum_x2
                    est = mohammadi_from_log_sums(float(sx), float(sx2), k * n_coord, float(sy), float(sy2),
                                                  int(ny), int(block))
                    out.update(n=k * n_coord, block_size=int(block))
                elif proto == "per_coordinate":
                    if zeros == "included" or drop:  # else the same coordinates as "included"
                        vals = pc_alpha[sel]
                        pick = nz_sel if drop else None
                        if subset is not None:
                            pick = subset[sel] if pick is None else pick & subset[sel]
                        if pick is not None:
                            vals = vals[pick]
                        summary = summarize_per_coordinate(vals, level)
                        n_used = int(np.count_nonzero(~np.isnan(vals)))
                    out.update(summary)
                    out.update(estimator=estimator, n=n_used,
                               block_size=main.k1 if estimator == "mohammadi" else 0)
                else:  # norm: dropping zero-noise coordinates changes no norm
                    col = li if li < n_layers else n_layers
                    est = None
                    if main.need_rows:
                        lxn = np.log(noise_norms[: main.rows_used, col] + eps)
                        lyn = np.log(block_norms[:, col] + eps)
                        est = mohammadi_from_log_sums(float(lxn.sum()), float((lxn * lxn).sum()), lxn.size,
                                                      float(lyn.sum()), float((lyn * lyn).sum()), lyn.size,
                                                      main.k1)
                    out.update(n=main.rows_used, block_size=main.k1)
                if est is not None:
                    ci_low, ci_high = est.ci(level)
                    out.update(alpha=est.alpha, stderr=est.stderr, ci_low=ci_low, ci_high=ci_high)
                # a per-coordinate median may be inf (most coordinates without noise): still an answer
                undefined = (
                    math.isnan(out["alpha"]) if proto == "per_coordinate" else not math.isfinite(out["alpha"])
                )
                if status == "ok" and undefined:
                    out["status"] = "undefined"
                elif status == "ok" and proto in MIN_BATCHES and k < MIN_BATCHES[proto]:
                    out["status"] = f"too_few_minibatches(K>={MIN_BATCHES[proto]})"
                rows.append(out)
    order = {p: i for i, p in enumerate(protocols)}
    rows.sort(key=lambda r: (layer_names.index(r["layer"]), order[r["protocol"]], r["zeros"] != "included"))
    return rows, pc_alpha, noise_norms


def _gauss_rows(
    main: ts.MainPass,
    layer_names: Sequence[str],
    offsets: Sequence[int],
    tests: Sequence[str],
    level: float,
    random_state: SeedLike,
) -> list[dict[str, Any]]:
    if main.gauss_index is None:
        return []
    samples = main.gauss.to(torch.float64).cpu().numpy()
    idx = main.gauss_index.cpu().numpy()
    seed = random_state if isinstance(random_state, (int, np.integer)) else 0
    rows = []
    ranges = list(zip(offsets[:-1], offsets[1:])) + [(0, offsets[-1])]
    for name, (a, b) in zip(layer_names, ranges):
        cols = (idx >= a) & (idx < b)
        if not cols.any() or samples.shape[0] < 8:
            continue
        for row in gaussianity(samples[:, cols], level=level, tests=tests, random_state=int(seed)):
            rows.append({"layer": name, **row})
    return rows


def _direction_rows(
    main: ts.MainPass, layer_names: Sequence[str], ranges: Sequence[tuple[int, int]], grad_norms: np.ndarray
) -> list[dict[str, Any]]:
    inv = main.inv_norms.cpu().numpy()
    rows = []
    n_layers = len(ranges) - 1
    for li, (name, (a, b)) in enumerate(zip(layer_names, ranges)):
        if li < n_layers:
            s = main.unit_sums[a:b]
        else:
            s = main.unit_sum_model
        n_used = int((inv[:, li] > 0).sum())
        r = float(torch.linalg.vector_norm(s).item()) / n_used if n_used else math.nan
        rows.append({"layer": name, **direction_summary(min(r, 1.0), b - a, n_used, grad_norms[:, li])})
    return rows
