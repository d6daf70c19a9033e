"""``stabletail.diagnose``: which law describes a sample's tail, with the tests behind the verdict.

The rules that turn the table into words are written down in ``docs/diagnose.md``; each is
tested on synthetic data whose law is known (``tests/test_diagnose.py``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ._io import jsonable
from ._typing import ArrayLike, NanPolicy, SeedLike
from ._validation import (
    apply_nan_policy,
    as_float_array,
    check_choice,
    check_int,
    check_random_state,
    check_scalar,
)

__all__ = ["diagnose", "Diagnosis", "ModelRow", "TailRow"]

#: Fewest values for a verdict: below it the tail holds too few points for any tail test.
MIN_N = 50


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
    """One tail-index estimate: ``method``, ``alpha`` and its 95% interval (``low``, ``high``)."""

    method: str
    alpha: float
    low: float
    high: float
    note: str = ""


@dataclass(frozen=True)
class Diagnosis:
    """The report of :func:`diagnose`.

    Attributes
    ----------
    n : int
        Values used.
    status : str
        ``"ok"`` or ``"undetermined"`` (with the reason in ``findings``).
    verdict : str
        The plain-language verdict.
    findings : tuple of str
        Every rule that fired, in the order of ``docs/diagnose.md``.
    models : tuple of ModelRow
    tail_indices : tuple of TailRow
    level : float
        Test level.
    fast : bool
        Whether the bootstraps were skipped.
    """

    n: int
    status: str
    verdict: str
    findings: tuple[str, ...]
    models: tuple[ModelRow, ...] = ()
    tail_indices: tuple[TailRow, ...] = ()
    level: float = 0.05
    fast: bool = False
    _data: np.ndarray | None = field(default=None, repr=False, compare=False)

    def model(self, name: str) -> ModelRow | None:
        """The row of the model called ``name``, or None."""
        return next((m for m in self.models if m.name == name), None)

    def summary(self) -> str:
        """The table and the verdict, as text."""
        lines = [f"n = {self.n}, level {self.level:g}" + (" (fast: bootstraps skipped)" if self.fast else ""),
                 f"{'model':<16}{'log-lik':>12}{'AIC':>12}  {'test':<34}{'p-value':>8}  verdict"]
        for m in self.models:
            verdict = "-" if m.rejected is None else ("rejected" if m.rejected else "not rejected")
            lines.append(f"{m.name:<16}{m.loglik:>12.5g}{m.aic:>12.6g}  {m.test:<34}{m.pvalue:>8.3g}  "
                         f"{verdict}")
        lines.append(f"{'tail index':<28}{'alpha':>8}  95% interval")
        for t in self.tail_indices:
            note = f"  {t.note}" if t.note else ""
            lines.append(f"{t.method:<28}{t.alpha:>8.3g}  [{t.low:.3g}, {t.high:.3g}]{note}")
        lines.append("")
        lines.append(self.verdict)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready with :func:`stabletail._io.json_text`)."""
        return jsonable({"n": self.n, "status": self.status, "verdict": self.verdict,
                         "findings": list(self.findings),
                         "level": self.level, "fast": self.fast,
                         "models": [m.__dict__ for m in self.models],
                         "tail_indices": [t.__dict__ for t in self.tail_indices]})

    def plot(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Four views: both tails' survival with every fitted law, a Hill plot with the chosen k,
        a QQ plot against the stable fit, the density on a log scale (matplotlib)."""
        if self._data is None:
            raise ValueError("this diagnosis holds no data to plot (status undetermined)")
        from ._diagnose_plot import plot_diagnosis

        return plot_diagnosis(self, self._data, path)


def _clean(x: ArrayLike, nan_policy: str) -> np.ndarray:
    check_choice("nan_policy", nan_policy, ("raise", "omit"))
    v = as_float_array(x, "x", dtype=np.float64).reshape(-1)
    if v.size == 0:
        raise ValueError("x is empty: diagnose needs a sample of at least 50 finite values")
    v, _ = apply_nan_policy(v, nan_policy)
    if v.size and np.all(v == v[0]):
        what = "all zero" if v[0] == 0 else f"constant ({v[0]:g})"
        raise ValueError(f"x is {what}: a constant sample has no tail and fits no law")
    return v


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


def _ad_statistic(u: np.ndarray) -> float:
    z = np.clip(np.sort(u), 1e-300, 1.0 - 1e-16)
    n = z.size
    i = np.arange(1, n + 1)
    return float(-n - np.sum((2 * i - 1) * (np.log(z) + np.log1p(-z[::-1]))) / n)


def _student_t(x: np.ndarray, level: float, n_boot: int, rng: np.random.Generator, bar: Any) -> ModelRow:
    df, loc, scale = _t_fit(x)
    ll = float(np.sum(stats.t.logpdf(x, df, loc, scale)))
    low, high = _t_df_interval(x, df, loc, scale)
    params = {"df": df, "loc": loc, "scale": scale, "df_low": low, "df_high": high}
    a2 = _ad_statistic(stats.t.cdf(x, df, loc, scale))
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
        count += _ad_statistic(stats.t.cdf(y, d, m, s)) >= a2
        if bar is not None:
            bar.update(1)
    p = (1 + count) / (1 + done) if done else math.nan
    return ModelRow("student_t", params, ll, 6.0 - 2.0 * ll, f"Anderson-Darling, bootstrap {done}", p,
                    bool(p <= level) if done else None)


def _stable(x: np.ndarray, level: float, n_boot: int, seed: int) -> tuple[ModelRow, Any]:
    from .fit import fit as stable_fit

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
    from .estimators import compare_tails, powerlaw_gof, powerlaw_tail

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
    from . import stable
    from .estimators import powerlaw_tail

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
    from .estimators import hill, mohammadi

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


def _fmt_ci(lo: float, hi: float) -> str:
    return f"[{lo:.3g}, {hi:.3g}]"


def _rules(rows: dict[str, ModelRow], sim: np.ndarray, level: float) -> tuple[str, list[str]]:
    """The verdict and the findings (docs/diagnose.md, rules R1-R9; R9, the summary, is decided last)."""
    g, t, s, p = rows["gaussian"], rows["student_t"], rows["stable"], rows["power_law_tail"]
    found: list[str] = []
    a_s = s.params["alpha"]
    a_p, p_lo, p_hi = p.params["alpha"], p.params["alpha_low"], p.params["alpha_high"]
    status = {True: "rejected", False: "not rejected", None: "not tested"}
    # R1-R4: each law, tested
    found.append(f"R1 Gaussian {status[g.rejected]} ({g.test} p = {g.pvalue:.3g}).")
    found.append(f"R2 stable law {status[s.rejected]} ({s.test} p = {s.pvalue:.3g}): alpha = {a_s:.3g}"
                 f" +- {1.96 * s.params['alpha_se']:.2g}.")
    found.append(f"R3 Student-t {status[t.rejected]} ({t.test} p = {t.pvalue:.3g}): {t.params['df']:.3g} "
                 "degrees of "
                 f"freedom {_fmt_ci(t.params['df_low'], t.params['df_high'])}, the t law's tail index.")
    found.append(f"R4 power-law tail {status[p.rejected]} above xmin = {p.params['xmin']:.4g} "
                 f"({p.params['n_tail']} values; {p.test} p = {p.pvalue:.3g}): tail index {a_p:.3g} "
                 f"{_fmt_ci(p_lo, p_hi)}.")
    # R6 first (R5 reads it): why the estimators disagree. Compare the CSN index with what the
    # fitted stable law itself gives at this sample size: its tail reaches the power-law regime
    # only far out, so tail estimators read a larger index than its alpha on finite samples.
    explained = False
    body = "stable body, lighter tail" if s.rejected is not True else \
        "a stable law (rejected here) cannot describe both body and tail"
    if sim.size:
        lo_sim, med, hi_sim = np.quantile(sim, [level / 2, 0.5, 1 - level / 2])
        expected = f"the fitted stable law gives {med:.3g} [{lo_sim:.3g}, {hi_sim:.3g}] at this sample size"
        if a_p > hi_sim:
            r6 = (f"R6 the estimators disagree beyond what the stable law explains: its alpha = {a_s:.3g} is "
                  f"set by the body, while beyond xmin = {p.params['xmin']:.4g} the tail index is "
                  f"{a_p:.3g} ({expected}): {body}.")
        elif a_p < lo_sim:
            r6 = f"R6 the far tail (index {a_p:.3g}) is heavier than the fitted stable law's ({expected})."
        else:
            explained = True
            r6 = (f"R6 the tail estimators read {a_p:.3g} where the stable fit says {a_s:.3g}; "
                  "the stable law "
                  f"itself produces that gap ({expected}): finite-sample bias, no contradiction.")
    elif a_s < 1.99 and (p_lo > a_s or p_hi < a_s):
        side = "lighter" if p_lo > a_s else "heavier"
        r6 = (f"R6 the tail index {a_p:.3g} {_fmt_ci(p_lo, p_hi)} differs from the stable fit's alpha = "
              f"{a_s:.3g}: the far tail looks {side}, but this was not checked against the stable law's own "
              "finite-sample bias (fast mode, or the stable fit did not converge).")
    else:
        r6 = ""
    # R5: finite variance, unless the fitted stable law explains a tail index above 2
    if p_lo > 2.0 and not explained:
        caveat = "" if sim.size or a_s >= 1.99 else \
            " (not checked against the stable law's finite-sample bias)"
        found.append(f"R5 the tail index is above 2 ({_fmt_ci(p_lo, p_hi)}): the variance is finite and no "
                     "stable "
                     f"law with alpha < 2 describes the far tail{caveat}.")
    if r6:
        found.append(r6)
    # R7: the shape of the tail above xmin, by likelihood ratios against the power law
    better = p.params["favoured_over_power_law"]
    names = {"lognormal": "lognormal", "exponential": "exponential", "stretched_exponential":
             "stretched exponential", "truncated_power_law": "power law with exponential cut-off"}
    if better:
        listed = ", ".join(f"{names[k]} (p = {v['pvalue']:.2g})" for k, v in better.items())
        top = min(better, key=lambda k: better[k]["aic"])
        verb = "each fit" if len(better) > 1 else "fits"
        ranking = f"; the {names[top]} has the lowest AIC among them" if len(better) > 1 else ""
        found.append(f"R7 above xmin the tail is lighter than a power law: {listed} {verb} it better "
                     f"than a pure power law{ranking}.")
        # R8: a stable-like body whose tail is tempered
        cut = better.get("truncated_power_law")
        if cut is not None and a_s < 1.99 and abs((cut["alpha"] - 1.0) - a_s) < 0.3:
            also = " (so does the Student-t law, which is not rejected)" if t.rejected is False else ""
            found.append(f"R8 stable-like body, tempered tail: before its cut-off (scale 1/lambda = "
                         f"{1.0 / cut['lambda']:.3g}) the tail decays with index {cut['alpha'] - 1.0:.3g}, "
                         f"close to the stable fit's alpha = {a_s:.3g}: a tempered stable law describes this "
                         f"shape{also}.")
    elif p.params["power_law_favoured_over"]:
        listed = ", ".join(names[k] for k in p.params["power_law_favoured_over"])
        found.append(f"R7 above xmin the power law is favoured over: {listed}; no alternative beats it.")
    # R9: the best full-sample description
    candidates = [r for r in (g, t, s) if r.rejected is False]
    if g.rejected is False and (s.params["alpha"] >= 1.95):
        verdict = "Gaussian: the data show no heavy tail."
        found.append("R9 best description: Gaussian (not rejected, and the stable fit's alpha is at 2).")
    elif candidates:
        ranked = sorted(candidates, key=lambda r: r.aic)
        best = ranked[0]
        verdict = {"gaussian": "Gaussian (lowest AIC among the laws not rejected).",
                   "student_t": f"Student-t with {t.params['df']:.3g} degrees of freedom (lowest AIC among "
                                "the "
                                "laws not rejected): a power tail of index equal to the degrees of freedom.",
                   "stable": f"alpha-stable with alpha = {a_s:.3g} (lowest AIC among the laws not "
                             "rejected)."}[best.name]
        if len(ranked) > 1 and ranked[1].aic - best.aic < 10.0:
            verdict += (f" The {ranked[1].name} law is not rejected either and the data barely tell them "
                        "apart "
                        f"(AIC difference {ranked[1].aic - best.aic:.3g} < 10).")
        found.append(f"R9 best description: {best.name} (AIC {best.aic:.6g}).")
    elif any(r.rejected is None for r in (g, t, s)):
        best = min((r for r in (g, t, s) if r.rejected is None), key=lambda r: r.aic)
        why = "fast mode" if any(r.note.startswith("fast") for r in (t, s)) else "a test could not run"
        verdict = (f"Untested ({why}): of the untested laws, the {best.name} law has the lowest AIC; "
                   "see the table and the notes.")
        found.append(f"R9 untested: lowest AIC {best.name} (AIC {best.aic:.6g}); {why}.")
    elif p.rejected is False and not better:
        verdict = (f"No law of the whole sample fits; the tail above xmin = {p.params['xmin']:.4g} is a "
                   "power law "
                   f"with index {a_p:.3g} {_fmt_ci(p_lo, p_hi)}.")
        found.append("R9 best description: the power-law tail only (every whole-sample law rejected).")
    elif better:
        verdict = (f"No law of the whole sample fits; above xmin = {p.params['xmin']:.4g} the tail is "
                   "lighter than a power law.")
        found.append("R9 no whole-sample law fits; the tail is lighter than a power law (R7).")
    else:
        verdict = "None of the laws tried (Gaussian, Student-t, stable, power-law tail) describes the data."
        found.append("R9 every law tried is rejected.")
    extra = [f[3].upper() + f[4:] for f in found if f.startswith(("R5", "R6", "R7", "R8"))]
    return verdict + (" " + " ".join(extra) if extra else ""), found


def diagnose(
    x: ArrayLike,
    *,
    level: float = 0.05,
    n_boot: int = 200,
    fast: bool = False,
    random_state: SeedLike = None,
    nan_policy: NanPolicy = "raise",
    progress: bool | None = None,
) -> Diagnosis:
    """Which law describes the sample's tail, and why the tail estimators disagree when they do.

    Fits the Gaussian, Student-t and alpha-stable laws to the whole sample (maximum
    likelihood) and a power law to the tail of ``|x|`` above a data-driven threshold
    (Clauset, Shalizi & Newman 2009); tests each (Jarque-Bera for the Gaussian, parametric
    bootstraps that refit for the others); estimates the tail index by the CSN fit, Hill's
    estimator with the double bootstrap and Mohammadi's block sums; and turns the table into
    a verdict by the rules of ``docs/diagnose.md``.

    Parameters
    ----------
    x : array_like
        The sample (flattened; at least 50 finite values for a verdict).
    level : float
        Level of the tests of the whole-sample laws (the power law uses CSN's 0.1).
    n_boot : int
        Bootstrap samples of the stable and Student-t tests (the power-law test uses five
        times as many: it is cheap); at least 19.
    fast : bool
        Skip every bootstrap (the verdict then says what could not be decided).
    random_state : int, numpy Generator or None
        Seeds every bootstrap.
    nan_policy : {"raise", "omit"}
    progress : bool, optional
        Progress bar over the steps (tqdm, when installed); default on unless ``fast``.

    Returns
    -------
    Diagnosis
        ``summary()`` for the table and verdict, ``plot(path)`` for the figure, ``to_dict()``.

    Raises
    ------
    ValueError
        Empty, constant or all-zero data; non-finite values under ``nan_policy="raise"``;
        options out of range.
    """
    level = check_scalar("level", level, 0.0, 0.5, low_open=True)
    n_boot = check_int("n_boot", n_boot, 19)
    data = _clean(x, nan_policy)
    n = data.size
    if n < MIN_N:
        reason = f"too few values for a tail verdict: n = {n}, at least {MIN_N} are needed"
        return Diagnosis(n, "undetermined", f"Undetermined: {reason}.", (reason,), level=level, fast=fast)
    if np.all(data == np.round(data)) and np.unique(data).size < 0.9 * n:
        reason = ("x looks discrete (integer values with many ties): the Gaussian, Student-t and stable laws "
                  "are continuous and their tests do not apply; for the tail use "
                  "stabletail.estimators.powerlaw_tail(x, discrete=True)")
        return Diagnosis(n, "undetermined", f"Undetermined: {reason}.", (reason,), level=level, fast=fast)
    rng = check_random_state(random_state)
    seeds = [int(v) for v in rng.integers(0, 2**62, size=4)]
    boots = 0 if fast else n_boot
    from ._progress import progress_bar

    bar = progress_bar(boots + 3, progress if not fast else False, "diagnose", auto_from=0)
    try:
        gauss = _gaussian(data, level)
        stab, stab_fit = _stable(data, level, boots, seeds[0])
        if bar is not None:
            bar.update(1)
        student = _student_t(data, level, boots, np.random.default_rng(seeds[1]), bar)
        try:
            pl, pl_fit = _power_law(data, 5 * boots, seeds[2])
        except ValueError as err:
            reason = f"no power-law tail could be fitted: {err}"
            return Diagnosis(n, "undetermined", f"Undetermined: {reason}.", (reason,), level=level, fast=fast)
        if bar is not None:
            bar.update(1)
        tails = _tail_indices(data, pl_fit, seeds[3])
        tails += (TailRow("student_t degrees of freedom", student.params["df"], student.params["df_low"],
                          student.params["df_high"]),
                  TailRow("stable alpha (MLE)", stab.params["alpha"],
                          stab.params["alpha"] - 1.96 * stab.params["alpha_se"],
                          min(2.0, stab.params["alpha"] + 1.96 * stab.params["alpha_se"])))
    finally:
        if bar is not None:
            bar.close()
    rows = {r.name: r for r in (gauss, student, stab, pl)}
    sim = np.empty(0)
    if boots and stab_fit.converged and stab_fit.alpha < 1.99:
        sim = _stable_tail_law(stab_fit, n, boots, seeds[3], pl_fit.params["min_tail"])
    verdict, found = _rules(rows, sim, level)
    if fast:
        found.append("fast: the bootstraps were skipped, so the stable, Student-t and power-law fits are "
                     "untested.")
    return Diagnosis(n, "ok", verdict, tuple(found), (gauss, student, stab, pl), tails, level, fast, data)
