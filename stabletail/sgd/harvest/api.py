"""``harvest``: the call users make."""

from __future__ import annotations

from typing import Any, Callable

import torch

from .driver import run
from .options import HarvestOptions
from .result import HarvestResult
from .shard import LocalShard

__all__ = ["harvest"]


def harvest(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    data: Any,
    batch_size: int | None = None,
    *,
    options: HarvestOptions | None = None,
    **kwargs: Any,
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
    options : HarvestOptions, optional
        Every option below as one object; keywords given as well replace its
        fields. An unknown keyword raises :class:`TypeError`.
    n_batches : int, optional
        ``K``. Partition: the first ``K`` batches (default: all full batches; a
        trailing partial batch is left out). Random: required.
    sampling : {"partition", "random", "per_example"}
        A fixed partition into consecutive minibatches (the published
        protocol), ``K`` independent draws of ``batch_size`` distinct
        examples (tensors only, seeded by ``random_state``), or the gradients of
        ``K`` distinct single examples (b = 1; tensors only, drawn by
        ``random_state``, default all; ``batch_size`` 1 or None; computed with
        ``torch.func.vmap``; batch norm only with running statistics, see
        :mod:`stabletail.sgd.harvest.perexample`). The result's ``examples`` holds
        their indices in ``data``.
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
    n_gaussianity : int or None
        Coordinates tested per layer by Shapiro-Wilk and Anderson-Darling (seeded,
        among the non-zero-noise ones; None: all of them); the model row tests the
        union. Jarque-Bera tests every non-zero-noise coordinate, from the sums of
        the noise's powers that the noise pass keeps.
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

    Raises
    ------
    ValueError
        For bad options or data; with ``sampling="per_example"`` also for a
        ``batch_size`` other than 1, a data loader, ``eval_mode=False`` on a model
        with batch norm, or batch norm without running statistics.
    RuntimeError
        With ``sampling="per_example"``, when ``torch.func.vmap`` cannot batch the
        model or loss.

    Notes
    -----
    The model's train/eval flags (per module), its buffers, the parameters'
    ``.grad`` and the global grad mode and RNG state are the same after the
    call as before, also when it raises.
    """
    return run(model, loss_fn, data, batch_size, HarvestOptions.build(options, **kwargs), LocalShard())
