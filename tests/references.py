"""Independent references shared by the test areas (import as ``import references``).

Nothing here imports stabletail: these are the yardsticks the package is measured by.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"


def nolan_table(kind: str) -> np.ndarray:
    """Nolan's S1 reference table, ``kind`` "pdf" or "cdf".

    Columns: x, p (density or distribution function), alpha, beta, pct. Made by
    ``scripts/make_nolan_tables.py`` from the copy distributed with scipy's tests
    (Nolan's STABLE program); accurate to about 1e-12 in the bulk (REFERENCES.md).
    """
    with np.load(DATA / "nolan_s1.npz") as tables:
        return tables[kind]
