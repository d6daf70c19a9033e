"""Power-law tails with a data-driven threshold (Clauset, Shalizi & Newman 2009)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .._progress import progress_bar
from .._typing import ArrayLike, NanPolicy, SeedLike
from .._validation import (
    apply_nan_policy,
    as_float_array,
    check_choice,
    check_int,
    check_random_state,
    check_scalar,
)
from . import _powerlaw_kernels as _k
from ._bootstrap import StderrMethod, check_stderr
from ._powerlaw_discrete import boot_discrete, fit_discrete, stderr_discrete
from ._result import TailIndex, TestResult

__all__ = ["PowerLawTail", "powerlaw_tail", "powerlaw_gof"]

Distance = Literal["ks", "kuiper", "ad"]
Side = Literal["abs", "right", "left"]
_METRIC = {"ks": _k.KS, "kuiper": _k.KUIPER, "ad": _k.AD}
_CHUNK = 64  # bootstrap samples per call of the parallel kernel (the progress bar moves between calls)


@dataclass(frozen=True)
class PowerLawTail(TailIndex):
    """A power-law tail fit: the tail index above a threshold, and the threshold.

    Besides the :class:`TailIndex` fields (``alpha`` is the tail index: the survival function
    falls like ``x**-alpha`` above ``xmin``):

    Attributes
    ----------
    xmin : float
        The threshold above which the power law is fitted.
    n_tail : int
        Values at or above ``xmin`` (``n`` counts all values used, body included).
    distance : float
        The distance between the tail's empirical law and the fitted power law at ``xmin``
        (``distance_name``; the quantity the threshold minimises).
    distance_name : str
        ``"ks"``, ``"kuiper"`` or ``"ad"``.
    exponent : float
        The density's exponent ``alpha + 1`` (the ``alpha`` of Clauset et al. and of the
        ``powerlaw`` package).
    discrete : bool
        Whether the discrete (Hurwitz zeta) likelihood was used.
    """

    xmin: float = math.nan
    n_tail: int = 0
    distance: float = math.nan
    distance_name: str = "ks"
    exponent: float = math.nan
    discrete: bool = False

    def gof(self, x: ArrayLike, **options: object) -> TestResult:
        """The bootstrap goodness-of-fit test of this fit on its data: :func:`powerlaw_gof`.

        Parameters
        ----------
        x : array_like
            The sample this fit was made on.
        **options
            Passed to :func:`powerlaw_gof` (``n_boot``, ``random_state``, ...).

        Returns
        -------
        TestResult
        """
        return powerlaw_gof(x, self, **options)  # type: ignore[arg-type]

    def summary(self) -> str:
        """One line: the tail index with its interval, the threshold and the distance.

        Returns
        -------
        str
            The line.
        """
        lo, hi = self.ci(0.95)
        return (f"powerlaw_tail: alpha = {self.alpha:.4g} (se {self.stderr:.2g} {self.stderr_method}, "
                f"95% CI [{lo:.4g}, {hi:.4g}]); xmin = {self.xmin:.6g}, n_tail = {self.n_tail} of "
                f"{self.n}, {self.distance_name} = {self.distance:.4g}")


def _positive(x: ArrayLike, side: str, nan_policy: str) -> np.ndarray | None:
    """The values used, sorted; None under ``nan_policy="propagate"`` with non-finite input."""
    check_choice("nan_policy", nan_policy, ("raise", "omit", "propagate"))
    check_choice("side", side, ("abs", "right", "left"))
    v = as_float_array(x).reshape(-1).astype(np.float64)
    v, propagate = apply_nan_policy(v, nan_policy)
    if propagate:
        return None
    v = np.abs(v) if side == "abs" else (v if side == "right" else -v)
    v = np.sort(v[v > 0])
    if v.size == 0:
        raise ValueError(f"x holds no values for side={side!r} (positive values, or non-zero for 'abs')")
    return v


def _looks_discrete(y: np.ndarray) -> bool:
    """Integer values with many ties: continuous KS distances and likelihoods do not apply."""
    return bool(np.all(y == np.round(y)) and np.unique(y).size < 0.9 * y.size)


def _check_options(discrete, distance, min_tail, xmin, xmin_range):
    check_choice("distance", distance, tuple(_METRIC))
    min_tail = check_int("min_tail", min_tail, 2)
    lo, hi = 0.0, math.inf
    if xmin is not None:
        xmin = check_scalar("xmin", xmin, 0.0, low_open=True)
        if xmin_range is not None:
            raise ValueError("pass either xmin (a fixed threshold) or xmin_range (where to search), not both")
    elif xmin_range is not None:
        if len(xmin_range) != 2:
            raise ValueError(f"xmin_range must be a pair (low, high), got {xmin_range!r}")
        lo = check_scalar("xmin_range[0]", xmin_range[0], 0.0)
        hi = math.inf if xmin_range[1] == math.inf else check_scalar("xmin_range[1]", xmin_range[1], lo)
    if discrete not in (None, True, False):
        raise ValueError(f"discrete must be True, False or None (detect), got {discrete!r}")
    return min_tail, xmin, lo, hi


def _fit_sorted(y, discrete, metric, min_tail, xmin, lo, hi):
    """``(i, s, d, n_candidates)`` on sorted data: threshold index, exponent - 1, distance."""
    if discrete:
        return fit_discrete(y, metric, min_tail, xmin, lo, hi)
    if xmin is not None:
        i = int(np.searchsorted(y, xmin))
        if y.size - i < min_tail or i >= y.size - 1 or y[i] == y[-1]:
            raise ValueError(f"xmin = {xmin:g} leaves {y.size - i} value(s) in the tail (or all equal); "
                             f"min_tail = {min_tail} and two distinct values are needed")
        s, d = _k.distance_at(y, i, metric)
        return i, s, d, 1
    return _k.scan(y, lo, hi, min_tail, metric)


def powerlaw_tail(
    x: ArrayLike,
    *,
    xmin: float | None = None,
    xmin_range: tuple[float, float] | None = None,
    distance: Distance = "ks",
    discrete: bool | None = None,
    min_tail: int = 10,
    side: Side = "abs",
    nan_policy: NanPolicy = "raise",
    stderr: StderrMethod = "asymptotic",
    n_boot: int = 1000,
    random_state: SeedLike = None,
) -> PowerLawTail:
    r"""Power-law tail above a data-driven threshold (Clauset, Shalizi & Newman 2009).

    For every candidate threshold ``xmin`` (each distinct value, the largest excepted) the
    density ``p(x) = (a / xmin) (x / xmin)**-(a + 1)`` is fitted to the values at or above it
    by maximum likelihood, ``a = m / sum(log(x_j / xmin))`` (the Hill estimator at that
    threshold), and the threshold kept is the one whose fit is closest to the tail's
    empirical law: ``D = max_j |E_j - F(x_j)|``, ``E_j`` the fraction of the tail strictly
    below ``x_j`` (the convention of CSN's reference code). The scan is exact and takes
    milliseconds at ``n = 10**5`` (branch and bound on the distance, see the kernels).

    Parameters
    ----------
    x : array_like
        Data; see ``side`` for which values are used.
    xmin : float, optional
        A fixed threshold (no search).
    xmin_range : (float, float), optional
        Search thresholds in ``[low, high]`` only.
    distance : {"ks", "kuiper", "ad"}
        What the threshold minimises: Kolmogorov-Smirnov (default), Kuiper (``max(E - F) +
        max(F - E)``) or Anderson-Darling ``A^2`` (this one takes ``O(n * n_tail)``: restrict
        it with ``xmin_range`` on large samples).
    discrete : bool, optional
        Integer data: the discrete power law ``p(x) = x**-(a + 1) / zeta(a + 1, xmin)``
        (fitted numerically at every candidate). ``None`` (default) treats the data as
        continuous, but refuses integer data with many ties, whose continuous fit is wrong.
    min_tail : int
        Fewest values a candidate's tail may hold (default 10; at least 2).
    side : {"abs", "right", "left"}
        ``|x|`` without zeros (default, as the other estimators), the positive values, or
        minus the negative values.
    nan_policy : {"raise", "omit", "propagate"}
        Non-finite values: an error, dropped, or a result of NaNs.
    stderr : {"asymptotic", "bootstrap"}
        ``"asymptotic"``: ``se(1/a) = (1/a) / sqrt(n_tail)`` at the chosen threshold (the
        threshold's own uncertainty is ignored). ``"bootstrap"``: the whole procedure,
        threshold search included, repeated on ``n_boot`` resamples of the data (CSN's
        recommendation).
    n_boot : int
        Bootstrap resamples for ``stderr="bootstrap"``.
    random_state : int, numpy Generator or None
        Seeds the bootstrap.

    Returns
    -------
    PowerLawTail
        ``alpha`` the tail index (``exponent - 1``), ``xmin``, ``n_tail``, ``distance``.

    Raises
    ------
    ValueError
        No positive values, fewer than ``min_tail`` values above every candidate, all values
        equal, bad options, integer data with ties under ``discrete=None``.

    Examples
    --------
    >>> import numpy as np
    >>> from stabletail.estimators import powerlaw_tail
    >>> x = np.random.default_rng(0).pareto(1.5, 10_000) + 1.0
    >>> r = powerlaw_tail(x)
    >>> bool(abs(r.alpha - 1.5) < 4 * r.stderr)
    True
    """
    n_boot = check_stderr(stderr, n_boot) if stderr == "bootstrap" else 0
    min_tail, xmin, lo, hi = _check_options(discrete, distance, min_tail, xmin, xmin_range)
    y = _positive(x, side, nan_policy)
    if y is None:
        base = TailIndex.from_xi(math.nan, math.nan, 0, "powerlaw_tail", {})
        return PowerLawTail(**base.__dict__, distance_name=distance)
    if y.size < min_tail or y[0] == y[-1]:
        raise ValueError(f"x must hold at least min_tail = {min_tail} values, not all equal, for a "
                         f"power-law tail; got {y.size} value(s) with {np.unique(y).size} distinct")
    if discrete is None:
        if _looks_discrete(y):
            raise ValueError("x looks discrete (integer values, many ties): pass discrete=True for the "
                             "discrete power law, or discrete=False to fit it as continuous anyway")
        discrete = False
    elif discrete and not np.all(y == np.round(y)):
        raise ValueError("discrete=True needs integer values (x holds non-integers)")
    metric = _METRIC[distance]
    i, s, d, count = _fit_sorted(y, discrete, metric, min_tail, xmin, lo, hi)
    if i < 0:
        raise ValueError(f"no candidate threshold in xmin_range = ({lo:g}, {hi:g}) leaves min_tail = "
                         f"{min_tail} values above it; widen xmin_range or lower min_tail")
    n_tail = y.size - i
    a = float(s)
    params = {"xmin": float(y[i]), "n_tail": n_tail, "n_candidates": int(count), "min_tail": min_tail,
              "xmin_range": None if xmin is not None else (lo, hi), "xmin_fixed": xmin is not None}
    xi = 1.0 / a
    if discrete:
        se_xi = stderr_discrete(a + 1.0, float(y[i]), n_tail) / (a * a)
    else:
        se_xi = xi / math.sqrt(n_tail)
    method = "asymptotic"
    if n_boot:
        rng = check_random_state(random_state)
        xis = []
        for _ in range(n_boot):
            yb = np.sort(rng.choice(y, y.size))
            try:
                ib, sb, _, _ = _fit_sorted(yb, discrete, metric, min_tail, xmin, lo, hi)
            except ValueError:
                continue
            if ib >= 0:
                xis.append(1.0 / sb)
        se_xi = float(np.std(xis, ddof=1)) if len(xis) > 1 else math.nan
        params["n_boot"] = len(xis)
        method = "bootstrap"
    base = TailIndex.from_xi(xi, se_xi, y.size, "powerlaw_tail", params, method)
    return PowerLawTail(**base.__dict__, xmin=float(y[i]), n_tail=n_tail, distance=float(d),
                        distance_name=distance, exponent=a + 1.0, discrete=bool(discrete))


def powerlaw_gof(
    x: ArrayLike,
    fit: PowerLawTail | None = None,
    *,
    n_boot: int = 2500,
    random_state: SeedLike = None,
    parallel: bool = True,
    progress: bool | None = None,
    side: Side = "abs",
    nan_policy: NanPolicy = "raise",
    **options: object,
) -> TestResult:
    """Semi-parametric bootstrap p-value of a power-law tail (Clauset, Shalizi & Newman 2009, 4.1).

    Each synthetic sample has the size of the data; each of its values is drawn, with
    probability ``n_tail / n``, from the fitted power law above ``xmin``, otherwise uniformly
    from the data below ``xmin``. The whole fit (the threshold search included, or the fixed
    threshold when the fit had one) is repeated on it, and the p-value is the fraction of
    synthetic distances at least the observed one. CSN's rule: the power law is ruled out when
    ``p <= 0.1``; ``n_boot = 2500`` gives p to about +-0.01.

    Parameters
    ----------
    x : array_like
        The data the fit was made on.
    fit : PowerLawTail, optional
        The fit to check; by default ``powerlaw_tail(x, **options)``.
    n_boot : int
        Synthetic samples (at least 10).
    random_state : int, numpy Generator or None
        Seeds the synthetic samples (the same seed gives the same p-value on any number of
        threads).
    parallel : bool
        Spread the samples over the cores (numba threads).
    progress : bool, optional
        Progress bar (tqdm, when installed); default: on for 200 samples or more.
    side, nan_policy, **options
        As in :func:`powerlaw_tail` (``xmin``, ``xmin_range``, ``distance``, ``discrete``,
        ``min_tail``) when ``fit`` is not given; with ``fit`` its own options are used.

    Returns
    -------
    TestResult
        ``statistic`` the observed distance, ``pvalue``, ``n_boot`` the synthetic samples that
        could be fitted (the others are left out and the p-value uses the rest).

    Raises
    ------
    ValueError
        As :func:`powerlaw_tail`; ``n_boot`` below 10.
    """
    n_boot = check_int("n_boot", n_boot, 10)
    if fit is None:
        fit = powerlaw_tail(x, side=side, nan_policy=nan_policy, **options)  # type: ignore[arg-type]
    elif not isinstance(fit, PowerLawTail):
        raise TypeError(f"fit must be a PowerLawTail (from powerlaw_tail), got {type(fit).__name__}")
    elif options:
        raise TypeError(f"options {sorted(options)} are only for fitting; the given fit has its own")
    y = _positive(x, side, nan_policy)
    if y is None or math.isnan(fit.alpha):
        return TestResult(statistic=math.nan, pvalue=math.nan, method="power-law tail (no fit)")
    fixed = bool(fit.params["xmin_fixed"])
    min_tail = int(fit.params["min_tail"])
    lo, hi = fit.params["xmin_range"] or (0.0, math.inf)
    metric = _METRIC[fit.distance_name]
    body = y[y < fit.xmin]
    s = fit.exponent - 1.0
    rng = check_random_state(random_state)
    keys = rng.integers(0, 2**63, size=n_boot, dtype=np.uint64)
    bar = progress_bar(n_boot, progress, "power-law gof")
    dist = np.empty(n_boot)
    try:
        for start in range(0, n_boot, _CHUNK):
            part = keys[start : start + _CHUNK]
            if fit.discrete:
                dist[start : start + part.size] = boot_discrete(body, fit, y.size, part, lo, hi, min_tail,
                                                                 metric, fixed)
            else:
                kern = _k.boot_parallel if parallel else _k.boot_serial
                dist[start : start + part.size] = kern(body, fit.xmin, s, y.size, fit.n_tail, part, lo, hi,
                                                       min_tail, metric, fixed)
            if bar is not None:
                bar.update(part.size)
    finally:
        if bar is not None:
            bar.close()
    ok = dist[np.isfinite(dist)]
    p = float(np.mean(ok >= fit.distance)) if ok.size else math.nan
    method = f"power-law tail, {fit.distance_name} bootstrap"
    return TestResult(statistic=fit.distance, pvalue=p, method=method, n_boot=int(ok.size))
