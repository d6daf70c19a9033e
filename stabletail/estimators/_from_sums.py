"""Tail-index estimates finalised from running sums: the one home of these formulas.

The estimators of this package and the gradient-noise harvest (``stabletail.sgd``), which
accumulates sums of logs while it streams minibatches, both end here, so a given set of
sums always gives the same estimate, standard error and interval
(:meth:`TailIndex.ci`). Also the block-size rule of Simsekli et al. (2019).
"""

from __future__ import annotations

import math
from typing import Any

from .._validation import check_int
from ._result import TailIndex

__all__ = ["mohammadi_from_log_sums", "sqrt_block_size"]

# sd(log|X|) is ~1 for real data; rounding alone leaves about 1.5e-8 |mean|
_DEGENERATE_RSD = 1e-6


def _degenerate(var: float, mean: float) -> bool:
    return math.sqrt(var) <= _DEGENERATE_RSD * (abs(mean) + 1.0)


def mohammadi_from_log_sums(
    sx: float, sx2: float, nx: int, sy: float, sy2: float, ny: int, block_size: int,
    params: dict[str, Any] | None = None,
) -> TailIndex:
    """Mohammadi et al.'s estimate from separate sums of ``log|X_j|`` and of ``log|Y_i|``.

    ``1/alpha = (mean_i log|Y_i| - mean_j log|X_j|) / log K1`` with ``Y_i`` the sums of
    blocks of ``K1`` values.

    Parameters
    ----------
    sx, sx2 : float
        Sum of ``log|X_j|`` and of its square.
    nx : int
        Number of values ``X_j``.
    sy, sy2 : float
        The same for the block sums ``log|Y_i|``.
    ny : int
        Number of blocks.
    block_size : int
        The block size ``K1``.
    params : dict, optional
        Tuning to record in the result (``block_size`` and ``n_blocks`` are added).

    Returns
    -------
    TailIndex
        ``method="mohammadi"``. NaN when no estimate exists: ``K1 < 2``, no data, sums
        that are not finite, or degenerate sums (``log|X|`` and ``log|Y|`` both without
        variance, e.g. noise that is exactly zero everywhere).

    Notes
    -----
    The standard error of ``1/alpha`` is ``sqrt(var_Y / n_Y + var_X / n_X) / log K1``:
    separate sums do not carry the covariance between a block sum and its own values,
    which is positive for independent data, so this errs on the side of a wider
    interval than :func:`stabletail.estimators.mohammadi`, whose paired block
    differences give the exact delta-method error.
    """
    params = {**(params or {}), "block_size": int(block_size), "n_blocks": int(ny)}
    n = int(nx)
    if block_size < 2 or nx < 1 or ny < 1:
        return TailIndex.from_xi(math.nan, math.nan, n, "mohammadi", params)
    mx, my = sx / nx, sy / ny
    vx = max(sx2 / nx - mx * mx, 0.0)
    vy = max(sy2 / ny - my * my, 0.0)
    log_k1 = math.log(block_size)
    xi = (my - mx) / log_k1
    if not (math.isfinite(xi) and math.isfinite(vx) and math.isfinite(vy)) or (
        _degenerate(vx, mx) and _degenerate(vy, my)
    ):
        return TailIndex.from_xi(math.nan, math.nan, n, "mohammadi", params)
    return TailIndex.from_xi(xi, math.sqrt(vy / ny + vx / nx) / log_k1, n, "mohammadi", params)


def _factorize(n: int) -> dict[int, int]:
    """Prime factorisation of ``n >= 1`` (trial division by small primes, then Pollard's rho
    with a deterministic Miller-Rabin test: fast for every 64-bit ``n``)."""
    factors: dict[int, int] = {}
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        while n % p == 0:
            factors[p] = factors.get(p, 0) + 1
            n //= p
    stack = [n] if n > 1 else []
    while stack:
        m = stack.pop()
        if _is_prime(m):
            factors[m] = factors.get(m, 0) + 1
            continue
        d = _pollard_rho(m)
        stack.extend((d, m // d))
    return factors


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    if n in small:
        return True
    if any(n % p == 0 for p in small):
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in small:  # deterministic for n < 3.3e24 (Sorenson & Webster 2015)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _pollard_rho(n: int) -> int:
    """A non-trivial factor of the odd composite ``n`` (Brent's variant)."""
    c = 1
    while True:
        x = y = 2
        d = 1
        while d == 1:
            x = (x * x + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            d = math.gcd(abs(x - y), n)
        if d != n:
            return d
        c += 1


def sqrt_block_size(n: int) -> int:
    """The largest divisor of ``n`` that is ``<= sqrt(n)`` (Simsekli et al. 2019's block size).

    Parameters
    ----------
    n : int
        Sample size, at least 1.

    Returns
    -------
    int
        ``K1``; ``n`` then splits into ``n // K1`` blocks with no remainder. 1 when ``n`` is
        prime.

    Examples
    --------
    >>> sqrt_block_size(10_000), sqrt_block_size(98), sqrt_block_size(2**61 - 1)
    (100, 7, 1)
    """
    n = check_int("n", n, 1)
    root = math.isqrt(n)
    divisors = [1]
    for p, e in _factorize(n).items():
        divisors = [d * p**k for d in divisors for k in range(e + 1) if d * p**k <= root]
    return max(divisors)
