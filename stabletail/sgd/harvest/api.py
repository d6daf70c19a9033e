"""``harvest``: the call users make."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from ..._typing import SeedLike
from ..gaussianity import GAUSSIANITY_TESTS
from ..protocols import (
    PROTOCOLS,
)
from .driver import LocalShard, run
from .result import HarvestResult


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
    return run(
        model, loss_fn, data, batch_size, LocalShard(), n_batches=n_batches, sampling=sampling,
        full_gradient=full_gradient, protocols=protocols, zeros=zeros,
        per_coordinate_estimator=per_coordinate_estimator, n_coordinates=n_coordinates,
        gaussianity_tests=gaussianity_tests, n_gaussianity=n_gaussianity, directions=directions,
        eval_mode=eval_mode, store=store, buffer_bytes=buffer_bytes, eps=eps, level=level,
        random_state=random_state, progress=progress,
    )
