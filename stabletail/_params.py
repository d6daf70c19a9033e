"""Parameterisations of the stable law: Nolan's S0/S1 location shift, its Jacobian, parameter checks.

One home for the relation between the two parameterisations (Nolan 2020,
*Univariate Stable Distributions*, Def. 1.7 and 1.8):

* alpha != 1: ``loc1 = loc0 - beta scale tan(pi alpha / 2)``;
* alpha = 1: ``loc1 = loc0 - beta (2 / pi) scale log(scale)``.

No numba, no torch; every layer may import it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._typing import FloatArray
from ._validation import check_choice, check_scalar

__all__ = [
    "PARAMETERIZATIONS",
    "PARAM_NAMES",
    "check_alpha",
    "check_beta",
    "check_loc",
    "check_parameterization",
    "check_params",
    "check_scale",
    "s0_loc",
    "s1_jacobian",
    "s1_loc",
    "s1_shift",
]

#: Names of the four parameters, in the order used by every covariance matrix.
PARAM_NAMES = ("alpha", "beta", "scale", "loc")
#: Accepted parameterisation names.
PARAMETERIZATIONS = ("S0", "S1")


def check_alpha(value: Any, name: str = "alpha") -> float:
    """Stability index in (0, 2]."""
    return check_scalar(name, value, 0.0, 2.0, low_open=True)


def check_beta(value: Any, name: str = "beta") -> float:
    """Skewness in [-1, 1]."""
    return check_scalar(name, value, -1.0, 1.0)


def check_scale(value: Any, name: str = "scale") -> float:
    """Scale > 0 (finite)."""
    return check_scalar(name, value, 0.0, None, low_open=True)


def check_loc(value: Any, name: str = "loc") -> float:
    """Location (finite)."""
    return check_scalar(name, value)


def check_params(alpha: Any, beta: Any, scale: Any, loc: Any) -> tuple[float, float, float, float]:
    """All four parameters: alpha in (0, 2], beta in [-1, 1], scale > 0, loc finite.

    Raises
    ------
    TypeError
        A value is not a real number.
    ValueError
        A value is outside its range; the message names the argument and the range.
    """
    return check_alpha(alpha), check_beta(beta), check_scale(scale), check_loc(loc)


def check_parameterization(value: Any) -> str:
    """Nolan's parameterisation name: ``"S0"`` or ``"S1"``."""
    return check_choice("parameterization", value, PARAMETERIZATIONS)


def tan_half_pi(alpha: float) -> float:
    """``tan(pi alpha / 2)`` to full relative precision, also next to its pole at alpha = 1.

    ``pi alpha / 2`` rounded to double lies up to 1.1e-16 from the true angle, which is
    1e-4 relative of the distance to the pole at ``|alpha - 1| = 1e-12``; near the pole
    ``tan(pi alpha / 2) = -1 / tan(pi (alpha - 1) / 2)`` with ``alpha - 1`` exact.
    """
    d = alpha - 1.0
    if d == 0.0:
        return math.inf
    if abs(d) < 0.5:
        return -1.0 / math.tan(0.5 * math.pi * d)
    return math.tan(0.5 * math.pi * alpha)


def s1_shift_standardized(alpha: float, beta: float, scale: float) -> float:
    """``(loc0 - loc1) / scale``: never overflows, whatever the scale."""
    if alpha == 1.0:
        return beta * 2.0 / math.pi * math.log(scale)
    return beta * tan_half_pi(alpha)


def s1_shift(alpha: float, beta: float, scale: float) -> float:
    """``loc0 - loc1`` for the law (alpha, beta, scale).

    Examples
    --------
    >>> round(s1_shift(1.5, 0.5, 2.0), 12)  # 0.5 * 2 * tan(0.75 pi)
    -1.0
    """
    return scale * s1_shift_standardized(alpha, beta, scale)


def s0_loc(alpha: float, beta: float, scale: float, loc: float, parameterization: str) -> float:
    """The S0 location of a law whose location ``loc`` is given in ``parameterization``."""
    if parameterization == "S0":
        return loc
    return loc + s1_shift(alpha, beta, scale)


def s1_loc(alpha: float, beta: float, scale: float, loc0: float) -> float:
    """The S1 location of a law with S0 location ``loc0``."""
    return loc0 - s1_shift(alpha, beta, scale)


def s1_jacobian(alpha: float, beta: float, scale: float) -> FloatArray:
    """Jacobian ``d(alpha, beta, scale, loc1) / d(alpha, beta, scale, loc0)``, shape (4, 4).

    At alpha = 1 the derivative in alpha does not exist (the shift jumps):
    that entry is NaN.
    """
    J = np.eye(4)
    if alpha == 1.0:
        lg = math.log(scale)
        J[3, :3] = [np.nan, -2.0 / math.pi * scale * lg, -beta * 2.0 / math.pi * (lg + 1.0)]
    else:
        t = math.tan(0.5 * math.pi * alpha)
        J[3, :3] = [-beta * scale * 0.5 * math.pi * (1.0 + t * t), -scale * t, -beta * t]
    return J
