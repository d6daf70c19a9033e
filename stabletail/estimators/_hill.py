"""Hill's estimator, the double-bootstrap choice of k (Danielsson et al. 2001) and the Hill plot."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._typing import ArrayLike, NanPolicy, SeedLike
from .._validation import (
    check_choice,
    check_random_state,
)
from . import _kernels
from ._bootstrap import StderrMethod, boot_log_moments, boot_sd, check_stderr
from ._common import (
    KSpec,
    _order_statistics,
    _resolve_k,
    _sorted_abs,
)
from ._result import TailIndex

__all__ = ["hill", "hill_plot", "HillPlot", "double_bootstrap_k"]

_N_GROUPS = 16  # fixed work partition of the bootstrap (thread-count independent)
_PARALLEL_WORK = 5_000_000  # n * n_bootstrap above which the bootstrap runs in parallel


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
    if int(t_bootstrap * n) < 2:
        raise ValueError(f"t_bootstrap * n must be at least 2 (the first bootstrap sample size is "
                         f"n^(1/2 + log(t_bootstrap n)/(2 log n))); got t_bootstrap = {t_bootstrap:g} with "
                         f"n = {n}: t_bootstrap must be in [{2 / n:.3g}, 1)")
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
    n_boot = check_stderr(stderr, n_boot)
    a = _order_statistics(x, k, nan_policy, n_bootstrap, t_bootstrap, eps_stop)
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
    m1, _ = boot_log_moments(logs, kk, n_boot, rng)
    params = dict(params, n_boot=n_boot, stderr_xi_asymptotic=xi / math.sqrt(kk))
    return TailIndex.from_xi(xi, boot_sd(m1), n, "hill", params, stderr_method="bootstrap")


@dataclass(frozen=True)
class HillPlot:
    """Hill estimates for every k (``1 <= k <= n - 1``).

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
        """Draw alpha against k (log k axis) with a 95% band; needs matplotlib.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw (default: the current axes).
        **kwargs
            Passed to ``ax.plot`` for the line.

        Returns
        -------
        matplotlib.axes.Axes
        """
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

