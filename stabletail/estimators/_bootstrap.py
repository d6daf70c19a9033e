"""Shared pieces of the bootstrap standard errors (private)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from .._typing import SeedLike
from .._validation import check_choice, check_int, check_random_state

StderrMethod = Literal["asymptotic", "bootstrap"]

#: Fewest resamples accepted: the standard error of a bootstrap standard error from B
#: resamples is about 1/sqrt(2B) relative (16% at B = 20).
MIN_BOOT = 20


def check_stderr(stderr: str, n_boot: int) -> int:
    """Validate ``stderr`` and ``n_boot``; returns ``n_boot``."""
    check_choice("stderr", stderr, ("asymptotic", "bootstrap"))
    return check_int("n_boot", n_boot, MIN_BOOT)


def boot_seed(random_state: SeedLike) -> int:
    """One 62-bit seed for the counter-based resample streams of the kernels."""
    return int(check_random_state(random_state).integers(0, 2**62))


def boot_sd(values: np.ndarray) -> float:
    """Bootstrap standard error: the sample standard deviation over resamples."""
    return float(np.std(values, ddof=1))
