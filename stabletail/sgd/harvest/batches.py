"""The K minibatches of a harvest (the same in every pass) and the exact full-data pass."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import numpy as np
import torch

from ..._validation import check_int

__all__ = ["Batches", "to_device"]


class Batches:
    """The ``K`` minibatches of ``data``, fixed for every pass, and every example once.

    Parameters
    ----------
    data : (X, y) tensors, or an iterable of ``(x, y)`` batches
    batch_size : int or None
        Required for tensors; ignored for an iterable.
    n_batches : int or None
        ``K`` (see :func:`~stabletail.sgd.harvest`).
    sampling : {"partition", "random"}
    rng : numpy.random.Generator
        Draws the random minibatches (the same draws on every shard).
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
        if isinstance(data, (tuple, list)) and len(data) == 2 and all(torch.is_tensor(t) for t in data):
            x, y = data
            if x.shape[0] != y.shape[0]:
                raise ValueError(f"data: X and y must have the same length, got {x.shape[0]} and {y.shape[0]}")
            n = int(x.shape[0])
            if batch_size is None:
                raise ValueError("batch_size must be given when data is a pair of tensors (X, y)")
            batch_size = check_int("batch_size", batch_size, 1, n)
            self.tensors = (x, y)
            self.n = n
            if sampling == "partition":
                most = n // batch_size
                k = most if n_batches is None else check_int("n_batches", n_batches, 1, most)
                self.index: list[Any] = [slice(i * batch_size, (i + 1) * batch_size) for i in range(k)]
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


def to_device(t: Any, device: torch.device, dtype: torch.dtype) -> Any:
    """``t`` on ``device``; floating tensors also in ``dtype`` (anything else unchanged)."""
    if torch.is_tensor(t):
        if t.is_floating_point():
            return t.to(device=device, dtype=dtype, non_blocking=True)
        return t.to(device=device, non_blocking=True)
    return t
