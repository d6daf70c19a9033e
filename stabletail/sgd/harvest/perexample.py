"""Single-example gradients (``sampling="per_example"``) with :mod:`torch.func`, in chunks.

The ``K`` rows of a per-example harvest are the gradients of the loss of one example
each, ``g_i = grad loss(model(x_i), y_i)`` (a batch of one), computed for a chunk of
examples at once by ``torch.func.vmap(torch.func.grad(f))`` over
``torch.func.functional_call`` and written into the harvest's row buffer in the flat
layout of the minibatch rows (trainable parameters in ``named_parameters()`` order).

Batch norm: in train mode a batch-norm layer normalises by the statistics of the
batch, and a batch of one example has no spread: the layer's output is its bias
whatever the input, so no gradient reaches the layers below it (and
``BatchNorm1d`` refuses a batch of one). Per-example gradients are therefore
defined with running statistics only: under ``eval_mode=True`` (the default) a
batch-norm layer is the affine map of its running mean and variance, and the
per-example gradient is the gradient of that map; ``eval_mode=False`` and batch-norm
layers without running statistics (``track_running_stats=False``, which normalise by
the batch even in eval mode) are refused (:func:`check_model`).

Dropout (``eval_mode=False``): the driver then computes the rows one example at a time
by the minibatch path (a batch of one, torch's generator seeded with the harvest's seed
plus the row number, as for minibatches), so the masks do not depend on how rows are
chunked or shared out, and both passes of a streaming harvest draw the same ones; this
class (vmap, which would draw the masks of a whole chunk from one seed) serves the
eval-mode harvests.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from .batches import check_loss_value, to_device

__all__ = ["PerExampleGradients", "check_model", "chunk_rows"]

# At most this many examples, and gradients of at most CALL_BYTES, per vmap call: its outputs are
# fresh memory, and above glibc's mmap threshold (32 MiB at most) every call would fault in new pages
# (MLP 784-100-10 on one thread, 512 examples: 64 per call 44 ms, 256 per call 113 ms, 8 per call 100 ms).
MAX_CHUNK = 256
CALL_BYTES = 1 << 24


def check_model(model: torch.nn.Module, eval_mode: bool) -> None:
    """Refuse models whose single-example gradients are degenerate (train-mode batch norm).

    Raises
    ------
    ValueError
        When ``model`` has a batch-norm layer and ``eval_mode`` is False, or a batch-norm
        layer without running statistics.
    """
    bn = torch.nn.modules.batchnorm._BatchNorm
    norms = [name for name, m in model.named_modules() if isinstance(m, bn)]
    if not norms:
        return
    if not eval_mode:
        raise ValueError(
            f"sampling='per_example' with eval_mode=False: batch-norm layer {norms[0]!r} would normalise "
            "each example by the statistics of a batch of one (its output is then its bias and the "
            "gradient of the layers below it is zero); use eval_mode=True (running statistics)"
        )
    batch_stats = [name for name, m in model.named_modules() if isinstance(m, bn) and m.running_mean is None]
    if batch_stats:
        raise ValueError(
            f"sampling='per_example': batch-norm layer {batch_stats[0]!r} has no running statistics "
            "(track_running_stats=False) and normalises by the batch even in eval mode; a batch of one "
            "example makes its gradient degenerate"
        )


def chunk_rows(d: int, itemsize: int, buffer_bytes: int, limit: int) -> int:
    """Examples per vmap call: their ``m x d`` gradients fit in ``buffer_bytes`` and :data:`CALL_BYTES`
    (at least one example, at most ``limit`` and :data:`MAX_CHUNK`)."""
    return max(1, min(limit, MAX_CHUNK, min(buffer_bytes, CALL_BYTES) // max(1, d * itemsize)))


class PerExampleGradients:
    """The flat single-example gradients of ``loss_fn(model(x[i:i+1]), y[i:i+1])``, a chunk at a time.

    ``names`` and ``params`` are the trainable parameters (the coordinates); every other
    parameter and buffer enters as a constant.
    """

    def __init__(self, model: torch.nn.Module, loss_fn: Callable[[Any, Any], Any], names: list[str],
                 params: list[torch.Tensor], device: torch.device, dtype: torch.dtype, bar: Any) -> None:
        self.model, self.loss_fn = model, loss_fn
        self.names, self.params = names, params
        self.device, self.dtype, self.bar = device, dtype, bar
        trainable = set(names)
        self.constants = {n: p.detach() for n, p in model.named_parameters() if n not in trainable}
        self.constants.update(dict(model.named_buffers()))

        def loss_of_one(weights: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> Any:
            out = torch.func.functional_call(model, ({**weights, **self.constants},), (x.unsqueeze(0),))
            loss = loss_fn(out, y.unsqueeze(0))
            check_loss_value(loss)
            return loss, loss.detach()

        self._grads = torch.func.vmap(torch.func.grad(loss_of_one, has_aux=True), in_dims=(None, 0, 0),
                                      randomness="different")

    def into(self, x: Any, y: Any, rows: torch.Tensor) -> torch.Tensor:
        """Write the gradients of the examples ``x[j], y[j]`` into ``rows[j]``; their losses."""
        x, y = to_device(x, self.device, self.dtype), to_device(y, self.device, self.dtype)
        weights = {n: p.detach() for n, p in zip(self.names, self.params)}
        try:
            grads, losses = self._grads(weights, x, y)
        except (TypeError, ValueError):  # bad loss values: the message of check_loss_value
            raise
        except RuntimeError as exc:
            raise RuntimeError(
                "sampling='per_example' computes single-example gradients with torch.func.vmap, which "
                f"failed on this model or loss: {exc}"
            ) from exc
        m = rows.shape[0]
        torch.cat([grads[n].reshape(m, -1) for n in self.names], dim=1, out=rows)
        if self.bar is not None:
            self.bar.update(m)
        return losses.reshape(m)
