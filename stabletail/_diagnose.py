"""``stabletail.diagnose``: which law describes a sample's tail, with the tests behind the verdict.

The rules that turn the table into words are written down in ``docs/diagnose.md``; each is
tested on synthetic data whose law is known (``tests/test_diagnose.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._diagnose_fits import (
    ModelRow,
    TailRow,
    _gaussian,
    _power_law,
    _stable,
    _stable_tail_law,
    _student_t,
    _tail_indices,
)
from ._diagnose_rules import _rules
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
        """The row of one fitted model.

        Parameters
        ----------
        name : str
            The model's name, as in the ``name`` column of :meth:`summary`.

        Returns
        -------
        ModelRow or None
            None when no model of that name was fitted.
        """
        return next((m for m in self.models if m.name == name), None)

    def summary(self) -> str:
        """The table and the verdict, as text.

        Returns
        -------
        str
            One line per model and per tail index, then the verdict and its findings.
        """
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
        """Plain data (JSON-ready with :func:`stabletail._io.json_text`).

        Returns
        -------
        dict
            ``n``, ``status``, ``verdict``, ``findings``, ``level``, ``fast``, and the
            ``models`` and ``tail_indices`` rows as dicts.
        """
        return jsonable({"n": self.n, "status": self.status, "verdict": self.verdict,
                         "findings": list(self.findings),
                         "level": self.level, "fast": self.fast,
                         "models": [m.__dict__ for m in self.models],
                         "tail_indices": [t.__dict__ for t in self.tail_indices]})

    def plot(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Four views: both tails' survival with every fitted law, a Hill plot with the chosen k,
        a QQ plot against the stable fit, the density on a log scale (matplotlib).

        Parameters
        ----------
        path : path-like, optional
            Where to save the figure (written atomically); None only returns it.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        ValueError
            If the diagnosis holds no data (its status is undetermined).
        """
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
