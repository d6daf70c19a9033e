"""Named reproduction studies of gradient-noise tails: config in, tidy table and figures out.

>>> from stabletail.sgd.studies import run_study          # doctest: +SKIP
>>> run = run_study("activation", "results/activation")   # doctest: +SKIP

Every grid cell (configuration x seed) is an independent, picklable
:class:`Cell` (:mod:`.cells`); :func:`execute_cell` runs one anywhere, an engine
(:mod:`.engines`: serial or Ray) runs a list of them, and :func:`run_study` (the
driver, :mod:`.runner`) writes results atomically (:mod:`.tables`) and resumes
finished cells. Imports point one way: catalog <- cells <- engines <- runner.
"""

from __future__ import annotations

from .catalog import STUDIES, FigureSpec, Study
from .cells import Cell, CellResult, execute_cell, make_cells, resolve_config
from .engines import ray_engine, serial_engine
from .runner import StudyRun, run_study
from .tables import summarize

__all__ = [
    "STUDIES",
    "Study",
    "FigureSpec",
    "Cell",
    "CellResult",
    "StudyRun",
    "execute_cell",
    "make_cells",
    "resolve_config",
    "run_study",
    "summarize",
    "serial_engine",
    "ray_engine",
]
