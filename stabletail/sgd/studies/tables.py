"""Study tables on disk: CSV (and Parquet when pyarrow imports), cell records, summaries."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..._io import atomic_write
from ..._validation import check_level

__all__ = ["write_table", "read_cell", "summarize"]


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def write_table(path: Path, rows: Sequence[Mapping[str, Any]]) -> list[Path]:
    """Write rows as CSV (always) and Parquet (when pyarrow imports); atomic. Returns the paths."""
    cols = _columns(rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    atomic_write(path, buf.getvalue())
    written = [path]
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return written
    table = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])
    sink = io.BytesIO()
    pq.write_table(table, sink)
    pq_path = path.with_suffix(".parquet")
    atomic_write(pq_path, sink.getvalue())
    written.append(pq_path)
    return written


def read_cell(path: Path) -> dict[str, Any] | None:
    """A cell record, or None when it is missing or unreadable (then it is run again)."""
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):  # unreadable: treated as not done
        return None


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
            rec.update(
                {
                    f"{m}_mean": mean,
                    f"{m}_sd": sd,
                    f"{m}_n": n,
                    f"{m}_low": mean - half,
                    f"{m}_high": mean + half,
                }
            )
        out.append(rec)
    return out
