"""A tail-index monitor for a plain PyTorch training loop.

No training framework is needed: call :meth:`TailIndexMonitor.step` once per
optimisation step; every ``every`` steps it runs :func:`~stabletail.sgd.harvest`
at the current parameters and appends the rows of the result's table (with the
step number) to a CSV or JSON-lines log. Each append rewrites the log to a
temporary file in the same directory and moves it into place
(:func:`os.replace`), so a crash never leaves a half-written log. Optionally the
whole-model alphas go to TensorBoard (a ``SummaryWriter``, or any object with
``add_scalar``).

Example
-------
>>> monitor = TailIndexMonitor(model, loss_fn, (X, y), batch_size=500, every=100,
...                            path="tail_index.csv")                     # doctest: +SKIP
>>> for step in range(n_steps):                                           # doctest: +SKIP
...     optimizer.zero_grad(); loss_fn(model(xb), yb).backward(); optimizer.step()
...     monitor.step(step)
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Callable

import torch

from .._io import atomic_write, csv_text
from .._validation import check_choice, check_int
from .harvest import MODEL, TABLE_COLUMNS, HarvestOptions, HarvestResult, harvest

__all__ = ["TailIndexMonitor", "LOG_COLUMNS"]

#: Columns of the monitor's log: the step, the wall-clock time, then :data:`TABLE_COLUMNS`.
LOG_COLUMNS: tuple[str, ...] = ("step", "time") + TABLE_COLUMNS


class TailIndexMonitor:
    """Harvest gradient noise every ``every`` steps and log the tail indices.

    Parameters
    ----------
    model, loss_fn, data, batch_size
        As for :func:`~stabletail.sgd.harvest` (``data`` is the fixed set the
        noise is measured on, typically the training set or a fixed part of it).
    every : int
        Harvest when ``step % every == 0``.
    path : str or os.PathLike, optional
        Log file; ``None`` keeps rows in memory only (:attr:`rows`).
    fmt : {"csv", "jsonl"}
        CSV with a header, or one JSON object per line.
    tensorboard : str, os.PathLike or object, optional
        A log directory (needs the ``tensorboard`` package) or an object with
        ``add_scalar(tag, value, step)``; whole-model alphas of every protocol
        are written as ``tail_index/<protocol>/<zeros>``.
    options : HarvestOptions, optional
        The harvest's options (default: those of :func:`~stabletail.sgd.harvest`,
        without a progress bar); checked here, before any training step.
    **harvest_kwargs
        Fields of :class:`~stabletail.sgd.harvest.HarvestOptions` that replace
        those of ``options``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: Callable[[Any, Any], torch.Tensor],
        data: Any,
        batch_size: int | None = None,
        *,
        every: int = 100,
        path: str | os.PathLike[str] | None = None,
        fmt: str = "csv",
        tensorboard: Any = None,
        options: HarvestOptions | None = None,
        **harvest_kwargs: Any,
    ) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.data = data
        self.batch_size = batch_size
        self.every = check_int("every", every, 1)
        self.path = None if path is None else os.fspath(path)
        self.fmt = check_choice("fmt", fmt, ("csv", "jsonl"))
        if options is None:
            harvest_kwargs.setdefault("progress", False)
        self.options = HarvestOptions.build(options, **harvest_kwargs)
        self.rows: list[dict[str, Any]] = []
        self.last: HarvestResult | None = None
        self._writer = tensorboard
        if isinstance(tensorboard, (str, os.PathLike)):
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ImportError("tensorboard logging needs the 'tensorboard' package") from exc
            self._writer = SummaryWriter(os.fspath(tensorboard))
        elif tensorboard is not None and not hasattr(tensorboard, "add_scalar"):
            raise TypeError(
                "tensorboard must be a log directory or an object with add_scalar(tag, value, step)"
            )

    def step(self, step: int) -> HarvestResult | None:
        """Call once per training step; harvests and logs when ``step % every == 0``.

        Parameters
        ----------
        step : int
            The training step (>= 0).

        Returns
        -------
        HarvestResult or None
            The harvest's result when it harvested, else None.
        """
        step = check_int("step", step, 0)
        if step % self.every:
            return None
        result = harvest(self.model, self.loss_fn, self.data, self.batch_size, options=self.options)
        now = time.time()
        new = [{"step": step, "time": now, **row} for row in result.table]
        self.rows.extend(new)
        self.last = result
        if self.path is not None:
            self._append(new)
        if self._writer is not None:
            for row in result.rows(layer=MODEL):
                if math.isfinite(row["alpha"]):
                    self._writer.add_scalar(
                        f"tail_index/{row['protocol']}/{row['zeros']}", row["alpha"], step
                    )
        return result

    __call__ = step

    def _append(self, new: list[dict[str, Any]]) -> None:
        old = ""
        if os.path.exists(self.path):
            with open(self.path, newline="") as fh:
                old = fh.read()
        if self.fmt == "csv":
            text = old + csv_text(new, LOG_COLUMNS, header=not old)
        else:
            text = old + "".join(json.dumps(r, allow_nan=True) + "\n" for r in new)
        atomic_write(self.path, text)
