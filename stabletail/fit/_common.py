"""Input checks shared by the fit methods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from .._params import (
    PARAM_NAMES,
    check_alpha,
    check_beta,
    check_loc,
    check_parameterization,
    check_scale,
    s1_shift,
)
from .._typing import ArrayLike, FloatArray
from .._validation import as_float_array

__all__ = ["MIN_POINTS", "Standardized", "boundary", "check_fix", "check_x", "prepare", "standardize"]

#: Probabilities of the quantile method's sample quantiles (McCulloch 1986).
QUANTILE_PROBS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
#: Fewest data points each method accepts (the 5% and 95% sample quantiles must be interior order statistics).
MIN_POINTS: Mapping[str, int] = MappingProxyType({"quantile": 20, "ecf": 20, "mle": 20})


def check_x(x: ArrayLike, method: str) -> FloatArray:
    arr = as_float_array(x, "x", dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"x must be one-dimensional, got shape {arr.shape}")
    need = MIN_POINTS[method]
    if arr.size < need:
        raise ValueError(f"x needs at least {need} points for method={method!r}, got {arr.size}")
    bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise ValueError(f"x contains {bad} non-finite value(s) (NaN or inf); remove them first")
    return np.ascontiguousarray(arr)


def check_fix(fix: Mapping[str, Any] | None, parameterization: str) -> dict[str, float]:
    """Validate ``fix`` and return the fixed values in S0."""
    if fix is None:
        return {}
    if not isinstance(fix, Mapping):
        raise TypeError(f"fix must be a mapping of parameter names to values, got {type(fix).__name__}")
    unknown = [k for k in fix if k not in PARAM_NAMES]
    if unknown:
        raise ValueError(f"fix has unknown parameter name(s) {unknown}; allowed: {', '.join(PARAM_NAMES)}")
    out: dict[str, float] = {}
    if "alpha" in fix:
        out["alpha"] = check_alpha(fix["alpha"], "fix['alpha']")
    if "beta" in fix:
        out["beta"] = check_beta(fix["beta"], "fix['beta']")
    if "scale" in fix:
        out["scale"] = check_scale(fix["scale"], "fix['scale']")
    if "loc" in fix:
        out["loc"] = check_loc(fix["loc"], "fix['loc']")
        if parameterization == "S1" and out.get("beta", None) != 0.0:
            if not {"alpha", "beta", "scale"} <= out.keys():
                raise ValueError(
                    "fix['loc'] with parameterization='S1' needs beta fixed at 0, or alpha, beta and "
                    "scale all fixed (the S1 location depends on them); fix the S0 location instead"
                )
            out["loc"] = out["loc"] + s1_shift(out["alpha"], out["beta"], out["scale"])
    return out



@dataclass(frozen=True)
class Standardized:
    """Data (x - center) / spread and the fixed values in the same units (S0)."""

    x: FloatArray
    fixed: dict[str, float]
    center: float
    spread: float
    quantiles: FloatArray  # of x at QUANTILE_PROBS (the quantile method's five; one sort for both)


def standardize(x: FloatArray, fixed: dict[str, float]) -> Standardized:
    """Centre on the median and divide by the interquartile range, without overflow.

    Every method fits the standardised data, so the fits are scale- and
    location-equivariant for data anywhere in 1e-300..1e300 (the S0 law is a
    location-scale family).

    Raises
    ------
    ValueError
        If the interquartile range is zero (constant data, or more than half the points equal).
    """
    h = 0.5 * x  # halves: no overflow in differences of values near the float limit
    qh = np.quantile(h, QUANTILE_PROBS)
    q25, q50, q75 = qh[1], qh[2], qh[3]
    half = float(q75 - q25)
    if not half > 0.0:
        raise ValueError("x is constant or its interquartile range is zero; the scale cannot be estimated")
    xs = np.ascontiguousarray((h - q50) / half)
    spread = 2.0 * half
    center = 2.0 * float(q50)
    fs = dict(fixed)
    if "scale" in fs:
        fs["scale"] = fs["scale"] / spread
    if "loc" in fs:
        fs["loc"] = 0.5 * fs["loc"] / half - q50 / half
    return Standardized(xs, fs, center, spread, (qh - q50) / half)


def prepare(
    x: ArrayLike, method: str, parameterization: Any, fix: Mapping[str, Any] | None
) -> tuple[str, Standardized]:
    """Checks shared by the public fit functions; the standardised data and fixed values."""
    par = check_parameterization(parameterization)
    arr = check_x(x, method)
    return par, standardize(arr, check_fix(fix, par))


def boundary(theta: FloatArray, fixed: Mapping[str, float], alpha_min: float) -> tuple[str, ...]:
    """Free parameters on the edge of the space: beta at -1 or 1, alpha at the method's lower edge."""
    out = []
    if "alpha" not in fixed and theta[0] <= alpha_min + 1e-9:
        out.append("alpha")
    if "beta" not in fixed and abs(theta[1]) >= 1.0 - 1e-12 and theta[0] < 2.0:
        out.append("beta")
    return tuple(out)
