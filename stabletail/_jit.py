"""The one place that fixes numba's jit options for every kernel.

Kernels are compiled lazily (on first call) and cached on disk, so
``import stabletail`` never compiles and a second process does not recompile.
"""

from __future__ import annotations

import functools
import threading
import types
from typing import Any, Callable

import numba

__all__ = ["jit", "jit_variants", "parallel_lock", "prange"]

prange = numba.prange

_OPTIONS = dict(cache=True, error_model="numpy", nogil=True)

# numba's default layer picks OpenMP when it can, and launching its pool changes the
# OpenMP thread count torch reads (a call to an estimator turned torch.set_num_threads(1)
# into 2 threads, which also broke bit-for-bit agreement between processes). OpenMP also
# spin-waits, which collapses on a shared two-core machine. The workqueue layer touches
# neither; it is chosen unless the user picked a layer (environment or numba.config).
# Its one limit: two Python threads must not run parallel regions at once (numba aborts the
# process), so every parallel kernel takes `parallel_lock` when called from Python.
if numba.config.THREADING_LAYER == "default":
    numba.config.THREADING_LAYER = "workqueue"

#: Held while a parallel kernel runs: one parallel region at a time in the process.  Kernels
#: compiled with ``parallel=True`` take it themselves; a compiled caller of a parallel variant
#: (``jit_variants(..., nested=True)``) is called with it held.
parallel_lock = threading.Lock()


def _locked(dispatcher: Any) -> Callable[..., Any]:
    """``dispatcher`` called under :data:`parallel_lock` (from Python; numba code calls
    ``.dispatcher``, the compiled kernel itself)."""

    @functools.wraps(dispatcher.py_func)
    def call(*args: Any) -> Any:
        with parallel_lock:
            return dispatcher(*args)

    call.dispatcher = dispatcher  # type: ignore[attr-defined]
    return call


def jit(
    func: Callable[..., Any] | None = None,
    /,
    *,
    parallel: bool = False,
    fastmath: bool = False,
    **kwargs: Any,
):
    """``numba.njit`` with the project's options (cache, numpy error model, nogil).

    Usable bare (``@jit``) or with options (``@jit(parallel=True)``).  A parallel kernel is
    returned as a Python function that runs it under :data:`parallel_lock`.
    """
    opts = dict(_OPTIONS, parallel=parallel, fastmath=fastmath, **kwargs)

    def compile_(f: Callable[..., Any]) -> Any:
        kernel = numba.njit(**opts)(f)
        return _locked(kernel) if parallel else kernel

    return compile_(func) if func is not None else compile_


def jit_variants(func: Callable[..., Any], *, nested: bool = False):
    """``(serial, parallel)`` compilations of one kernel written with ``prange``.

    The parallel variant takes :data:`parallel_lock` (see :func:`jit`), unless ``nested``: then
    it is the bare kernel, for numba code whose own Python caller holds the lock.

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
    par = jit(parallel=True)(twin)
    return jit(func), par.dispatcher if nested else par
