"""Shared pieces of the bootstrap standard errors (private)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from .._typing import SeedLike
from .._validation import check_choice, check_int, check_random_state
from . import _kernels

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


def boot_log_moments(
    logs: np.ndarray, k: int, n_boot: int, random_state: SeedLike
) -> tuple[np.ndarray, np.ndarray]:
    """``M1(k), M2(k)`` (mean first and second powers of the log-excesses over the (k+1)-th
    largest) of ``n_boot`` resamples of the data (``logs`` decreasing), from one parallel kernel."""
    out = np.empty((n_boot, 3))
    _kernels.boot_upper(logs - logs[0], k, k + 1, boot_seed(random_state), n_boot, out)
    s1, s2, ref = out[:, 0], out[:, 1], out[:, 2]
    m1 = s1 / k - ref
    m2 = s2 / k - 2.0 * ref * s1 / k + ref * ref
    return m1, m2
