"""The progress bar of long computations (tqdm when installed; nothing otherwise)."""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


def progress_bar(total: int, show: bool | None, desc: str, *, auto_from: int = 200) -> Any:
    """A tqdm bar of ``total`` steps, or None.

    ``show=None`` shows it from ``auto_from`` steps on; tqdm is optional (the sgd extra
    installs it), so without it there is no bar.
    """
    if show is False or (show is None and total < auto_from):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, leave=False)
