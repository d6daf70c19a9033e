"""PNG figures of a study's seed-aggregated summary (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..._io import atomic_write
from .catalog import FigureSpec, Study

__all__ = ["draw", "draw_figure"]


def _select(rows: Sequence[Mapping[str, Any]], where: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out = list(rows)
    for k, v in where.items():
        if v == "last":
            present = [r[k] for r in out if r.get(k) is not None]
            if not present:
                return []
            v = max(present)
        out = [r for r in out if r.get(k) == v]
    return out


_ORDER = {
    "protocol": ("pooled", "standardized", "per_coordinate", "norm"),
    "split": ("train", "test"),
    "zeros": ("included", "excluded"),
    "test": ("shapiro", "anderson", "jarque_bera"),
}


def _levels(rows: Sequence[Mapping[str, Any]], col: str | None) -> list[Any]:
    if col is None:
        return [None]
    vals = {r.get(col) for r in rows}
    order = _ORDER.get(col, ())
    return sorted(vals, key=lambda v: (v is None, order.index(v) if v in order else len(order),
                                       v if not isinstance(v, str) else 0, str(v)))


def draw_figure(
    spec: FigureSpec, summary: Sequence[Mapping[str, Any]], path: Path, title: str = ""
) -> Path | None:
    """Draw one figure: mean of ``spec.y`` over seeds with its confidence band.

    Returns the path written, or None when no summary row matches.
    """
    rows = [
        r
        for r in _select(summary, spec.where)
        if r.get(f"{spec.y}_mean") is not None and r.get(spec.x) is not None
    ]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    rlev, clev, hlev = _levels(rows, spec.row), _levels(rows, spec.col), _levels(rows, spec.hue)
    fig, axes = plt.subplots(len(rlev), len(clev), figsize=(3.6 * len(clev) + 0.6, 2.9 * len(rlev) + 0.6),
                             squeeze=False, sharex=True)
    colors = plt.get_cmap("viridis" if spec.hue in ("epoch", "depth", "width", "lr") else "tab10")
    for i, rv in enumerate(rlev):
        for j, cv in enumerate(clev):
            ax = axes[i][j]
            for h, hv in enumerate(hlev):
                pts = [
                    r
                    for r in rows
                    if (spec.row is None or r.get(spec.row) == rv)
                    and (spec.col is None or r.get(spec.col) == cv)
                    and (spec.hue is None or r.get(spec.hue) == hv)
                ]
                if not pts:
                    continue
                pts.sort(key=lambda r: r[spec.x])
                x = np.array([float(r[spec.x]) for r in pts])
                m = np.array([float(r[f"{spec.y}_mean"]) for r in pts])
                lo = np.array(
                    [np.nan if r.get(f"{spec.y}_low") is None else float(r[f"{spec.y}_low"]) for r in pts]
                )
                hi = np.array(
                    [np.nan if r.get(f"{spec.y}_high") is None else float(r[f"{spec.y}_high"]) for r in pts]
                )
                c = colors(h / max(len(hlev) - 1, 1)) if colors.N > 20 else colors(h % 10)
                ax.plot(
                    x, m, marker="o", ms=3, color=c, label=None if spec.hue is None else f"{spec.hue}={hv}"
                )
                if np.isfinite(lo).any():
                    ax.fill_between(x, lo, hi, color=c, alpha=0.2, lw=0)
                weak = np.array([r.get("informative_mean") is not None and float(r["informative_mean"]) < 1.0
                                 for r in pts])
                if weak.any():  # too few minibatches for this protocol: drawn apart, hollow and grey
                    ax.plot(x[weak], m[weak], ls="none", marker="o", ms=6, mfc="white", mec="0.4",
                            label="too few minibatches (uninformative)")
                if spec.ref is not None and all(r.get(f"{spec.ref}_mean") is not None for r in pts):
                    ax.plot(x, [float(r[f"{spec.ref}_mean"]) for r in pts], ls="--", color=c, lw=1)
            if spec.hline is not None:
                ax.axhline(spec.hline, color="grey", lw=0.8, ls=":")
            if spec.logx:
                ax.set_xscale("log")
            parts = [f"{n}={v}" for n, v in ((spec.row, rv), (spec.col, cv)) if n is not None]
            ax.set_title(", ".join(parts), fontsize=9)
            if i == len(rlev) - 1:
                ax.set_xlabel(spec.x)
            if j == 0:
                ax.set_ylabel(spec.ylabel or spec.y)
    legend: dict[str, Any] = {}
    for ax in axes.flat:
        for hd, lb in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(lb, hd)
    labels, handles = list(legend), list(legend.values())
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), fontsize=8, frameon=False)
    text = title + (": " if title and spec.title else "") + spec.title + "  (mean over seeds, band: CI)"
    fig.suptitle(textwrap.fill(text, width=int(fig.get_figwidth() * 13)), fontsize=10)
    fig.tight_layout(rect=(0, 0.035 * math.ceil(len(handles) / 3) + 0.02 if handles else 0, 1, 0.95))
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=110)
    finally:
        plt.close(fig)
    atomic_write(path, buf.getvalue())
    return path


def draw(study: Study, summary: Sequence[Mapping[str, Any]], directory: Path) -> list[Path]:
    """Draw every figure of ``study`` into ``directory``; returns the paths written."""
    out = []
    datasets = sorted({str(r.get("dataset")) for r in summary})
    for spec in study.figures:
        if len(datasets) > 1 and "dataset" not in (spec.hue, spec.col, spec.row):
            parts = [(f"{Path(spec.file).stem}_{d}.png", {**spec.where, "dataset": d}, f"{study.name}, {d}")
                     for d in datasets]  # one figure per data set
        else:
            parts = [(spec.file, spec.where, study.name)]
        for file, where, title in parts:
            p = draw_figure(replace(spec, where=where), summary, Path(directory) / file, title=title)
            if p is not None:
                out.append(p)
    return out
