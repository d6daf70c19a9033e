"""Recipe for ``tests/data/nolan_s1.npz``: Nolan's reference tables of the S1 stable law.

The tables were produced by J. P. Nolan's STABLE program and are distributed with scipy's
test data (``scipy/stats/tests/data/levy_stable/stable-Z1-{pdf,cdf}-sample-data.npy``;
columns x, p, alpha, beta, pct). This script copies them, unchanged, into one compressed
file so the tests never depend on how scipy was installed::

    python scripts/make_nolan_tables.py            # writes tests/data/nolan_s1.npz
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.stats

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "nolan_s1.npz"


def main() -> None:
    base = Path(os.path.dirname(scipy.stats.__file__)) / "tests" / "data" / "levy_stable"
    tables = {kind: np.load(base / f"stable-Z1-{kind}-sample-data.npy") for kind in ("pdf", "cdf")}
    np.savez_compressed(OUT, **tables)
    for kind, tab in tables.items():
        print(
            f"{kind}: {tab.shape[0]} rows, alpha {np.unique(tab[:, 2]).min()}..{np.unique(tab[:, 2]).max()}"
        )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
