"""Named reproduction studies of gradient-noise tails: config in, tidy table and figures out.

>>> from stabletail.sgd.studies import run_study          # doctest: +SKIP
>>> run = run_study("activation", "results/activation")   # doctest: +SKIP

Every grid cell (configuration x seed) is an independent, picklable
:class:`Cell`; :func:`execute_cell` runs one anywhere and :func:`run_study`
(the driver) writes results atomically and resumes finished cells.
"""

from __future__ import annotations

from .catalog import STUDIES, FigureSpec, Study
from .runner import (
    Cell,
    CellResult,
    StudyRun,
    execute_cell,
    make_cells,
    resolve_config,
    run_study,
    summarize,
)

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
]
