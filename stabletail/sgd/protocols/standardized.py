"""``"standardized"``: as ``"pooled"`` on ``z_kj = e_kj / s_j``.

``s_j`` is the standard deviation (``ddof=1``) of coordinate ``j`` across the ``K``
minibatch gradients; the logarithm is taken as ``log(|e_kj| + eps) - log s_j``; a
coordinate with zero noise has ``z = 0`` (its log term is ``log eps``).
"""

from __future__ import annotations

from typing import Any

from ._registry import Protocol, Scope, register
from .pooled import flat_row


def _row(sums: Any, scope: Scope, state: Any) -> dict[str, Any]:
    return flat_row(sums, scope, standardized=True)


PROTOCOL = register(Protocol("standardized", _row, needs=frozenset({"block_sums"}), order=20))
