"""The harvest's option checks and the model's trainable parameters."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..._validation import check_choice, check_int, check_level, check_scalar
from ..gaussianity import GAUSSIANITY_TESTS
from ..protocols import (
    PER_COORDINATE_ESTIMATORS,
    PROTOCOLS,
)


def _check_options(
    sampling: str,
    full_gradient: str,
    protocols: Sequence[str],
    per_coordinate_estimator: str,
    zeros: Sequence[str],
    gaussianity_tests: Sequence[str] | None,
    n_gaussianity: int,
    n_coordinates: int | None,
    buffer_bytes: int,
    eps: float | None,
    level: float,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], int, int | None, int, float, float]:
    """Validate the options shared by :func:`harvest` and the distributed harvest."""
    check_choice("sampling", sampling, ("partition", "random"))
    check_choice("full_gradient", full_gradient, ("mean", "exact"))
    protocols = tuple(protocols)
    for p in protocols:
        check_choice("protocols", p, PROTOCOLS)
    check_choice("per_coordinate_estimator", per_coordinate_estimator, PER_COORDINATE_ESTIMATORS)
    zeros = tuple(zeros)
    if not zeros:
        raise ValueError("zeros must name at least one of 'included', 'excluded'")
    for z in zeros:
        check_choice("zeros", z, ("included", "excluded"))
    tests = tuple(gaussianity_tests or ())
    for t in tests:
        check_choice("gaussianity_tests", t, GAUSSIANITY_TESTS)
    n_gaussianity = check_int("n_gaussianity", n_gaussianity, 0)
    if n_coordinates is not None:
        n_coordinates = check_int("n_coordinates", n_coordinates, 1)
    buffer_bytes = check_int("buffer_bytes", buffer_bytes, 0)
    eps = float(np.spacing(1.0)) if eps is None else check_scalar("eps", eps, 0.0)
    return protocols, zeros, tests, n_gaussianity, n_coordinates, buffer_bytes, eps, check_level(level)


def _trainable(model: torch.nn.Module) -> tuple[list[str], list[torch.Tensor], torch.device, torch.dtype]:
    """Names and tensors of the trainable parameters, which must share one device and dtype."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("model has no parameter with requires_grad=True")
    names = [n for n, _ in named]
    params = [p for _, p in named]
    device, dtype = params[0].device, params[0].dtype
    if any(p.device != device or p.dtype != dtype for p in params):
        raise ValueError(
            "model: every trainable parameter must have the same device and dtype "
            f"(found {sorted({f'{p.device}/{p.dtype}' for p in params})})"
        )
    return names, params, device, dtype
