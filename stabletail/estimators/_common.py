"""What the estimators share: argument checks, data cleaning, block-size resolution."""

from __future__ import annotations

import math
from typing import Any, Literal, Union

import numpy as np

from .._typing import ArrayLike
from .._validation import apply_nan_policy, as_float_array, check_choice, check_int, check_scalar
from ._from_sums import sqrt_block_size
from ._result import TailIndex

KSpec = Union[int, float, Literal["sqrt", "dbs"]]

#: Default Mohammadi block size K1. N Var(alpha_hat) = alpha^4 K1 Var(D)/log(K1)^2 (see
#: :func:`mohammadi`), estimated by simulation for symmetric stable data, is minimised at
#: K1 = 4..8 for alpha in [0.8, 2]; K1 = 6 is within 3% of the minimum for every alpha there.
DEFAULT_BLOCK_SIZE = 6

BlockSize = Union[int, Literal["sqrt"], None]
ZerosPolicy = Literal["raise", "omit"]

_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _resolve_block_size(block_size: BlockSize, n: int) -> int:
    """K1 for a sample of ``n`` values (``n`` already cleaned); K2 = n // K1 >= 2 is enforced."""
    if block_size is None:
        k1 = DEFAULT_BLOCK_SIZE
    elif isinstance(block_size, str):
        check_choice("block_size", block_size, ("sqrt",))
        k1 = sqrt_block_size(max(n, 1))
        if k1 < 2:
            raise ValueError(
                f"block_size='sqrt' needs a divisor of N in [2, sqrt(N)], but N = {n} has none "
                "(N prime or N < 4); pass an int block_size in [2, N // 2]"
            )
    else:
        k1 = check_int("block_size", block_size, 2)
    if n < 2 * k1:
        raise ValueError(
            f"x must hold at least 2 * block_size = {2 * k1} usable values for block_size = {k1} "
            f"(two blocks), got {n}; block_size must be an integer in [2, N // 2]"
        )
    return k1


def _flat(x: Any, name: str = "x") -> np.ndarray:
    arr = as_float_array(x, name)
    return np.ascontiguousarray(arr.reshape(-1))


def _clean(v: np.ndarray, nan_policy: str, zeros: str, eps: float) -> tuple[np.ndarray, bool]:
    """Apply ``nan_policy`` (to values, or to rows of 2-D ``v``) and, if ``eps == 0``, the zeros policy."""
    if v.ndim == 2:
        finite_rows = np.isfinite(v).all(axis=1)
        if not finite_rows.all():
            if nan_policy == "raise":
                bad = int(v.shape[0] - np.count_nonzero(finite_rows))
                raise ValueError(
                    f"x contains {bad} row(s) with non-finite values (NaN or inf); "
                    "use nan_policy='omit' to drop them or 'propagate' to get NaN"
                )
            if nan_policy == "propagate":
                return v, True
            v = v[finite_rows]
        zero = ~(v != 0).any(axis=1)
    else:
        v, propagate = apply_nan_policy(v, nan_policy)
        if propagate:
            return v, True
        zero = v == 0
    if eps == 0.0 and zero.any():
        if zeros == "raise":
            raise ValueError(
                f"x contains {int(np.count_nonzero(zero))} exact zero(s) and log|0| = -inf; "
                "use zeros='omit' to drop them, or eps > 0 to add eps inside the log "
                "(eps=np.spacing(1) reproduces Simsekli et al. 2019)"
            )
        v = v[~zero]
    return v, False

def _degenerate(kind: str) -> ValueError:
    return ValueError(
        f"x is degenerate for the {kind} estimator (constant or nearly constant |x|: "
        "the statistic has zero variance); no tail index can be estimated"
    )

def _nan_result(method: str, n: int, params: dict[str, Any]) -> TailIndex:
    return TailIndex.from_xi(math.nan, math.nan, n, method, params)


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


def _order_statistics(x: ArrayLike, k: Any, nan_policy: str, n_bootstrap: int, t_bootstrap: float,
                      eps_stop: float) -> np.ndarray | None:
    """The checks the order-statistics estimators share (``k`` and the double-bootstrap tuning),
    then ``|x| > 0`` sorted decreasingly (None under propagate with non-finite input)."""
    check_int("n_bootstrap", n_bootstrap, 10)
    check_scalar("t_bootstrap", t_bootstrap, 0.0, 1.0, low_open=True, high_open=True)
    check_scalar("eps_stop", eps_stop, 0.0, 1.0, low_open=True)
    if isinstance(k, str):
        check_choice("k", k, ("sqrt", "dbs"))
    return _sorted_abs(x, nan_policy)


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


def _values(x: ArrayLike, axis: int | None) -> np.ndarray:
    """The data as a contiguous 1-D array (C order) or, with ``axis``, as 2-D rows of vectors."""
    arr = as_float_array(x)
    if axis is None:
        return np.ascontiguousarray(arr.reshape(-1))
    if arr.ndim != 2:
        raise ValueError(f"axis is only for 2-D x (rows of vectors); x has {arr.ndim} dimension(s)")
    axis = check_int("axis", axis, -2, 1)
    v = np.moveaxis(arr, axis, -1)
    if v.shape[1] == 0:
        raise ValueError("x has vectors of length 0 along axis")
    return v


class _Accumulator:
    """What the streaming estimators share: the count of values used and the chunk intake."""

    _n: int = 0
    _propagate: bool = False

    @property
    def n(self) -> int:
        """Number of values used so far."""
        return self._n

    def _chunk(self, chunk: ArrayLike) -> np.ndarray | None:
        """The chunk flattened in C order, or None when there is nothing to add."""
        v = _flat(chunk, "chunk")
        return None if v.size == 0 or self._propagate else v
