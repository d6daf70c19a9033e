"""Maximum-likelihood fits of the tail models compared by :func:`compare_tails` (private).

Every model is a law of the tail sample ``x >= xmin``, written in ``z = x/xmin >= 1`` and
``y = log z >= 0`` so that every fit is scale free; its density (continuous) or mass function
(discrete) is proportional to ``g(z)``:

==========================  =====================================  ==========================
model                       log g(z)                               power law at
==========================  =====================================  ==========================
power law                   ``-alpha y``                           --
exponential                 ``-kappa (z - 1)``                     (not nested)
stretched exponential       ``(beta - 1) y - a (z**beta - 1)/beta`` ``beta = 0``, alpha = 1 + a
truncated power law         ``-alpha y - kappa (z - 1)``           ``kappa = 0``
lognormal                   ``-y - b y - c y**2``                  ``c = 0``, alpha = 1 + b
==========================  =====================================  ==========================

(``kappa = lambda xmin``). The last three nest the power law on the boundary of their
parameter space (``beta >= 0``, ``kappa >= 0``, ``c >= 0``) and each fit starts there, so its
log-likelihood is never below the power law's. All but the stretched exponential are
exponential families in these parameters (concave log-likelihoods).

Continuous normalisers: closed forms, except the truncated power law
(``int_0^inf exp((1 - alpha) t - kappa (e^t - 1)) dt`` by adaptive quadrature). Discrete
(integer ``x >= xmin >= 1``): the power law uses the Hurwitz zeta function and the exponential
is geometric; the other three are the mass functions ``g(x/xmin) / sum_{j >= xmin}
g(j/xmin)``, summed exactly over the first ``_HEAD`` integers and, beyond, by the integral
from ``xmin + _HEAD - 1/2`` (midpoint rule; relative error of the tail below 1e-9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy import integrate, optimize, special

_HEAD = 20_000
_PENALTY = 1e30  # objective value where a trial point leaves the model (no normaliser)


@dataclass
class Fit:
    """One fitted model: its parameters and the pointwise log-likelihoods of the tail sample."""

    name: str
    params: dict[str, Any]
    logpdf: np.ndarray
    converged: bool = True
    message: str = "ok"
    boundary: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loglik(self) -> float:
        return float(self.logpdf.sum())


@dataclass
class Tail:
    """The tail sample and the statistics every fit uses."""

    x: np.ndarray
    xmin: float
    discrete: bool

    def __post_init__(self) -> None:
        self.z = self.x / self.xmin
        self.y = np.log(self.z)
        self.u = (self.x - self.xmin) / self.xmin
        self.n = self.x.size
        if self.discrete:
            j = np.arange(self.xmin, self.xmin + _HEAD)
            self.jz = j / self.xmin
            self.jy = np.log(self.jz)


# ------------------------------------------------------------------ normalisers
def _log_quad(h: Callable[[np.ndarray], np.ndarray], lo: float) -> float:
    """``log int_lo^inf exp(h(t)) dt`` for a unimodal ``h`` whose integral is finite."""
    grid = lo + np.concatenate([[0.0], np.geomspace(1e-3, 800.0, 400)])
    with np.errstate(over="ignore", invalid="ignore"):
        hv = h(grid)
    hv = np.where(np.isnan(hv), -np.inf, hv)
    i = int(np.argmax(hv))
    m = float(hv[i])
    if not math.isfinite(m):
        return math.inf if m > 0 else -math.inf
    alive = np.nonzero(hv > m - 60.0)[0]
    end = float(grid[min(alive[-1] + 1, grid.size - 1)])
    if hv[-1] > m - 60.0:  # not decayed within the grid: not normalisable
        return math.inf

    def f(t: float) -> float:
        return math.exp(float(h(np.array([t]))[0]) - m)

    pts = [float(grid[i])] if lo < grid[i] < end else None
    val, _ = integrate.quad(f, lo, end, points=pts, limit=200, epsabs=0.0, epsrel=1e-11)
    return m + math.log(val)


def _discrete_log_norm(tail: Tail, logg: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> float:
    """``log sum_{j >= xmin} g(j/xmin)``: the first ``_HEAD`` terms exactly, the rest by the integral."""
    with np.errstate(over="ignore", invalid="ignore"):
        lg = logg(tail.jz, tail.jy)
    if not np.isfinite(lg).all():
        return math.inf
    m = float(lg.max())
    head = float(np.exp(lg - m).sum())
    start = (tail.xmin + _HEAD - 0.5) / tail.xmin  # in z; integrate over s = log z from log(start)
    rest = _log_quad(lambda s: logg(np.exp(s), s) + s + math.log(tail.xmin), math.log(start))
    if not math.isfinite(rest):
        return math.inf
    return m + math.log(head + math.exp(rest - m))


# ------------------------------------------------------------------ power law and exponential
def fit_power_law(tail: Tail) -> Fit:
    """Continuous: ``alpha = 1 + n / sum y``.

    Discrete: maximise ``-alpha sum log x - n log zeta(alpha, xmin)``."""
    sy = float(tail.y.sum())
    a_cont = 1.0 + tail.n / sy
    if not tail.discrete:
        lp = math.log(a_cont - 1.0) - math.log(tail.xmin) - a_cont * tail.y
        return Fit("power_law", {"alpha": a_cont}, lp)
    slx = float(np.log(tail.x).sum())

    def nll(a: float) -> float:
        return a * slx + tail.n * math.log(special.zeta(a, tail.xmin))

    hi = max(2.0 * a_cont, 5.0)
    res = optimize.minimize_scalar(nll, bounds=(1.0 + 1e-9, hi), method="bounded",
                                   options={"xatol": 1e-10})
    a = float(res.x)
    conv = bool(res.success) and a < hi * (1 - 1e-6)
    lp = -a * np.log(tail.x) - math.log(special.zeta(a, tail.xmin))
    return Fit("power_law", {"alpha": a}, lp, conv, "ok" if conv else f"alpha at search bound {hi:g}")


def fit_exponential(tail: Tail) -> Fit:
    """``kappa = 1/mean(z - 1)`` (continuous); geometric ``lambda = log(1 + 1/mean(x - xmin))`` (discrete)."""
    if not tail.discrete:
        k = 1.0 / float(tail.u.mean())
        lp = math.log(k) - math.log(tail.xmin) - k * tail.u
        return Fit("exponential", {"lambda": k / tail.xmin}, lp)
    lam = math.log1p(1.0 / float((tail.x - tail.xmin).mean()))
    lp = math.log(-math.expm1(-lam)) - lam * (tail.x - tail.xmin)
    return Fit("exponential", {"lambda": lam}, lp)


# ------------------------------------------------------------------ nested families
def _bc_log_norm(b: float, c: float) -> float:
    """``log int_0^inf exp(-b y - c y^2) dy`` (``c >= 0``): ``sqrt(pi/(4c)) erfcx(b/(2 sqrt c))``."""
    if c <= 0.0:
        return -math.log(b) if b > 0 else math.inf
    u = b / (2.0 * math.sqrt(c))
    le = math.log(special.erfcx(u)) if u >= 0 else u * u + math.log(special.erfc(u))
    return 0.5 * math.log(math.pi / (4.0 * c)) + le


def _minimise(fun: Callable[[np.ndarray], float], starts: list[np.ndarray],
              bounds: list[tuple[float | None, float | None]]) -> tuple[np.ndarray, float, bool, str]:
    """L-BFGS-B from each start; the best optimum, and whether it satisfies the first-order
    conditions (projected gradient, by finite differences, below 1e-5 per point: the objectives
    are mean log-likelihoods in scaled parameters of order one), whatever the line search said."""
    best = None
    for s in starts:
        res = optimize.minimize(fun, s, method="L-BFGS-B", bounds=bounds,
                                options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    p = np.asarray(best.x, float)
    f0 = float(best.fun)
    pg = 0.0
    for i, (lo, hi) in enumerate(bounds):
        h = 1e-6 * max(1.0, abs(p[i]))
        up, dn = p.copy(), p.copy()
        up[i] += h
        dn[i] -= h
        if lo is not None and dn[i] < lo:  # on the lower bound: only an inward descent counts
            pg = max(pg, -(fun(up) - f0) / h)
            continue
        g = (fun(up) - fun(dn)) / (2 * h)
        if hi is not None and up[i] > hi:
            g = max(g, 0.0)
        pg = max(pg, abs(g))
    ok = bool(best.success) or (f0 < _PENALTY and pg < 1e-5)
    msg = "ok" if ok else f"{best.message} (projected gradient {pg:.2g})"
    return p, f0, ok, msg


def fit_lognormal(tail: Tail, pl_alpha: float) -> Fit:
    """Lognormal truncated to ``[xmin, inf)`` in the ``(b, c >= 0)`` form: ``c = 1/(2 sigma^2)``,
    ``mu = log xmin - b/(2c)``; ``c = 0`` is the power law ``alpha = 1 + b``."""
    y, n = tail.y, tail.n
    sy = float(y.sum())
    sy2 = float((y * y).sum())
    ybar = sy / n
    # scaled parameters p = (b ybar, c ybar^2): both of order one
    if tail.discrete:
        def lnorm(b: float, c: float) -> float:
            return _discrete_log_norm(tail, lambda z, yy: -yy - b * yy - c * yy * yy)
    else:
        def lnorm(b: float, c: float) -> float:
            return _bc_log_norm(b, c)

    def nll(p: np.ndarray) -> float:
        b, c = p[0] / ybar, p[1] / (ybar * ybar)
        ln = lnorm(b, c)
        if not math.isfinite(ln):
            return _PENALTY
        return (b * sy + c * sy2) / n + ln

    b0 = (pl_alpha - 1.0) * ybar
    starts = [np.array([b0, 0.0]), np.array([0.0, 0.5 * ybar * ybar * n / sy2])]
    p, _, ok, msg = _minimise(nll, starts, [(None, None), (0.0, None)])
    b, c = p[0] / ybar, p[1] / (ybar * ybar)
    lz = 0.0 if tail.discrete else math.log(tail.xmin)
    lp = -y - b * y - c * y * y - lnorm(b, c) - lz
    boundary = c == 0.0
    params: dict[str, Any] = {"b": b, "c": c}
    if boundary:
        params.update(mu=-math.inf, sigma=math.inf)
        msg = "boundary: power law (c = 0)"
    else:
        params.update(mu=math.log(tail.xmin) - b / (2.0 * c), sigma=1.0 / math.sqrt(2.0 * c))
    return Fit("lognormal", params, lp, ok, msg, boundary)


def _boxcox(y: np.ndarray, beta: float) -> np.ndarray:
    """``(z**beta - 1)/beta`` with ``z = e^y``; ``y`` at beta = 0."""
    return y if beta == 0.0 else np.expm1(beta * y) / beta


def fit_stretched_exponential(tail: Tail, pl_alpha: float) -> Fit:
    """Weibull tail ``C x^(beta-1) exp(-lambda x^beta)``: ``g(z) = z^(beta-1) exp(-a (z^beta-1)/beta)``,
    ``a = beta lambda xmin^beta``; ``beta -> 0`` is the power law ``alpha = 1 + a``. Continuous:
    ``a`` is profiled out (``a = n / sum (z^beta - 1)/beta``) and beta found on a grid, then by Brent."""
    y, n = tail.y, tail.n
    bmax = min(50.0, 600.0 / float(y.max()))
    sy = float(y.sum())
    if not tail.discrete:
        def prof(beta: float) -> float:  # minus the profile log-likelihood per point (up to constants)
            a = n / float(_boxcox(y, beta).sum())
            return -(math.log(a) + (beta - 1.0) * sy / n)

        grid = np.concatenate([[0.0], np.geomspace(1e-4, bmax, 60)])
        vals = np.array([prof(b) for b in grid])
        i = int(np.argmin(vals))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        res = optimize.minimize_scalar(prof, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-12 * max(hi, 1.0)})
        beta = float(res.x) if res.fun < vals[i] else float(grid[i])
        ok = bool(res.success) and i < grid.size - 1
        msg = "ok" if ok else f"beta at its search bound {bmax:.3g}"
        if prof(beta) >= vals[0]:
            beta = 0.0
        a = n / float(_boxcox(y, beta).sum())
        # the normaliser of g over z is 1/a; the density in x is a g(z)/xmin
        lp = math.log(a) + (beta - 1.0) * y - a * _boxcox(y, beta) - math.log(tail.xmin)
    else:
        def lnorm(a: float, beta: float) -> float:
            return _discrete_log_norm(tail, lambda z, yy: (beta - 1.0) * yy - a * _boxcox(yy, beta))

        def nll(p: np.ndarray) -> float:
            a, beta = p[0] * ybar_inv, p[1]
            if a <= 0:
                return _PENALTY
            ln = lnorm(a, beta)
            if not math.isfinite(ln):
                return _PENALTY
            return -((beta - 1.0) * sy - a * float(_boxcox(y, beta).sum())) / n + ln

        ybar_inv = n / sy
        p, _, ok, msg = _minimise(nll, [np.array([pl_alpha - 1.0, 0.0]), np.array([1.0, 0.5])],
                                  [(1e-12, None), (0.0, bmax)])
        a, beta = p[0] * ybar_inv, float(p[1])
        lp = (beta - 1.0) * y - a * _boxcox(y, beta) - lnorm(a, beta)
    boundary = beta == 0.0
    params: dict[str, Any] = {"beta": beta}
    if boundary:
        params.update(**{"lambda": math.inf, "scale": 0.0})
        msg = "boundary: power law (beta = 0)"
    else:
        lam = a / (beta * tail.xmin**beta)
        params.update(**{"lambda": lam, "scale": tail.xmin * (beta / a) ** (1.0 / beta)})
    return Fit("stretched_exponential", params, lp, ok, msg, boundary)


def _tpl_log_norm(alpha: float, kappa: float) -> float:
    """``log int_1^inf z^(-alpha) exp(-kappa (z - 1)) dz``."""
    if kappa <= 0.0:
        return -math.log(alpha - 1.0) if alpha > 1.0 else math.inf
    return _log_quad(lambda t: (1.0 - alpha) * t - kappa * np.expm1(t), 0.0)


def fit_truncated_power_law(tail: Tail, pl_alpha: float) -> Fit:
    """Power law with exponential cut-off ``x^(-alpha) exp(-lambda x)``, ``kappa = lambda xmin >= 0``."""
    y, u, n = tail.y, tail.u, tail.n
    sy, su = float(y.sum()), float(u.sum())
    ubar = su / n
    if tail.discrete:
        def lnorm(a: float, k: float) -> float:
            if k == 0.0:
                return _discrete_log_norm(tail, lambda z, yy: -a * yy)
            return _discrete_log_norm(tail, lambda z, yy: -a * yy - k * (z - 1.0))
    else:
        lnorm = _tpl_log_norm

    def nll(p: np.ndarray) -> float:
        a, k = p[0], p[1] / ubar
        ln = lnorm(a, k)
        if not math.isfinite(ln):
            return _PENALTY
        return (a * sy + k * su) / n + ln

    p, _, ok, msg = _minimise(nll, [np.array([pl_alpha, 0.0]), np.array([max(pl_alpha - 1.0, 0.0), 1.0])],
                              [(None, None), (0.0, None)])
    a, k = float(p[0]), float(p[1]) / ubar
    lz = 0.0 if tail.discrete else math.log(tail.xmin)
    lp = -a * y - k * u - lnorm(a, k) - lz
    boundary = k == 0.0
    if boundary:
        msg = "boundary: power law (lambda = 0)"
    lam = k / tail.xmin
    return Fit("truncated_power_law", {"alpha": a, "lambda": lam}, lp, ok, msg, boundary)
