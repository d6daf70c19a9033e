"""Order-statistics estimators: Hill (with the double bootstrap), Pickands, moments (DEdH)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Union

import numpy as np

from .._typing import ArrayLike, NanPolicy, SeedLike
from .._validation import (
    apply_nan_policy,
    as_float_array,
    check_choice,
    check_int,
    check_random_state,
    check_scalar,
)
from . import _kernels
from ._bootstrap import StderrMethod, boot_sd, boot_seed, check_stderr
from ._result import TailIndex

__all__ = ["hill", "hill_plot", "HillPlot", "pickands", "moments", "double_bootstrap_k"]

KSpec = Union[int, float, Literal["sqrt", "dbs"]]

_N_GROUPS = 16  # fixed work partition of the bootstrap (thread-count independent)
_PARALLEL_WORK = 5_000_000  # n * n_bootstrap above which the bootstrap runs in parallel


def _sorted_abs(x: ArrayLike, nan_policy: str) -> np.ndarray | None:
    """|x| > 0 sorted in decreasing order (float64); None under propagate with non-finite input."""
    check_choice("nan_policy", nan_policy, ("raise", "omit", "propagate"))
    v = as_float_array(x).reshape(-1)
    v, propagate = apply_nan_policy(v, nan_policy)
    if propagate:
        return None
    a = np.abs(v.astype(np.float64))
    a = a[a > 0]
    a.sort()
    return a[::-1]


def _resolve_k(k: Any, n: int, kmax: int, method: str) -> int:
    """Number of upper order statistics from an int, a fraction of n, or "sqrt"."""
    if kmax < 1:
        need = 4 if method == "pickands" else 2
        raise ValueError(f"x must hold at least {need} non-zero values for the {method} estimator, got {n}")
    if isinstance(k, str):
        check_choice("k", k, ("sqrt",) if method != "hill" else ("sqrt", "dbs"))
        return max(1, min(math.isqrt(n), kmax))
    if isinstance(k, (float, np.floating)):
        frac = check_scalar("k", k, 0.0, 1.0, low_open=True, high_open=True)
        kk = max(1, int(frac * n))
        if kk > kmax:
            raise ValueError(f"k = {k} of n = {n} gives {kk} order statistics; k must give at most {kmax}")
        return kk
    return check_int("k", k, 1, kmax)


def double_bootstrap_k(
    logs: np.ndarray,
    *,
    n_bootstrap: int = 500,
    t_bootstrap: float = 0.5,
    eps_stop: float = 0.99,
    random_state: SeedLike = None,
) -> dict[str, Any]:
    """Double-bootstrap choice of k for Hill (Danielsson et al. 2001, Qi's 2008 rho).

    Parameters
    ----------
    logs : ndarray
        ``log`` of the positive data sorted in decreasing order (length n).
    n_bootstrap, t_bootstrap, eps_stop, random_state
        See :func:`hill`.

    Returns
    -------
    dict
        ``k`` (the chosen k*) and the intermediate ``k1, k2, n1, n2, rho``.
    """
    n = logs.size
    rng = check_random_state(random_state)
    eps_b = 0.5 * (1.0 + math.log(int(t_bootstrap * n)) / math.log(n))
    n1 = int(n**eps_b)
    n2 = int(n1 * n1 / n)
    if n2 < 4:
        raise ValueError(f"x must hold at least 20 non-zero values for hill(k='dbs'), got {n}")
    min1 = min2 = 1
    max1 = int(np.abs(np.linspace(1.0 / n1, 1.0, n1) - eps_stop).argmin())
    max2 = int(np.abs(np.linspace(1.0 / n2, 1.0, n2) - eps_stop).argmin())
    step = max(int(0.005 * n), 1)
    while True:
        if min1 >= max1 or min2 >= max2:
            raise ValueError(
                "the double bootstrap found no AMSE minimum with k2 <= k1 (data far from a power "
                "tail?); pass k explicitly (an int, a fraction of n, or 'sqrt')"
            )
        seeds = rng.integers(0, 2**62, size=2)
        par = n * n_bootstrap >= _PARALLEL_WORK  # small problems: no thread launch (same result)
        amse1 = _kernels.dbs_amse(logs, n1, n_bootstrap, int(seeds[0]), _N_GROUPS, par)
        amse2 = _kernels.dbs_amse(logs, n2, n_bootstrap, int(seeds[1]), _N_GROUPS, par)
        # amse[i] belongs to k = i + 1; search k in [min + 1, max]
        k1 = int(np.nanargmin(amse1[min1:max1])) + 1 + min1
        k2 = int(np.nanargmin(amse2[min2:max2])) + 1 + min2
        if k2 <= k1:
            break
        min1 += step
        min2 += step
    lk1, ln1 = math.log(k1), math.log(n1)
    rho = (1.0 - 2.0 * (lk1 - ln1) / lk1) ** (lk1 / ln1 - 1.0)
    k_star = int(np.round(k1 * k1 / k2 * rho))
    if k_star == 0:
        k_star = 2
    k_star = min(k_star, n - 1)
    return {"k": k_star, "k1": k1, "k2": k2, "n1": n1, "n2": n2, "rho": rho}


def hill(
    x: ArrayLike,
    k: KSpec = "dbs",
    *,
    nan_policy: NanPolicy = "raise",
    random_state: SeedLike = None,
    n_bootstrap: int = 500,
    t_bootstrap: float = 0.5,
    eps_stop: float = 0.99,
    stderr: StderrMethod = "asymptotic",
    n_boot: int = 1000,
) -> TailIndex:
    r"""Hill's estimator of the tail index of ``|x|``.

    With ``X_(1) >= X_(2) >= ...`` the decreasing order statistics of the
    non-zero ``|x|``,

    .. math:: \hat\xi(k) = \frac1k\sum_{i=1}^{k}\log\frac{X_{(i)}}{X_{(k+1)}},\qquad
              \hat\alpha = 1/\hat\xi(k).

    Parameters
    ----------
    x : array_like
        Data of any shape (flattened). Zeros are dropped (they are never
        upper order statistics); ``n`` counts the non-zero values.
    k : int, float, "sqrt" or "dbs"
        Number of upper order statistics: an int in ``[1, n - 1]``, a
        fraction of ``n`` in (0, 1), ``"sqrt"`` (``floor(sqrt(n))``), or
        ``"dbs"`` (default): the double bootstrap of Danielsson, de Haan, Peng
        & de Vries (2001) with Qi's (2008) rho, as in the tail-estimation code
        of Voitalov et al. (2019): ``n_bootstrap`` resamples of size
        ``n1 = n**(0.5 (1 + log(t n)/log n))`` and as many of size
        ``n2 = n1**2/n``, each minimising the bootstrap mean of
        ``(M2(k) - 2 M1(k)**2)**2`` over ``k <= eps_stop * size``;
        ``k* = round(k1**2/k2 * rho)``, ``rho = (1 - 2(log k1 - log n1)/log
        k1)**(log k1/log n1 - 1)``. If ``k2 > k1`` the search start moves up by
        ``0.005 n`` and both bootstraps are redrawn.
    nan_policy : {"raise", "omit", "propagate"}
        Handling of non-finite values.
    random_state : int, numpy Generator or None
        Seeds the double bootstrap (``k="dbs"``) and the bootstrap standard
        error. The result depends only on the seed, not on the number of
        threads.
    n_bootstrap : int
        Resamples per bootstrap stage (default 500, as the reference code).
    t_bootstrap : float
        In (0, 1); sets ``n1`` (default 0.5, i.e. ``n1 ~ n/sqrt(2)``).
    eps_stop : float
        In (0, 1]; the fraction of each bootstrap sample over which the AMSE
        is minimised (default 0.99).
    stderr : {"asymptotic", "bootstrap"}
        ``"asymptotic"`` (default): ``xi_hat/sqrt(k)``. ``"bootstrap"``: the
        standard deviation of ``xi_hat(k)`` over ``n_boot`` resamples of the
        data (n draws with replacement) at the same k (with ``k="dbs"``: at
        the chosen k*, which is not re-selected per resample), in parallel,
        seeded by ``random_state``. ``ci()`` uses the one chosen.
    n_boot : int
        Resamples for ``stderr="bootstrap"`` (at least 20).

    Returns
    -------
    TailIndex
        ``params["k"]`` is the k used (and ``k1, k2, n1, n2, rho`` with
        ``"dbs"``). Asymptotic ``stderr = alpha/sqrt(k)``: ``sqrt(k)(xi_hat -
        xi)`` is asymptotically normal with sd ``xi`` for exact Pareto tails
        (Hall 1982); neither standard error sees the bias below.

    Warnings
    --------
    Hill assumes a Pareto tail from ``X_(k+1)`` on. Stable laws with alpha
    near 2 reach their power tail only far out (McCulloch 1997), so on stable
    data Hill is badly biased upward: with ``k="dbs"`` at n = 1e4 the mean
    estimate is about 2.6 for alpha = 1.8 and about 1.7 for alpha = 1.5, and
    the bias does not shrink with n (seeded Monte-Carlo in
    ``docs/estimators.md``; tested). Its confidence intervals then do not
    cover: coverage is near 0 from n = 1e4 on. Use :func:`mohammadi` or :func:`log_moment`
    for stable data.
    """
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 10)
    n_boot = check_stderr(stderr, n_boot)
    t_bootstrap = check_scalar("t_bootstrap", t_bootstrap, 0.0, 1.0, low_open=True, high_open=True)
    eps_stop = check_scalar("eps_stop", eps_stop, 0.0, 1.0, low_open=True)
    if isinstance(k, str):
        check_choice("k", k, ("sqrt", "dbs"))
    a = _sorted_abs(x, nan_policy)
    if a is None:
        return TailIndex.from_xi(math.nan, math.nan, 0, "hill", {"k": k})
    n = a.size
    if n < 2:
        raise ValueError(f"x must hold at least 2 non-zero values for the Hill estimator, got {n}")
    logs = np.log(a)
    params: dict[str, Any] = {}
    rng = check_random_state(random_state)
    if isinstance(k, str) and k == "dbs":
        if n < 20:
            raise ValueError(f"x must hold at least 20 non-zero values for hill(k='dbs'), got {n}")
        params = double_bootstrap_k(
            logs,
            n_bootstrap=n_bootstrap,
            t_bootstrap=t_bootstrap,
            eps_stop=eps_stop,
            random_state=rng,
        )
        kk = params["k"]
    else:
        kk = _resolve_k(k, n, n - 1, "hill")
        params = {"k": kk}
    xi = float(logs[:kk].mean() - logs[kk])
    if xi <= 0.0:
        raise ValueError(
            f"the {kk} largest |x| are all equal (ties): Hill's estimate is undefined; choose another k"
        )
    if stderr == "asymptotic":
        return TailIndex.from_xi(xi, xi / math.sqrt(kk), n, "hill", params)
    m1, _ = _boot_log_moments(logs, kk, n_boot, rng)
    params = dict(params, n_boot=n_boot, stderr_xi_asymptotic=xi / math.sqrt(kk))
    return TailIndex.from_xi(xi, boot_sd(m1), n, "hill", params, stderr_method="bootstrap")


def _boot_log_moments(
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


@dataclass(frozen=True)
class HillPlot:
    """Hill estimates for every k (``k = 1 .. n - 1``).

    Attributes
    ----------
    k : ndarray of int
    alpha : ndarray
        ``1/xi_hat(k)`` (``inf`` where the k largest values tie).
    stderr : ndarray
        ``alpha/sqrt(k)``.
    """

    k: np.ndarray
    alpha: np.ndarray
    stderr: np.ndarray

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw alpha against k (log k axis) with a 95% band; needs matplotlib."""
        import matplotlib.pyplot as plt  # optional dependency, imported on use

        if ax is None:
            ax = plt.gca()
        line = ax.plot(self.k, self.alpha, **kwargs)[0]
        ax.fill_between(self.k, self.alpha - 1.96 * self.stderr, self.alpha + 1.96 * self.stderr,
                        color=line.get_color(), alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("k (upper order statistics)")
        ax.set_ylabel("Hill alpha")
        return ax


def hill_plot(x: ArrayLike, *, nan_policy: NanPolicy = "raise") -> HillPlot:
    """Hill's estimate for every k from one sort and cumulative sums.

    Parameters
    ----------
    x : array_like
        Data of any shape; zeros are dropped as in :func:`hill`.
    nan_policy : {"raise", "omit"}
        Handling of non-finite values ("propagate" is not meaningful here).

    Returns
    -------
    HillPlot
        Arrays ``k``, ``alpha``, ``stderr`` for k = 1..n-1.
    """
    check_choice("nan_policy", nan_policy, ("raise", "omit"))
    a = _sorted_abs(x, nan_policy)
    assert a is not None
    if a.size < 2:
        raise ValueError(f"x must hold at least 2 non-zero values for a Hill plot, got {a.size}")
    m1, _ = _kernels.hill_moments(np.log(a))
    k = np.arange(1, a.size)
    with np.errstate(divide="ignore"):
        alpha = 1.0 / m1
    return HillPlot(k=k, alpha=alpha, stderr=alpha / np.sqrt(k))


def pickands(x: ArrayLike, k: Union[int, float, Literal["sqrt"]] = "sqrt", *,
             nan_policy: NanPolicy = "raise") -> TailIndex:
    r"""Pickands' (1975) estimator of the extreme-value index of ``|x|``.

    .. math:: \hat\xi = \frac{1}{\log 2}\log\frac{X_{(k)} - X_{(2k)}}{X_{(2k)} - X_{(4k)}},
              \qquad \hat\alpha = 1/\hat\xi \ (\hat\xi > 0).

    Parameters
    ----------
    x : array_like
        Data (flattened; zeros dropped).
    k : int, float or "sqrt"
        An int in ``[1, n // 4]``, a fraction of n, or ``"sqrt"`` (default).
    nan_policy : {"raise", "omit", "propagate"}

    Returns
    -------
    TailIndex
        ``alpha = inf`` when ``xi_hat <= 0`` (no heavy tail). Standard error
        (Dekkers & de Haan 1989): ``k Var(xi_hat) = xi^2 (2^(2 xi + 1) + 1) /
        (2 (2^xi - 1) log 2)^2`` (limit ``3/(4 log(2)^4)`` at xi = 0).

    Notes
    -----
    There is no bootstrap standard error here: in a resample the order
    statistics k, 2k and 4k often tie for small k (one value drawn several
    times), which leaves the estimate undefined.
    """
    a = _sorted_abs(x, nan_policy)
    if a is None:
        return TailIndex.from_xi(math.nan, math.nan, 0, "pickands", {"k": k})
    n = a.size
    kk = _resolve_k(k, n, n // 4, "pickands")
    num = a[kk - 1] - a[2 * kk - 1]
    den = a[2 * kk - 1] - a[4 * kk - 1]
    if num <= 0 or den <= 0:
        raise ValueError(
            f"order statistics k, 2k, 4k of |x| tie for k = {kk}: Pickands' estimate is undefined"
        )
    xi = math.log(num / den) / math.log(2.0)
    if abs(xi) < 1e-8:
        var = 3.0 / (4.0 * math.log(2.0) ** 4)
    else:
        var = xi * xi * (2.0 ** (2 * xi + 1) + 1) / (2.0 * (2.0**xi - 1.0) * math.log(2.0)) ** 2
    return TailIndex.from_xi(xi, math.sqrt(var / kk), n, "pickands", {"k": kk})


def moments(x: ArrayLike, k: Union[int, float, Literal["sqrt"]] = "sqrt", *,
            nan_policy: NanPolicy = "raise", stderr: StderrMethod = "asymptotic", n_boot: int = 1000,
            random_state: SeedLike = None) -> TailIndex:
    r"""Moment estimator of Dekkers, Einmahl & de Haan (1989) for ``|x|``.

    With ``M_j = (1/k) sum_{i<=k} (log X_(i) - log X_(k+1))**j``,

    .. math:: \hat\xi = M_1 + 1 - \tfrac12\,(1 - M_1^2/M_2)^{-1},\qquad \hat\alpha = 1/\hat\xi.

    Parameters
    ----------
    x : array_like
        Data (flattened; zeros dropped).
    k : int, float or "sqrt"
        An int in ``[1, n - 1]``, a fraction of n, or ``"sqrt"`` (default).
    nan_policy : {"raise", "omit", "propagate"}
    stderr : {"asymptotic", "bootstrap"}
        ``"asymptotic"`` (default, below) or the standard deviation of
        ``xi_hat(k)`` over ``n_boot`` resamples of the data at the same k, in
        parallel, seeded by ``random_state``; ``ci()`` uses the one chosen.
    n_boot : int
        Bootstrap resamples (at least 20).
    random_state : int, numpy Generator or None
        Seeds the bootstrap.

    Returns
    -------
    TailIndex
        ``alpha = inf`` when ``xi_hat <= 0``. Standard error from the
        asymptotic variance: ``1 + xi^2`` for ``xi >= 0``, and
        ``(1-xi)^2 (1-2xi) (1-xi+6xi^2) / ((1-3xi)(1-4xi))`` for ``xi < 0``.
    """
    n_boot = check_stderr(stderr, n_boot)
    a = _sorted_abs(x, nan_policy)
    if a is None:
        return TailIndex.from_xi(math.nan, math.nan, 0, "moments", {"k": k})
    n = a.size
    kk = _resolve_k(k, n, n - 1, "moments")
    d = np.log(a[:kk]) - math.log(a[kk])
    m1 = float(d.mean())
    m2 = float((d * d).mean())
    if m1 <= 0 or m2 <= m1 * m1:
        raise ValueError(
            f"the {kk} largest |x| are (nearly) tied: the moment estimate is undefined; choose another k"
        )
    xi = m1 + 1.0 - 0.5 / (1.0 - m1 * m1 / m2)
    if xi >= 0:
        var = 1.0 + xi * xi
    else:
        var = (1 - xi) ** 2 * (1 - 2 * xi) * (1 - xi + 6 * xi * xi) / ((1 - 3 * xi) * (1 - 4 * xi))
    if stderr == "asymptotic":
        return TailIndex.from_xi(xi, math.sqrt(var / kk), n, "moments", {"k": kk})
    bm1, bm2 = _boot_log_moments(np.log(a), kk, n_boot, random_state)
    with np.errstate(divide="ignore", invalid="ignore"):  # a resample whose k largest all tie
        xi_b = bm1 + 1.0 - 0.5 / (1.0 - bm1 * bm1 / bm2)
    if not np.isfinite(xi_b).all():
        raise ValueError(
            f"the {kk} largest values of some bootstrap resamples tie, so their moment estimate is "
            "undefined; use a larger k or stderr='asymptotic'"
        )
    params = {"k": kk, "n_boot": n_boot, "stderr_xi_asymptotic": math.sqrt(var / kk)}
    return TailIndex.from_xi(xi, boot_sd(xi_b), n, "moments", params, stderr_method="bootstrap")
