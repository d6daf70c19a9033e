"""The K minibatches of a harvest (fixed for every pass) and the checks of ``data`` and ``loss_fn``."""

from __future__ import annotations

import collections.abc
import math
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from ..._validation import check_int

__all__ = ["Batches", "check_batch", "check_data", "check_loss_value", "check_mean_reduction", "to_device"]

#: Examples per chunk of the exact full gradient of a per-example harvest (any size gives the
#: same gradient: chunks are weighted by their size).
FULL_CHUNK = 1024

DATA_HELP = "data must be a pair (X, y) of torch tensors or an iterable of (x, y) tensor batches"


def check_data(data: Any) -> None:
    """Refuse, up front and by name, what ``data`` cannot be."""
    if isinstance(data, (tuple, list)):
        tensors = [torch.is_tensor(t) for t in data]
        if len(data) == 0:
            raise ValueError(f"{DATA_HELP}; got an empty {type(data).__name__}")
        if all(tensors) and len(data) != 2:
            raise TypeError(f"{DATA_HELP}; got a {type(data).__name__} of {len(data)} tensors")
        if len(data) == 2 and any(tensors) and not all(tensors):
            kinds = ", ".join(type(t).__name__ for t in data)
            raise TypeError(f"{DATA_HELP}; got ({kinds}) (convert with torch.as_tensor)")
        if len(data) == 2 and not any(tensors) and not all(isinstance(b, (tuple, list)) for b in data):
            kinds = ", ".join(type(t).__name__ for t in data)
            raise TypeError(f"{DATA_HELP}; got ({kinds}) (convert with torch.as_tensor)")
    elif isinstance(data, (dict, str, bytes)) or torch.is_tensor(data) or not hasattr(data, "__iter__"):
        raise TypeError(f"{DATA_HELP}; got {type(data).__name__}")


def check_batch(item: Any, i: int) -> None:
    if not (isinstance(item, (tuple, list)) and len(item) >= 2 and torch.is_tensor(item[0])
            and torch.is_tensor(item[1])):
        raise TypeError(f"{DATA_HELP}; batch {i} is {type(item).__name__}"
                        + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""))


def check_loss_value(loss: Any) -> None:
    if not (torch.is_tensor(loss) and loss.numel() == 1):
        got = type(loss).__name__ if not torch.is_tensor(loss) else f"a tensor of shape {tuple(loss.shape)}"
        raise TypeError(
            f"loss_fn(model(x), y) must return the mean loss of the minibatch as a scalar tensor; got {got}"
        )


def check_mean_reduction(model: Any, loss_fn: Any, x: torch.Tensor, y: torch.Tensor, probe: bool) -> None:
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


class Batches:
    """The ``K`` minibatches of ``data``, fixed for every pass, and every example once (:meth:`full`).

    ``data``, ``batch_size``, ``n_batches`` and ``sampling`` are those of
    :func:`~stabletail.sgd.harvest`; ``rng`` draws the random minibatches or the
    examples of ``sampling="per_example"`` (the same draws on every shard); ``examples``
    holds those examples' indices in ``data`` (None for minibatches). ``one_shot`` is True
    for an iterator that can be iterated only once (a generator).
    """

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
        check_data(data)
        self.one_shot = False
        self.examples = None
        if isinstance(data, (tuple, list)) and len(data) == 2 and all(torch.is_tensor(t) for t in data):
            x, y = data
            if x.shape[0] != y.shape[0]:
                raise ValueError(
                    f"data: X and y must have the same length, got {x.shape[0]} and {y.shape[0]}"
                )
            n = int(x.shape[0])
            self.tensors = (x, y)
            self.n = n
            if sampling == "per_example":
                if batch_size not in (None, 1):
                    raise ValueError(
                        f"batch_size must be 1 or None with sampling='per_example', got {batch_size}"
                    )
                k = n if n_batches is None else check_int("n_batches", n_batches, 1, n)
                # K distinct examples in a seeded random order (the order of the rows)
                self.examples: np.ndarray | None = rng.choice(n, k, replace=False).astype(np.int64)
                self.index = []
                self.k, self.batch_size = k, 1
                return
            if batch_size is None:
                raise ValueError("batch_size must be given when data is a pair of tensors (X, y)")
            batch_size = check_int("batch_size", batch_size, 1, n)
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
                raise ValueError(f"sampling={sampling!r} needs data as a pair of tensors (X, y)")
            self.iterable = data
            # a generator or iterator: one pass only (asked without calling iter(), which may start
            # a loader's workers or consume a pass)
            self.one_shot = isinstance(data, collections.abc.Iterator)
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
        if self.examples is not None:
            x, y = self.tensors  # type: ignore[misc]
            for i in self.examples:
                yield x[i : i + 1], y[i : i + 1]
            return
        if self.tensors is not None:
            x, y = self.tensors
            for idx in self.index:
                yield x[idx], y[idx]
            return
        count = 0
        for item in self.iterable:  # type: ignore[union-attr]
            if count == self.k:
                break
            check_batch(item, count)
            yield item[0], item[1]
            count += 1
        if count < self.k:
            raise ValueError(f"data yielded {count} batches, fewer than n_batches={self.k}")

    def full(self) -> Iterator[tuple[Any, Any]]:
        """Every example once (chunks of batch_size; the whole iterable)."""
        if self.tensors is not None:
            x, y = self.tensors
            b = self.batch_size or self.n
            if self.examples is not None:  # per-example rows: the exact gradient in larger chunks
                b = FULL_CHUNK
            for i in range(0, self.n, b):
                yield x[i : i + b], y[i : i + b]
        else:
            for item in self.iterable:  # type: ignore[union-attr]
                yield item[0], item[1]


def to_device(t: Any, device: torch.device, dtype: torch.dtype) -> Any:
    """``t`` on ``device``; floating tensors also in ``dtype`` (anything else unchanged)."""
    if torch.is_tensor(t):
        if t.is_floating_point():
            return t.to(device=device, dtype=dtype, non_blocking=True)
        return t.to(device=device, non_blocking=True)
    return t
