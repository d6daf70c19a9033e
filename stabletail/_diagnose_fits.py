"""The fits and tests behind :func:`stabletail.diagnose` (one function per law, and the tail indices)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from . import stable
from .estimators import compare_tails, hill, mohammadi, powerlaw_gof, powerlaw_tail
from .fit import edf_statistics
from .fit import fit as stable_fit

__all__ = ["ModelRow", "TailRow"]


@dataclass(frozen=True)
class ModelRow:
    """One candidate law fitted to the whole sample (or, for the power law, to its tail).

    Attributes
    ----------
    name : str
        ``"gaussian"``, ``"student_t"``, ``"stable"`` or ``"power_law_tail"``.
    params : dict
        Fitted parameters (and standard errors where known).
    loglik, aic : float
        Log-likelihood and AIC on the whole sample; NaN for the power-law tail (it describes
        the tail only, so it is not comparable).
    test : str
        The goodness-of-fit test used.
    pvalue : float
        Its p-value; NaN when it was skipped (``fast=True``) or could not run.
    rejected : bool or None
        ``pvalue <= level`` (``None`` when not tested).
    note : str
        What else to know (non-convergence, skipped bootstrap, ...).
    """

    name: str
    params: dict[str, Any]
    loglik: float
    aic: float
    test: str
    pvalue: float
    rejected: bool | None
    note: str = ""


@dataclass(frozen=True)
class TailRow:
    """One tail-index estimate of the diagnosis.

    Attributes
    ----------
    method : str
        The estimator (with its tuning, e.g. the chosen k).
    alpha : float
        The estimate.
    low, high : float
        Its 95% interval.
    note : str
        Why the estimate is doubtful, or empty.
    """

    method: str
    alpha: float
    low: float
    high: float
    note: str = ""


def _gaussian(x: np.ndarray, level: float) -> ModelRow:
    mu, sd = float(np.mean(x)), float(np.std(x))
    ll = float(np.sum(stats.norm.logpdf(x, mu, sd)))
    jb = stats.jarque_bera(x)
    return ModelRow("gaussian", {"loc": mu, "scale": sd}, ll, 4.0 - 2.0 * ll, "Jarque-Bera",
                    float(jb.pvalue), bool(jb.pvalue <= level))


def _t_fit(x: np.ndarray, start: tuple[float, float, float] | None = None) -> tuple[float, float, float]:
    if start is None:
        return tuple(float(v) for v in stats.t.fit(x))  # type: ignore[return-value]
    return tuple(float(v) for v in stats.t.fit(x, start[0], loc=start[1], scale=start[2]))  # type: ignore[return-value]


def _t_df_interval(x: np.ndarray, df: float, loc: float, scale: float) -> tuple[float, float]:
    """Wald interval for the degrees of freedom from the observed information (numerical
    Hessian of the log-likelihood in (log df, loc, log scale)), mapped back."""
    theta = np.array([math.log(df), loc, math.log(scale)])

    def ll(t: np.ndarray) -> float:
        return float(np.sum(stats.t.logpdf(x, math.exp(t[0]), t[1], math.exp(t[2]))))

    h = 1e-4
    hess = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            e_i, e_j = np.eye(3)[i] * h, np.eye(3)[j] * h
            hess[i, j] = (ll(theta + e_i + e_j) - ll(theta + e_i - e_j) - ll(theta - e_i + e_j)
                          + ll(theta - e_i - e_j)) / (4 * h * h)
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return math.nan, math.nan
    se = math.sqrt(cov[0, 0]) if cov[0, 0] > 0 else math.nan
    return math.exp(theta[0] - 1.96 * se), math.exp(theta[0] + 1.96 * se)


def _student_t(x: np.ndarray, level: float, n_boot: int, rng: np.random.Generator, bar: Any) -> ModelRow:
    df, loc, scale = _t_fit(x)
    ll = float(np.sum(stats.t.logpdf(x, df, loc, scale)))
    low, high = _t_df_interval(x, df, loc, scale)
    params = {"df": df, "loc": loc, "scale": scale, "df_low": low, "df_high": high}
    a2 = edf_statistics(stats.t.cdf(x, df, loc, scale))["ad"]
    if n_boot == 0:
        return ModelRow("student_t", params, ll, 6.0 - 2.0 * ll, "Anderson-Darling (skipped)", math.nan, None,
                        "fast: the parametric bootstrap was skipped")
    count = done = 0
    for _ in range(n_boot):
        y = stats.t.rvs(df, loc, scale, size=x.size, random_state=rng)
        try:
            d, m, s = _t_fit(y, (df, loc, scale))
        except (ValueError, RuntimeError, FloatingPointError):
            continue
        done += 1
        count += edf_statistics(stats.t.cdf(y, d, m, s))["ad"] >= a2
        if bar is not None:
            bar.update(1)
    p = (1 + count) / (1 + done) if done else math.nan
    return ModelRow("student_t", params, ll, 6.0 - 2.0 * ll, f"Anderson-Darling, bootstrap {done}", p,
                    bool(p <= level) if done else None)


def _stable(x: np.ndarray, level: float, n_boot: int, seed: int) -> tuple[ModelRow, Any]:
    res = stable_fit(x)
    se = res.stderr
    params = {"alpha": res.alpha, "beta": res.beta, "scale": res.scale, "loc": res.loc,
              "alpha_se": se.alpha, "parameterization": res.parameterization}
    aic = 8.0 - 2.0 * res.loglik
    note = "" if res.converged else f"the fit did not converge: {res.message}"
    if n_boot == 0 or not res.converged:
        why = "fast: the parametric bootstrap was skipped" if n_boot == 0 else note
        row = ModelRow("stable", params, res.loglik, aic, "Anderson-Darling (skipped)", math.nan, None, why)
        return row, res
    g = res.gof(x, n_boot=n_boot, random_state=seed, progress=False)
    t = g.tests["ad"]
    return ModelRow("stable", params, res.loglik, aic, f"Anderson-Darling, bootstrap {g.n_boot}", t.pvalue,
                    bool(t.pvalue <= level), note), res


def _power_law(x: np.ndarray, n_boot: int, seed: int) -> tuple[ModelRow, Any]:
    a = np.abs(x[x != 0])
    discrete = bool(np.all(a == np.round(a)) and np.unique(a).size < 0.9 * a.size)
    fit = powerlaw_tail(a, discrete=discrete)
    lo, hi = fit.ci()
    params = {"alpha": fit.alpha, "alpha_low": lo, "alpha_high": hi, "xmin": fit.xmin, "n_tail": fit.n_tail,
              "ks": fit.distance, "discrete": discrete}
    comparison = compare_tails(a, fit.xmin, discrete=discrete)
    n_par = {"lognormal": 2, "exponential": 1, "stretched_exponential": 2, "truncated_power_law": 2}
    # four comparisons: an alternative counts as favoured at p < 0.1 / 4 (Bonferroni), so that on
    # power-law data the chance of any false "lighter tail" stays near CSN's 0.1
    cut = 0.1 / len(comparison.tests)
    params["favoured_over_power_law"] = {t.name: {"pvalue": t.pvalue, "aic": 2 * n_par[t.name] - 2 * t.loglik,
                                                  **t.params}
                                         for t in comparison.tests if t.favours == t.name and t.pvalue < cut}
    params["power_law_favoured_over"] = {t.name: t.pvalue for t in comparison.tests
                                         if t.favours == "power_law"}
    if n_boot == 0:
        return ModelRow("power_law_tail", params, math.nan, math.nan, "CSN bootstrap (skipped)", math.nan,
                        None,
                        "fast: the bootstrap was skipped"), fit
    g = powerlaw_gof(a, fit, n_boot=n_boot, random_state=seed, progress=False)
    # CSN's rule: the power law is ruled out at p <= 0.1
    return ModelRow("power_law_tail", params, math.nan, math.nan, f"CSN KS bootstrap {g.n_boot}", g.pvalue,
                    bool(g.pvalue <= 0.1), "describes |x| >= xmin only; CSN's rule p <= 0.1"), fit


def _stable_tail_law(res: Any, n: int, n_sim: int, seed: int, min_tail: int) -> np.ndarray:
    """CSN tail indices of ``n_sim`` samples of the fitted stable law (same size as the data): what
    the power-law fit reads in the tail of that stable law at this sample size."""
    out = np.empty(n_sim)
    rng = np.random.default_rng(seed)
    for r in range(n_sim):
        y = stable.rvs(res.alpha, res.beta, res.scale, res.loc, size=n, random_state=rng,
                       parameterization=res.parameterization)
        try:
            out[r] = powerlaw_tail(y, min_tail=min_tail, discrete=False).alpha
        except ValueError:
            out[r] = math.nan
    return out[np.isfinite(out)]


def _tail_indices(x: np.ndarray, pl_fit: Any, seed: int) -> tuple[TailRow, ...]:
    rows = [TailRow("power_law_tail (CSN)", pl_fit.alpha, *pl_fit.ci(), f"xmin = {pl_fit.xmin:.4g}")]
    try:
        h = hill(x, k="dbs", random_state=seed)
        rows.append(TailRow("hill (double bootstrap)", h.alpha, *h.ci(), f"k = {h.params['k']}"))
    except ValueError as err:
        rows.append(TailRow("hill (double bootstrap)", math.nan, math.nan, math.nan, str(err)))
    try:
        m = mohammadi(x - np.median(x), zeros="omit")
        rows.append(TailRow("mohammadi (block sums)", m.alpha, *m.ci(), "assumes a stable law"))
    except ValueError as err:
        rows.append(TailRow("mohammadi (block sums)", math.nan, math.nan, math.nan, str(err)))
    return tuple(rows)
