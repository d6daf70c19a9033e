"""Device-side streaming statistics of gradient noise (private).

Everything here runs in torch on the model's device: the harvester feeds chunks
of minibatch-gradient rows (``r x d``) and only small results (scalars, a few
d-vectors at the very end) ever reach the host. Reductions accumulate in
float64 whatever the gradient dtype.

Two accumulators:

- :class:`PrePass` -- the statistics that need no full gradient: sums of the
  gradients shifted by the first row (mean and variance per coordinate), the
  running max of ``|g_k - g_1|`` per coordinate (zero exactly when the
  gradient is identical in every minibatch: zero noise), per-layer row norms.
- :class:`stabletail.sgd._noisepass.MainPass` -- everything that needs the noise
  ``e_k = g_k - g_full`` (in its own module).

Rows of float32/float64 CPU tensors go through the numba kernels of
:mod:`stabletail.sgd._kernels` (one sweep per chunk, on zero-copy numpy views);
other devices and dtypes through the torch formulation below (also used on
the CPU when :data:`USE_KERNELS` is False, which the tests do to check that
both agree).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from .._jit import parallel_lock
from ..estimators import sqrt_block_size

F64 = torch.float64

#: Use the numba kernels for float32/float64 rows on the CPU (the tests switch it off
#: to run the torch formulation, the one CUDA uses, on the CPU).
USE_KERNELS = True

_TILE = 1024  # columns per tile of the kernels: the tile's accumulators stay in cache

# Chunks of fewer elements (rows x columns) run on one thread; the kernels give the same bits
# either way. A parallel region costs tens of microseconds, but the real floor is torch: after
# each of its multi-threaded operations libgomp's worker threads spin-wait for 5-10 ms (measured
# here), so a parallel kernel right after a backward pass shares a core with a spinning thread.
# A 16-row chunk of the 79,510-parameter MLP (1.3e6 elements, 2 ms on one thread) got slower on
# two threads; 4.2e6 elements (about 6 ms on one thread) is where two threads pay.
_PARALLEL_MIN = 1 << 22


@contextlib.contextmanager
def kernel_threads(n: int) -> Iterator[None]:
    """numba runs the kernels' parallel regions of this Python thread on ``n`` threads
    (at most numba's maximum) inside the block; its previous count, and torch's, are restored
    after."""
    import numba

    before = numba.get_num_threads()
    torch_before = torch.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)
        # numba's pool start-up can reset the OpenMP thread count torch reads: give torch back
        # the count it had (a changed count changes float sums in the last bits)
        if torch.get_num_threads() != torch_before:
            torch.set_num_threads(torch_before)


def _run_kernel(kernel: Callable[..., None], n_elements: int, *args: Any) -> None:
    """Call a kernel of :mod:`stabletail.sgd._kernels` whose last argument is ``parallel`` (its
    parallel regions under :data:`stabletail._jit.parallel_lock`: harvests in several threads take
    turns in them)."""
    import numba

    if n_elements >= _PARALLEL_MIN and numba.get_num_threads() > 1:
        with parallel_lock:
            kernel(*args, True)
    else:
        kernel(*args, False)


def uses_kernels(device: torch.device, dtype: torch.dtype) -> bool:
    """True when rows of this device and dtype go through the numba kernels."""
    return USE_KERNELS and device.type == "cpu" and dtype in (torch.float32, torch.float64)


def _on_kernels(t: torch.Tensor) -> bool:
    return uses_kernels(t.device, t.dtype)


def _np(t: torch.Tensor) -> np.ndarray:
    """Zero-copy numpy view of a CPU tensor."""
    return t.detach().numpy()


class Arena:
    """Zeroed float64 vectors carved out of one buffer (``buf``), or fresh ones (``buf=None``).

    The accumulators of a harvest are a dozen ``d``-vectors; taking them from one
    buffer that the harvest reuses spares the page faults of fresh allocations.
    """

    def __init__(self, buf: torch.Tensor | None, device: torch.device) -> None:
        self.buf = buf
        self.device = device
        self.used = 0

    def zeros(self, n: int) -> torch.Tensor:
        """A zeroed float64 vector of ``n`` entries."""
        if self.buf is None or self.used + n > self.buf.numel():
            return torch.zeros(n, dtype=F64, device=self.device)
        out = self.buf[self.used : self.used + n]
        self.used += n
        return out.zero_()


def log_abs_into(x: torch.Tensor, out: torch.Tensor, eps: float) -> torch.Tensor:
    """``out = log(|x| + eps)`` elementwise (``out`` may be ``x``).

    On the CPU numpy's vectorised float32/float64 ``log`` is used on the same
    memory (no copy): it is about twice as fast as torch's here.
    """
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        a = out.numpy()
        np.abs(x.numpy(), out=a)
        if eps:
            np.add(a, eps, out=a)
        with np.errstate(divide="ignore"):  # log 0 = -inf (eps = 0 and an exact zero)
            np.log(a, out=a)
        return out
    return torch.abs(x, out=out).add_(eps).log_()


def row_blocks(k: int) -> tuple[int, int]:
    """Block size and block count for a Mohammadi estimate on ``k`` rows.

    The largest divisor of ``k`` not above ``sqrt(k)``; when that is 1 (``k``
    prime) ``floor(sqrt(k))`` is used and the trailing ``k - k1 * k2`` rows are
    left out. Returns ``(k1, k2)``; ``k1 < 2`` means no estimate is possible.
    """
    k1 = sqrt_block_size(k) if k >= 1 else 0
    if k1 < 2:
        k1 = math.isqrt(k)
    if k1 < 2:
        return k1, 0
    return k1, k // k1


class PrePass:
    """Statistics of the raw gradients (first pass)."""

    def __init__(self, k: int, offsets: Sequence[int], dtype: torch.dtype, device: torch.device,
                 arena: Arena | None = None) -> None:
        d = offsets[-1]
        arena = arena or Arena(None, device)
        self.k = k
        self.offsets = list(offsets)
        self.first: torch.Tensor | None = None  # float64
        self.s1 = arena.zeros(d)
        self.s2 = arena.zeros(d)
        # max |g_k - g_1|, kept for float64 rows only: for narrower dtypes a non-zero g_k - g_1
        # (at least 2**-149 in magnitude) has a non-zero float64 square, so s2 == 0 marks zero noise
        self.spread = arena.zeros(d if dtype == F64 else 0)
        self.sq_norms = torch.zeros(k, len(offsets) - 1, dtype=F64, device=device)
        self._offsets_np = np.asarray(offsets, dtype=np.int64)

    def update(self, g: torch.Tensor, k0: int) -> None:
        """Accumulate rows ``k0 .. k0 + len(g)``."""
        if self.first is None:
            self.first = g[0].to(F64, copy=True)
        if _on_kernels(g):
            from . import _kernels

            _run_kernel(_kernels.prepass, g.numel(), _np(g), k0, _np(self.first), _np(self.s1), _np(self.s2),
                        _np(self.spread), _np(self.sq_norms), self._offsets_np, _TILE)
            return
        r = g.shape[0]
        for i, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
            self.sq_norms[k0 : k0 + r, i] += g[:, a:b].to(F64).square().sum(1)
        dev = g.to(F64) - self.first
        self.s1 += dev.sum(0)
        if self.spread.numel():
            torch.maximum(self.spread, dev.abs().amax(0), out=self.spread)
        self.s2 += dev.square_().sum(0)

    def mean(self) -> torch.Tensor:
        """Mean gradient over the rows (float64)."""
        return self.first + self.s1 / self.k

    def std(self, out: torch.Tensor | None = None) -> torch.Tensor:
        """Standard deviation across rows per coordinate (ddof=1, float64), into ``out`` if given."""
        out = torch.empty_like(self.s1) if out is None else out
        if self.k < 2:
            return out.zero_()
        torch.mul(self.s1, self.s1, out=out)  # var = (s2 - s1^2 / k) / (k - 1)
        out.mul_(-1.0 / self.k).add_(self.s2).mul_(1.0 / (self.k - 1))
        return out.clamp_min_(0.0).sqrt_()

    def zero_mask(self) -> torch.Tensor:
        """True where the gradient is identical in every row (zero noise)."""
        return (self.spread if self.spread.numel() else self.s2) == 0
