"""The harvest's rows: every protocol, Gaussianity test and direction statistic from the sums."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from ...estimators import mohammadi_from_log_sums
from .._torchstats import MainPass
from ..direction import direction_summary
from ..gaussianity import gaussianity
from ..protocols import per_coordinate_alpha, summarize_per_coordinate
from .options import ZEROS
from .result import MIN_BATCHES, MODEL, TABLE_COLUMNS

__all__ = ["Layout", "direction_rows", "empty_tail_table", "gaussianity_rows", "tail_table"]

class Layout:
    """Where each layer sits in the flat parameter vector; the model is the last "layer".

    ``names`` are the parameter names then :data:`MODEL`; ``ranges[i]`` the columns
    ``[a, b)`` of ``names[i]`` (``(0, d)`` for the model).
    """

    def __init__(self, names: Sequence[str], offsets: Sequence[int]) -> None:
        self.offsets = list(offsets)
        self.n_layers = len(offsets) - 1
        self.names = list(names) + [MODEL]
        self.ranges = list(zip(self.offsets[:-1], self.offsets[1:])) + [(0, self.offsets[-1])]


def _row(common: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A table row: every column NaN, then ``common``, then ``fields``."""
    row = dict.fromkeys(TABLE_COLUMNS, math.nan)
    row.update(common)
    row.update(fields)
    return row


def empty_tail_table(
    protocols: Sequence[str], layers: Sequence[dict[str, Any]], estimator: str, common: dict[str, Any],
    status: str,
) -> list[dict[str, Any]]:
    """The rows of a harvest without statistics (``status`` says why): no estimate anywhere."""
    rows = []
    for info in layers:
        for protocol in protocols:
            for zeros in ZEROS:
                rows.append(_row(
                    common, layer=info["layer"], protocol=protocol, zeros=zeros,
                    estimator=estimator if protocol == "per_coordinate" else "mohammadi", n=0, block_size=0,
                    n_coordinates=info["n_params"] - (info["n_zero"] if zeros == "excluded" else 0),
                    n_zero=info["n_zero"], status=status,
                ))
    return rows


def _scope_log_sums(layout: Layout, log_sum: np.ndarray, log_sq_sum: np.ndarray, log_sd: np.ndarray,
                    nonzero: np.ndarray) -> np.ndarray:
    """Per-layer sums of the per-coordinate log sums (``x = log(|e| + eps)``, ``c = log sd``).

    Shape ``(2, 5, n_layers + 1)``: with (0) and without (1) the zero-noise
    coordinates; rows sum x, sum x^2, sum c, sum c x, sum c^2; columns the
    layers then the model.
    """
    starts = np.asarray(layout.offsets[:-1])
    scope = np.empty((2, 5, len(layout.ranges)))
    with np.errstate(invalid="ignore"):  # eps = 0: x = -inf on zero-noise coordinates (c = 0 there)
        for t, term in enumerate((log_sum, log_sq_sum, log_sd, log_sd * log_sum, log_sd * log_sd)):
            scope[0, t, :-1] = np.add.reduceat(term, starts)
            if nonzero.all():
                scope[1, t, :-1] = scope[0, t, :-1]
            else:
                scope[1, t, :-1] = np.add.reduceat(np.where(nonzero, term, 0.0), starts)
        scope[:, :, -1] = scope[:, :, :-1].sum(2)
    return scope


def tail_table(
    main: MainPass,
    layout: Layout,
    zero: np.ndarray,
    sd: torch.Tensor,
    protocols: Sequence[str],
    estimator: str,
    n_coordinates: int | None,
    level: float,
    rng: np.random.Generator,
    common: dict[str, Any],
    status: str,
) -> tuple[list[dict[str, Any]], np.ndarray | None, np.ndarray]:
    """The tail-index rows from the noise sums of ``main``.

    Returns the rows (layers in order, then protocols in ``protocols`` order,
    ``"included"`` before ``"excluded"``), the per-coordinate alphas (None when
    ``"per_coordinate"`` is not asked for) and the ``(K, n_layers + 1)`` noise norms.
    """
    k, eps = main.k, main.eps
    log_sum = main.px.cpu().numpy()
    log_sq_sum = main.px2.cpu().numpy()
    nonzero = ~zero
    with np.errstate(divide="ignore"):
        log_sd = np.where(nonzero, np.log(sd.cpu().numpy()), 0.0)
    row_sq = main.row_sq_norms.cpu().numpy()
    noise_norms = np.sqrt(np.concatenate([row_sq, row_sq.sum(1, keepdims=True)], 1))
    coord_alpha = subset = block_norms = None
    if "per_coordinate" in protocols:
        block_log_sum = main.py.cpu().numpy() if main.need_rows else None
        used_log_sum = main.pxr.cpu().numpy() if main.need_rows else None
        coord_alpha = per_coordinate_alpha(log_sum, log_sq_sum, block_log_sum, used_log_sum, k, main.k1,
                                           main.k2, estimator, zero)
        if n_coordinates is not None and n_coordinates < log_sum.size:
            subset = np.zeros(log_sum.size, dtype=bool)
            subset[rng.choice(log_sum.size, n_coordinates, replace=False)] = True
    if "norm" in protocols and main.need_rows:
        blk_sq = main.block_sq_norms.cpu().numpy()
        block_norms = np.sqrt(np.concatenate([blk_sq, blk_sq.sum(1, keepdims=True)], 1))
    flat = main.flat_stats()  # (pooled / standardized, stream, [sum, sum of squares, n, block])
    scope = _scope_log_sums(layout, log_sum, log_sq_sum, log_sd, nonzero)
    n_layers = layout.n_layers
    rows = []
    for li, (name, (a, b)) in enumerate(zip(layout.names, layout.ranges)):
        n_zero = int(zero[a:b].sum())
        for zeros in ZEROS:
            drop = zeros == "excluded" and n_zero > 0
            n_coord = (b - a) - (n_zero if drop else 0)
            sum_x, sum_x2, sum_c, sum_cx, sum_c2 = scope[int(drop), :, li]
            for protocol in protocols:
                out = _row(common, layer=name, protocol=protocol, zeros=zeros, estimator="mohammadi",
                           n_coordinates=n_coord, n_zero=n_zero, status=status)
                est = None
                if protocol in ("pooled", "standardized"):
                    variant = int(zeros == "excluded" and main.nz_index is not None)
                    sy, sy2, ny, block = flat[int(protocol == "standardized"), variant * (n_layers + 1) + li]
                    # standardized: sums of (x - c) and (x - c)^2 over the K rows; c = 0 on zeros
                    if protocol == "standardized":
                        sx, sx2 = sum_x - k * sum_c, sum_x2 - 2.0 * sum_cx + k * sum_c2
                    else:
                        sx, sx2 = sum_x, sum_x2
                    est = mohammadi_from_log_sums(float(sx), float(sx2), k * n_coord, float(sy), float(sy2),
                                                  int(ny), int(block))
                    out.update(n=k * n_coord, block_size=int(block))
                elif protocol == "per_coordinate":
                    if zeros == "included" or drop:  # else the same coordinates as "included"
                        vals = coord_alpha[a:b]
                        pick = nonzero[a:b] if drop else None
                        if subset is not None:
                            pick = subset[a:b] if pick is None else pick & subset[a:b]
                        if pick is not None:
                            vals = vals[pick]
                        summary = summarize_per_coordinate(vals, level)
                        n_used = int(np.count_nonzero(~np.isnan(vals)))
                    out.update(summary)
                    out.update(estimator=estimator, n=n_used,
                               block_size=main.k1 if estimator == "mohammadi" else 0)
                else:  # norm: dropping zero-noise coordinates changes no norm
                    if main.need_rows:
                        log_x = np.log(noise_norms[: main.rows_used, li] + eps)
                        log_y = np.log(block_norms[:, li] + eps)
                        est = mohammadi_from_log_sums(
                            float(log_x.sum()), float((log_x * log_x).sum()), log_x.size,
                            float(log_y.sum()), float((log_y * log_y).sum()), log_y.size, main.k1,
                        )
                    out.update(n=main.rows_used, block_size=main.k1)
                if est is not None:
                    ci_low, ci_high = est.ci(level)
                    out.update(alpha=est.alpha, stderr=est.stderr, ci_low=ci_low, ci_high=ci_high)
                # a per-coordinate median may be inf (most coordinates without noise): still an answer
                alpha = out["alpha"]
                undefined = math.isnan(alpha) if protocol == "per_coordinate" else not math.isfinite(alpha)
                if status == "ok" and undefined:
                    out["status"] = "undefined"
                elif status == "ok" and protocol in MIN_BATCHES and k < MIN_BATCHES[protocol]:
                    out["status"] = f"too_few_minibatches(K>={MIN_BATCHES[protocol]})"
                rows.append(out)
    order = {p: i for i, p in enumerate(protocols)}
    rows.sort(key=lambda r: (layout.names.index(r["layer"]), order[r["protocol"]], r["zeros"] != "included"))
    return rows, coord_alpha, noise_norms


def gaussianity_rows(main: MainPass, layout: Layout, tests: Sequence[str], level: float,
                     seed: int) -> list[dict[str, Any]]:
    """One row per (layer, test) on the gathered coordinates (none when fewer than 8 rows)."""
    if main.gauss_index is None:
        return []
    samples = main.gauss.to(torch.float64).cpu().numpy()
    idx = main.gauss_index.cpu().numpy()
    rows = []
    for name, (a, b) in zip(layout.names, layout.ranges):
        cols = (idx >= a) & (idx < b)
        if not cols.any() or samples.shape[0] < 8:
            continue
        for row in gaussianity(samples[:, cols], level=level, tests=tests, random_state=seed):
            rows.append({"layer": name, **row})
    return rows


def direction_rows(main: MainPass, layout: Layout, grad_norms: np.ndarray) -> list[dict[str, Any]]:
    """One row per layer: concentration of the gradient directions and spread of their norms."""
    inv = main.inv_norms.cpu().numpy()
    rows = []
    for li, (name, (a, b)) in enumerate(zip(layout.names, layout.ranges)):
        unit_sum = main.unit_sums[a:b] if li < layout.n_layers else main.unit_sum_model
        n_used = int((inv[:, li] > 0).sum())
        r = float(torch.linalg.vector_norm(unit_sum).item()) / n_used if n_used else math.nan
        rows.append({"layer": name, **direction_summary(min(r, 1.0), b - a, n_used, grad_norms[:, li])})
    return rows
