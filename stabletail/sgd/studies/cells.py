"""Study grids as data: a :class:`Cell` per (configuration, seed), run by :func:`execute_cell`.

A cell is plain data (picklable, JSON-able) and :func:`execute_cell` is a top-level
function, so any engine (:mod:`.engines`) can run cells anywhere; only the driver
(:mod:`.runner`) writes results.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..._validation import check_choice
from .catalog import STUDIES, Study

__all__ = ["Cell", "CellResult", "resolve_config", "make_cells", "execute_cell"]


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
        """JSON form written to ``cells/<key>.json``.

        Returns
        -------
        dict
            The fields, with the cell's ``key``.
        """
        d = asdict(self)
        d["key"] = self.cell.key
        return d


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
            raise ValueError(
                f"unknown option {k!r} for study {st.name!r}; options are: {', '.join(sorted(config))}"
            )
        if k in st.axes and not isinstance(v, (list, tuple)):
            v = [v]
        config[k] = list(v) if isinstance(v, tuple) else v
        _check_value(k, config[k], k in st.axes)
    for grid in config.get("extra_grids") or []:
        _check_grid(st, config, grid)
    if seeds is not None:
        config["seeds"] = (
            list(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
        )
    if not config["seeds"]:
        raise ValueError("seeds must name at least one seed")
    return config


def _is_int(v: Any, lo: int) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= lo


def _is_real(v: Any, lo: float, hi: float = np.inf, *, open_lo: bool = False) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    return (lo < v if open_lo else lo <= v) and v <= hi and np.isfinite(v)


# What each configuration entry may hold (one value; grid axes hold a list of them).
_VALUES: dict[str, tuple[Any, str]] = {
    "lr": (lambda v: _is_real(v, 0.0, open_lo=True), "a number > 0"),
    "momentum": (lambda v: _is_real(v, 0.0, 1.0), "a number in [0, 1]"),
    "level": (lambda v: _is_real(v, 0.0, 1.0, open_lo=True) and v < 1.0, "a number in (0, 1)"),
    "width": (lambda v: _is_int(v, 1), "an integer >= 1"),
    "depth": (lambda v: _is_int(v, 1), "an integer >= 1"),
    "batch_size": (lambda v: _is_int(v, 1), "an integer >= 1"),
    "n_train": (lambda v: v is None or _is_int(v, 1), "null or an integer >= 1"),
    "n_test": (lambda v: v is None or _is_int(v, 1), "null or an integer >= 1"),
    "dtype": (lambda v: v in ("float32", "float64"), '"float32" or "float64"'),
    "bias": (lambda v: isinstance(v, bool), "true or false"),
    "per_example": (lambda v: isinstance(v, bool), "true or false"),
    "dropout": (lambda v: _is_real(v, 0.0, 1.0) and v < 1.0, "a number in [0, 1)"),
    "checkpoints": (lambda v: isinstance(v, list) and bool(v) and all(_is_int(c, 0) for c in v),
                    "a non-empty list of epochs (integers >= 0)"),
}

# Options of one model kind that an extra grid may set although the main grid has no such entry.
_MODEL_OPTIONS = ("dropout",)


def _check_value(key: str, value: Any, axis: bool) -> None:
    rule = _VALUES.get(key)
    if rule is None:
        return
    ok, allowed = rule
    values = value if axis and isinstance(value, list) else [value]
    for v in values:
        if not ok(v):
            raise ValueError(
                f"{key} (--set {key}=...) must be {allowed}{' (each value of the grid)' if axis else ''}, "
                f"got {json.dumps(v) if isinstance(v, (str, int, float, list)) else repr(v)}"
            )


def _check_grid(st: Study, config: Mapping[str, Any], grid: Any) -> None:
    """An entry of ``extra_grids``: a mapping of known configuration keys to valid values."""
    if not isinstance(grid, Mapping):
        raise ValueError(f"extra_grids must be a list of objects (configuration overrides), got {grid!r}")
    for k, v in grid.items():
        if (k not in config and k not in _MODEL_OPTIONS) or k in ("seeds", "extra_grids"):
            raise ValueError(f"extra_grids: unknown option {k!r} for study {st.name!r}")
        _check_value(k, v if k not in st.axes or isinstance(v, list) else [v], k in st.axes)


def make_cells(study: str | Study, config: Mapping[str, Any]) -> list[Cell]:
    """The grid of a configuration: one :class:`Cell` per axis combination and seed.

    ``config["extra_grids"]`` (optional) lists further grids, each given by the entries
    it changes (for example the architecture study's CNN cells: ``{"model": "alexnet",
    "width": [32, 64], "lr": 0.01, ...}``); their cells follow the main grid's.

    Parameters
    ----------
    study : str or Study
        A name of :data:`STUDIES` or a :class:`Study`.
    config : mapping
        A resolved configuration (:func:`resolve_config`): every axis of the study a list.

    Returns
    -------
    list of Cell
    """
    st = STUDIES[study] if isinstance(study, str) else study
    cells = []
    for grid in [{}, *(config.get("extra_grids") or [])]:
        cfg = {**config, **grid}
        fixed = {k: v for k, v in cfg.items() if k not in st.axes and k not in ("seeds", "extra_grids")}
        axes = [cfg[a] if isinstance(cfg[a], list) else [cfg[a]] for a in st.axes]
        for combo in itertools.product(*axes):
            params = {**fixed, **dict(zip(st.axes, combo))}
            cells.extend(Cell(st.name, params, int(s)) for s in config["seeds"])
    return cells


def execute_cell(
    cell: Cell, device: str = "cpu", data_dir: str | None = None, *, progress: bool = False
) -> CellResult:
    """Run one cell; never raises for errors inside the study (they become ``status="failed"``).

    This is the unit of work an engine ships to a worker: it only needs the
    cell, the device name and the data directory, and returns plain data.

    Parameters
    ----------
    cell : Cell
        The cell to run.
    device : str
        torch device.
    data_dir : str, optional
        Data directory (see :func:`stabletail.sgd.datasets.default_data_dir`).
    progress : bool
        A progress bar over the cell's checkpoints.

    Returns
    -------
    CellResult
        Status ``"ok"`` with the rows, or ``"failed"`` with the error and its traceback.
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
