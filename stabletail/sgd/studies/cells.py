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
        """JSON form written to ``cells/<key>.json``."""
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
