"""The options of a harvest, checked once, in one frozen object; the model's trainable parameters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from ..._typing import SeedLike
from ..._validation import check_choice, check_int, check_level, check_scalar
from ..gaussianity import GAUSSIANITY_TESTS
from ..protocols import PER_COORDINATE_ESTIMATORS, PROTOCOLS, registered

__all__ = ["SAMPLINGS", "ZEROS", "HarvestOptions", "trainable"]

#: The two variants of every row: with and without the zero-noise coordinates.
ZEROS: tuple[str, ...] = ("included", "excluded")

#: How the ``K`` rows are drawn: consecutive minibatches, random minibatches, single examples.
SAMPLINGS: tuple[str, ...] = ("partition", "random", "per_example")


@dataclass(frozen=True, eq=False)
class HarvestOptions:
    """Everything :func:`~stabletail.sgd.harvest` does besides the model, loss and data.

    Built from the keyword arguments of :func:`~stabletail.sgd.harvest` (which
    documents each), :func:`~stabletail.sgd.distributed.harvest_distributed` and
    :class:`~stabletail.sgd.TailIndexMonitor`, or given to them as ``options``.
    Every field is checked when the object is made: a bad value raises
    :class:`ValueError` (or :class:`TypeError`) naming the field. Sequences are
    stored as tuples; ``eps=None`` becomes ``numpy.spacing(1)`` and
    ``gaussianity_tests=None`` the empty tuple.

    Examples
    --------
    >>> from stabletail.sgd.harvest import HarvestOptions
    >>> opts = HarvestOptions(protocols=["pooled"], gaussianity_tests=None)
    >>> opts.protocols, opts.gaussianity_tests
    (('pooled',), ())
    >>> opts.replace(level=0.9).level
    0.9
    """

    n_batches: int | None = None
    sampling: str = "partition"
    full_gradient: str = "mean"
    protocols: Sequence[str] = PROTOCOLS
    zeros: Sequence[str] = ZEROS
    per_coordinate_estimator: str = "mohammadi"
    n_coordinates: int | None = None
    gaussianity_tests: Sequence[str] | None = GAUSSIANITY_TESTS
    n_gaussianity: int | None = 1000
    directions: bool = True
    eval_mode: bool = True
    store: bool = False
    buffer_bytes: int = 1 << 30
    eps: float | None = None
    level: float = 0.95
    random_state: SeedLike = 0
    progress: bool | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        if self.n_batches is not None:
            put(self, "n_batches", check_int("n_batches", self.n_batches, 1))
        check_choice("sampling", self.sampling, SAMPLINGS)
        check_choice("full_gradient", self.full_gradient, ("mean", "exact"))
        put(self, "protocols", _choices("protocols", self.protocols, registered()))
        check_choice("per_coordinate_estimator", self.per_coordinate_estimator, PER_COORDINATE_ESTIMATORS)
        put(self, "zeros", _choices("zeros", self.zeros, ZEROS))
        if not self.zeros:
            raise ValueError("zeros must name at least one of 'included', 'excluded'")
        tests = _choices("gaussianity_tests", self.gaussianity_tests or (), GAUSSIANITY_TESTS)
        put(self, "gaussianity_tests", tests)
        if self.n_gaussianity is not None:
            put(self, "n_gaussianity", check_int("n_gaussianity", self.n_gaussianity, 0))
        if self.n_coordinates is not None:
            put(self, "n_coordinates", check_int("n_coordinates", self.n_coordinates, 1))
        put(self, "buffer_bytes", check_int("buffer_bytes", self.buffer_bytes, 0))
        put(self, "eps", float(np.spacing(1.0)) if self.eps is None else check_scalar("eps", self.eps, 0.0))
        put(self, "level", check_level(self.level))
        for name in ("directions", "eval_mode", "store"):
            put(self, name, bool(getattr(self, name)))

    @classmethod
    def build(cls, options: HarvestOptions | None = None, **kwargs: Any) -> HarvestOptions:
        """``options`` (default: the defaults) with the fields in ``kwargs`` replaced.

        Parameters
        ----------
        options : HarvestOptions, optional
            The starting options (default: ``HarvestOptions()``).
        **kwargs
            Fields of :class:`HarvestOptions` to replace.

        Returns
        -------
        HarvestOptions

        Raises
        ------
        TypeError
            When a keyword is not a field of :class:`HarvestOptions`.
        """
        if options is not None and not isinstance(options, cls):
            raise TypeError(f"options must be a HarvestOptions, got {type(options).__name__}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - fields)
        if unknown:
            raise TypeError(f"unknown harvest option(s) {unknown}; the options are {sorted(fields)}")
        return cls(**kwargs) if options is None else dataclasses.replace(options, **kwargs)

    def replace(self, **kwargs: Any) -> HarvestOptions:
        """A copy with the given fields replaced (and checked).

        Parameters
        ----------
        **kwargs
            Fields of :class:`HarvestOptions` and their new values.

        Returns
        -------
        HarvestOptions
            The new options.
        """
        return self.build(self, **kwargs)


def _choices(name: str, values: Any, allowed: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    for v in values:
        check_choice(name, v, allowed)
    return values


def trainable(model: torch.nn.Module) -> tuple[list[str], list[torch.Tensor], torch.device, torch.dtype]:
    """Names and tensors of the trainable parameters, which must share one device and dtype."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
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
