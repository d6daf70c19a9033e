"""Array parameters for the functions of :mod:`stabletail.stable`, broadcast the way scipy does.

Every distinct law ``(alpha, beta)`` is computed once: its points are standardised with
their own scale and location (``z = (x - loc)/scale - c``, ``c`` the S1 shift in units of
the scale) and evaluated together by the scalar-parameter function, which reuses that
law's plans and interpolation tables.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._params import check_parameterization, tan_half_pi
from .._validation import ALPHA_MIN, as_float_array, check_random_state

_ALPHA_LOW = ALPHA_MIN - 1e-4  # the tolerance of check_stable_params


def standardize(xa: np.ndarray, loc: Any, s: Any, c: Any) -> np.ndarray:
    """``(x - loc)/s - c`` (scalars or arrays), also where ``x - loc`` alone overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        z = (xa - loc) / s
        wide = ~np.isfinite(z) & np.isfinite(xa)
        if np.any(wide):
            z = np.where(wide, xa / s - loc / s, z)
    return z - c if np.ndim(c) or c else z


def place(loc: Any, s: Any, c: Any, z: np.ndarray) -> np.ndarray:
    """``loc + s (z + c)``: values of the law from standardised ones."""
    return loc + s * (z + c) if np.ndim(c) or c else loc + s * z


def _scalar_params(*params: Any) -> bool:
    return all(np.ndim(p) == 0 for p in params)


def _check(alpha: np.ndarray, beta: np.ndarray, scale: np.ndarray, loc: np.ndarray) -> None:
    """The checks of ``check_stable_params``, elementwise, with the first offending value."""
    for name, bad, allowed in (
        ("alpha", ~((alpha >= _ALPHA_LOW) & (alpha <= 2.0)), f"[{ALPHA_MIN:g}, 2]"),
        ("beta", ~((beta >= -1.0) & (beta <= 1.0)), "[-1, 1]"),
        ("scale", ~((scale > 0.0) & np.isfinite(scale)), "(0, inf)"),
        ("loc", ~np.isfinite(loc), "(-inf, inf)"),
    ):
        if np.any(bad):
            value = {"alpha": alpha, "beta": beta, "scale": scale, "loc": loc}[name][bad].ravel()[0]
            raise ValueError(f"{name} must be in {allowed}, got {value:g}")


def _s1_shift(alpha: np.ndarray, beta: np.ndarray, scale: np.ndarray, parameterization: str) -> np.ndarray:
    """``c = (loc0 - loc1)/scale`` elementwise (0 in S0)."""
    if parameterization == "S0":
        return np.zeros(alpha.shape)
    one = alpha == 1.0
    tans = np.vectorize(tan_half_pi, otypes=[float])(np.where(one, 0.5, alpha))  # finite everywhere
    return np.where(one, beta * (2.0 / math.pi) * np.log(scale), beta * tans)


def _laws(alpha: np.ndarray, beta: np.ndarray):
    """``(alpha, beta, mask)`` for every distinct law, in a fixed (sorted) order."""
    pairs = np.stack([alpha.ravel(), beta.ravel()], axis=1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = inverse.reshape(alpha.shape)
    for i, (a, b) in enumerate(uniq):
        yield float(a), float(b), inverse == i


def _prepare(x: Any, alpha: Any, beta: Any, scale: Any, loc: Any, parameterization: str, name: str):
    xa = as_float_array(x, name, dtype=np.float64)
    params = [as_float_array(p, n, dtype=np.float64) for p, n in
              ((alpha, "alpha"), (beta, "beta"), (scale, "scale"), (loc, "loc"))]
    shape = np.broadcast_shapes(xa.shape, *(p.shape for p in params))
    xa, a, b, s, m = (np.broadcast_to(v, shape) for v in (xa, *params))
    _check(a, b, s, m)
    return xa, a, b, s, m, _s1_shift(a, b, s, check_parameterization(parameterization)), shape


def _out(values: np.ndarray, shape: tuple[int, ...]):
    return float(values) if shape == () else values


def over_laws(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a scalar-parameter function of ``(x, alpha, beta, scale, loc, parameterization)``
    (``kind`` one of pdf, logpdf, cdf, sf, ppf, cf) so that its parameters may be arrays."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(x, alpha, beta=0.0, scale=1.0, loc=0.0, parameterization="S0"):
            if _scalar_params(alpha, beta, scale, loc):
                return func(x, alpha, beta, scale, loc, parameterization)
            return _apply(kind, func, x, alpha, beta, scale, loc, parameterization)

        return wrapper

    return decorate


def _apply(kind, func, x, alpha, beta, scale, loc, parameterization):
    xa, a, b, s, m, c, shape = _prepare(x, alpha, beta, scale, loc, parameterization,
                                        "t" if kind == "cf" else "q" if kind == "ppf" else "x")
    out = np.empty(shape, dtype=complex if kind == "cf" else float)
    for al, be, mask in _laws(a, b):
        if kind == "cf":  # phi(t) = phi_0(s t) exp(i (loc + s c) t), phi_0 the standard S0 law's
            t = xa[mask]
            out[mask] = func(s[mask] * t, al, be) * np.exp(1j * (m[mask] * t + (s[mask] * t) * c[mask]))
        elif kind == "ppf":
            with np.errstate(over="ignore"):
                out[mask] = place(m[mask], s[mask], c[mask], func(xa[mask], al, be))
        else:
            v = func(standardize(xa[mask], m[mask], s[mask], c[mask]), al, be)
            if kind == "pdf":
                v = v / s[mask]
            elif kind == "logpdf":
                v = v - np.log(s[mask])
            out[mask] = v
    return _out(out, shape)


def over_laws_rvs(func: Callable[..., Any]) -> Callable[..., Any]:
    """Array parameters for ``rvs``: one standardised draw per distinct law, then placed."""

    @functools.wraps(func)
    def wrapper(alpha, beta=0.0, scale=1.0, loc=0.0, size=None, random_state=None, parameterization="S0"):
        if _scalar_params(alpha, beta, scale, loc):
            return func(alpha, beta, scale, loc, size, random_state, parameterization)
        params = [as_float_array(p, n, dtype=np.float64) for p, n in
                  ((alpha, "alpha"), (beta, "beta"), (scale, "scale"), (loc, "loc"))]
        pshape = np.broadcast_shapes(*(p.shape for p in params))
        shape = pshape if size is None else ((size,) if np.ndim(size) == 0 else tuple(size))
        try:
            a, b, s, m = (np.broadcast_to(p, shape) for p in params)
        except ValueError:
            raise ValueError(f"size {shape} does not broadcast with the parameters' shape {pshape}") from None
        _check(a, b, s, m)
        c = _s1_shift(a, b, s, check_parameterization(parameterization))
        rng = check_random_state(random_state)
        out = np.empty(shape)
        for al, be, mask in _laws(a, b):
            z = func(al, be, size=int(mask.sum()), random_state=rng)
            with np.errstate(over="ignore"):
                out[mask] = place(m[mask], s[mask], c[mask], z)
        return _out(out, shape)

    return wrapper
