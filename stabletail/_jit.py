"""The one place that fixes numba's jit options for every kernel.

Kernels are compiled lazily (on first call) and cached on disk, so
``import stabletail`` never compiles and a second process does not recompile.
"""

from __future__ import annotations

from typing import Any, Callable

import numba

__all__ = ["jit", "prange"]

prange = numba.prange

_OPTIONS = dict(cache=True, error_model="numpy", nogil=True)


def jit(func: Callable[..., Any] | None = None, /, *, parallel: bool = False, fastmath: bool = False, **kwargs: Any):
    """``numba.njit`` with the project's options (cache, numpy error model, nogil).

    Usable bare (``@jit``) or with options (``@jit(parallel=True)``).
    """
    opts = dict(_OPTIONS, parallel=parallel, fastmath=fastmath, **kwargs)
    if func is not None:
        return numba.njit(**opts)(func)
    return numba.njit(**opts)
