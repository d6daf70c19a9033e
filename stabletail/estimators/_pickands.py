"""Pickands' estimator of the extreme-value index."""

from __future__ import annotations

import math
from typing import Literal, Union

from .._typing import ArrayLike, NanPolicy, SeedLike
from ._common import (
    _order_statistics,
    _resolve_k,
)
from ._kselect import double_bootstrap_k_general, pickands_curve
from ._result import TailIndex

__all__ = ["pickands"]


_MIN_DBS = 200  # the second bootstrap sample must allow k up to n2/4 >= 4 with few ties


def pickands(x: ArrayLike, k: Union[int, float, Literal["sqrt", "dbs"]] = "sqrt", *,
             nan_policy: NanPolicy = "raise", random_state: SeedLike = None, n_bootstrap: int = 500,
             t_bootstrap: float = 0.5, eps_stop: float = 0.99) -> TailIndex:
    r"""Pickands' (1975) estimator of the extreme-value index of ``|x|``.

    .. math:: \hat\xi = \frac{1}{\log 2}\log\frac{X_{(k)} - X_{(2k)}}{X_{(2k)} - X_{(4k)}},
              \qquad \hat\alpha = 1/\hat\xi \ (\hat\xi > 0).

    Parameters
    ----------
    x : array_like
        Data (flattened; zeros dropped).
    k : int, float, "sqrt" or "dbs"
        An int in ``[1, n // 4]``, a fraction of n, ``"sqrt"`` (default), or ``"dbs"``: the
        double bootstrap of :func:`moments` (Draisma, de Haan, Peng & Pereira 1999 with the
        auxiliary statistic ``xi_hat(floor(k/2)) - xi_hat(k)`` of Gomes & Oliveira 2001)
        applied to Pickands' estimator, k searched in ``[2, eps_stop * size/4]``. A resample
        whose order statistics k, 2k, 4k tie gives no estimate; such resamples are left out of
        the bootstrap means at that k, and a k where more than half are left out is not
        considered. Needs at least 200 non-zero values. (The Drees-Kaufmann rule is built on
        the Hill process and has no counterpart here.)
    nan_policy : {"raise", "omit", "propagate"}
    random_state : int, numpy Generator or None
        Seeds ``k="dbs"``.
    n_bootstrap, t_bootstrap, eps_stop
        Tuning of ``k="dbs"``, as in :func:`hill` (defaults 500, 0.5, 0.99).

    Returns
    -------
    TailIndex
        ``params["k"]`` is the k used (with ``"dbs"`` also ``k1, k2, n1, n2, rho,
        var_ratio``). ``alpha = inf`` when ``xi_hat <= 0`` (no heavy tail). Standard error
        (Dekkers & de Haan 1989): ``k Var(xi_hat) = xi^2 (2^(2 xi + 1) + 1) /
        (2 (2^xi - 1) log 2)^2`` (limit ``3/(4 log(2)^4)`` at xi = 0).

    Notes
    -----
    There is no bootstrap standard error here: in a resample the order
    statistics k, 2k and 4k often tie for small k (one value drawn several
    times), which leaves the estimate undefined.
    """
    a = _order_statistics(x, k, nan_policy, n_bootstrap, t_bootstrap, eps_stop)
    if a is None:
        return TailIndex.from_xi(math.nan, math.nan, 0, "pickands", {"k": k})
    n = a.size
    sel: dict = {}
    if k == "dbs":
        if n < _MIN_DBS:
            raise ValueError(f"x must hold at least {_MIN_DBS} non-zero values for pickands(k='dbs'), "
                             f"got {n}")
        sel = double_bootstrap_k_general(a, pickands_curve, lambda m: m // 4, "pickands",
                                         n_bootstrap=n_bootstrap, t_bootstrap=t_bootstrap,
                                         eps_stop=eps_stop, random_state=random_state)
        kk = sel["k"]
    else:
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
    return TailIndex.from_xi(xi, math.sqrt(var / kk), n, "pickands", {"k": kk, **sel})

