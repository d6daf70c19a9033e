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

Formulas, standard errors and Monte-Carlo accuracy tables: ``docs/estimators.md``.
"""

from __future__ import annotations

from ._extremes import HillPlot, hill, hill_plot, moments, pickands
from ._from_sums import mohammadi_from_log_sums, sqrt_block_size
from ._logs import (
    DEFAULT_BLOCK_SIZE,
    LogMomentAccumulator,
    MohammadiAccumulator,
    log_moment,
    mohammadi,
    mohammadi_quantile,
)
from ._result import TailIndex

__all__ = [
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
    "sqrt_block_size",
    "mohammadi_from_log_sums",
    "DEFAULT_BLOCK_SIZE",
]
