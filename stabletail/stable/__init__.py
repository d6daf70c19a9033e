"""The alpha-stable law: characteristic function, density, distribution, quantiles, sampling.

Parameterisations follow Nolan (2020, *Univariate Stable Distributions*):
``"S0"`` (the default; continuous in all four parameters, loc is a location of
the bulk) and ``"S1"`` (the classical one, the sum-stable location). With
``scale`` = gamma and ``loc`` = delta,

* S0, alpha != 1: ``log phi(t) = -|gamma t|^alpha [1 + i beta tan(pi alpha / 2)
  sign(t) (|gamma t|^(1 - alpha) - 1)] + i delta t``;
* S0, alpha = 1: ``log phi(t) = -|gamma t| [1 + i beta (2 / pi) sign(t)
  log|gamma t|] + i delta t``;
* S1 loc = S0 loc - beta gamma tan(pi alpha / 2) (alpha != 1), and
  S0 loc - beta (2 / pi) gamma log(gamma) (alpha = 1).

Density and distribution function use Nolan's (1997) integral representation
with a change of variables that makes the integrand a smooth bump, adaptive
Gauss-Kronrod quadrature split at the bump, the convergent / asymptotic series
in the far tails, and closed forms for the Gaussian (alpha = 2), Cauchy
(alpha = 1, beta = 0) and Levy (alpha = 1/2, beta = +-1) laws. Within 1e-5
of alpha = 1 the S0 law is interpolated linearly in alpha between alpha = 1
and alpha = 1 +- 1e-5 (the representation loses digits as ``1 / |alpha - 1|``).
See ``docs/stable.md`` for measured accuracy and speed.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .._params import s1_shift_standardized, tan_half_pi
from .._typing import ArrayLike, FloatArray, Parameterization, SeedLike
from .._validation import (
    as_float_array,
    check_int,
    check_parameterization,
    check_random_state,
    check_stable_params,
)
from . import _broadcast, _rvs
from . import _interp_kernels as _interp
from . import _kernels as _k

__all__ = ["cf", "pdf", "logpdf", "cdf", "sf", "ppf", "rvs"]


def _setup(alpha, beta, scale, loc, parameterization):
    """Checked ``(alpha, beta, scale, loc, c)``: the standardised S0 variable is ``(x - loc)/scale - c``.

    ``c`` is the S1-to-S0 shift in units of the scale (0 in S0), so no location is ever
    formed that could overflow (S1, alpha = 1 and scale 1e308 shift by 452 scales)."""
    a, b, s, m = check_stable_params(alpha, beta, scale, loc)
    par = check_parameterization(parameterization)
    return a, b, s, m, (0.0 if par == "S0" else s1_shift_standardized(a, b, s))


@functools.lru_cache(maxsize=16)
def _table(alpha: float, beta: float, density: bool):
    """Chebyshev interpolant (of pdf, or of cdf and sf) for many points of one (alpha, beta); cached."""
    return _interp.build(*_plans(alpha, beta), density)


@functools.lru_cache(maxsize=16)
def _edge_values(alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """cdf and -sf at the panel edges of the distribution table (to invert it); cached."""
    return _interp.edge_values(_table(alpha, beta, False), *_plans(alpha, beta))


@functools.lru_cache(maxsize=64)
def _plans(alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Plan(s) of the standardised S0 law and the interpolation weight near alpha = 1."""
    d = alpha - 1.0
    if d == 0.0 and 0.0 < abs(beta) < _k.DBETA:
        # alpha = 1 with tiny beta: the representation loses ~1e-16 / |beta|;
        # interpolate linearly between Cauchy and beta = +-DBETA
        p1 = _k.make_plan(1.0, 0.0)
        p2 = _k.make_plan(1.0, math.copysign(_k.DBETA, beta))
        return p1, p2, abs(beta) / _k.DBETA
    if d != 0.0 and abs(d) < _k.DALPHA:
        p1 = _k.make_plan(1.0, beta)
        p2 = _k.make_plan(1.0 + math.copysign(_k.DALPHA, d), beta)
        return p1, p2, abs(d) / _k.DALPHA
    p = _k.make_plan(alpha, beta)
    return p, p, 0.0


def _shape_out(out: np.ndarray, shape: tuple[int, ...]) -> FloatArray | float:
    out = out.reshape(shape)
    return float(out) if out.ndim == 0 else out


def _evaluate(x, alpha, beta, scale, loc, parameterization, density):
    """Flat (pdf, cdf, sf) of the standardised variable, the points z, the scale and the input shape.

    Large calls use an interpolant: then only pdf (``density``), or only cdf
    and sf, are computed."""
    a, b, s, m, c = _setup(alpha, beta, scale, loc, parameterization)
    xa = as_float_array(x, "x", dtype=np.float64)
    z = np.ascontiguousarray(_broadcast.standardize(xa, m, s, c).ravel())
    p1, p2, w = _plans(a, b)
    f = np.empty_like(z)
    c = np.empty_like(z)
    t = np.empty_like(z)
    table = _table(a, b, density) if z.size >= _interp.MIN_POINTS else None
    if table is None:
        _k.eval_many(z, p1, p2, w, f, c, t)
    else:
        _interp.evaluate(z, *table, p1, p2, w, f, c, t)
    return f, c, t, z, s, xa.shape


_PARAMS_DOC = """alpha : float
        Stability index in (0, 2].
    beta : float, default 0
        Skewness in [-1, 1].
    scale : float, default 1
        Scale (gamma) > 0.
    loc : float, default 0
        Location (delta) of the chosen parameterisation.
    parameterization : {"S0", "S1"}, default "S0"
        Nolan's parameterisation of ``loc``."""


@_broadcast.over_laws("cf")
def cf(
    t: ArrayLike,
    alpha: float,
    beta: float = 0.0,
    scale: float = 1.0,
    loc: float = 0.0,
    parameterization: Parameterization = "S0",
) -> np.ndarray | complex:
    """Characteristic function ``E exp(i t X)``.

    Parameters
    ----------
    t : array_like
        Arguments.
    alpha, beta, scale, loc, parameterization
        Parameters of the law (see :func:`pdf`).

    Returns
    -------
    ndarray of complex128 (complex for scalar ``t``)
        ``phi(t)``; NaN where ``t`` is NaN.

    Raises
    ------
    ValueError
        If a parameter is outside its range.
    """
    a, b, s, m, c = _setup(alpha, beta, scale, loc, parameterization)
    ta = as_float_array(t, "t", dtype=np.float64)
    at = np.abs(s * ta)
    with np.errstate(divide="ignore", invalid="ignore"):
        la = np.where(at > 0, np.log(np.where(at > 0, at, 1.0)), 0.0)
        if a == 1.0:
            skew = b * (2.0 / math.pi) * la
            mod = at
        else:
            # tan(pi a/2) ((s|t|)^(1-a) - 1), written with expm1 so that it tends to
            # (2/pi) log(s|t|) smoothly as a -> 1
            skew = b * tan_half_pi(a) * np.expm1((1.0 - a) * la)
            mod = np.where(at > 0, np.exp(a * la), 0.0)
        # the S0 location times t, as (loc + s c) t without forming a location that overflows
        phase = m * ta + (s * ta) * c
        logphi = -mod * (1.0 + 1j * np.sign(ta) * skew) + 1j * phase
        out = np.exp(logphi)
    out = np.where(np.isinf(ta), 0j, out)  # |phi(t)| -> 0 as |t| -> inf for every stable law
    out = np.where(np.isnan(ta), np.nan + 0j, out)
    return complex(out) if out.ndim == 0 else out


@_broadcast.over_laws("pdf")
def pdf(
    x: ArrayLike,
    alpha: float,
    beta: float = 0.0,
    scale: float = 1.0,
    loc: float = 0.0,
    parameterization: Parameterization = "S0",
) -> FloatArray | float:
    """Probability density function.

    Parameters
    ----------
    x : array_like
        Points.
    {params}

    Returns
    -------
    ndarray of float64 (float for scalar ``x``)
        Density at ``x``; NaN where ``x`` is NaN, 0 at +-inf.

    Raises
    ------
    ValueError
        If a parameter is outside its range (the message names it).

    Examples
    --------
    >>> from stabletail import stable
    >>> round(stable.pdf(0.0, 2.0), 6)  # N(0, 2)
    0.282095
    """
    f, _, _, _, s, shape = _evaluate(x, alpha, beta, scale, loc, parameterization, True)
    return _shape_out(f / s, shape)


@_broadcast.over_laws("logpdf")
def logpdf(
    x: ArrayLike,
    alpha: float,
    beta: float = 0.0,
    scale: float = 1.0,
    loc: float = 0.0,
    parameterization: Parameterization = "S0",
) -> FloatArray | float:
    """Logarithm of the density; finite in the far tails where the density itself underflows.

    There (standardised density below 1e-300) it is the leading term of the tail expansion in
    log space, relative error below 1e-15.  ``-inf`` beyond the support of a totally skewed law
    with alpha < 1 and on the light side of one with alpha >= 1 once the density underflows.

    Parameters
    ----------
    x : array_like
        Points.
    {params}

    Returns
    -------
    ndarray of float64 (float for scalar ``x``)
    """
    f, _, _, z, s, shape = _evaluate(x, alpha, beta, scale, loc, parameterization, True)
    with np.errstate(divide="ignore"):
        out = np.log(f) - math.log(s)
    far = ~(f > _k.FAR_TINY) & np.isfinite(z)
    if far.any():
        out[far] = _k.far_tail_logpdf(z[far], alpha, beta) - math.log(s)
    return _shape_out(out, shape)


@_broadcast.over_laws("cdf")
def cdf(
    x: ArrayLike,
    alpha: float,
    beta: float = 0.0,
    scale: float = 1.0,
    loc: float = 0.0,
    parameterization: Parameterization = "S0",
) -> FloatArray | float:
    """Cumulative distribution function ``P(X <= x)``.

    Parameters
    ----------
    x : array_like
        Points.
    {params}

    Returns
    -------
    ndarray of float64 (float for scalar ``x``)
        Accurate in relative terms in the lower tail; NaN where ``x`` is NaN.
    """
    _, c, _, _, _, shape = _evaluate(x, alpha, beta, scale, loc, parameterization, False)
    return _shape_out(c, shape)


@_broadcast.over_laws("sf")
def sf(
    x: ArrayLike,
    alpha: float,
    beta: float = 0.0,
    scale: float = 1.0,
    loc: float = 0.0,
    parameterization: Parameterization = "S0",
) -> FloatArray | float:
    """Survival function ``P(X > x)``, accurate in relative terms in the upper tail.

    Parameters
    ----------
    x : array_like
        Points.
    {params}

    Returns
    -------
    ndarray of float64 (float for scalar ``x``)
    """
    _, _, t, _, _, shape = _evaluate(x, alpha, beta, scale, loc, parameterization, False)
    return _shape_out(t, shape)


@_broadcast.over_laws("ppf")
def ppf(
    q: ArrayLike,
    alpha: float,
    beta: float = 0.0,
    scale: float = 1.0,
    loc: float = 0.0,
    parameterization: Parameterization = "S0",
) -> FloatArray | float:
    """Quantile function (inverse of :func:`cdf`).

    Parameters
    ----------
    q : array_like
        Probabilities in [0, 1]. ``q = 0`` and ``q = 1`` give the ends of the
        support (``-inf`` / ``inf``, or the finite end for alpha < 1 and
        ``|beta| = 1``); NaN gives NaN.
    {params}

    Returns
    -------
    ndarray of float64 (float for scalar ``q``)

    Raises
    ------
    ValueError
        If a (non-NaN) ``q`` is outside [0, 1], or a parameter outside its range.
    """
    a, b, s, m, c = _setup(alpha, beta, scale, loc, parameterization)
    qa = as_float_array(q, "q", dtype=np.float64)
    bad = (qa < 0.0) | (qa > 1.0)
    if np.any(bad):
        raise ValueError(f"q must be in [0, 1], got {qa[bad].ravel()[0]:g}")
    qf = np.ascontiguousarray(qa.ravel())
    p1, p2, w = _plans(a, b)
    lo, hi = _k.support(p1) if w == 0.0 else (-math.inf, math.inf)
    z = np.empty_like(qf)
    table = _table(a, b, False) if qf.size >= _interp.MIN_POINTS else None
    if table is None:
        _k.ppf_many(qf, p1, p2, w, lo, hi, z)
    else:
        _interp.ppf_many(qf, table, *_edge_values(a, b), p1, p2, w, lo, hi, z)
    with np.errstate(over="ignore"):  # a quantile beyond the float range is +-inf
        return _shape_out(_broadcast.place(m, s, c, z), qa.shape)


@_broadcast.over_laws_rvs
def rvs(
    alpha: float,
    beta: float = 0.0,
    scale: float = 1.0,
    loc: float = 0.0,
    size: int | tuple[int, ...] | None = None,
    random_state: SeedLike = None,
    parameterization: Parameterization = "S0",
) -> FloatArray | float:
    """Random variates by the Chambers-Mallows-Stuck method.

    The map of Chambers, Mallows & Stuck (1976), with Weron's (1996) form at
    alpha = 1, runs in a parallel compiled kernel that also draws the
    randomness: one 64-bit key is drawn from ``random_state``, and draw ``i``
    uses outputs ``2i + 1`` and ``2i + 2`` of SplitMix64 (Steele, Lea & Flood
    2014) started from that key, i.e. a uniform ``V`` on the open interval
    (-pi/2, pi/2) and ``W = -log U``, ``U`` uniform on (0, 1], each from 53
    random bits. The output therefore depends only on the key and is the same
    for any number of numba threads. Within 1e-6 of alpha = 1 the S0 map is
    interpolated linearly in alpha.

    Parameters
    ----------
    {params}
    size : int or tuple of ints, optional
        Output shape; None returns a float.
    random_state : int, numpy.random.Generator or None
        Seed or Generator (advanced in place by one 64-bit draw).

    Returns
    -------
    ndarray of float64 (float when ``size`` is None)
    """
    a, b, s, m, c = _setup(alpha, beta, scale, loc, parameterization)
    if size is None:
        shape: tuple[int, ...] = ()
    elif isinstance(size, tuple):
        shape = tuple(check_int("size", v, 0) for v in size)
    else:
        shape = (check_int("size", size, 0),)
    key = check_random_state(random_state).integers(2**64, dtype=np.uint64)
    out = np.empty(math.prod(shape))
    m0 = m + s * c
    if math.isfinite(m0):
        _rvs.rvs_fill(key, a, b, s, m0, out)
    else:  # the S0 location overflows: draw standardised values, then place them
        _rvs.rvs_fill(key, a, b, 1.0, 0.0, out)
        with np.errstate(over="ignore"):
            out = _broadcast.place(m, s, c, out)
    return _shape_out(out, shape)


for _f in (pdf, logpdf, cdf, sf, ppf, rvs):
    _f.__doc__ = _f.__doc__.replace("{params}", _PARAMS_DOC)
del _f
