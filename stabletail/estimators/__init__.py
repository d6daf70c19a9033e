"""Tail-index estimators.

Every estimator returns a :class:`TailIndex` (``alpha``, ``stderr``,
``ci(level)``, ``n``, ``method``, ``params``, ``stderr_method``, ``summary()``);
``stderr="bootstrap"`` (with ``n_boot``, ``random_state``) replaces the asymptotic
standard error by a seeded, parallel bootstrap one.

- :func:`mohammadi` -- block-sum estimator for stable data (Mohammadi et al. 2015),
  univariate or multivariate (norms); :class:`MohammadiAccumulator` streams it;
  :func:`mohammadi_quantile` is its order-statistics form;
  :func:`mohammadi_from_log_sums` finalises it from running sums of logs (the
  gradient-noise harvest uses it).
- :func:`log_moment` -- ``1/alpha^2 = 6 Var(log|X|)/pi^2 - 1/2`` for symmetric
  stable data; :class:`LogMomentAccumulator` streams it.
- :func:`hill` (with the double-bootstrap choice of k), :func:`hill_plot`,
  :func:`pickands`, :func:`moments` -- order-statistics estimators for
  power (Pareto-type) tails.
- :func:`powerlaw_tail` -- the power-law tail above a data-driven threshold
  (Clauset, Shalizi & Newman 2009), :func:`powerlaw_gof` its bootstrap p-value.
- :func:`compare_tails` -- is a power-law tail better than a lognormal, exponential,
  stretched-exponential or cut-off one? Likelihood-ratio tests on the same tail
  (returns a :class:`TailComparison`, not a :class:`TailIndex`).

Formulas, standard errors and Monte-Carlo accuracy tables: ``docs/estimators.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ._common import DEFAULT_BLOCK_SIZE
from ._from_sums import mohammadi_from_log_sums, sqrt_block_size
from ._hill import HillPlot, hill, hill_plot
from ._log_moment import LogMomentAccumulator, log_moment
from ._mohammadi import MohammadiAccumulator, mohammadi
from ._mohammadi_quantile import mohammadi_quantile
from ._moments import moments
from ._pickands import pickands
from ._powerlaw import PowerLawTail, powerlaw_gof, powerlaw_tail
from ._result import TailIndex, TestResult
from ._tail_models import TailComparison, TailModelTest, compare_tails

#: Every tail-index estimator by name: ``ESTIMATORS[name](x, **options) -> TailIndex``. The
#: command line (``stabletail tail --method NAME``), the benchmarks and the tests read it, so a
#: new estimator is one module, one line here and its test (``docs/contributing.md``).
ESTIMATORS: Mapping[str, Callable[..., TailIndex]] = MappingProxyType({
    "mohammadi": mohammadi,
    "mohammadi_quantile": mohammadi_quantile,
    "log_moment": log_moment,
    "hill": hill,
    "pickands": pickands,
    "moments": moments,
    "powerlaw_tail": powerlaw_tail,
})

__all__ = [
    "ESTIMATORS",
    "TailIndex",
    "mohammadi",
    "mohammadi_quantile",
    "MohammadiAccumulator",
    "log_moment",
    "LogMomentAccumulator",
    "hill",
    "hill_plot",
    "HillPlot",
    "pickands",
    "moments",
    "powerlaw_tail",
    "powerlaw_gof",
    "PowerLawTail",
    "TestResult",
    "sqrt_block_size",
    "mohammadi_from_log_sums",
    "DEFAULT_BLOCK_SIZE",
    "compare_tails",
    "TailComparison",
    "TailModelTest",
]
