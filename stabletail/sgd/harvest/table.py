"""The harvest's rows: every protocol, Gaussianity test and direction statistic from the sums."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from ..._typing import SeedLike
from ...estimators import mohammadi_from_log_sums
from .. import _torchstats
from ..direction import direction_summary
from ..gaussianity import gaussianity
from ..protocols import (
    per_coordinate_alpha,
    summarize_per_coordinate,
)
from .result import MIN_BATCHES, TABLE_COLUMNS


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
    main: _torchstats.MainPass,
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
    main: _torchstats.MainPass,
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
    main: _torchstats.MainPass,
    layer_names: Sequence[str],
    ranges: Sequence[tuple[int, int]],
    grad_norms: np.ndarray,
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
