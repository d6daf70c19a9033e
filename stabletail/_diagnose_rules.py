"""The verdict rules of :func:`stabletail.diagnose`, R1-R9 (written out in ``docs/diagnose.md``)."""

from __future__ import annotations

import numpy as np

from ._diagnose_fits import ModelRow


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
