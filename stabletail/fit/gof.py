"""Checks of a stable fit: goodness of fit by parametric bootstrap, and the test of alpha = 2.

The fitted parameters are estimated from the data, so the tabulated null laws of the
Kolmogorov-Smirnov, Anderson-Darling and Cramer-von Mises statistics do not apply (they
would be far too lenient). :func:`gof` draws samples from the fitted law, refits each one
with the same method and the same fixed values, and compares the statistics: the
p-value is ``(1 + #{T* >= T}) / (1 + B)`` (Davison & Hinkley 1997, ch. 4).

:func:`gaussian_lr_test` tests alpha = 2 (Gaussian) against alpha < 2 by the likelihood
ratio. The null is on the edge of the parameter space and beta is not identified there,
so no chi-square limit applies; the null law of the statistic is simulated under the
fitted Gaussian.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import stable
from .._progress import progress_bar as _progress
from .._typing import ArrayLike, SeedLike
from .._validation import as_float_array, check_int, check_random_state
from ..estimators import TestResult
from ._fit import fit as _fit
from .result import StableFit

__all__ = ["GofResult", "TestResult", "gof", "gaussian_lr_test", "edf_statistics"]

STATISTICS = ("ks", "ad", "cvm")


def edf_statistics(u: ArrayLike) -> dict[str, float]:
    """Kolmogorov-Smirnov, Anderson-Darling and Cramer-von Mises statistics of ``u = F(x)``.

    Parameters
    ----------
    u : array_like
        The fitted distribution function at the data (any order), values in [0, 1].

    Returns
    -------
    dict
        ``{"ks": D, "ad": A^2, "cvm": W^2}`` (D'Agostino & Stephens 1986, ch. 4).
    """
    z = np.sort(as_float_array(u, "u", dtype=np.float64))
    n = z.size
    i = np.arange(1, n + 1)
    ks = max(float(np.max(i / n - z)), float(np.max(z - (i - 1) / n)))
    zc = np.clip(z, 1e-300, 1.0 - 1e-16)  # log(0) at a point far outside the fitted law: A^2 huge, finite
    ad = -n - float(np.sum((2 * i - 1) * (np.log(zc) + np.log1p(-zc[::-1])))) / n
    cvm = 1.0 / (12 * n) + float(np.sum((z - (2 * i - 1) / (2.0 * n)) ** 2))
    return {"ks": ks, "ad": ad, "cvm": cvm}


@dataclass(frozen=True)
class GofResult:
    """Goodness of fit of a stable fit: one :class:`TestResult` per statistic.

    Attributes
    ----------
    tests : dict
        ``"ks"``, ``"ad"``, ``"cvm"`` -> :class:`TestResult`.
    n_boot : int
        Bootstrap samples whose refit converged (the p-values use these).
    n_failed : int
        Bootstrap samples whose refit did not converge (left out, and counted here).
    fit : StableFit
        The fit that was checked.
    """

    tests: Mapping[str, TestResult]
    n_boot: int
    n_failed: int
    fit: StableFit = field(repr=False)

    @property
    def pvalue(self) -> dict[str, float]:
        """``name -> p-value``."""
        return {k: t.pvalue for k, t in self.tests.items()}

    def summary(self) -> str:
        """The tests, one per line, and how many refits failed.

        Returns
        -------
        str
            The lines.
        """
        lines = [t.summary() for t in self.tests.values()]
        lines.append(f"parametric bootstrap: {self.n_boot} refits" +
                     (f" ({self.n_failed} did not converge and are left out)" if self.n_failed else ""))
        return "\n".join(lines)


def _cdf(res: StableFit, x: np.ndarray) -> np.ndarray:
    return stable.cdf(x, res.alpha, res.beta, res.scale, res.loc, res.parameterization)


def _fixed(res: StableFit) -> dict[str, float] | None:
    return {k: float(getattr(res, k)) for k in res.fixed} or None


def _replicate(res: StableFit, n: int, seed: np.random.SeedSequence) -> dict[str, float] | None:
    x = stable.rvs(res.alpha, res.beta, res.scale, res.loc, size=n, random_state=np.random.default_rng(seed),
                   parameterization=res.parameterization)
    try:
        r = _fit(x, method=res.method, parameterization=res.parameterization, fix=_fixed(res))
    except (ValueError, FloatingPointError):
        return None
    if not r.converged:
        return None
    return edf_statistics(_cdf(r, x))


def _many(func: Any, args: tuple[Any, ...], seeds: list[np.random.SeedSequence]) -> list[Any]:
    return [func(*args, s) for s in seeds]


def _run(func: Any, args: tuple[Any, ...], seeds: list[np.random.SeedSequence], workers: int,
         bar: Any) -> list[Any]:
    """``func(*args, seed)`` for every seed, results in seed order.

    ``workers > 1`` runs chunks of seeds in fresh processes (threads of one process would take
    turns in the parallel kernels: ``stabletail._jit.parallel_lock``)."""
    if workers == 1:
        out = []
        for s in seeds:
            out.append(func(*args, s))
            if bar is not None:
                bar.update(1)
        return out
    size = max(1, len(seeds) // (8 * workers))  # about 8 chunks per process: a moving progress bar
    chunks = [seeds[i : i + size] for i in range(0, len(seeds), size)]
    out = []
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for chunk, part in zip(chunks, pool.map(_many, [func] * len(chunks), [args] * len(chunks), chunks)):
            out.extend(part)
            if bar is not None:
                bar.update(len(chunk))
    return out


def gof(
    res: StableFit,
    x: ArrayLike,
    *,
    n_boot: int = 1000,
    random_state: SeedLike = None,
    workers: int = 1,
    progress: bool | None = None,
) -> GofResult:
    """Goodness of fit of a stable fit: KS, AD and CvM with parametric-bootstrap p-values.

    Parameters
    ----------
    res : StableFit
        The fit to check (any method, parameterisation and fixed values).
    x : array_like
        The data it was fitted to.
    n_boot : int
        Bootstrap samples (at least 19); each is refitted like ``res``.
    random_state : int, numpy Generator or None
        Seed of the bootstrap; the result does not depend on ``workers``.
    workers : int
        Processes (default 1: this process). More start fresh processes (about a second
        each to load the compiled kernels), worth it for long runs.
    progress : bool, optional
        Progress bar (tqdm, when installed); default: on for 200 samples or more.

    Returns
    -------
    GofResult

    Raises
    ------
    ValueError
        If ``x`` is not the fitted sample's size or ``n_boot`` is below 19.

    Examples
    --------
    >>> from stabletail import fit, stable
    >>> x = stable.rvs(1.5, 0.2, size=2000, random_state=0)
    >>> g = fit.gof(fit.fit(x), x, n_boot=99, random_state=1)
    >>> sorted(g.pvalue)
    ['ad', 'cvm', 'ks']
    """
    data = as_float_array(x, "x", dtype=np.float64).ravel()
    if data.size != res.nobs:
        raise ValueError(f"x has {data.size} values but the fit used {res.nobs}: pass the fitted data")
    n_boot = check_int("n_boot", n_boot, 19)
    workers = check_int("workers", workers, 1)
    observed = edf_statistics(_cdf(res, data))
    seeds = np.random.SeedSequence(int(check_random_state(random_state).integers(2**63))).spawn(n_boot)
    bar = _progress(n_boot, progress, "stable gof")
    try:
        reps = _run(_replicate, (res, data.size), seeds, workers, bar)
    finally:
        if bar is not None:
            bar.close()
    ok = [r for r in reps if r is not None]
    tests = {}
    labels = {"ks": "Kolmogorov-Smirnov", "ad": "Anderson-Darling", "cvm": "Cramer-von Mises"}
    for name, label in labels.items():
        t = observed[name]
        exceed = sum(r[name] >= t for r in ok)
        p = (1 + exceed) / (1 + len(ok)) if ok else math.nan
        tests[name] = TestResult(t, p, f"{label}, parametric bootstrap", len(ok))
    return GofResult(tests, len(ok), n_boot - len(ok), res)


def _lr(x: np.ndarray) -> float | None:
    """``2 (loglik of the stable MLE - loglik of the Gaussian MLE)`` (>= 0), None if the fit failed."""
    try:
        r = _fit(x, method="mle")
    except ValueError:
        return None
    if not r.converged:
        return None
    n = x.size
    gauss = -0.5 * n * (math.log(2 * math.pi * np.var(x)) + 1.0)
    return max(0.0, 2.0 * (r.loglik - gauss))


def _null_lr(mu: float, sd: float, n: int, seed: np.random.SeedSequence) -> float | None:
    return _lr(np.random.default_rng(seed).normal(mu, sd, n))


def gaussian_lr_test(
    x: ArrayLike,
    *,
    n_boot: int = 200,
    random_state: SeedLike = None,
    workers: int = 1,
    progress: bool | None = None,
) -> TestResult:
    """Likelihood-ratio test of alpha = 2 (Gaussian) against a stable law with alpha < 2.

    ``LR = 2 (l_stable - l_gauss)``, both maximised. Under the null alpha = 2 lies on the
    edge of the parameter space and beta is not identified, so the usual chi-square
    limit does not hold; the p-value is ``(1 + #{LR* >= LR}) / (1 + B)`` over ``B``
    samples of the fitted Gaussian (same size), each refitted both ways.

    Parameters
    ----------
    x : array_like
        The sample (at least 20 finite values).
    n_boot : int
        Samples of the null law (at least 19).
    random_state : int, numpy Generator or None
        Seed of the simulation (the result does not depend on ``workers``).
    workers : int
        Processes, as in :func:`gof` (default 1).
    progress : bool, optional
        Progress bar (tqdm, when installed); default: on for 200 samples or more.

    Returns
    -------
    TestResult
        ``statistic`` LR and ``pvalue``; NaN when the stable fit of ``x`` fails.
    """
    data = as_float_array(x, "x", dtype=np.float64).ravel()
    n_boot = check_int("n_boot", n_boot, 19)
    workers = check_int("workers", workers, 1)
    lr = _lr(data)
    if lr is None:
        return TestResult(math.nan, math.nan, "likelihood ratio, alpha = 2: the stable fit failed", 0)
    mu, sd = float(np.mean(data)), float(np.std(data))
    seeds = np.random.SeedSequence(int(check_random_state(random_state).integers(2**63))).spawn(n_boot)
    bar = _progress(n_boot, progress, "alpha = 2 test")
    try:
        null = _run(_null_lr, (mu, sd, data.size), seeds, workers, bar)
    finally:
        if bar is not None:
            bar.close()
    ok = [v for v in null if v is not None]
    p = (1 + sum(v >= lr for v in ok)) / (1 + len(ok)) if ok else math.nan
    return TestResult(lr, p, "likelihood ratio of alpha = 2 against alpha < 2, parametric bootstrap", len(ok))
