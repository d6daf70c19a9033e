"""stabletail: alpha-stable laws and tail-index estimation, with a compiled core.

Subpackages are imported on first use, so ``import stabletail`` is cheap and
never imports numba, torch or matplotlib:

- :mod:`stabletail.stable` -- the alpha-stable law (Nolan's S0 and S1).
- :mod:`stabletail.estimators` -- tail-index estimators.
- :mod:`stabletail.fit` -- full four-parameter stable fits.
- :mod:`stabletail.sgd` -- gradient-noise harvesting for PyTorch models (needs torch).
- :func:`stabletail.diagnose` -- which law describes a sample's tail: fits, tests and a verdict.
- :data:`stabletail.levy_stable` -- the stable law as a ``scipy.stats.rv_continuous``
  (a drop-in for ``scipy.stats.levy_stable``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: The package version.
__version__ = "0.1.0"

__all__ = ["stable", "estimators", "fit", "sgd", "levy_stable", "diagnose", "Diagnosis", "ModelRow",
           "TailRow", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from . import estimators, fit, sgd, stable

_SUBPACKAGES = frozenset({"stable", "estimators", "fit", "sgd"})
_DIAGNOSE = frozenset({"diagnose", "Diagnosis", "ModelRow", "TailRow"})


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "levy_stable":
        return importlib.import_module(f"{__name__}._levy_stable").levy_stable
    if name in _DIAGNOSE:
        return getattr(importlib.import_module(f"{__name__}._diagnose"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBPACKAGES | _DIAGNOSE | {"levy_stable"})
