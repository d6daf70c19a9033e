"""The study runner: config -> grid cells -> rows on disk -> tables, metadata, figures.

A study's grid is a list of :class:`Cell` objects, one per (configuration, seed).
A cell is plain data (picklable, JSON-able) and :func:`execute_cell` is a
top-level function, so any engine can run cells anywhere; the driver
(:func:`run_study`) alone writes results. Layout of an output directory::

    OUT/cells/<key>.json     one finished cell: its parameters, rows, timing, status
    OUT/results.csv          every row of the current configuration (and .parquet with pyarrow)
    OUT/summary.csv          rows aggregated over seeds: mean, sd, n and a t confidence interval
    OUT/run.json             config, versions, seeds, device, timings, cell status
    OUT/figures/*.png

Resuming: a cell's key is a hash of (study, parameters, seed); a cell whose file
exists with status ``"ok"`` is skipped, failed cells are run again. Every file
is written to a temporary name and moved into place with :func:`os.replace`, so
an interruption leaves finished cells intact and never a half-written file.
"""

from __future__ import annotations

import copy
import csv
import functools
import hashlib
import itertools
import json
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..._validation import check_choice, check_level
from .catalog import STUDIES, Study

__all__ = [
    "Cell",
    "CellResult",
    "StudyRun",
    "resolve_config",
    "make_cells",
    "execute_cell",
    "run_study",
    "summarize",
]


@dataclass(frozen=True)
class Cell:
    """One unit of work: a study configuration with one value per grid axis, and a seed.

    Attributes
    ----------
    study : str
        Study name.
    params : dict
        JSON-able parameters of the cell.
    seed : int
        Seed of initialisation and data order.
    """

    study: str
    params: Mapping[str, Any]
    seed: int

    @property
    def key(self) -> str:
        """Stable identifier: a hash of study, parameters and seed."""
        blob = json.dumps({"study": self.study, "params": self.params, "seed": self.seed}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class CellResult:
    """What running a :class:`Cell` produced (rows, or the error)."""

    cell: Cell
    status: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    device: str = "cpu"

    def to_json(self) -> dict[str, Any]:
        """JSON form written to ``cells/<key>.json``."""
        d = asdict(self)
        d["key"] = self.cell.key
        return d


@dataclass(frozen=True)
class StudyRun:
    """Where a finished (or partly finished) run put its outputs."""

    out: Path
    table: Path
    summary: Path
    metadata: Path
    figures: tuple[Path, ...]
    n_cells: int
    n_skipped: int
    n_failed: int
    seconds: float


# ----------------------------------------------------------------------------- config and grid


def resolve_config(
    study: str | Study,
    preset: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    seeds: int | Sequence[int] | None = None,
) -> dict[str, Any]:
    """A study's configuration: a preset with user overrides applied.

    Parameters
    ----------
    study : str or Study
        Study (name or object).
    preset : str
        ``"quick"`` or ``"paper"``.
    overrides : mapping, optional
        Values replacing preset entries; the keys must exist in the preset.
        A scalar given for a grid axis becomes a one-value list.
    seeds : int or sequence of int, optional
        An int ``n`` means seeds ``0..n-1``.

    Returns
    -------
    dict
    """
    st = STUDIES[check_choice("study", study, STUDIES)] if isinstance(study, str) else study
    config = copy.deepcopy(st.presets[check_choice("preset", preset, tuple(st.presets))])
    for k, v in (overrides or {}).items():
        if k not in config:
            raise ValueError(f"unknown option {k!r} for study {st.name!r}; options are: {', '.join(sorted(config))}")
        if k in st.axes and not isinstance(v, (list, tuple)):
            v = [v]
        config[k] = list(v) if isinstance(v, tuple) else v
    if seeds is not None:
        config["seeds"] = list(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    if not config["seeds"]:
        raise ValueError("seeds must name at least one seed")
    return config


def make_cells(study: str | Study, config: Mapping[str, Any]) -> list[Cell]:
    """The grid of a configuration: one :class:`Cell` per axis combination and seed."""
    st = STUDIES[study] if isinstance(study, str) else study
    fixed = {k: v for k, v in config.items() if k not in st.axes and k != "seeds"}
    cells = []
    for combo in itertools.product(*(config[a] for a in st.axes)):
        params = {**fixed, **dict(zip(st.axes, combo))}
        cells.extend(Cell(st.name, params, int(s)) for s in config["seeds"])
    return cells


def execute_cell(cell: Cell, device: str = "cpu", data_dir: str | None = None, *, progress: bool = False) -> CellResult:
    """Run one cell; never raises for errors inside the study (they become ``status="failed"``).

    This is the unit of work an engine ships to a worker: it only needs the
    cell, the device name and the data directory, and returns plain data.
    ``progress`` shows a bar over the cell's checkpoints.
    """
    start = time.perf_counter()
    try:
        rows = STUDIES[cell.study].run(dict(cell.params), cell.seed, device=device, data_dir=data_dir,
                                       progress=progress)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a failing cell is recorded and the grid goes on
        return CellResult(
            cell, "failed", [], time.perf_counter() - start,
            f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}", device,
        )
    return CellResult(cell, "ok", rows, time.perf_counter() - start, None, device)


# ----------------------------------------------------------------------------- atomic output


def _atomic_write(path: Path, write: Callable[[Any], None], mode: str = "w") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({"newline": ""} if "b" not in mode else {})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (NaN and inf become null)."""

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    text = json.dumps(clean(json.loads(json.dumps(obj, default=_json_default))), indent=1, sort_keys=False)
    _atomic_write(path, lambda fh: fh.write(text + "\n"))


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def write_table(path: Path, rows: Sequence[Mapping[str, Any]]) -> list[Path]:
    """Write rows as CSV (always) and Parquet (when pyarrow imports); atomic. Returns the paths."""
    cols = _columns(rows)

    def write_csv(fh: Any) -> None:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})

    _atomic_write(path, write_csv)
    written = [path]
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return written
    table = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])
    pq_path = path.with_suffix(".parquet")
    _atomic_write(pq_path, lambda fh: pq.write_table(table, fh), mode="wb")
    written.append(pq_path)
    return written


def _read_cell(path: Path) -> dict[str, Any] | None:
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):  # unreadable: treated as not done
        return None


# ----------------------------------------------------------------------------- aggregation


def summarize(
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    metrics: Sequence[str],
    level: float = 0.95,
) -> list[dict[str, Any]]:
    """Aggregate rows over seeds: per group of ``keys``, mean, sd, n and a t-interval per metric.

    The interval is ``mean +- t_{(1+level)/2, n-1} sd / sqrt(n)`` over the seeds
    (NaN when fewer than two finite values).

    Parameters
    ----------
    rows : sequence of mapping
        Tidy rows, one per seed and group.
    keys : sequence of str
        Grouping columns (missing ones are treated as None).
    metrics : sequence of str
        Numeric columns to aggregate (missing or None values are skipped).
    level : float
        Confidence level of the interval.

    Returns
    -------
    list of dict
    """
    from scipy import stats

    level = check_level(level)
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    out = []
    for gkey, members in groups.items():
        rec: dict[str, Any] = dict(zip(keys, gkey))
        for m in metrics:
            vals = np.array([float(r[m]) for r in members if r.get(m) not in (None, "")], dtype=float)
            vals = vals[np.isfinite(vals)]
            if vals.size == 0:
                continue
            n = vals.size
            mean = float(vals.mean())
            sd = float(vals.std(ddof=1)) if n > 1 else math.nan
            half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)) if n > 1 else math.nan
            rec.update({f"{m}_mean": mean, f"{m}_sd": sd, f"{m}_n": n, f"{m}_low": mean - half, f"{m}_high": mean + half})
        out.append(rec)
    return out


# ----------------------------------------------------------------------------- driver


def _versions() -> dict[str, str]:
    import stabletail

    v = {"python": sys.version.split()[0], "platform": platform.platform(), "stabletail": stabletail.__version__}
    for mod in ("numpy", "scipy", "numba", "torch", "matplotlib"):
        try:
            v[mod] = __import__(mod).__version__
        except ImportError:  # pragma: no cover - optional
            pass
    return v


def _serial(cells: Sequence[Cell], device: str, data_dir: str | None, *, progress: bool = False) -> Iterator[CellResult]:
    for cell in cells:
        yield execute_cell(cell, device, data_dir, progress=progress)


def _engine(
    engine: str | Callable[[Sequence[Cell], str, str | None], Iterable[CellResult]] | None,
    address: str | None,
) -> Callable[[Sequence[Cell], str, str | None], Iterable[CellResult]] | None:
    """The engine callable for :func:`run_study`'s ``engine`` and ``address`` (None: serial)."""
    if callable(engine):
        if address is not None:
            raise ValueError("address is an option of engine='ray', not of a custom engine")
        return engine
    if check_choice("engine", engine or "serial", ("serial", "ray")) == "serial":
        if address is not None:
            raise ValueError("address needs engine='ray'")
        return None
    from ._ray import ray_engine

    return functools.partial(ray_engine, address=address)


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
    engine: str | Callable[[Sequence[Cell], str, str | None], Iterable[CellResult]] | None = None,
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
    engine = _engine(engine, address)
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
        rec = _read_cell(cells_dir / f"{c.key}.json")
        return rec is not None and rec.get("status") == "ok"

    todo = [c for c in cells if not done(c)]
    n_skipped = len(cells) - len(todo)
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"{name} ({n_skipped} done before)", unit="cell")
    try:
        run_cells = engine or functools.partial(_serial, progress=bar is not None)
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
        rec = _read_cell(out / "cells" / f"{c.key}.json") or {"status": "missing", "seconds": None}
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
        "outputs": {"table": table.name, "summary": summary_path.name, "figures": [str(f.relative_to(out)) for f in figs]},
    }
    meta_path = out / "run.json"
    write_json(meta_path, meta)
    return StudyRun(out, table, summary_path, meta_path, tuple(figs), len(cells), n_skipped,
                    sum(s["status"] != "ok" for s in status), seconds)
