"""Engines run study cells: ``engine(cells, device, data_dir) -> iterable of CellResult``.

- :func:`serial_engine`: the cells one after another in this process (the default).
- :func:`ray_engine`: every cell a Ray task, results back as they finish. Ray is an
  optional dependency (``pip install "stabletail[ray]"``) imported only when this
  engine runs. What runs where: the driver (the process calling ``run_study``) builds
  the grid, submits one task per cell and writes every file; each task runs
  :func:`~stabletail.sgd.studies.execute_cell` in a Ray worker process on any node of
  the cluster, on one CPU, plus one GPU when the cells run on CUDA, and returns plain
  data. Workers never touch the output directory, so the output is the same whichever
  engine produced it.

:func:`resolve_engine` turns ``run_study``'s ``engine``/``address`` arguments into one
of these.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..._validation import check_choice, check_int, check_scalar
from .cells import Cell, CellResult, execute_cell

__all__ = ["Engine", "serial_engine", "ray_engine", "resolve_engine"]

#: An engine: ``engine(cells, device, data_dir)`` yields one :class:`CellResult` per cell, in any order.
Engine = Callable[[Sequence[Cell], str, "str | None"], Iterable[CellResult]]


def serial_engine(
    cells: Sequence[Cell], device: str, data_dir: str | None, *, progress: bool = False
) -> Iterator[CellResult]:
    """Run the cells one after another in this process.

    Parameters
    ----------
    cells : sequence of Cell
        The cells to run.
    device : str
        torch device of every cell.
    data_dir : str or None
        Data directory.
    progress : bool
        Show a bar over each cell's checkpoints.

    Yields
    ------
    CellResult
        One per cell, in order.
    """
    for cell in cells:
        yield execute_cell(cell, device, data_dir, progress=progress)


def resolve_engine(engine: str | Engine | None, address: str | None) -> Engine | None:
    """The engine callable for ``run_study``'s ``engine`` and ``address`` (None: serial).

    Parameters
    ----------
    engine : {"serial", "ray"}, callable or None
        Engine name or callable.
    address : str or None
        Ray cluster address; only with ``engine="ray"``.

    Returns
    -------
    callable or None
        None for the serial engine (the driver adds its progress option).

    Raises
    ------
    ValueError
        For an unknown engine name, or an address without ``engine="ray"``.
    """
    if callable(engine):
        if address is not None:
            raise ValueError("address is an option of engine='ray', not of a custom engine")
        return engine
    if check_choice("engine", engine or "serial", ("serial", "ray")) == "serial":
        if address is not None:
            raise ValueError("address needs engine='ray'")
        return None
    return functools.partial(ray_engine, address=address)


def _one_cpu_task(execute: Callable[[Cell, str, str | None], CellResult], cell: Cell, device: str,
                  data_dir: str | None) -> CellResult:
    """A Ray task holds one CPU: torch computes on one thread there (its default pool would take
    every core of the node, and a different thread count changes float sums in the last bits)."""
    import torch

    torch.set_num_threads(1)
    return execute(cell, device, data_dir)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "the Ray engine needs Ray: pip install 'stabletail[ray]' (or pip install ray)"
        ) from exc
    return ray


def ray_engine(
    cells: Sequence[Cell],
    device: str,
    data_dir: str | None,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    num_gpus: float | None = None,
    max_retries: int = 3,
    runtime_env: dict[str, Any] | None = None,
    execute: Callable[[Cell, str, str | None], CellResult] = execute_cell,
) -> Iterator[CellResult]:
    """Run study cells as Ray tasks and yield their results as they finish.

    Parameters
    ----------
    cells : sequence of Cell
        The cells to run (each becomes one task).
    device : str
        torch device of every cell, as resolved by the driver (``"cpu"``,
        ``"cuda"``); on a GPU task Ray sets ``CUDA_VISIBLE_DEVICES`` so that
        ``"cuda"`` is the GPU assigned to it.
    data_dir : str or None
        Data directory, as seen from the workers (on a cluster: a path that
        exists on every node, or None for the default cache with
        ``STABLETAIL_DATA`` set on the nodes).
    address : str, optional
        Address of a running Ray cluster (``"auto"``, ``"ray://host:10001"``,
        ``"host:6379"``). None starts a local Ray instance for this call (and
        stops it afterwards). When Ray is already initialised in this process
        that instance is used as it is, and left running.
    num_cpus : int, optional
        CPUs of the local instance, i.e. the number of cells run at once on this
        machine (default: every core). Ignored with ``address``.
    num_gpus : float, optional
        GPUs reserved per task; default 1 when ``device`` is CUDA, else 0 (the
        tasks then use CPUs only).
    max_retries : int
        Times a task is re-run after its worker process died (killed, out of
        memory, node lost). A cell whose worker dies ``max_retries + 1`` times
        is yielded with ``status="failed"`` and Ray's error, and the other
        cells go on. Errors raised inside a study are not retried here:
        ``execute`` records them as a failed cell (re-running the study retries
        failed cells).
    runtime_env : dict, optional
        Ray runtime environment of the instance this call starts or connects
        to (ignored when Ray is already initialised), e.g.
        ``{"pip": ["stabletail[sgd]"]}`` for cluster nodes without stabletail.
    execute : callable
        ``execute(cell, device, data_dir) -> CellResult`` run in the worker
        (default :func:`~stabletail.sgd.studies.execute_cell`); it must be
        picklable by Ray (cloudpickle).

    Yields
    ------
    CellResult
        One per cell, in order of completion.

    Examples
    --------
    >>> from functools import partial
    >>> from stabletail.sgd.studies import run_study
    >>> from stabletail.sgd.studies.engines import ray_engine
    >>> run_study("protocols", "out/protocols",                          # doctest: +SKIP
    ...           engine=partial(ray_engine, num_cpus=2))
    """
    max_retries = check_int("max_retries", max_retries, 0)
    if num_cpus is not None:
        num_cpus = check_int("num_cpus", num_cpus, 1)
    if num_gpus is None:
        num_gpus = 1.0 if str(device).startswith("cuda") else 0.0
    num_gpus = check_scalar("num_gpus", num_gpus, 0.0)
    cells = list(cells)
    if not cells:
        return
    ray = _import_ray()
    started = False
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=num_cpus, include_dashboard=False, runtime_env=runtime_env)
        else:
            ray.init(address=address, runtime_env=runtime_env)
        started = True
    task = ray.remote(_one_cpu_task).options(
        num_cpus=1, num_gpus=num_gpus, max_retries=max_retries, retry_exceptions=False
    )
    pending: dict[Any, Cell] = {}
    try:
        pending = {task.remote(execute, cell, device, data_dir): cell for cell in cells}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                cell = pending.pop(ref)
                try:
                    res = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker kept dying, or `execute` itself raised
                    res = CellResult(cell, "failed", [], 0.0, f"{type(exc).__name__}: {exc}", device)
                yield res
    finally:
        for ref in pending:  # interrupted: drop the work still queued or running
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()
