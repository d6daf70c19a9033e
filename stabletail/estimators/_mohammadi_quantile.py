"""The order-statistics (median) form of Mohammadi et al.'s estimator."""

from __future__ import annotations

import math
from typing import Union

import numpy as np
from scipy.special import ndtri

from .._typing import ArrayLike, NanPolicy, SeedLike
from .._validation import check_choice, check_int, check_scalar
from . import _kernels
from ._bootstrap import StderrMethod, boot_sd, boot_seed, check_stderr
from ._common import (
    BlockSize,
    ZerosPolicy,
    _clean,
    _degenerate,
    _nan_result,
    _resolve_block_size,
    _values,
)
from ._mohammadi import _block_logs
from ._result import TailIndex

__all__ = ["mohammadi_quantile"]


def _order_density(z: np.ndarray, rank: int) -> float:
    """Density of the law of ``z`` at its ``rank``-th smallest value: Siddiqui's difference
    quotient of order statistics with Hall & Sheather's (1988) bandwidth (at 95%)."""
    n = z.size
    p = rank / n
    q = float(ndtri(min(max(p, 1e-12), 1.0 - 1e-12)))
    h = n ** (-1.0 / 3.0) * 1.959964 ** (2.0 / 3.0) * (
        1.5 * math.exp(-q * q) / (2.0 * math.pi) / (2.0 * q * q + 1.0)) ** (1.0 / 3.0)
    lo = max(1, int(math.floor(n * (p - h))))
    hi = min(n, int(math.ceil(n * (p + h))))
    part = np.partition(z, (lo - 1, hi - 1))
    width = float(part[hi - 1] - part[lo - 1])
    if not width > 0.0:
        raise _degenerate("mohammadi_quantile")
    return (hi - lo) / n / width


def mohammadi_quantile(
    x: ArrayLike,
    block_size: BlockSize = None,
    k: Union[int, float] = 0.5,
    axis: int | None = None,
    *,
    eps: float = 0.0,
    nan_policy: NanPolicy = "raise",
    zeros: ZerosPolicy = "raise",
    stderr: StderrMethod = "asymptotic",
    n_boot: int = 1000,
    random_state: SeedLike = None,
) -> TailIndex:
    r"""Order-statistics form of Mohammadi, Mohammadpour & Ogata's estimator.

    With the blocks of :func:`mohammadi` (``K2`` blocks of ``K1`` consecutive
    values, block sums ``Y_i``), ``U_i = log|Y_i|`` and ``V_j = log|X_j|``,

    .. math:: 1/\hat\alpha = \frac{U_{(k)} - V_{(K_1 k)}}{\log K_1},

    ``U_(k)`` the k-th smallest of the ``K2`` values ``U_i`` and ``V_(K1 k)``
    the ``(K1 k)``-th smallest of the ``N`` values ``V_j``: the same
    quantile level ``k/K2`` of both samples. For strictly stable data
    ``log|Y| =d log|X| + log(K1)/alpha``, so every quantile of ``U`` is the
    same quantile of ``V`` shifted by ``log(K1)/alpha``. This is the estimator
    of the published code of Simsekli et al. (2019) (``alpha_estimator2``,
    labelled there "Corollary 2.2 in Mohammadi 2014"), reproduced exactly
    with ``eps=np.spacing(1)``, an int ``block_size`` and an int ``k``.

    Parameters
    ----------
    x, block_size, axis, eps, nan_policy, zeros
        As in :func:`mohammadi` (same blocks, remainder dropped, norms of
        rows with ``axis``).
    k : int or float
        An int in ``[1, K2]``: the rank ``k``; a float in (0, 1): the
        quantile level ``q``, ``k = max(1, round(q K2))``. Default 0.5 (the
        medians).
    stderr : {"asymptotic", "bootstrap"}
        ``"asymptotic"`` (default, Notes) or the block bootstrap: ``n_boot``
        resamples of the ``K2`` blocks (each block carries its ``U_i`` and its
        ``K1`` values ``V_j``), in parallel, seeded by ``random_state``, the
        same for any number of threads. ``ci()`` uses the one chosen.
    n_boot : int
        Bootstrap resamples (at least 20).
    random_state : int, numpy Generator or None
        Seeds the bootstrap.

    Returns
    -------
    TailIndex
        ``params = {"block_size": K1, "n_blocks": K2, "n_dropped": r, "eps": eps,
        "k": k, "q": k/K2}``; with the bootstrap also ``n_boot`` and
        ``stderr_xi_asymptotic``.

    Notes
    -----
    *Standard error.* By Bahadur's representation of sample quantiles at
    level ``p = k/K2``, ``U_(k) - V_(K1 k)`` minus its limit is
    ``(1/K2) sum_i Z_i + o(K2**-1/2)`` with iid block terms

    .. math:: Z_i = \frac{1}{g_V}\,\frac{\#\{j \in i: V_j \le \xi_V\}}{K_1}
              - \frac{1}{g_U}\,1\{U_i \le \xi_U\},

    ``xi_U, xi_V`` the p-quantiles and ``g_U, g_V`` the densities of ``U``
    and ``V`` there. So ``se(1/alpha_hat) = sd(Z) / (sqrt(K2) log K1)``, with
    the quantiles replaced by the order statistics used, the densities by
    Siddiqui's difference quotients (Hall & Sheather bandwidth), and ``sd(Z)``
    the sample standard deviation over blocks. Nothing about the stable law
    is assumed beyond iid blocks. For stable data it is less efficient than
    :func:`mohammadi` (``docs/estimators.md``), but it uses only ranks near
    one quantile of ``log|Y|`` and ``log|X|``, so single huge or tiny
    values do not move it.

    References
    ----------
    Mohammadi, Mohammadpour & Ogata (2015), Metrika 78, 549-561.
    Simsekli, Sagun & Gurbuzbalaban (2019), ICML; code: github.com/umutsimsekli/sgd_tail_index.
    Siddiqui (1960), J. Res. Nat. Bur. Standards 64B; Hall & Sheather (1988), JRSS B 50, 381-391.
    """
    eps = check_scalar("eps", eps, 0.0)
    check_choice("nan_policy", nan_policy, ("raise", "omit", "propagate"))
    check_choice("zeros", zeros, ("raise", "omit"))
    n_boot = check_stderr(stderr, n_boot)
    if isinstance(block_size, str):
        check_choice("block_size", block_size, ("sqrt",))
    elif block_size is not None:
        check_int("block_size", block_size, 2)
    if isinstance(k, (float, np.floating)):
        check_scalar("k", k, 0.0, 1.0, low_open=True, high_open=True)
    else:
        check_int("k", k, 1)
    v, propagate = _clean(_values(x, axis), nan_policy, zeros, eps)
    if propagate:
        return _nan_result("mohammadi_quantile", v.shape[0], {"block_size": block_size, "eps": eps, "k": k})
    k1 = _resolve_block_size(block_size, v.shape[0])
    u, vv = _block_logs(v, k1, eps)
    k2 = u.size
    if isinstance(k, (float, np.floating)):
        kk = max(1, min(k2, int(round(k * k2))))
    else:
        kk = check_int("k", k, 1, k2)
    vv = vv.reshape(-1)
    u_k = float(np.partition(u, kk - 1)[kk - 1])
    v_k = float(np.partition(vv, k1 * kk - 1)[k1 * kk - 1])
    lk = math.log(k1)
    xi = (u_k - v_k) / lk
    if not math.isfinite(xi):
        raise _degenerate("mohammadi_quantile")
    frac = np.count_nonzero(vv.reshape(k2, k1) <= v_k, axis=1) / k1
    z = frac / _order_density(vv, k1 * kk) - (u <= u_k) / _order_density(u, kk)
    se_xi = float(np.std(z, ddof=1)) / math.sqrt(k2) / lk
    params = {"block_size": k1, "n_blocks": k2, "n_dropped": v.shape[0] - k1 * k2, "eps": eps, "k": kk,
              "q": kk / k2}
    if stderr == "asymptotic":
        return TailIndex.from_xi(xi, se_xi, k1 * k2, "mohammadi_quantile", params)
    uo = np.argsort(u, kind="stable")
    vo = np.argsort(vv, kind="stable")
    boot = np.empty((n_boot, 2))
    seed = boot_seed(random_state)
    _kernels.boot_block_quantiles(u[uo], uo, vv[vo], vo // k1, k2, kk, k1 * kk, seed, n_boot, boot)
    params.update(n_boot=n_boot, stderr_xi_asymptotic=se_xi)
    return TailIndex.from_xi(xi, boot_sd(boot[:, 0] - boot[:, 1]) / lk, k1 * k2, "mohammadi_quantile", params,
                             stderr_method="bootstrap")

