"""The log-moment estimator for symmetric stable data, and its streaming form."""

from __future__ import annotations

import math

import numpy as np

from .._typing import ArrayLike, NanPolicy, SeedLike
from .._validation import check_choice
from . import _kernels
from ._bootstrap import StderrMethod, boot_sd, boot_seed, check_stderr
from ._common import (
    _FAST_DTYPES,
    ZerosPolicy,
    _Accumulator,
    _clean,
    _degenerate,
    _flat,
    _nan_result,
)
from ._result import TailIndex

__all__ = ["log_moment", "LogMomentAccumulator"]

_CHUNK = 1 << 16  # values per parallel chunk


def _log_center(v: np.ndarray) -> float:
    """A shift for the log power sums (mean log|x| of the first 1024 usable values)."""
    head = np.abs(v[:1024].astype(np.float64))
    head = head[np.isfinite(head) & (head > 0)]
    return float(np.log(head).mean()) if head.size else 0.0


class LogMomentAccumulator(_Accumulator):
    """Streaming form of :func:`log_moment`.

    Keeps the count and the first four power sums of ``log|x| - c`` (``c``
    fixed from the first chunk). The result equals :func:`log_moment` on the
    concatenated chunks up to floating-point summation order.

    Parameters
    ----------
    nan_policy, zeros
        As in :func:`log_moment`, applied chunk by chunk.
    """

    def __init__(self, *, nan_policy: NanPolicy = "raise", zeros: ZerosPolicy = "raise") -> None:
        self.nan_policy = check_choice("nan_policy", nan_policy, ("raise", "omit", "propagate"))
        self.zeros = check_choice("zeros", zeros, ("raise", "omit"))
        self._sums = np.zeros(4)
        self._n = 0
        self._center: float | None = None
        self._propagate = False

    def update(self, chunk: ArrayLike) -> "LogMomentAccumulator":
        """Add a chunk of values (any shape, flattened).

        Parameters
        ----------
        chunk : array_like
            The next values of the stream.

        Returns
        -------
        self
        """
        v = self._chunk(chunk)
        if v is None:
            return self
        if self._center is None:
            self._center = _log_center(v)
        c = self._center
        if v.dtype in _FAST_DTYPES:
            lay, view = _kernels.layout(v.dtype)
            if v.size <= _CHUNK:  # one chunk: skip the parallel launch (same arithmetic)
                s = np.zeros(5)
                _kernels.log_power_sums_chunk(v.view(view), 0, v.size, *lay, c, s)
            else:
                s = _kernels.log_power_sums(v.view(view), *lay, c, _CHUNK)
            if s[4] == 0:
                self._sums += s[:4]
                self._n += v.size
                return self
        v, propagate = _clean(v, self.nan_policy, self.zeros, 0.0)
        if propagate:
            self._propagate = True
            return self
        d = np.log(np.abs(v.astype(np.float64))) - c
        d2 = d * d
        self._sums += (d.sum(), d2.sum(), (d2 * d).sum(), (d2 * d2).sum())
        self._n += v.size
        return self

    def result(self) -> TailIndex:
        """The log-moment estimate from all values so far.

        Returns
        -------
        TailIndex
            As :func:`log_moment` on the same values (NaN with a propagated NaN).

        Raises
        ------
        ValueError
            If fewer than 4 usable values were seen.
        """
        n = self._n
        if self._propagate:
            return _nan_result("log_moment", n, {})
        if n < 4:
            raise ValueError(f"x must hold at least 4 usable values for the log-moment estimator, got {n}")
        s1, s2, s3, s4 = self._sums
        m = s1 / n
        var = max(s2 - s1 * m, 0.0) / (n - 1)
        # fourth central moment from the shifted power sums
        mu4 = s4 / n - 4 * m * s3 / n + 6 * m * m * s2 / n - 3 * m**4
        if math.sqrt(var) <= 1e-10 * (abs(m + (self._center or 0.0)) + 1.0):
            raise _degenerate("log_moment")
        u = 6.0 * var / math.pi**2 - 0.5
        se_u = 6.0 / math.pi**2 * math.sqrt(max(mu4 - var * var, 0.0) / n)
        xi = math.copysign(math.sqrt(abs(u)), u)
        se_xi = se_u / (2.0 * max(math.sqrt(abs(u)), 1e-300))
        return TailIndex.from_xi(xi, se_xi, n, "log_moment", {"var_log": var})


def log_moment(
    x: ArrayLike,
    *,
    nan_policy: NanPolicy = "raise",
    zeros: ZerosPolicy = "raise",
    stderr: StderrMethod = "asymptotic",
    n_boot: int = 1000,
    random_state: SeedLike = None,
) -> TailIndex:
    r"""Log-moment estimator of the index of a symmetric stable law.

    For symmetric stable ``X``, ``Var log|X| = (pi^2/6)(1/alpha^2 + 1/2)``
    (Zolotarev), so

    .. math:: 1/\hat\alpha^2 = \frac{6}{\pi^2}\,\widehat{\mathrm{Var}}\log|X| - \frac12 .

    It is one pass over the data, scale invariant, and for stable data more
    accurate than Mohammadi's estimator. It assumes a *symmetric stable*
    law: for other heavy-tailed laws (Pareto, Student t) it is biased.

    Parameters
    ----------
    x : array_like
        Data of any shape (flattened); float32 stays float32 in the pass.
    nan_policy : {"raise", "omit", "propagate"}
        Handling of non-finite values.
    zeros : {"raise", "omit"}
        Exact zeros have ``log|0| = -inf``: raise (default) or drop them.
    stderr : {"asymptotic", "bootstrap"}
        ``"asymptotic"`` (default, Notes) or the standard deviation of
        ``1/alpha`` over ``n_boot`` resamples of the values (iid), in
        parallel, seeded by ``random_state``, the same for any number of
        threads; ``ci()`` uses the one chosen.
    n_boot : int
        Bootstrap resamples (at least 20).
    random_state : int, numpy Generator or None
        Seeds the bootstrap.

    Returns
    -------
    TailIndex
        ``params = {"var_log": sample variance of log|x|}`` (with the
        bootstrap also ``n_boot`` and ``stderr_xi_asymptotic``). When
        ``6 Var/pi^2 <= 1/2`` (lighter than any stable law) ``alpha = inf``;
        estimates above 2 are returned as they are (not clipped).

    Notes
    -----
    ``u = 1/alpha^2`` is linear in the sample variance ``V`` of ``log|X|``, so
    ``se(u) = (6/pi^2) sqrt((mu4 - V^2)/n)`` with ``mu4`` the sample fourth
    central moment of ``log|X|``; ``se(1/alpha) = se(u) / (2 sqrt(u))`` and
    ``se(alpha) = alpha^2 se(1/alpha)`` (delta method).
    """
    check_choice("nan_policy", nan_policy, ("raise", "omit", "propagate"))
    check_choice("zeros", zeros, ("raise", "omit"))
    n_boot = check_stderr(stderr, n_boot)
    res = LogMomentAccumulator(nan_policy=nan_policy, zeros=zeros).update(x).result()
    if stderr == "asymptotic" or math.isnan(res.xi):
        return res
    v, _ = _clean(_flat(x), nan_policy, zeros, 0.0)
    ell = np.log(np.abs(v.astype(np.float64)))
    n = ell.size
    boot = np.empty((n_boot, 2))
    center = float(ell.mean())
    _kernels.boot_moments(ell, boot_seed(random_state), n_boot, center, boot)
    var = (boot[:, 1] - (boot[:, 0] - center) ** 2) * (n / (n - 1))
    u = 6.0 * var / math.pi**2 - 0.5
    xi_b = np.sign(u) * np.sqrt(np.abs(u))
    params = dict(res.params, n_boot=n_boot, stderr_xi_asymptotic=res.stderr_xi)
    return TailIndex.from_xi(res.xi, boot_sd(xi_b), n, "log_moment", params, stderr_method="bootstrap")
