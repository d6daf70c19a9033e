"""The study driver: config -> grid cells -> rows on disk -> tables, metadata, figures.

Layout of an output directory::

    OUT/cells/<key>.json     one finished cell: its parameters, rows, timing, status
    OUT/results.csv          every row of the current configuration (and .parquet with pyarrow)
    OUT/summary.csv          rows aggregated over seeds: mean, sd, n and a t confidence interval
    OUT/run.json             config, versions, seeds, device, timings, cell status
    OUT/figures/*.png

Resuming: a cell's key is a hash of (study, parameters, seed); a cell whose file
exists with status ``"ok"`` is skipped, failed cells are run again. Every file is
written atomically (:mod:`stabletail._io`), so an interruption leaves finished cells
intact and never a half-written file.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._io import write_json
from ..._validation import check_choice
from .catalog import STUDIES, Study
from .cells import Cell, make_cells, resolve_config
from .engines import Engine, resolve_engine, serial_engine
from .tables import read_cell, summarize, write_table

__all__ = ["StudyRun", "run_study", "resolve_device"]


@dataclass(frozen=True)
class StudyRun:
    """Where a finished (or partly finished) run put its outputs.

    Attributes
    ----------
    out : Path
        The output directory.
    table, summary, metadata : Path
        ``results.csv``, ``summary.csv`` and ``run.json`` in it.
    figures : tuple of Path
        The figures written.
    n_cells : int
        Cells of the grid.
    n_skipped : int
        Cells found finished and not run again.
    n_failed : int
        Cells that failed (their errors are in ``run.json``).
    seconds : float
        Wall-clock time of this run.
    """

    out: Path
    table: Path
    summary: Path
    metadata: Path
    figures: tuple[Path, ...]
    n_cells: int
    n_skipped: int
    n_failed: int
    seconds: float


def _versions() -> dict[str, str]:
    import stabletail

    v = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "stabletail": stabletail.__version__,
    }
    for mod in ("numpy", "scipy", "numba", "torch", "matplotlib"):
        try:
            v[mod] = __import__(mod).__version__
        except ImportError:  # pragma: no cover - optional
            pass
    return v


def resolve_device(device: str) -> str:
    """``"auto"`` becomes ``"cuda"`` when available, else ``"cpu"``; other names pass through."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def run_study(
    name: str,
    out: str | os.PathLike[str],
    *,
    preset: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    seeds: int | Sequence[int] | None = None,
    device: str = "cpu",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    progress: bool = True,
    figures: bool = True,
    engine: str | Engine | None = None,
    address: str | None = None,
) -> StudyRun:
    """Run (or resume) a named study and write its tables, metadata and figures.

    Parameters
    ----------
    name : str
        One of :data:`stabletail.sgd.studies.STUDIES`.
    out : path-like
        Output directory (created; re-using it resumes).
    preset : {"quick", "paper"}
        Starting configuration.
    overrides : mapping, optional
        Replacements of preset entries (see :func:`resolve_config`).
    seeds : int or sequence of int, optional
        Seeds (an int n means ``0..n-1``); default from the preset.
    device : str
        torch device for every cell (``"auto"`` picks CUDA when present).
    data_dir : path-like, optional
        Data directory (see :func:`stabletail.sgd.datasets.default_data_dir`).
    download : bool
        Download missing data sets (checksums verified) before running.
    progress : bool
        Show a progress bar over cells.
    figures : bool
        Draw the PNG figures.
    engine : {"serial", "ray"} or callable, optional
        ``"serial"`` (default, also None): the cells one after another in this
        process; ``"ray"``: one Ray task per cell (needs the ``[ray]`` extra; see
        ``docs/scaling.md``); or a callable ``engine(cells, device, data_dir)``
        yielding :class:`CellResult` in any order (each from
        :func:`execute_cell`). Results are written by this driver as they come.
    address : str, optional
        Ray cluster address for ``engine="ray"`` (default: a local Ray instance,
        or the one already initialised in this process).

    Returns
    -------
    StudyRun
    """
    from ..datasets import load_dataset

    study = STUDIES[check_choice("name", name, STUDIES)]
    engine = resolve_engine(engine, address)
    t0 = time.perf_counter()
    out = Path(out)
    cells_dir = out / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)
    config = resolve_config(study, preset, overrides, seeds)
    cells = make_cells(study, config)
    device = resolve_device(device)
    ddir = None if data_dir is None else str(data_dir)
    for ds in sorted({c.params["dataset"] for c in cells}):  # fail early, before any cell runs
        load_dataset(ds, ddir, download=download)

    def done(c: Cell) -> bool:
        rec = read_cell(cells_dir / f"{c.key}.json")
        return rec is not None and rec.get("status") == "ok"

    todo = [c for c in cells if not done(c)]
    n_skipped = len(cells) - len(todo)
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"{name} ({n_skipped} done before)", unit="cell")
    try:
        run_cells = engine or functools.partial(serial_engine, progress=bar is not None)
        for res in run_cells(todo, device, ddir):
            write_json(cells_dir / f"{res.cell.key}.json", res.to_json())
            if bar is not None:
                bar.update(1)
                if res.status != "ok":
                    bar.write(f"cell {res.cell.key} failed: {(res.error or '').splitlines()[0]}")
    finally:
        if bar is not None:
            bar.close()
    return _finalize(study, config, cells, out, device, preset, n_skipped, time.perf_counter() - t0, figures)


def _finalize(
    study: Study, config: dict[str, Any], cells: list[Cell], out: Path, device: str, preset: str,
    n_skipped: int, seconds: float, figures: bool,
) -> StudyRun:
    rows: list[dict[str, Any]] = []
    status = []
    for c in cells:
        rec = read_cell(out / "cells" / f"{c.key}.json") or {"status": "missing", "seconds": None}
        status.append({"key": c.key, "seed": c.seed, **{a: c.params[a] for a in study.axes},
                       "status": rec["status"], "seconds": rec.get("seconds"), "device": rec.get("device"),
                       "error": rec.get("error")})
        if rec["status"] == "ok":
            rows.extend({**r, "seed": c.seed} for r in rec["rows"])
    table = out / "results.csv"
    write_table(table, rows)
    keys = [k for k in study.keys if any(k in r for r in rows)]
    summary = summarize(rows, keys, [m for m in study.metrics if any(m in r for r in rows)])
    summary_path = out / "summary.csv"
    write_table(summary_path, summary)
    figs: list[Path] = []
    if figures and summary:
        from .figures import draw

        figs = draw(study, summary, out / "figures")
    cell_seconds = [s["seconds"] for s in status if s["seconds"] is not None]
    meta = {
        "study": study.name,
        "description": study.description,
        "claim": study.claim,
        "preset": preset,
        "config": config,
        "seeds": config["seeds"],
        "device": device,
        "versions": _versions(),
        "timings": {
            "this_invocation_seconds": seconds,
            "cells_seconds_total": float(sum(cell_seconds)),
            "cells_run_now": len(cells) - n_skipped,
            "cells_skipped": n_skipped,
        },
        "cells": status,
        "outputs": {
            "table": table.name,
            "summary": summary_path.name,
            "figures": [str(f.relative_to(out)) for f in figs],
        },
    }
    meta_path = out / "run.json"
    write_json(meta_path, meta)
    return StudyRun(out, table, summary_path, meta_path, tuple(figs), len(cells), n_skipped,
                    sum(s["status"] != "ok" for s in status), seconds)
