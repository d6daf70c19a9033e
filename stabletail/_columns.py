"""Reading a column of numbers from a text file: what the ``tail``, ``fit`` and ``diagnose`` commands read."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

__all__ = ["read_column"]


def read_column(path: str, column: int = 0, *, decimal_comma: bool = False) -> np.ndarray:
    """Read one column of numbers from a text file (``"-"`` is standard input).

    Columns are separated by commas, tabs or spaces, or by semicolons when a line holds
    one (then commas are not separators). A first line that does not parse (a header)
    is skipped; blank lines and lines starting with ``#`` are ignored; a UTF-8
    byte-order mark is ignored. Anything else that is not a number is an error:
    nothing is skipped silently.

    Parameters
    ----------
    path : str
        File name or ``"-"``.
    column : int
        Zero-based column index (>= 0).
    decimal_comma : bool
        Read ``0,123`` as 0.123 (columns must then be separated by semicolons, tabs
        or spaces). Without it a decimal comma is an error, never split into two
        numbers.

    Returns
    -------
    numpy.ndarray
        float64 values.

    Raises
    ------
    ValueError
        If ``column`` is negative, a line other than the first has no number in that
        column, the file is not text, or it holds no number.
    OSError
        If the file cannot be read (missing, a directory, no permission).
    """
    if isinstance(column, bool) or not isinstance(column, (int, np.integer)) or column < 0:
        raise ValueError(f"column must be an integer >= 0, got {column!r}")
    if path == "-":
        text = sys.stdin.read()
    else:
        if Path(path).is_dir():
            raise IsADirectoryError(f"{path} is a directory, not a file of numbers")
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path} is not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    values: list[float] = []
    first = True
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if ";" in s or decimal_comma:
            fields = s.replace(";", " ").split()
            if decimal_comma:
                fields = [f.replace(",", ".") for f in fields]
        else:
            fields = s.replace(",", " ").split()
        try:
            values.append(float(fields[column]))
        except (ValueError, IndexError):
            if not first:
                hint = ""
                if column < len(fields) and "," in fields[column]:
                    hint = " (a decimal comma? use --decimal-comma, or a decimal point)"
                raise ValueError(
                    f"{path}, line {lineno}: no number in column {column}: {line!r}{hint}"
                ) from None
        first = False
    if not values:
        raise ValueError(f"{path}: no numbers found in column {column}")
    return np.asarray(values, dtype=np.float64)
