"""Data-driven number of order statistics for the moment and Pickands estimators (private).

A double bootstrap in the manner of Danielsson, de Haan, Peng & de Vries (2001) and, for
estimators of a real extreme-value index, Draisma, de Haan, Peng & Pereira (1999), built on the
auxiliary statistic of Gomes & Oliveira (2001): ``T(k) = xi_hat(floor(k/2)) - xi_hat(k)``.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .._typing import SeedLike
from .._validation import check_random_state

_CHUNK_VALUES = 4_000_000  # resample values held at once


def moments_curve(a: np.ndarray) -> np.ndarray:
    """Moment estimates ``xi_hat(k)``, k = 1..m-1, of samples ``a`` (rows sorted decreasing, > 0).

    Column ``k - 1`` holds ``xi_hat(k)``; NaN where the k + 1 largest values tie.
    """
    w = np.log(a) - np.log(a[..., :1])
    k = np.arange(1, a.shape[-1])
    s1 = np.cumsum(w, axis=-1)[..., :-1] / k
    s2 = np.cumsum(w * w, axis=-1)[..., :-1] / k
    ref = w[..., 1:]
    m1 = s1 - ref
    m2 = s2 - 2.0 * ref * s1 + ref * ref
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = m1 + 1.0 - 0.5 / (1.0 - m1 * m1 / m2)
    return np.where((m1 > 0) & (m2 > m1 * m1 * (1 + 1e-12)), xi, np.nan)


def pickands_curve(a: np.ndarray) -> np.ndarray:
    """Pickands estimates ``xi_hat(k)``, k = 1..m//4 (column k - 1); NaN where order statistics tie."""
    q = a.shape[-1] // 4
    k = np.arange(1, q + 1)
    num = a[..., k - 1] - a[..., 2 * k - 1]
    den = a[..., 2 * k - 1] - a[..., 4 * k - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = np.log(num / den) / math.log(2.0)
    return np.where((num > 0) & (den > 0), xi, np.nan)


def _aux(xi: np.ndarray) -> np.ndarray:
    """``T(k) = xi(floor(k/2)) - xi(k)`` for k = 2..K (column k - 2)."""
    k = np.arange(2, xi.shape[-1] + 1)
    return xi[..., k // 2 - 1] - xi[..., k - 1]


def _bootstrap(a: np.ndarray, m: int, n_boot: int, curve: Callable[[np.ndarray], np.ndarray],
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over ``n_boot`` resamples of size ``m``: mean of ``T(k)^2``, ``Var T(k)``, ``Var xi_hat(k)``
    (k = 2..K, NaN where fewer than half the resamples give a finite ``T(k)``)."""
    per = max(1, _CHUNK_VALUES // m)
    acc = None
    for start in range(0, n_boot, per):
        b = min(per, n_boot - start)
        idx = np.sort(rng.integers(0, a.size, size=(b, m)), axis=1)
        full = curve(a[idx])
        xi = full[:, 1:]  # k = 2..K
        t = _aux(full)
        ok = np.isfinite(t)
        t0, x0 = np.where(ok, t, 0.0), np.where(ok, xi, 0.0)
        part = np.stack([ok.sum(0), t0.sum(0), (t0 * t0).sum(0), x0.sum(0), (x0 * x0).sum(0)])
        acc = part if acc is None else acc + part
    assert acc is not None
    cnt, st, st2, sx, sx2 = acc
    with np.errstate(divide="ignore", invalid="ignore"):
        mse = st2 / cnt
        var_t = st2 / cnt - (st / cnt) ** 2
        var_x = sx2 / cnt - (sx / cnt) ** 2
    bad = cnt < 0.5 * n_boot
    mse[bad] = np.nan
    return mse, var_t, var_x


def double_bootstrap_k_general(
    a: np.ndarray,
    curve: Callable[[np.ndarray], np.ndarray],
    kmax: Callable[[int], int],
    method: str,
    *,
    n_bootstrap: int,
    t_bootstrap: float,
    eps_stop: float,
    random_state: SeedLike,
) -> dict[str, Any]:
    """Double-bootstrap k for an estimator given by ``curve`` (see :func:`moments` for the rule).

    ``a`` holds the positive data sorted decreasing (length n); ``kmax(m)`` is the largest k the
    estimator allows on m values. Returns ``k`` and ``k1, k2, n1, n2, rho, var_ratio``.
    """
    n = a.size
    rng = check_random_state(random_state)
    if int(t_bootstrap * n) < 2:
        raise ValueError(f"t_bootstrap * n must be at least 2; got t_bootstrap = {t_bootstrap:g} with "
                         f"n = {n}: t_bootstrap must be in [{2 / n:.3g}, 1)")
    n1 = int(n ** (0.5 * (1.0 + math.log(int(t_bootstrap * n)) / math.log(n))))
    n2 = int(n1 * n1 / n)
    hi1, hi2 = int(eps_stop * kmax(n1)), int(eps_stop * kmax(n2))
    if hi2 < 4 or n2 >= n1:
        raise ValueError(f"x holds too few non-zero values ({n}) for {method}(k='dbs'): the second "
                         f"bootstrap sample (n2 = {n2}) must allow at least 4 values of k")
    lo = 2
    step = max(int(0.005 * n), 1)
    while True:
        if lo >= hi2:
            raise ValueError(f"the double bootstrap found no AMSE minimum with k2 < k1 (data far from "
                             f"a heavy tail?); pass k explicitly to {method} (an int, a fraction of n, "
                             "or 'sqrt')")
        mse1, var_t, var_x = _bootstrap(a, n1, n_bootstrap, curve, rng)
        mse2, _, _ = _bootstrap(a, n2, n_bootstrap, curve, rng)
        r1, r2 = mse1[lo - 2:hi1 - 1], mse2[lo - 2:hi2 - 1]  # k = lo..hi
        if np.isnan(r1).all() or np.isnan(r2).all():
            lo += step
            continue
        k1 = int(np.nanargmin(r1)) + lo
        k2 = int(np.nanargmin(r2)) + lo
        if k2 < k1:
            break
        lo += step
    g = math.log(k1 / k2) / math.log(n1 / n2)  # k0(n) ~ n^g with g = -2 rho/(1 - 2 rho)
    rho = -math.inf if g >= 1.0 else g / (2.0 * (g - 1.0))
    ratio = float(var_t[k1 - 2] / var_x[k1 - 2])
    if not (math.isfinite(ratio) and ratio > 0):
        ratio = 1.0  # as for Hill, where Var T(k) = Var xi_hat(k) asymptotically
    if math.isinf(rho):
        factor = 1.0
    else:
        factor = ((1.0 - 2.0**rho) ** 2 / ratio) ** (1.0 / (1.0 - 2.0 * rho))
    k_star = int(round(k1 * k1 / k2 * factor))
    k_star = min(max(k_star, 2), kmax(n))
    return {"k": k_star, "k1": k1, "k2": k2, "n1": n1, "n2": n2, "rho": rho, "var_ratio": ratio}
