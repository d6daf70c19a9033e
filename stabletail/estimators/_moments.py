"""The moment estimator of Dekkers, Einmahl & de Haan (1989)."""

from __future__ import annotations

import math
from typing import Literal, Union

import numpy as np

from .._typing import ArrayLike, NanPolicy, SeedLike
from ._bootstrap import StderrMethod, boot_log_moments, boot_sd, check_stderr
from ._common import (
    _resolve_k,
    _sorted_abs,
)
from ._result import TailIndex

__all__ = ["moments"]



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
    bm1, bm2 = boot_log_moments(np.log(a), kk, n_boot, random_state)
    with np.errstate(divide="ignore", invalid="ignore"):  # a resample whose k largest all tie
        xi_b = bm1 + 1.0 - 0.5 / (1.0 - bm1 * bm1 / bm2)
    if not np.isfinite(xi_b).all():
        raise ValueError(
            f"the {kk} largest values of some bootstrap resamples tie, so their moment estimate is "
            "undefined; use a larger k or stderr='asymptotic'"
        )
    params = {"k": kk, "n_boot": n_boot, "stderr_xi_asymptotic": math.sqrt(var / kk)}
    return TailIndex.from_xi(xi, boot_sd(xi_b), n, "moments", params, stderr_method="bootstrap")
