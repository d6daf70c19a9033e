"""``"pooled"``: Simsekli, Sagun & Gurbuzbalaban (2019) exactly.

The ``N = K d`` entries of the noise matrix of a layer, flattened minibatch-major
(``e_1`` then ``e_2`` ...), form one sample; Mohammadi with ``K1`` the largest divisor
of ``N`` not above ``sqrt(N)`` (blocks may straddle minibatches and parameter tensors).
"""

from __future__ import annotations

from typing import Any

from ...estimators import mohammadi_from_log_sums
from ._registry import Protocol, Scope, estimate_fields, register


def flat_row(sums: Any, scope: Scope, standardized: bool) -> dict[str, Any]:
    """A row of ``"pooled"`` or ``"standardized"`` from the block sums of its stream.

    The sums of ``x = log(|e| + eps)`` over the entries come from the per-coordinate
    sums; standardized entries have ``x - c`` with ``c = log sd`` (0 on zero-noise
    coordinates), whose sums follow from those of ``x``, ``x^2``, ``c``, ``c x``, ``c^2``.
    """
    k = sums.k
    sum_x, sum_x2, sum_c, sum_cx, sum_c2 = sums.scope_log_sums[int(scope.drop), :, scope.index]
    variant = int(scope.zeros == "excluded" and sums.has_excluded_variant)
    sum_y, sum_y2, n_y, block = sums.flat[int(standardized), variant * (sums.n_layers + 1) + scope.index]
    if standardized:
        sum_x, sum_x2 = sum_x - k * sum_c, sum_x2 - 2.0 * sum_cx + k * sum_c2
    n = k * scope.n_coordinates
    est = mohammadi_from_log_sums(float(sum_x), float(sum_x2), n, float(sum_y), float(sum_y2), int(n_y),
                                  int(block))
    return {"n": n, "block_size": int(block), **estimate_fields(est, sums.level)}


def _row(sums: Any, scope: Scope, state: Any) -> dict[str, Any]:
    return flat_row(sums, scope, standardized=False)


PROTOCOL = register(Protocol("pooled", _row, needs=frozenset({"block_sums"}), order=10))
