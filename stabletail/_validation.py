"""Input checks shared by every layer (no numba, no torch).

Every check raises :class:`ValueError` (or :class:`TypeError` for a wrong kind
of object) with a message that names the argument and its allowed range.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np

from ._typing import SeedLike

__all__ = [
    "check_scalar",
    "check_int",
    "check_choice",
    "check_level",
    "check_random_state",
    "check_parameterization",
    "check_stable_params",
    "as_float_array",
    "apply_nan_policy",
]


def _fmt_interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    left = "(" if (low_open or low is None) else "["
    right = ")" if (high_open or high is None) else "]"
    return f"{left}{lo}, {hi}{right}"


def check_scalar(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the given interval.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is NaN, infinite, or outside the interval; the message
        names ``name`` and the interval.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        else:
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    interval = _fmt_interval(low, high, low_open, high_open)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number in {interval}, got {v}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be in {interval}, got {v:g}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be in {interval}, got {v:g}")
    return v


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` in the closed range ``[low, high]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v}")
    return v


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``; else raise naming them."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}")
    return value


def check_level(level: Any) -> float:
    """Confidence level in the open interval (0, 1)."""
    return check_scalar("level", level, 0.0, 1.0, low_open=True, high_open=True)


def check_parameterization(parameterization: Any) -> str:
    """Nolan's parameterisation: ``"S0"`` or ``"S1"``."""
    return check_choice("parameterization", parameterization, ("S0", "S1"))


#: Smallest stability index the package computes with (see :func:`check_stable_params`).
ALPHA_MIN = 0.1
# values this little below ALPHA_MIN are accepted: difference quotients in alpha at the edge
# (the MLE's node tables step 1e-5 in alpha)
_ALPHA_MARGIN = 1e-4


def check_stable_params(alpha: Any, beta: Any, scale: Any, loc: Any) -> tuple[float, float, float, float]:
    """Validate the four parameters of the stable law.

    alpha in [0.1, 2], beta in [-1, 1], scale > 0, loc finite. Below alpha = 0.1 the law's
    quantiles pass 1e300 within a few percent of the mass and the numerical methods here
    lose their accuracy (cdf(ppf(0.3)) was 0.36 at alpha = 0.02): refused, not approximated.
    """
    a = check_scalar("alpha", alpha)
    if not ALPHA_MIN - _ALPHA_MARGIN <= a <= 2.0:
        raise ValueError(f"alpha must be in [{ALPHA_MIN:g}, 2], got {a:g} (below {ALPHA_MIN:g} the numerical "
                         "methods of this package are not accurate, so it refuses rather than approximates)")
    b = check_scalar("beta", beta, -1.0, 1.0)
    s = check_scalar("scale", scale, 0.0, None, low_open=True)
    m = check_scalar("loc", loc)
    return a, b, s, m


def check_random_state(random_state: SeedLike) -> np.random.Generator:
    """Turn ``int | numpy.random.Generator | None`` into a Generator.

    A Generator is used as is (its state advances); an int seeds a new one;
    None draws fresh entropy. Global numpy seeding is never used.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        if int(random_state) < 0:
            raise ValueError(
                f"random_state must be a non-negative int, a numpy Generator or None; got {random_state}"
            )
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be an int, a numpy.random.Generator or None; "
        f"got {type(random_state).__name__}"
    )


def as_float_array(x: Any, name: str = "x", *, dtype: Any = None, allow_float32: bool = True) -> np.ndarray:
    """Convert array-likes (numpy, lists, torch tensors) to a float numpy array.

    torch is never imported: a tensor is recognised by its ``detach`` and
    ``cpu`` methods and moved to host memory. float32 input stays float32 when
    ``allow_float32`` is true (and ``dtype`` is None); everything else becomes
    float64.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu") and hasattr(x, "numpy"):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{name} is a masked array, whose mask would be ignored here: "
                        f"pass {name}.compressed() "
                        f"to drop the masked values, or {name}.filled(np.nan) with nan_policy='omit'")
    arr = np.asarray(x)
    if arr.dtype.kind in "mM":
        raise TypeError(f"{name} must be an array of real numbers, got {arr.dtype} (convert times to numbers "
                        "in a unit you choose, e.g. x / np.timedelta64(1, 's'))")
    if arr.dtype == np.bool_:
        raise TypeError(f"{name} must be an array of real numbers, got booleans")
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if dtype is not None:
        return np.asarray(arr, dtype=dtype)
    if allow_float32 and arr.dtype == np.float32:
        return arr
    return np.asarray(arr, dtype=np.float64)


def apply_nan_policy(x: np.ndarray, nan_policy: str, name: str = "x") -> tuple[np.ndarray, bool]:
    """Apply scipy's ``nan_policy`` to non-finite values of ``x``.

    Returns ``(array, propagate)``: with ``"omit"`` non-finite values are
    dropped (the result is flattened); with ``"propagate"`` the array is
    returned unchanged and ``propagate`` is True when it holds a non-finite
    value (the caller then returns NaN); with ``"raise"`` a ValueError names
    the argument.
    """
    check_choice("nan_policy", nan_policy, ("raise", "omit", "propagate"))
    finite = np.isfinite(x)
    if finite.all():
        return x, False
    if nan_policy == "raise":
        bad = int(x.size - np.count_nonzero(finite))
        raise ValueError(
            f"{name} contains {bad} non-finite value(s) (NaN or inf); "
            "use nan_policy='omit' to drop them or 'propagate' to get NaN"
        )
    if nan_policy == "omit":
        return x[finite], False
    return x, True
