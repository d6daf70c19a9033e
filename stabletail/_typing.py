"""Shared type aliases (no numba, no torch)."""

from __future__ import annotations

from typing import Literal, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ArrayLike", "NDArray", "FloatArray", "SeedLike", "Parameterization", "NanPolicy"]

#: A float64 numpy array.
FloatArray = NDArray[np.float64]
#: Anything that seeds a :class:`numpy.random.Generator`.
SeedLike = Union[int, np.random.Generator, None]
#: Nolan's parameterisations of the stable law.
Parameterization = Literal["S0", "S1"]
#: How non-finite input is handled, as in scipy.
NanPolicy = Literal["raise", "omit", "propagate"]
