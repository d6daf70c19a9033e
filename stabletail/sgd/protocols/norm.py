"""``"norm"``: the multivariate form on the ``K`` noise vectors of a layer.

``X_k = ||e_k||`` and ``Y_i = ||sum of the i-th block of K1 consecutive e_k||``
(Euclidean norms), ``K1`` as for ``"per_coordinate"``. Dropping zero-noise
coordinates changes no norm.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...estimators import mohammadi_from_log_sums
from ._registry import Protocol, Scope, estimate_fields, register

#: The fewest minibatches at which the norm rows inform (one series of ``K`` norms; as for
#: ``"per_coordinate"``, see :data:`stabletail.sgd.protocols.per_coordinate.MIN_BATCHES`).
MIN_BATCHES = 32


def _row(sums: Any, scope: Scope, state: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"n": sums.rows_used, "block_size": sums.k1}
    if sums.need_rows:
        log_x = np.log(sums.noise_norms[: sums.rows_used, scope.index] + sums.eps)
        log_y = np.log(sums.block_norms[:, scope.index] + sums.eps)
        est = mohammadi_from_log_sums(
            float(log_x.sum()), float((log_x * log_x).sum()), log_x.size,
            float(log_y.sum()), float((log_y * log_y).sum()), log_y.size, sums.k1,
        )
        out.update(estimate_fields(est, sums.level))
    return out


PROTOCOL = register(Protocol("norm", _row, needs=frozenset({"row_blocks"}), min_batches=MIN_BATCHES,
                             order=40))
