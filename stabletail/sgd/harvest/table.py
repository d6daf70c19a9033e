"""The harvest's rows: every protocol, Gaussianity test and direction statistic from the sums."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from .. import protocols as registry
from .._noisepass import MainPass
from ..direction import direction_summary
from ..gaussianity import fraction_row, jarque_bera_from_sums, normality_tests
from ..protocols._registry import Scope, undefined
from .options import ZEROS
from .result import MODEL, TABLE_COLUMNS
from .sums import NoiseSums

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
        for name in protocols:
            protocol = registry.get(name)
            for zeros in ZEROS:
                rows.append(_row(
                    common, layer=info["layer"], protocol=name, zeros=zeros,
                    estimator=estimator if protocol.uses_estimator_option else "mohammadi", n=0, block_size=0,
                    n_coordinates=info["n_params"] - (info["n_zero"] if zeros == "excluded" else 0),
                    n_zero=info["n_zero"], status=status,
                ))
    return rows


def tail_table(sums: NoiseSums, protocols: Sequence[str], common: dict[str, Any],
               status: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The tail-index rows of ``protocols`` from ``sums``, and what each protocol prepared.

    Rows come layer by layer (the model last), then in ``protocols`` order, ``"included"``
    before ``"excluded"``.
    """
    chosen = [registry.get(name) for name in protocols]
    states = {p.name: p.prepare(sums) if p.prepare is not None else None for p in chosen}
    layout, zero, k = sums.layout, sums.zero, sums.k
    rows = []
    for index, (layer, (a, b)) in enumerate(zip(layout.names, layout.ranges)):
        n_zero = int(zero[a:b].sum())
        for protocol in chosen:
            for zeros in ZEROS:
                drop = zeros == "excluded" and n_zero > 0
                scope = Scope(layer, index, a, b, zeros, drop, n_zero, (b - a) - (n_zero if drop else 0))
                out = _row(common, layer=layer, protocol=protocol.name, zeros=zeros, estimator="mohammadi",
                           n_coordinates=scope.n_coordinates, n_zero=n_zero, status=status)
                fields = protocol.row(sums, scope, states[protocol.name])
                unknown = set(fields) - set(TABLE_COLUMNS)
                if unknown:
                    raise ValueError(f"protocol {protocol.name!r} returned fields that are no table column: "
                                     f"{sorted(unknown)}")
                out.update(fields)
                if status == "ok" and undefined(out["alpha"], protocol):
                    out["status"] = "undefined"
                elif status == "ok" and k < protocol.min_batches:
                    out["status"] = f"too_few_minibatches(K>={protocol.min_batches})"
                rows.append(out)
    return rows, states


def gaussianity_rows(main: MainPass, layout: Layout, zero: np.ndarray, tests: Sequence[str], level: float,
                     seed: int) -> list[dict[str, Any]]:
    """One row per (layer, test), none when fewer than 8 rows.

    Jarque-Bera on every non-zero-noise coordinate, from the power sums of the noise pass;
    the other tests on the gathered coordinates.  Those are up to ``n_gaussianity`` per layer,
    so in the model row each layer's columns are weighted by its coordinates with noise over
    its columns: the model row then estimates the fraction over the whole model, as Jarque-
    Bera's does (the plain union over-represents small layers: a 1,000-coordinate output layer
    was half the sample of a 79,400-coordinate MLP).
    """
    k = main.k
    if k < 8:
        return []
    jb_p = None
    if "jarque_bera" in tests:
        jb_p = jarque_bera_from_sums(main.power_sums.cpu().numpy(), k)[1]
    sampled = [t for t in tests if t != "jarque_bera"]
    pvalues, idx = {}, None
    if sampled and main.gauss_index is not None:  # every gathered column tested once
        found = normality_tests(main.gauss.to(torch.float64).cpu().numpy(), sampled)
        pvalues = {t: found[t][1] for t in sampled}
        idx = main.gauss_index.cpu().numpy()
    rows = []
    for name, (a, b) in zip(layout.names, layout.ranges):
        by_test = {}
        if jb_p is not None:
            keep = ~zero[a:b]
            if keep.any():
                by_test["jarque_bera"] = fraction_row("jarque_bera", jb_p[a:b][keep], k, level=level,
                                                      random_state=seed)
        if idx is not None:
            cols = (idx >= a) & (idx < b)  # the model row: the union of the layers' columns
            if cols.any():
                weights = None
                if name == MODEL:
                    weights = np.empty(idx.size)
                    for la, lb in layout.ranges[:-1]:
                        inside = (idx >= la) & (idx < lb)
                        if inside.any():
                            weights[inside] = (~zero[la:lb]).sum() / inside.sum()
                    weights = weights[cols]
                for t in sampled:
                    by_test[t] = fraction_row(t, pvalues[t][cols], k, level=level, random_state=seed,
                                              weights=weights)
        rows.extend({"layer": name, **by_test[t]} for t in tests if t in by_test)
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
