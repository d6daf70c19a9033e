"""The result type shared by every tail-index estimator."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from scipy.special import ndtri

from .._validation import check_level

__all__ = ["TailIndex", "TestResult"]


@dataclass(frozen=True)
class TailIndex:
    """A tail-index estimate with its uncertainty.

    Attributes
    ----------
    alpha : float
        Estimated tail index. ``inf`` when the estimate of ``xi = 1/alpha`` is
        not positive (the data show no heavy tail); ``nan`` only under
        ``nan_policy="propagate"`` with non-finite input.
    stderr : float
        Standard error of ``alpha`` (delta method from ``stderr_xi``); NaN when
        ``alpha`` is ``inf`` or ``nan`` (the delta method needs ``xi > 0``).
    n : int
        Number of values the estimate used (after ``nan_policy`` and, for the
        block estimator, after dropping the remainder).
    method : str
        Estimator name, e.g. ``"mohammadi"`` or ``"hill"``.
    params : dict
        Tuning actually used, e.g. ``{"block_size": K1, "n_blocks": K2}`` or
        ``{"k": k}``.
    xi : float
        The estimate of ``1/alpha`` (the extreme-value index) on which the
        estimator is built; it may be zero or negative.
    stderr_xi : float
        Standard error of ``xi``.
    stderr_method : str
        Where the standard errors come from: ``"asymptotic"`` (the
        estimator's asymptotic variance, see its docstring) or
        ``"bootstrap"`` (the standard deviation of ``xi`` over bootstrap
        resamples; ``params["n_boot"]`` resamples).

    Notes
    -----
    Confidence intervals are built on the ``xi = 1/alpha`` scale, where every
    estimator here is (asymptotically) a mean, ``xi +- z * stderr_xi``, and
    mapped to ``alpha = 1/xi``; an upper limit whose ``xi`` bound is not
    positive is reported as ``inf``.
    """

    alpha: float
    stderr: float
    n: int
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    xi: float = math.nan
    stderr_xi: float = math.nan
    stderr_method: str = "asymptotic"

    @classmethod
    def from_xi(cls, xi: float, stderr_xi: float, n: int, method: str, params: dict[str, Any],
                stderr_method: str = "asymptotic") -> "TailIndex":
        """Build a result from ``xi = 1/alpha`` and its standard error.

        Parameters
        ----------
        xi : float
            Estimate of ``1/alpha``; ``alpha`` is ``inf`` (stderr NaN) when it is not positive,
            NaN when it is NaN.
        stderr_xi : float
            Standard error of ``xi``; ``stderr`` of alpha is ``alpha**2 * stderr_xi`` (delta method).
        n : int
            Number of values the estimate used.
        method : str
            Name of the estimator.
        params : dict
            Its tuning parameters (copied).
        stderr_method : str, default "asymptotic"
            How the standard error was obtained (``"asymptotic"`` or ``"bootstrap"``).

        Returns
        -------
        TailIndex
        """
        xi = float(xi)
        stderr_xi = float(stderr_xi)
        if math.isnan(xi):
            alpha = stderr = math.nan
        elif xi > 0.0:
            alpha = 1.0 / xi
            stderr = stderr_xi * alpha * alpha
        else:
            alpha, stderr = math.inf, math.nan
        return cls(alpha=alpha, stderr=stderr, n=int(n), method=method, params=dict(params), xi=xi,
                   stderr_xi=stderr_xi, stderr_method=stderr_method)

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """Two-sided confidence interval for ``alpha``.

        Parameters
        ----------
        level : float
            Confidence level in (0, 1).

        Returns
        -------
        (low, high) : tuple of float
            ``(1/(xi + z s), 1/(xi - z s))`` with ``z`` the normal quantile and
            ``s = stderr_xi`` (asymptotic or bootstrap, see ``stderr_method``);
            a bound whose denominator is not positive is ``inf``.
        """
        level = check_level(level)
        if math.isnan(self.xi) or math.isnan(self.stderr_xi):
            return (math.nan, math.nan)
        z = float(ndtri(0.5 + level / 2.0))
        hi_xi = self.xi + z * self.stderr_xi
        lo_xi = self.xi - z * self.stderr_xi
        low = 1.0 / hi_xi if hi_xi > 0 else math.inf
        high = 1.0 / lo_xi if lo_xi > 0 else math.inf
        return (low, high)

    def summary(self) -> str:
        """One line: method, alpha, standard error, 95% interval, n, tuning.

        Returns
        -------
        str
            The line.
        """
        lo, hi = self.ci(0.95)
        tuning = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return (
            f"{self.method}: alpha = {self.alpha:.4g} (se {self.stderr:.2g} {self.stderr_method}, "
            f"95% CI [{lo:.4g}, {hi:.4g}]), n = {self.n}" + (f"; {tuning}" if tuning else "")
        )


@dataclass(frozen=True)
class TestResult:
    """One test: its statistic, p-value and method.

    Attributes
    ----------
    statistic : float
        The test statistic.
    pvalue : float
        Its p-value.
    method : str
        The test's name.
    n_boot : int
        Bootstrap samples behind the p-value (0 when it is not a bootstrap p-value).
    """

    statistic: float
    pvalue: float
    method: str
    n_boot: int = 0

    def summary(self) -> str:
        """One line: method, statistic, p-value.

        Returns
        -------
        str
            The line.
        """
        return f"{self.method}: statistic {self.statistic:.4g}, p-value {self.pvalue:.3g}"
