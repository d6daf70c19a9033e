"""The noise sums of a harvest on the host, as the protocols read them."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from .._noisepass import MainPass

__all__ = ["NoiseSums"]


class NoiseSums:
    """What the protocols' rows are computed from (:mod:`stabletail.sgd.protocols`).

    Arrays come to the host once, when first asked for. ``k`` minibatches; ``k1`` rows per
    row block and ``k2`` row blocks (``rows_used = k1 * k2``; ``need_rows`` False when no
    protocol asked for row blocks or ``k1 < 2``); ``zero`` the zero-noise mask; ``extra``
    the protocols' own accumulators by protocol name.
    """

    def __init__(self, main: MainPass, layout: Any, zero: np.ndarray, sd: torch.Tensor, *, level: float,
                 per_coordinate_estimator: str, n_coordinates: int | None, rng: np.random.Generator) -> None:
        self.main = main
        self.layout = layout
        self.n_layers = layout.n_layers
        self.k, self.eps, self.level = main.k, main.eps, level
        self.k1, self.k2, self.rows_used, self.need_rows = main.k1, main.k2, main.rows_used, main.need_rows
        self.zero = zero
        self.has_excluded_variant = main.nz_index is not None
        self.per_coordinate_estimator = per_coordinate_estimator
        self.n_coordinates = n_coordinates
        self.rng = rng
        self.extra = main.extra
        self._sd = sd

    @functools.cached_property
    def log_sum(self) -> np.ndarray:
        """Per coordinate: the sum over the ``k`` rows of ``log(|e| + eps)``."""
        return self.main.log_sum.cpu().numpy()

    @functools.cached_property
    def log_sq_sum(self) -> np.ndarray:
        """Per coordinate: the sum over the ``k`` rows of ``log(|e| + eps)**2``."""
        return self.main.log_sq_sum.cpu().numpy()

    @functools.cached_property
    def used_log_sum(self) -> np.ndarray:
        """Per coordinate: :attr:`log_sum` over the ``rows_used`` rows of the row blocks."""
        return self.main.used_log_sum.cpu().numpy()

    @functools.cached_property
    def block_log_sum(self) -> np.ndarray:
        """Per coordinate: the sum over the row blocks of ``log(|Y| + eps)`` (``Y`` a block's sum)."""
        return self.main.block_log_sum.cpu().numpy()

    @functools.cached_property
    def noise_norms(self) -> np.ndarray:
        """``(k, n_layers + 1)``: the norm of every minibatch's noise per layer, last column the model."""
        row_sq = self.main.row_sq_norms.cpu().numpy()
        return np.sqrt(np.concatenate([row_sq, row_sq.sum(1, keepdims=True)], 1))

    @functools.cached_property
    def block_norms(self) -> np.ndarray:
        """``(k2, n_layers + 1)``: the norm of every row block's noise sum per layer, then the model."""
        blk_sq = self.main.block_sq_norms.cpu().numpy()
        return np.sqrt(np.concatenate([blk_sq, blk_sq.sum(1, keepdims=True)], 1))

    @functools.cached_property
    def flat(self) -> np.ndarray:
        """``(raw / standardized, stream, [sum log|Y|, its sum of squares, blocks, block size])``."""
        return self.main.flat_stats()

    @functools.cached_property
    def scope_log_sums(self) -> np.ndarray:
        """Per-layer sums of the per-coordinate log sums (``x = log(|e| + eps)``, ``c = log sd``).

        Shape ``(2, 5, n_layers + 1)``: with (0) and without (1) the zero-noise coordinates;
        rows sum x, sum x^2, sum c, sum c x, sum c^2; columns the layers then the model.
        """
        nonzero = ~self.zero
        log_sum, log_sq_sum = self.log_sum, self.log_sq_sum
        with np.errstate(divide="ignore"):
            log_sd = np.where(nonzero, np.log(self._sd.cpu().numpy()), 0.0)
        starts = np.asarray(self.layout.offsets[:-1])
        scope = np.empty((2, 5, self.n_layers + 1))
        with np.errstate(invalid="ignore"):  # eps = 0: x = -inf on zero-noise coordinates (c = 0 there)
            for t, term in enumerate((log_sum, log_sq_sum, log_sd, log_sd * log_sum, log_sd * log_sd)):
                scope[0, t, :-1] = np.add.reduceat(term, starts)
                if nonzero.all():
                    scope[1, t, :-1] = scope[0, t, :-1]
                else:
                    scope[1, t, :-1] = np.add.reduceat(np.where(nonzero, term, 0.0), starts)
            scope[:, :, -1] = scope[:, :, :-1].sum(2)
        return scope
