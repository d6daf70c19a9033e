"""The one entry point :func:`fit`."""

from __future__ import annotations

from collections.abc import Mapping

from .._typing import ArrayLike, Parameterization
from .._validation import check_choice
from ._ecf import ecf
from ._mle import mle
from ._quantile import quantile
from .result import StableFit

__all__ = ["fit"]


def fit(
    x: ArrayLike,
    method: str = "mle",
    parameterization: Parameterization = "S0",
    fix: Mapping[str, float] | None = None,
) -> StableFit:
    """Fit all four stable parameters.

    Parameters
    ----------
    x : array_like, 1-D
        Data (at least 20 finite values, not constant).
    method : {"mle", "ecf", "quantile"}
        Estimator: :func:`mle` (default), :func:`ecf` or :func:`quantile`.
    parameterization : {"S0", "S1"}
        Nolan's parameterisation of the result and of ``fix``.
    fix : mapping, optional
        Any subset of ``alpha, beta, scale, loc`` held at given values, e.g.
        ``{"beta": 0, "loc": 0}`` for symmetric data centred at zero.

    Returns
    -------
    StableFit

    Raises
    ------
    ValueError
        Unknown method, or as the chosen method.
    """
    method = check_choice("method", method, ("mle", "ecf", "quantile"))
    func = {"mle": mle, "ecf": ecf, "quantile": quantile}[method]
    return func(x, parameterization=parameterization, fix=fix)
