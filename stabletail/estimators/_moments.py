"""The moment estimator of Dekkers, Einmahl & de Haan (1989)."""

from __future__ import annotations

import math
from typing import Literal, Union

import numpy as np

from .._typing import ArrayLike, NanPolicy, SeedLike
from .._validation import check_random_state
from ._bootstrap import StderrMethod, boot_log_moments, boot_sd, check_stderr
from ._common import (
    _order_statistics,
    _resolve_k,
)
from ._kselect import double_bootstrap_k_general, moments_curve
from ._result import TailIndex

__all__ = ["moments"]

_MIN_DBS = 50  # fewer values leave the second bootstrap sample too small to locate a minimum


def moments(x: ArrayLike, k: Union[int, float, Literal["sqrt", "dbs"]] = "sqrt", *,
            nan_policy: NanPolicy = "raise", stderr: StderrMethod = "asymptotic", n_boot: int = 1000,
            random_state: SeedLike = None, n_bootstrap: int = 500, t_bootstrap: float = 0.5,
            eps_stop: float = 0.99) -> TailIndex:
    r"""Moment estimator of Dekkers, Einmahl & de Haan (1989) for ``|x|``.

    With ``M_j = (1/k) sum_{i<=k} (log X_(i) - log X_(k+1))**j``,

    .. math:: \hat\xi = M_1 + 1 - \tfrac12\,(1 - M_1^2/M_2)^{-1},\qquad \hat\alpha = 1/\hat\xi.

    Parameters
    ----------
    x : array_like
        Data (flattened; zeros dropped).
    k : int, float, "sqrt" or "dbs"
        An int in ``[1, n - 1]``, a fraction of n, ``"sqrt"`` (default), or ``"dbs"``: the
        double bootstrap of Danielsson, de Haan, Peng & de Vries (2001), as extended to
        estimators of a real extreme-value index by Draisma, de Haan, Peng & Pereira (1999),
        with the auxiliary statistic of Gomes & Oliveira (2001), ``T(k) = xi_hat(floor(k/2)) -
        xi_hat(k)``: asymptotically centred, with a bias ``(2^rho - 1)`` times that of
        ``xi_hat(k)`` (second-order parameter ``rho < 0``) and a variance ``r`` times
        ``Var xi_hat(k)``. The bootstrap mean of ``T(k)^2`` over ``n_bootstrap`` resamples of
        size ``n1 = n**(0.5 (1 + log(t n)/log n))`` is minimised at ``k1``, over as many of size
        ``n2 = n1**2/n`` at ``k2`` (k in ``[2, eps_stop * size]``); ``k0_T(n) ~ k1**2/k2``,
        ``rho`` from ``k0 ~ n**(-2 rho/(1 - 2 rho))`` (``log(k1/k2)/log(n1/n2)``), ``r`` the
        ratio of the bootstrap variances of ``T(k1)`` and ``xi_hat(k1)``, and ``k* = k1**2/k2
        ((1 - 2^rho)^2/r)**(1/(1 - 2 rho))`` (the AMSE minimisers of ``T`` and ``xi_hat``
        differ by that factor). If ``k2 >= k1`` the search start moves up by ``0.005 n`` and
        both bootstraps are redrawn. Needs at least 50 non-zero values.
    nan_policy : {"raise", "omit", "propagate"}
    stderr : {"asymptotic", "bootstrap"}
        ``"asymptotic"`` (default, below) or the standard deviation of
        ``xi_hat(k)`` over ``n_boot`` resamples of the data at the same k, in
        parallel, seeded by ``random_state``; ``ci()`` uses the one chosen.
    n_boot : int
        Bootstrap resamples (at least 20).
    random_state : int, numpy Generator or None
        Seeds the bootstrap standard error and ``k="dbs"``.
    n_bootstrap, t_bootstrap, eps_stop
        Tuning of ``k="dbs"``, as in :func:`hill` (defaults 500, 0.5, 0.99).

    Returns
    -------
    TailIndex
        ``params["k"]`` is the k used (with ``"dbs"`` also ``k1, k2, n1, n2, rho,
        var_ratio``). ``alpha = inf`` when ``xi_hat <= 0``. Standard error from the
        asymptotic variance: ``1 + xi^2`` for ``xi >= 0``, and
        ``(1-xi)^2 (1-2xi) (1-xi+6xi^2) / ((1-3xi)(1-4xi))`` for ``xi < 0``.
    """
    n_boot = check_stderr(stderr, n_boot)
    a = _order_statistics(x, k, nan_policy, n_bootstrap, t_bootstrap, eps_stop)
    if a is None:
        return TailIndex.from_xi(math.nan, math.nan, 0, "moments", {"k": k})
    n = a.size
    rng = check_random_state(random_state)
    sel: dict = {}
    if k == "dbs":
        if n < _MIN_DBS:
            raise ValueError(f"x must hold at least {_MIN_DBS} non-zero values for moments(k='dbs'), "
                             f"got {n}")
        sel = double_bootstrap_k_general(a, moments_curve, lambda m: m - 1, "moments",
                                         n_bootstrap=n_bootstrap, t_bootstrap=t_bootstrap,
                                         eps_stop=eps_stop, random_state=rng)
        kk = sel["k"]
    else:
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
        return TailIndex.from_xi(xi, math.sqrt(var / kk), n, "moments", {"k": kk, **sel})
    bm1, bm2 = boot_log_moments(np.log(a), kk, n_boot, rng)
    with np.errstate(divide="ignore", invalid="ignore"):  # a resample whose k largest all tie
        xi_b = bm1 + 1.0 - 0.5 / (1.0 - bm1 * bm1 / bm2)
    if not np.isfinite(xi_b).all():
        raise ValueError(
            f"the {kk} largest values of some bootstrap resamples tie, so their moment estimate is "
            "undefined; use a larger k or stderr='asymptotic'"
        )
    params = {"k": kk, **sel, "n_boot": n_boot, "stderr_xi_asymptotic": math.sqrt(var / kk)}
    return TailIndex.from_xi(xi, boot_sd(xi_b), n, "moments", params, stderr_method="bootstrap")
