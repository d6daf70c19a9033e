"""Which tail? Likelihood-ratio comparison of the power law with other tail models."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import special

from .._typing import ArrayLike
from .._validation import as_float_array, check_choice, check_scalar
from ._tail_fits import (
    Fit,
    Tail,
    fit_exponential,
    fit_lognormal,
    fit_power_law,
    fit_stretched_exponential,
    fit_truncated_power_law,
)

__all__ = ["compare_tails", "TailComparison", "TailModelTest"]

ALTERNATIVES = ("lognormal", "exponential", "stretched_exponential", "truncated_power_law")
#: p-value below which a comparison names a winner
SIGNIFICANCE = 0.1
_MIN_TAIL = 10


@dataclass(frozen=True)
class TailModelTest:
    """The power law against one alternative, fitted on the same tail.

    Attributes
    ----------
    name : str
        The alternative.
    params : dict
        Its maximum-likelihood parameters, in the units of ``x`` (see :func:`compare_tails`).
    loglik : float
        Its log-likelihood on the tail sample.
    lr : float
        ``loglik(power law) - loglik(alternative)``: positive favours the power law.
    statistic : float
        Vuong: ``lr / (sd sqrt(n))`` with ``sd`` the standard deviation of the pointwise
        log-likelihood ratios. Nested: the signed root ``-sqrt(2 |lr|)`` of the deviance.
    pvalue : float
        Vuong: ``2 Phi(-|statistic|)``. Nested: ``0.5 P(chi2_1 >= 2|lr|)`` (1 when
        ``lr = 0``, the fit on the power-law boundary).
    test : {"vuong", "nested"}
    favours : str
        ``"power_law"``, the alternative's name, or ``"neither"`` (``pvalue >= 0.1``). A
        nested test never favours the power law: it can only find the extra parameter
        unwarranted ("neither").
    converged : bool
        Whether the optimiser reported success.
    message : str
        The optimiser's message, or ``"boundary: power law ..."`` when the fit lies on the
        boundary where the alternative is the power law.
    """

    name: str
    params: dict[str, float]
    loglik: float
    lr: float
    statistic: float
    pvalue: float
    test: str
    favours: str
    converged: bool
    message: str


@dataclass(frozen=True)
class TailComparison:
    """Result of :func:`compare_tails`.

    Attributes
    ----------
    xmin : float
        Lower end of the tail.
    n_tail : int
        Number of values ``>= xmin`` used.
    alpha : float
        Power-law exponent of the density, ``p(x) ~ x^-alpha`` (the exponent of Clauset,
        Shalizi & Newman 2009).
    tail_index : float
        ``alpha - 1``, the tail index of the survival function ``P(X > x) ~ x^-(alpha-1)``
        (the ``alpha`` of :class:`TailIndex`).
    loglik : float
        Power-law log-likelihood.
    discrete : bool
    tests : tuple of TailModelTest
        One per alternative, in the order asked.
    """

    xmin: float
    n_tail: int
    alpha: float
    tail_index: float
    loglik: float
    discrete: bool
    tests: tuple[TailModelTest, ...]

    def __getitem__(self, name: str) -> TailModelTest:
        for t in self.tests:
            if t.name == name:
                return t
        raise KeyError(f"no alternative named {name!r}; have {[t.name for t in self.tests]}")

    def summary(self) -> str:
        """A readable table: one row per alternative.

        Returns
        -------
        str
            The power-law fit, then a row per alternative (LR, statistic, p-value, test, the
            side it favours, the alternative's parameters).
        """
        head = (f"power law on x >= {self.xmin:.6g} (n_tail = {self.n_tail}"
                f"{', discrete' if self.discrete else ''}): alpha = {self.alpha:.4g} "
                f"(tail index {self.tail_index:.4g}), loglik = {self.loglik:.6g}")
        rows = [head, f"{'alternative':<22} {'LR':>10} {'stat':>8} {'p':>9} {'test':<7} "
                f"{'favours':<22} parameters"]
        for t in self.tests:
            par = ", ".join(f"{k}={v:.4g}" for k, v in t.params.items())
            note = "" if t.converged else f"  [NOT CONVERGED: {t.message}]"
            if t.converged and t.message.startswith("boundary"):
                note = f"  [{t.message}]"
            rows.append(f"{t.name:<22} {t.lr:>10.4g} {t.statistic:>8.3g} {t.pvalue:>9.3g} "
                        f"{t.test:<7} {t.favours:<22} {par}{note}")
        rows.append("LR > 0 favours the power law; a verdict needs p < 0.1.")
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-ready apart from non-finite floats).

        Returns
        -------
        dict
            The fields, with ``tests`` as a list of dicts.
        """
        d = asdict(self)
        d["tests"] = [asdict(t) for t in self.tests]
        return d


def _vuong(pl: Fit, alt: Fit) -> tuple[float, float, float]:
    d = pl.logpdf - alt.logpdf
    lr = float(d.sum())
    sd = float(d.std())
    if sd == 0.0:
        return lr, 0.0, 1.0
    stat = lr / (sd * math.sqrt(d.size))
    return lr, stat, float(special.erfc(abs(stat) / math.sqrt(2.0)))


def _nested(pl: Fit, alt: Fit) -> tuple[float, float, float]:
    lr = min(pl.loglik - alt.loglik, 0.0)  # the family holds the power law: lr > 0 is round-off
    dev = -2.0 * lr
    if alt.boundary or dev == 0.0:
        return 0.0, 0.0, 1.0
    root = math.sqrt(dev)
    return lr, -root, float(0.5 * special.erfc(root / math.sqrt(2.0)))  # 0.5 P(chi2_1 >= dev)


def compare_tails(
    x: ArrayLike,
    xmin: float,
    *,
    alternatives: Sequence[str] = ALTERNATIVES,
    discrete: bool = False,
    nan_policy: Literal["raise", "omit"] = "raise",
) -> TailComparison:
    r"""Compare the power-law tail with other tail models by likelihood ratios.

    Every model is fitted by maximum likelihood to the same tail sample, the values of ``x``
    (as given, not ``|x|``) with ``x >= xmin``, its density normalised on ``[xmin, inf)``;
    with ``z = x/xmin`` and ``y = log z``:

    * power law ``p(x) ~ x^-alpha``: ``alpha = 1 + n / sum y`` (discrete: Hurwitz zeta
      likelihood ``x^-alpha / zeta(alpha, xmin)``, maximised numerically);
    * ``"exponential"``: ``p(x) ~ exp(-lambda x)``, ``lambda = 1/mean(x - xmin)`` (discrete:
      geometric);
    * ``"stretched_exponential"`` (Weibull tail): ``p(x) ~ x^(beta-1) exp(-lambda x^beta)``,
      ``beta > 0``; reported with ``scale = lambda^(-1/beta)``;
    * ``"truncated_power_law"``: ``p(x) ~ x^-alpha exp(-lambda x)``, ``lambda >= 0``;
    * ``"lognormal"``: written ``p(x) ~ x^-1 exp(-b y - c y^2)``, ``c >= 0``, normaliser
      ``int_0^inf exp(-b y - c y^2) dy = sqrt(pi/(4c)) erfcx(b/(2 sqrt c))`` (finite for any
      ``b`` when ``c > 0``, tends to ``1/b`` as ``c -> 0``); ``sigma = 1/sqrt(2c)``,
      ``mu = log(xmin) - b/(2c)``. At ``c = 0`` it is exactly the power law with ``alpha = 1 +
      b``, so on power-law data the fit stops on that boundary (reported as such, with ``mu =
      -inf``, ``sigma = inf``) instead of drifting to a meaningless far-left lognormal.

    The last three contain the power law on the boundary of their parameter space (``c = 0``,
    ``lambda = 0``, and ``beta -> 0`` with ``beta lambda xmin^beta -> alpha - 1``), so they are
    compared by the nested likelihood-ratio test, whose null law on a one-sided boundary is
    ``0.5 chi2_0 + 0.5 chi2_1`` (Self & Liang 1987): ``p = 0.5 P(chi2_1 >= 2|LR|)``. Vuong's
    (1989) normalised test for non-nested models (as in Clauset, Shalizi & Newman 2009, app. C)
    would be invalid there, since its variance vanishes when the two models coincide. The
    exponential is not nested and uses Vuong's test.

    Parameters
    ----------
    x : array_like
        Data (flattened); only values ``>= xmin`` are used.
    xmin : float
        Lower end of the tail, ``> 0`` (an integer ``>= 1`` with ``discrete=True``). Choosing it is
        the job of the power-law fit (KS scan).
    alternatives : sequence of str
        Any of ``"lognormal"``, ``"exponential"``, ``"stretched_exponential"``,
        ``"truncated_power_law"`` (default: all four).
    discrete : bool
        Integer data. The power law (Hurwitz zeta) and the exponential (geometric) are exact
        discrete laws; the lognormal, stretched exponential and truncated power law are the mass
        functions proportional to their continuous densities at the integers, normalised by the
        sum over ``j >= xmin``: exact over the first 20,000 integers, the rest by the integral
        (midpoint rule; the only approximation, relative error below 1e-9).
    nan_policy : {"raise", "omit"}
        Non-finite values: raise, or drop them.

    Returns
    -------
    TailComparison
        ``alpha``, ``tail_index = alpha - 1`` and one :class:`TailModelTest` per alternative;
        ``summary()`` prints the table.

    Raises
    ------
    ValueError
        Empty ``x``, non-finite values under ``nan_policy="raise"``, ``xmin <= 0`` (or not an
        integer with ``discrete``), non-integer data with ``discrete``, fewer than 10 values
        ``>= xmin``, all tail values equal, or an unknown alternative.
    """
    check_choice("nan_policy", nan_policy, ("raise", "omit"))
    for a in alternatives:
        check_choice("alternatives", a, ALTERNATIVES)
    if len(set(alternatives)) != len(alternatives):
        raise ValueError(f"alternatives must not repeat a model, got {list(alternatives)}")
    xmin = check_scalar("xmin", xmin, 0.0, None, low_open=True)
    v = as_float_array(x).reshape(-1).astype(np.float64)
    if v.size == 0:
        raise ValueError("x is empty; compare_tails needs at least 10 values >= xmin")
    finite = np.isfinite(v)
    if not finite.all():
        if nan_policy == "raise":
            raise ValueError(f"x contains {int(v.size - finite.sum())} non-finite value(s) (NaN or inf); "
                             "use nan_policy='omit' to drop them")
        v = v[finite]
    t = np.sort(v[v >= xmin])
    if t.size < _MIN_TAIL:
        raise ValueError(f"x has {t.size} value(s) >= xmin = {xmin:g}; compare_tails needs at least "
                         f"{_MIN_TAIL}: lower xmin (xmin must be in (0, {np.sort(v)[-_MIN_TAIL]:g}] here)"
                         if v.size >= _MIN_TAIL else
                         f"x has {v.size} value(s); compare_tails needs at least {_MIN_TAIL} values >= xmin")
    if discrete:
        if xmin != math.floor(xmin) or xmin < 1:
            raise ValueError(f"xmin must be an integer >= 1 with discrete=True, got {xmin:g}")
        if not np.array_equal(t, np.floor(t)):
            raise ValueError("x must hold integers (in its tail x >= xmin) with discrete=True")
    if t[-1] == t[0]:
        raise ValueError(f"all {t.size} values >= xmin equal {t[0]:g}: no tail model can be fitted")
    tail = Tail(t, float(xmin), bool(discrete))
    pl = fit_power_law(tail)
    alpha = float(pl.params["alpha"])
    fitters = {
        "lognormal": lambda: fit_lognormal(tail, alpha),
        "exponential": lambda: fit_exponential(tail),
        "stretched_exponential": lambda: fit_stretched_exponential(tail, alpha),
        "truncated_power_law": lambda: fit_truncated_power_law(tail, alpha),
    }
    tests = []
    for name in alternatives:
        alt = fitters[name]()
        nested = name != "exponential"
        lr, stat, p = (_nested if nested else _vuong)(pl, alt)
        msg = alt.message
        if nested and not alt.boundary and -2.0 * lr < 1.0:
            msg += ("; within 2|LR| < 1 of the power law: the data do not determine its extra "
                    "parameter")
        if p >= SIGNIFICANCE:
            fav = "neither"
        else:
            fav = "power_law" if lr > 0 else name
        tests.append(TailModelTest(
            name=name, params={k: float(v) for k, v in alt.params.items()}, loglik=alt.loglik, lr=lr,
            statistic=stat, pvalue=p, test="nested" if nested else "vuong", favours=fav,
            converged=alt.converged, message=msg,
        ))
    return TailComparison(xmin=float(xmin), n_tail=int(t.size), alpha=alpha, tail_index=alpha - 1.0,
                          loglik=pl.loglik, discrete=bool(discrete), tests=tuple(tests))
