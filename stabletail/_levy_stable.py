"""``stabletail.levy_stable``: the stable law as a ``scipy.stats.rv_continuous``.

A drop-in for ``scipy.stats.levy_stable`` (same argument order, ``pdf(x, alpha, beta,
loc=0, scale=1)``) whose density, distribution function, quantiles and draws come from
:mod:`stabletail.stable` and whose ``fit`` is :func:`stabletail.fit.mle`. The
parameterisation is chosen per instance, never by a class attribute:
``levy_stable(parameterization="S0")`` returns a new instance; the default is S1, as in
scipy, so code written for scipy's object keeps its meaning of ``loc``. It lives above
:mod:`stabletail.fit` (its ``fit`` needs the MLE), so :mod:`stabletail.stable` stays free
of fitting code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from scipy.stats._distn_infrastructure import _ShapeInfo

from . import stable
from ._params import check_parameterization
from ._validation import ALPHA_MIN

__all__ = ["LevyStable", "levy_stable"]

_FIXED = {"f0": "alpha", "fa": "alpha", "falpha": "alpha", "f1": "beta", "fb": "beta", "fbeta": "beta",
          "floc": "loc", "fscale": "scale"}


def _seed(random_state: Any) -> Any:
    """scipy hands a legacy RandomState or a Generator; stabletail takes an int or a Generator."""
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**63 - 1, dtype=np.int64))
    return random_state


class LevyStable(stats.rv_continuous):
    """The alpha-stable law in Nolan's S0 or S1 parameterisation, computed by stabletail.

    Parameters
    ----------
    parameterization : {"S1", "S0"}
        Meaning of ``loc`` (Nolan 2020): S1 (the default, as scipy's), or S0, which is
        continuous in alpha.
    **kwargs
        Passed to :class:`scipy.stats.rv_continuous`.

    Examples
    --------
    >>> from stabletail import levy_stable
    >>> round(float(levy_stable.pdf(0.0, 1.5, 0.0)), 6)
    0.287352
    >>> s0 = levy_stable(parameterization="S0")
    >>> s0.parameterization, levy_stable.parameterization
    ('S0', 'S1')
    >>> alpha, beta, loc, scale = levy_stable.fit(levy_stable.rvs(1.5, 0.0, size=2000, random_state=1))
    """

    def __init__(self, parameterization: str = "S1", **kwargs: Any) -> None:
        self.parameterization = check_parameterization(parameterization)
        kwargs.setdefault("name", "levy_stable")
        super().__init__(**kwargs)

    def __call__(self, *args: Any, **kwds: Any) -> Any:
        """``levy_stable(parameterization=...)`` is a new instance; other calls freeze (scipy)."""
        if not args and set(kwds) == {"parameterization"}:
            return type(self)(parameterization=kwds["parameterization"])
        return super().__call__(*args, **kwds)

    def _updated_ctor_param(self) -> dict[str, Any]:
        params = super()._updated_ctor_param()
        params["parameterization"] = self.parameterization
        return params

    def _shape_info(self) -> list[_ShapeInfo]:
        return [_ShapeInfo("alpha", False, (ALPHA_MIN, 2.0), (True, True)),
                _ShapeInfo("beta", False, (-1.0, 1.0), (True, True))]

    def _argcheck(self, alpha: Any, beta: Any) -> Any:
        return (alpha >= ALPHA_MIN) & (alpha <= 2.0) & (beta >= -1.0) & (beta <= 1.0)

    def _pdf(self, x, alpha, beta):
        return stable.pdf(x, alpha, beta, parameterization=self.parameterization)

    def _logpdf(self, x, alpha, beta):
        return stable.logpdf(x, alpha, beta, parameterization=self.parameterization)

    def _cdf(self, x, alpha, beta):
        return stable.cdf(x, alpha, beta, parameterization=self.parameterization)

    def _sf(self, x, alpha, beta):
        return stable.sf(x, alpha, beta, parameterization=self.parameterization)

    def _ppf(self, q, alpha, beta):
        return stable.ppf(q, alpha, beta, parameterization=self.parameterization)

    def _isf(self, q, alpha, beta):
        return stable.ppf(1.0 - np.asarray(q), alpha, beta, parameterization=self.parameterization)

    def _rvs(self, alpha, beta, size=None, random_state=None):
        return stable.rvs(alpha, beta, size=size, random_state=_seed(random_state),
                          parameterization=self.parameterization)

    def fit(self, data: Any, *args: Any, **kwds: Any) -> tuple[float, float, float, float]:
        """``(alpha, beta, loc, scale)`` by stabletail's maximum likelihood (:func:`stabletail.fit.mle`).

        Fixed values are given as in scipy (``f0``/``fa``/``falpha``, ``f1``/``fb``/``fbeta``,
        ``floc``, ``fscale``). Starting guesses (``*args``, ``loc=``, ``scale=``), other
        options (``method``, ``optimizer``) and fixed values the MLE does not take (an S1
        location with beta free) defer to scipy's generic fit, which is slow.

        Parameters
        ----------
        data : array_like
            The sample.
        *args, **kwds
            As :meth:`scipy.stats.rv_continuous.fit`.

        Returns
        -------
        tuple of float
            ``(alpha, beta, loc, scale)`` in this instance's parameterisation.

        Raises
        ------
        RuntimeError
            If the MLE did not converge (its message says why).
        """
        fixed = {name: float(kwds.pop(key)) for key, name in list(_FIXED.items()) if key in kwds}
        if args or kwds:
            return super().fit(data, *args, **kwds, **_scipy_fixed(fixed))
        from . import fit as _fit

        try:
            res = _fit.mle(np.asarray(data, dtype=float), parameterization=self.parameterization,
                           fix=fixed or None)
        except ValueError:  # a combination of fixed values the MLE does not take (S1 loc alone)
            return super().fit(data, **_scipy_fixed(fixed))
        if not res.converged:
            raise RuntimeError(f"levy_stable.fit: the maximum-likelihood fit did not converge: {res.message}")
        return float(res.alpha), float(res.beta), float(res.loc), float(res.scale)


def _scipy_fixed(fixed: dict[str, float]) -> dict[str, float]:
    names = {"alpha": "f0", "beta": "f1", "loc": "floc", "scale": "fscale"}
    return {names[k]: v for k, v in fixed.items()}


#: The law in S1, as ``scipy.stats.levy_stable``; ``levy_stable(parameterization="S0")`` for S0.
levy_stable = LevyStable()
