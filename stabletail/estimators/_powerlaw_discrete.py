"""The discrete power law of :func:`~stabletail.estimators.powerlaw_tail` (integer data): the
Hurwitz-zeta likelihood at each candidate threshold, its distance, standard error and draws."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from . import _powerlaw_kernels as _k


def _log_zeta(e: float, q: float) -> float:
    return math.log(special.zeta(e, q))


def _discrete_mle(tail: np.ndarray, q: float) -> float:
    """Exponent ``e > 1`` maximising ``-e sum(log x) - m log zeta(e, q)``."""
    m = tail.size
    sl = float(np.sum(np.log(tail)))

    def nll(e: float) -> float:
        return e * sl + m * _log_zeta(e, q)

    res = optimize.minimize_scalar(nll, bounds=(1.0 + 1e-9, 30.0), method="bounded",
                                   options={"xatol": 1e-10})
    return float(res.x)


def _discrete_distance(tail: np.ndarray, e: float, q: float, metric: int) -> float:
    u, first = np.unique(tail, return_index=True)
    m = tail.size
    emp = first / m
    z0 = special.zeta(e, q)
    cdf = 1.0 - special.zeta(e, u) / z0
    d = emp - cdf
    if metric == _k.KUIPER:
        return float(max(d.max(), 0.0) + max(-d.min(), 0.0))
    if metric == _k.AD:
        w = cdf[1:] * (1.0 - cdf[1:])
        return float(np.sum(d[1:] ** 2 / np.where(w > 0, w, np.inf)) * 1.0)
    return float(max(d.max(), -d.min()))


def fit_discrete(y, metric, min_tail, xmin, lo, hi):
    vals, first = np.unique(y, return_index=True)
    if xmin is not None:
        cands = [int(np.searchsorted(y, xmin))]
    else:
        cands = [int(f) for v, f in zip(vals[:-1], first[:-1]) if lo <= v <= hi and y.size - f >= min_tail]
    best = (-1, math.nan, math.inf)
    for i in cands:
        tail = y[i:]
        if tail.size < 2 or tail[0] == tail[-1]:
            continue
        e = _discrete_mle(tail, float(y[i]))
        d = _discrete_distance(tail, e, float(y[i]), metric)
        if d < best[2]:
            best = (i, e - 1.0, d)
    return best[0], best[1], best[2], len(cands)


def stderr_discrete(e: float, q: float, m: int) -> float:
    """Standard error of the exponent: ``1 / sqrt(m I(e))``, ``I = d^2 log zeta(e, q) / de^2``
    (the variance of ``log X`` under the fitted law), by a central difference."""
    h = 1e-4 * max(1.0, e - 1.0)
    if e - h <= 1.0:
        return math.nan
    info = (_log_zeta(e + h, q) - 2 * _log_zeta(e, q) + _log_zeta(e - h, q)) / (h * h)
    return 1.0 / math.sqrt(m * info) if info > 0 else math.nan


def _discrete_draw(e: float, q: float, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws of the discrete power law on ``q, q + 1, ...``: the smallest ``k`` with
    ``P(X > k) = zeta(e, k + 1) / zeta(e, q) < u``, by doubling then bisection."""
    z0 = special.zeta(e, q)
    lo = np.full(u.shape, q - 1.0)  # P(X > lo) >= u
    hi = np.full(u.shape, q)
    while True:
        bad = special.zeta(e, hi + 1) / z0 >= u
        if not bad.any():
            break
        lo = np.where(bad, hi, lo)
        hi = np.where(bad, q + 2.0 * (hi - q + 1.0), hi)
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        above = special.zeta(e, mid + 1) / z0 >= u
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return hi


def boot_discrete(body, fit, n, keys, lo, hi, min_tail, metric, fixed):
    out = np.empty(keys.size)
    for r, key in enumerate(keys):
        rng = np.random.default_rng(int(key))
        from_tail = rng.random(n) < fit.n_tail / n
        y = np.empty(n)
        k = int(from_tail.sum())
        y[from_tail] = _discrete_draw(fit.exponent, fit.xmin, 1.0 - rng.random(k))
        y[~from_tail] = body[rng.integers(0, body.size, n - k)] if body.size else fit.xmin
        y.sort()
        try:
            i, _, d, _ = fit_discrete(y, metric, min_tail, fit.xmin if fixed else None, lo, hi)
        except ValueError:
            i, d = -1, math.nan
        out[r] = d if i >= 0 else math.nan
    return out
