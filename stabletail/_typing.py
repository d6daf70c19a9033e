"""Shared type aliases (no numba, no torch)."""

from __future__ import annotations

from typing import Any, Literal, Protocol, Union, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ArrayLike", "NDArray", "FloatArray", "SeedLike", "Parameterization", "NanPolicy", "Estimate", "Test",
]

#: A float64 numpy array.
FloatArray = NDArray[np.float64]
#: Anything that seeds a :class:`numpy.random.Generator`.
SeedLike = Union[int, np.random.Generator, None]
#: Nolan's parameterisations of the stable law.
Parameterization = Literal["S0", "S1"]
#: How non-finite input is handled, as in scipy.
NanPolicy = Literal["raise", "omit", "propagate"]


@runtime_checkable
class Estimate(Protocol):
    """The inference surface every estimate offers (``TailIndex``, ``StableFit``).

    ``stderr`` (a number, or one per parameter), ``ci(level)`` (an interval, or one per
    parameter) and ``summary()`` (text for people).
    """

    stderr: Any

    def ci(self, level: float = 0.95) -> Any:
        """Confidence interval(s) at ``level``."""

    def summary(self) -> str:
        """A readable account of the estimate."""


@runtime_checkable
class Test(Protocol):
    """The surface of a statistical test's result: ``statistic``, ``pvalue``, ``method``."""

    statistic: float
    pvalue: float
    method: str
