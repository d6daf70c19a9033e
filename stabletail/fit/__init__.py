"""Full four-parameter alpha-stable fits: quantile, characteristic-function regression, MLE.

Three estimators of (alpha, beta, scale, loc), one result type:

- :func:`quantile` -- McCulloch (1986) quantile method, tables computed by
  ``scripts/make_quantile_tables.py`` from this package's own density.
- :func:`ecf` -- regression on the empirical characteristic function
  (Kogon & Williams 1998 in S0, iterated as in Koutrouvelis 1980), started
  from :func:`quantile`.
- :func:`mle` -- maximum likelihood with the density from FFT inversion of
  the characteristic function (alias-corrected, tail series beyond the grid),
  Newton/BHHH steps from the :func:`ecf` start; standard errors from the
  observed Fisher information.
- :func:`fit` -- one entry point: ``fit(x, method="mle", parameterization="S0", fix=None)``.

All work in Nolan's S0 parameterisation internally; ``parameterization="S1"``
converts the location (loc1 = loc0 - beta scale tan(pi alpha / 2), alpha != 1;
loc1 = loc0 - beta (2/pi) scale log(scale), alpha = 1) and its covariance.
"""

from .._params import PARAM_NAMES as PARAM_NAMES
from ._common import MIN_POINTS
from ._ecf import ecf
from ._fit import fit
from ._mle import MLE_ALPHA_MIN, mle
from ._quantile import quantile
from .gof import GofResult, TestResult, edf_statistics, gaussian_lr_test, gof
from .plot import plot_fit
from .result import StableFit, StableParams

__all__ = [
    "MIN_POINTS", "MLE_ALPHA_MIN", "StableFit", "StableParams", "ecf", "fit", "mle", "quantile",
    "gof", "gaussian_lr_test", "edf_statistics", "GofResult", "TestResult", "plot_fit",
]
