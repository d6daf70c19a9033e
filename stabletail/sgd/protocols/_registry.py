"""The registry of harvest protocols: what a protocol declares, and the scope of one table row."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

__all__ = [
    "ACCUMULATORS",
    "Protocol",
    "Scope",
    "estimate_fields",
    "get",
    "register",
    "registered",
    "undefined",
    "unregister",
]

#: The built-in accumulators of the noise pass a protocol may ask for (every protocol gets the
#: per-coordinate sums of ``log(|e| + eps)`` and of its square, and the row norms of the noise):
#:
#: - ``"block_sums"``: Mohammadi block sums of the noise flattened minibatch-major, per layer
#:   and for the model, with and without the zero-noise coordinates, raw and standardized;
#: - ``"row_blocks"``: per coordinate, the sums of ``log(|Y| + eps)`` over the row blocks
#:   (``K1`` consecutive minibatches), and the squared norms of the row-block sums per layer.
ACCUMULATORS: frozenset[str] = frozenset({"block_sums", "row_blocks"})


@dataclass(frozen=True)
class Scope:
    """The coordinates one table row is about.

    Attributes
    ----------
    layer : str
        Parameter name, or the whole-model name.
    index : int
        Position of the layer (``n_layers`` for the model).
    start, stop : int
        Its columns ``[start, stop)`` in the flat parameter vector (``0, d`` for the model).
    zeros : {"included", "excluded"}
        The row's variant.
    drop : bool
        True when zero-noise coordinates are left out (``"excluded"`` and the layer has some).
    n_zero, n_coordinates : int
        Zero-noise coordinates of the layer; coordinates in this variant.
    """

    layer: str
    index: int
    start: int
    stop: int
    zeros: str
    drop: bool
    n_zero: int
    n_coordinates: int


@dataclass(frozen=True)
class Protocol:
    """A harvest protocol: which sums it needs and how a table row follows from them.

    Attributes
    ----------
    name : str
        The ``protocol`` value of its rows.
    row : callable
        ``row(sums, scope, state) -> dict``: the row's fields (any of the table's columns,
        e.g. ``alpha``, ``stderr``, ``ci_low``, ``ci_high``, ``n``, ``block_size``,
        ``estimator``) from ``sums`` (:class:`stabletail.sgd.harvest.sums.NoiseSums`), for the
        coordinates of ``scope`` (:class:`Scope`); ``state`` is what ``prepare`` returned.
    needs : frozenset of str
        Built-in accumulators it reads (:data:`ACCUMULATORS`).
    accumulator : callable, optional
        For what the built-in accumulators do not give: called with the keywords ``k``
        (minibatches), ``offsets`` (layer boundaries in the flat vector, ``offsets[-1] = d``),
        ``d``, ``device``, ``eps``, ``k1`` (rows per row block) and ``rows_used`` (rows in
        whole row blocks), it returns an object with ``update(noise, first_row)``, called with
        every chunk of noise rows ``e_k = g_k - g`` (shape ``(rows, d)``, the rows' dtype and
        device; it must not write to them; chunks come in row order, a distributed rank sees
        only its rows, which never split a row block) and ``summable()``, the tensors that are
        plain sums over rows (a distributed harvest adds them up over the ranks). The object is
        ``sums.extra[name]`` for ``row``.
    prepare : callable, optional
        ``prepare(sums) -> state``: work shared by the rows of one harvest (e.g. every
        coordinate's estimate), run once, in registry order, before any row.
    min_batches : int
        The fewest minibatches at which the rows inform; rows of smaller ``K`` get the
        status ``"too_few_minibatches(K>=min_batches)"``.
    infinite_is_answer : bool
        An infinite ``alpha`` is an answer (e.g. a median over coordinates most of which have
        no noise); otherwise a non-finite ``alpha`` gives the status ``"undefined"``.
    uses_estimator_option : bool
        Its ``estimator`` column is the harvest's ``per_coordinate_estimator`` option
        (else ``"mohammadi"`` unless ``row`` says otherwise).
    order : float
        Position in the report (lower first; ties by name).
    """

    name: str
    row: Callable[[Any, Scope, Any], dict[str, Any]]
    needs: frozenset[str] = frozenset()
    accumulator: Callable[..., Any] | None = None
    prepare: Callable[[Any], Any] | None = None
    min_batches: int = 0
    infinite_is_answer: bool = False
    uses_estimator_option: bool = False
    order: float = 100.0

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"protocol name must be an identifier, got {self.name!r}")
        unknown = set(self.needs) - ACCUMULATORS
        if unknown:
            raise ValueError(f"protocol {self.name!r} needs unknown accumulators {sorted(unknown)}; "
                             f"the built-in ones are {sorted(ACCUMULATORS)}")
        object.__setattr__(self, "needs", frozenset(self.needs))


_REGISTRY: dict[str, Protocol] = {}


def register(protocol: Protocol) -> Protocol:
    """Add ``protocol`` to the registry (a name already there is refused).

    Parameters
    ----------
    protocol : Protocol
        The protocol to add.

    Returns
    -------
    Protocol
        The same object (so the call can decorate a module-level definition).

    Raises
    ------
    TypeError
        If ``protocol`` is not a :class:`Protocol`.
    ValueError
        If a protocol of that name is registered already.
    """
    if not isinstance(protocol, Protocol):
        raise TypeError(f"register takes a Protocol, got {type(protocol).__name__}")
    if protocol.name in _REGISTRY:
        raise ValueError(f"a protocol named {protocol.name!r} is already registered")
    _REGISTRY[protocol.name] = protocol
    return protocol


def unregister(name: str) -> None:
    """Remove a registered protocol (a test that registered one cleans up with this).

    Parameters
    ----------
    name : str
        Its name.
    """
    del _REGISTRY[name]


def registered() -> tuple[str, ...]:
    """Names of the registered protocols, in report order.

    Returns
    -------
    tuple of str
        The names.
    """
    return tuple(p.name for p in sorted(_REGISTRY.values(), key=lambda p: (p.order, p.name)))


def get(name: str) -> Protocol:
    """The registered protocol called ``name``.

    Parameters
    ----------
    name : str
        A name of :func:`registered`.

    Returns
    -------
    Protocol

    Raises
    ------
    ValueError
        If no protocol of that name is registered (the message lists them).
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"protocols: unknown protocol {name!r}; registered: {list(registered())}") from None


def estimate_fields(estimate: Any, level: float) -> dict[str, float]:
    """``alpha``, ``stderr``, ``ci_low``, ``ci_high`` of a :class:`~stabletail.estimators.TailIndex`.

    Parameters
    ----------
    estimate : TailIndex or None
        The estimate (None gives an empty dict).
    level : float
        Level of the interval.

    Returns
    -------
    dict
    """
    if estimate is None:
        return {}
    ci_low, ci_high = estimate.ci(level)
    return {"alpha": estimate.alpha, "stderr": estimate.stderr, "ci_low": ci_low, "ci_high": ci_high}


def undefined(alpha: float, protocol: Protocol) -> bool:
    """True when a row's ``alpha`` is no answer (NaN; or infinite, unless the protocol allows it)."""
    return math.isnan(alpha) if protocol.infinite_is_answer else not math.isfinite(alpha)
