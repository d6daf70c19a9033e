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

# numba's default layer picks OpenMP when it can, and launching its pool changes the
# OpenMP thread count torch reads (a call to an estimator turned torch.set_num_threads(1)
# into 2 threads, which also broke bit-for-bit agreement between processes). OpenMP also
# spin-waits, which collapses on a shared two-core machine. The workqueue layer touches
# neither; it is chosen unless the user picked a layer (environment or numba.config).
# Its one limit: parallel kernels must not be called from several Python threads at once.
if numba.config.THREADING_LAYER == "default":
    numba.config.THREADING_LAYER = "workqueue"


def jit(func: Callable[..., Any] | None = None, /, *, parallel: bool = False, fastmath: bool = False, **kwargs: Any):
    """``numba.njit`` with the project's options (cache, numpy error model, nogil).

    Usable bare (``@jit``) or with options (``@jit(parallel=True)``).
    """
    opts = dict(_OPTIONS, parallel=parallel, fastmath=fastmath, **kwargs)
    if func is not None:
        return numba.njit(**opts)(func)
    return numba.njit(**opts)
