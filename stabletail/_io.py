"""File output shared by every writer of the package (private).

One atomic writer (temporary file in the target folder, ``fsync``, ordinary
``0644`` permissions, :func:`os.replace`), one JSON conversion (numpy scalars and
arrays, tuples and paths become plain JSON; NaN and infinities become ``null``) and
one CSV formatter. No numba, no torch.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

FILE_MODE = 0o644  # results are meant to be read by others (mkstemp alone gives 0600)


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` to ``path`` atomically: a crash leaves the old file or the new one.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; missing parent folders are created.
    data : str or bytes
        Text (written as UTF-8 with the newlines given) or bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if isinstance(data, str):
            fh = os.fdopen(fd, "w", newline="", encoding="utf-8")
        else:
            fh = os.fdopen(fd, "wb")
        with fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values; non-finite floats become ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, str) or obj is None:
        return obj
    return str(obj)


def json_text(obj: Any, indent: int | None = 1) -> str:
    """JSON text of :func:`jsonable` ``(obj)``."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (NaN and infinities become ``null``)."""
    atomic_write(path, json_text(obj) + "\n")


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 110) -> None:
    """Write a matplotlib figure atomically, in the format its suffix names (PNG without one)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=os.path.splitext(os.fspath(path))[1].lstrip(".") or "png", dpi=dpi)
    atomic_write(path, buf.getvalue())


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], header: bool = True) -> str:
    """Rows as CSV text with the given columns (extra keys ignored)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
