r"""Tail-index protocols for gradient noise, defined exactly.

Notation: ``K`` minibatches, ``d`` coordinates of a group (one parameter tensor,
or the whole model with the parameter tensors concatenated in
``model.named_parameters()`` order); ``e_k = g_k - g`` is the noise of minibatch
``k`` (``g_k`` its gradient, ``g`` the full gradient); ``eps`` is added inside
every logarithm, ``log(|x| + eps)`` (default ``np.spacing(1)``, as in Simsekli et
al.'s published code).

The Mohammadi, Mohammadpour & Ogata (2015) estimator of a sample
``X_1..X_N`` with block size ``K1`` (``K2 = N / K1`` blocks, ``Y_i`` the sum of
the ``i``-th block of ``K1`` consecutive values) is

.. math:: 1/\hat\alpha = \frac{1}{\log K_1}\Big(\frac{1}{K_2}\sum_i \log|Y_i|
          - \frac{1}{N}\sum_j \log|X_j|\Big).

Its standard error here is the delta-method value from the sample variances
of ``log|Y|`` and ``log|X|``, ignoring their (positive) covariance, which makes
it conservative: ``sd(1/alpha) = sqrt(v_Y / K2 + v_X / N) / log K1`` and
``sd(alpha) = alpha^2 sd(1/alpha)``; the confidence interval is the normal
interval for ``1/alpha`` inverted (so it is asymmetric in ``alpha``; its upper
end is ``inf`` when the interval for ``1/alpha`` reaches 0).

Protocols (the ``protocol`` column of :attr:`HarvestResult.table`), one module each:

``"pooled"``
    Simsekli, Sagun & Gurbuzbalaban (2019) exactly: the ``N = K d`` entries of
    the noise matrix flattened minibatch-major (``e_1`` then ``e_2`` ...; C order
    of the ``K x d`` matrix) form one sample; Mohammadi with ``K1`` the largest
    divisor of ``N`` not above ``sqrt(N)`` (blocks may straddle minibatches and
    parameter tensors).
``"standardized"``
    As ``"pooled"`` on ``z_kj = e_kj / s_j``, ``s_j`` the standard deviation
    (``ddof=1``) of coordinate ``j`` across the ``K`` minibatch gradients; the
    logarithm is taken as ``log(|e_kj| + eps) - log s_j``; a coordinate with zero
    noise has ``z = 0`` (its log term is ``log eps``).
``"per_coordinate"``
    For each coordinate ``j`` the ``K`` values ``e_1j..e_Kj`` are one sample and
    give ``alpha_j`` (estimator ``"mohammadi"``: Mohammadi with ``K1`` the
    largest divisor of ``K`` not above ``sqrt(K)``, or ``floor(sqrt(K))`` with the
    last rows left out when ``K`` is prime; estimator ``"log_moment"``:
    ``1/alpha^2 = 6 var(log|e|) / pi^2 - 1/2``). The estimates are not clipped:
    with ``K`` about 100 each has a standard error of about 0.3, so at
    ``alpha = 2`` about half of them exceed 2, and a median of clipped values
    would sit at 2 with an empty interval. ``alpha_j = inf`` where the estimate
    of ``1/alpha`` (or ``1/alpha^2``) is not positive, and on zero-noise
    coordinates. Reported: the median over coordinates (``alpha``) with the
    distribution-free order-statistic interval for the median, the 5/25/75/95 %
    quantiles, and ``frac_ge_2``, the fraction of coordinates with
    ``alpha_j >= 2`` (no heavier-tailed than Gaussian by this estimate).
``"norm"``
    The multivariate form on the ``K`` noise vectors: ``X_k = ||e_k||`` and
    ``Y_i = ||sum of the i-th block of K1 consecutive e_k||`` (Euclidean norms),
    ``K1`` as for ``"per_coordinate"``.

Zero-noise coordinates (identical gradient in every minibatch) are counted per
group; each protocol is reported with them (``zeros="included"``) and without
them (``zeros="excluded"``). Norms do not change when they are dropped.
(:mod:`.per_coordinate` says why ``"mohammadi"`` is its default estimator.)

The registry: every module of this package whose name does not start with ``_``
is imported here and registers its :class:`Protocol` (:func:`register`): the
built-in accumulators it reads, an accumulator of its own if it needs one, and
the function that turns the sums into a table row. The harvest, the distributed
harvest and the option checks read the registry, so a new protocol is one module
here plus its test (``docs/contributing.md``, "Adding a harvest protocol").
:data:`PROTOCOLS` are the protocols found at import, the harvest's default.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._registry import ACCUMULATORS, Protocol, Scope, estimate_fields, get, register, registered, unregister
from .per_coordinate import PER_COORDINATE_ESTIMATORS, per_coordinate_alpha, summarize_per_coordinate

__all__ = [
    "ACCUMULATORS",
    "PER_COORDINATE_ESTIMATORS",
    "PROTOCOLS",
    "Protocol",
    "Scope",
    "estimate_fields",
    "get",
    "min_batches",
    "per_coordinate_alpha",
    "register",
    "registered",
    "summarize_per_coordinate",
    "unregister",
]

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

#: The protocols of this package, in report order (the harvest's default).
PROTOCOLS: tuple[str, ...] = registered()


def min_batches() -> dict[str, int]:
    """The fewest minibatches at which each registered protocol's rows inform.

    Returns
    -------
    dict of str to int
        ``{protocol: floor}`` for the protocols that have such a floor.
    """
    return {name: get(name).min_batches for name in registered() if get(name).min_batches}
