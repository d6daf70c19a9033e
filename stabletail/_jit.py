"""The one place that fixes numba's jit options for every kernel.

Kernels are compiled lazily (on first call) and cached on disk, so
``import stabletail`` never compiles and a second process does not recompile.
"""

from __future__ import annotations

import types
from typing import Any, Callable

import numba

__all__ = ["jit", "jit_variants", "prange"]

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


def jit(
    func: Callable[..., Any] | None = None,
    /,
    *,
    parallel: bool = False,
    fastmath: bool = False,
    **kwargs: Any,
):
    """``numba.njit`` with the project's options (cache, numpy error model, nogil).

    Usable bare (``@jit``) or with options (``@jit(parallel=True)``).
    """
    opts = dict(_OPTIONS, parallel=parallel, fastmath=fastmath, **kwargs)
    if func is not None:
        return numba.njit(**opts)(func)
    return numba.njit(**opts)


def jit_variants(func: Callable[..., Any]):
    """``(serial, parallel)`` compilations of one kernel written with ``prange``.

    numba's disk cache files a function under its module, qualified name and line
    and keys the entries by signature and bytecode, not by the compile options: two
    variants of one Python function would load each other's machine code from the
    cache. The parallel variant is therefore compiled from a copy of the function
    under its own name.
    """
    twin = types.FunctionType(func.__code__, func.__globals__, func.__name__ + "_parallel",
                              func.__defaults__, func.__closure__)
    twin.__qualname__ = func.__qualname__ + "_parallel"
    twin.__module__ = func.__module__
    twin.__doc__ = func.__doc__
    return jit(func), jit(parallel=True)(twin)
