"""Pickands' estimator of the extreme-value index."""

from __future__ import annotations

import math
from typing import Literal, Union

from .._typing import ArrayLike, NanPolicy
from ._common import (
    _resolve_k,
    _sorted_abs,
)
from ._result import TailIndex

__all__ = ["pickands"]


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

