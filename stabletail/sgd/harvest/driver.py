"""The harvest's passes over the data, on one process (:class:`LocalShard`) or on a rank of
several (:mod:`stabletail.sgd.distributed` passes its own shard)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..._typing import SeedLike
from ..._validation import check_random_state
from .. import _torchstats
from .batches import _Batches, _check_loss_value, _check_mean_reduction, _to
from .options import _check_options, _trainable
from .result import MODEL, HarvestResult
from .table import _build_table, _direction_rows, _gauss_index, _gauss_rows, _nan_table

_CHUNK_BYTES = 1 << 22
_MIN_CHUNK_ROWS = 16


class LocalShard:
    """Hooks of the single-process harvest; :mod:`stabletail.sgd.distributed` overrides them.

    A shard computes the minibatch rows ``[start, stop)`` of :meth:`rows`; the
    hooks turn its accumulators into those of the whole partition after each pass.
    """

    world, rank = 1, 0
    device = torch.device("cpu")  # the model's, set by the harvest

    def seed(self, random_state: SeedLike) -> SeedLike:
        """The random state every shard uses (the same on all)."""
        return random_state

    def rows(self, k: int, rank: int | None = None) -> tuple[int, int]:
        """Rows ``[start, stop)`` of shard ``rank`` (default: this one)."""
        return 0, k

    def sum_(self, t: torch.Tensor) -> torch.Tensor:
        """Sum ``t`` over the shards, in place."""
        return t

    def any_(self, flag: bool) -> bool:
        """True when ``flag`` is True on some shard."""
        return flag

    def prepass(self, pre: _torchstats.PrePass, n_rows: int) -> torch.Tensor:
        """Combine the first-pass statistics; return the zero-noise mask."""
        return pre.zero_mask()

    def mainpass(self, main: _torchstats.MainPass) -> None:
        """Combine the noise statistics."""


# Workspaces for the K x d rows and for the float64 d-vector accumulators are kept between
# harvests (each up to _KEEP_BYTES) so that a monitor harvesting every N steps does not touch
# fresh memory (page faults) each time; see docs/sgd.md.
_N_ACC = 12  # d-vectors of accumulators: 4 first-pass (s1, s2, spread, sd), 7 noise-pass, 1 spare
_KEEP_BYTES = 1 << 28
_workspaces: dict[tuple[str, str, torch.dtype], torch.Tensor] = {}
_workspace_lock = threading.Lock()


def _take_workspace(role: str, n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A 1-D tensor of at least ``n`` elements for ``role`` (reused when one is free)."""
    with _workspace_lock:
        ws = _workspaces.pop((role, str(device), dtype), None)
    if ws is None or ws.numel() < n:
        ws = torch.empty(n, dtype=dtype, device=device)
    return ws


def _give_workspace(role: str, ws: torch.Tensor) -> None:
    # CPU only: torch's CUDA allocator already keeps freed blocks, and device memory is scarcer
    if ws.device.type == "cpu" and ws.numel() * ws.element_size() <= _KEEP_BYTES:
        with _workspace_lock:
            _workspaces[(role, str(ws.device), ws.dtype)] = ws


def run(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    data: Any,
    batch_size: int | None,
    shard: LocalShard,
    *,
    n_batches: int | None,
    sampling: str,
    full_gradient: str,
    protocols: Sequence[str],
    zeros: Sequence[str],
    per_coordinate_estimator: str,
    n_coordinates: int | None,
    gaussianity_tests: Sequence[str] | None,
    n_gaussianity: int,
    directions: bool,
    eval_mode: bool,
    store: bool,
    buffer_bytes: int,
    eps: float | None,
    level: float,
    random_state: SeedLike,
    progress: bool | None,
) -> HarvestResult:
    """The harvest of the rows of ``shard`` (all of them for :class:`LocalShard`)."""
    t0 = time.perf_counter()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    protocols, zeros, tests, n_gaussianity, n_coordinates, buffer_bytes, eps, level = _check_options(
        sampling, full_gradient, protocols, per_coordinate_estimator, zeros, gaussianity_tests,
        n_gaussianity, n_coordinates, buffer_bytes, eps, level
    )
    names, params, device, dtype = _trainable(model)
    shard.device = device
    random_state = shard.seed(random_state)
    rng = check_random_state(random_state)
    offsets = [0]
    for p in params:
        offsets.append(offsets[-1] + p.numel())
    d = offsets[-1]

    batches = _Batches(data, batch_size, n_batches, sampling, rng)  # the same draws on every shard
    if batches.one_shot and full_gradient == "exact":
        raise ValueError(
            "full_gradient='exact' needs a second pass over data, but data is a one-shot iterator "
            "(a generator?): pass a list or a re-iterable loader, or full_gradient='mean'"
        )
    k = batches.k
    start, stop = shard.rows(k)
    n_own = stop - start
    most = max(b - a for a, b in (shard.rows(k, r) for r in range(shard.world)))
    itemsize = torch.empty((), dtype=dtype).element_size()
    keep = store or most * d * itemsize <= buffer_bytes
    chunk_rows = max(_MIN_CHUNK_ROWS, _CHUNK_BYTES // max(1, d * itemsize))
    if keep and _torchstats.uses_kernels(device, dtype):
        chunk_rows = n_own
    chunk_rows = max(1, min(max(n_own, 1), chunk_rows))
    seed_base = int(rng.integers(2**62))
    want = set(protocols)
    if directions:
        want.add("directions")
    n_passes = (1 if keep else 2) + (full_gradient == "exact")
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_own * (1 if keep else 2) + (full_gradient == "exact"), desc="harvest", leave=False)

    # ------------------------------------------------------------ state to restore
    modes = [(m, m.training) for m in model.modules()]
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
    rng_devices = [device] if device.type != "cpu" else []
    ws = _take_workspace("rows", (n_own if keep else chunk_rows) * d, device, dtype)
    acc_ws = _take_workspace("acc", _N_ACC * d, device, torch.float64)
    arena = _torchstats.Arena(acc_ws, device)
    threads = contextlib.ExitStack()  # the kernels' parallel regions use as many threads as torch
    if _torchstats.uses_kernels(device, dtype):
        threads.enter_context(_torchstats.kernel_threads(torch.get_num_threads()))
    try:
        model.train(not eval_mode)
        with torch.random.fork_rng(devices=rng_devices, device_type=device.type if rng_devices else None):
            with torch.enable_grad():

                def grad_into(x: Any, y: Any, row: torch.Tensor, i: int | None) -> torch.Tensor:
                    if i is not None and not eval_mode:  # same dropout draws in both passes
                        torch.default_generator.manual_seed(seed_base + i)
                        if device.type != "cpu":
                            getattr(torch, device.type).manual_seed(seed_base + i)
                    x, y = _to(x, device, dtype), _to(y, device, dtype)
                    loss = loss_fn(model(x), y)
                    _check_loss_value(loss)
                    grads = torch.autograd.grad(loss, params, allow_unused=True)
                    flat = [
                        (g if g is not None else torch.zeros_like(p)).reshape(-1)
                        for g, p in zip(grads, params)
                    ]
                    torch.cat(flat, out=row)
                    if bar is not None:
                        bar.update(1)
                    return loss.detach()

                # this shard's rows: all of them when kept, one reused chunk when streaming
                buf = ws[: (n_own if keep else chunk_rows) * d].view(-1, d)

                def rows_pass(sink: Callable[[torch.Tensor, int], None]) -> torch.Tensor:
                    """One pass over this shard's rows; ``sink(rows, first_row)`` per chunk of rows."""
                    own_losses = []
                    c0 = start
                    for i, (x, y) in enumerate(batches):
                        if i < start:
                            continue
                        if i >= stop:
                            break
                        slot = i - start if keep else i - c0
                        own_losses.append(grad_into(x, y, buf[slot], i))
                        if i + 1 - c0 == chunk_rows or i + 1 == stop:
                            sink(buf[c0 - start : i + 1 - start] if keep else buf[: i + 1 - c0], c0)
                            c0 = i + 1
                    pass_losses = torch.zeros(k, dtype=torch.float64, device=device)
                    if own_losses:
                        pass_losses[start:stop] = torch.stack(own_losses).to(torch.float64)
                    return pass_losses

                pre = _torchstats.PrePass(k, offsets, dtype, device, arena)
                losses = shard.sum_(rows_pass(pre.update))
                zero = shard.prepass(pre, n_own)
                sq = pre.sq_norms
                n_bad = int(k - (torch.isfinite(sq.sum(1)) & torch.isfinite(losses)).sum().item())
                if full_gradient == "exact" and n_bad == 0:
                    acc = torch.zeros(d, dtype=torch.float64, device=device)
                    total = torch.zeros((), dtype=torch.float64, device=device)
                    row = torch.empty(d, dtype=dtype, device=device)
                    for j, (x, y) in enumerate(batches.full()):
                        if j == 0:
                            _check_mean_reduction(
                                model, loss_fn, _to(x, device, dtype), _to(y, device, dtype), eval_mode
                            )
                        if j % shard.world == shard.rank:
                            m = int(x.shape[0])
                            grad_into(x, y, row, None)
                            acc += row.to(torch.float64) * m
                            total += m
                    total = shard.sum_(total)
                    if float(total) == 0.0:
                        raise ValueError(
                            "full_gradient='exact' found no data in its pass over data: an iterator "
                            "or generator is exhausted after the minibatch passes; pass a list or "
                            "a re-iterable loader, or full_gradient='mean'"
                        )
                    g_full64 = shard.sum_(acc) / total
                else:
                    g_full64 = pre.mean()
                if not torch.isfinite(g_full64).all():
                    n_bad = max(n_bad, 1)
                sd = pre.std(arena.zeros(d))
                status, message, main = "ok", "", None
                if n_bad:
                    status = "nonfinite"
                    message = f"{n_bad} of {k} minibatch gradients or losses are not finite (diverged?)"
                else:
                    inv_sd = torch.where(zero | (sd == 0), 0.0, 1.0 / sd)
                    nz_index = torch.nonzero(~zero).reshape(-1) if bool(zero.any()) else None
                    gauss_index = _gauss_index(zero, offsets, n_gaussianity, rng, device) if tests else None
                    norms = torch.cat([sq, sq.sum(1, keepdim=True)], 1).sqrt()
                    inv_norms = torch.where(norms > 0, 1.0 / norms, 0.0)
                    main = _torchstats.MainPass(
                        k,
                        offsets,
                        g_full64.to(dtype),
                        inv_sd,
                        nz_index,
                        frozenset(want),
                        eps,
                        gauss_index,
                        inv_norms,
                        arena,
                    )
                    if keep:
                        for c0 in range(0, n_own, chunk_rows):
                            main.update(buf[c0 : c0 + chunk_rows], start + c0)
                    else:
                        losses2 = rows_pass(main.update)
                        own = slice(start, stop)
                        if shard.any_(not torch.allclose(losses[own], losses2[own], rtol=1e-5, atol=0.0)):
                            status = "inconsistent_batches"
                            message = (
                                "the two passes over data saw different minibatches (reshuffling loader?)"
                            )
                    shard.mainpass(main)
                    if store:  # the rows now hold the noise
                        noise = buf.to(torch.float64, copy=True).cpu().numpy()  # not the workspace
    finally:
        threads.close()
        _give_workspace("rows", ws)
        for mod, flag in modes:
            mod.training = flag
        with torch.no_grad():
            for b, saved in saved_buffers:
                b.copy_(saved)
        if bar is not None:
            bar.close()

    grad_norms = torch.cat([sq, sq.sum(1, keepdim=True)], 1).sqrt().cpu().numpy()
    full_np = g_full64.cpu().numpy()
    zero_np = zero.cpu().numpy()
    layer_names = names + [MODEL]
    ranges = list(zip(offsets[:-1], offsets[1:])) + [(0, d)]
    layers_tab = [
        {
            "layer": name,
            "shape": tuple(params[i].shape) if i < len(params) else (d,),
            "offset": a,
            "n_params": b - a,
            "n_zero": int(zero_np[a:b].sum()),
            "full_grad_norm": float(np.linalg.norm(full_np[a:b])),
        }
        for i, (name, (a, b)) in enumerate(zip(layer_names, ranges))
    ]
    common = {"level": level, "n_batches": k, "batch_size": batches.batch_size}
    pc_alpha = None
    if main is None:
        noise = None
        table = _nan_table(protocols, layer_names, layers_tab, per_coordinate_estimator, common, status)
        gauss_rows: list[dict[str, Any]] = []
        dir_rows: list[dict[str, Any]] = []
        noise_norms = np.full_like(grad_norms, np.nan)
    else:
        if not store:
            noise = None
        table, pc_alpha, noise_norms = _build_table(
            main, protocols, layer_names, ranges, zero_np, sd, eps, level, per_coordinate_estimator,
            n_coordinates, rng, common, status, k
        )
        gauss_rows = _gauss_rows(main, layer_names, offsets, tests, level, random_state) if tests else []
        dir_rows = _direction_rows(main, layer_names, ranges, grad_norms) if directions else []
    _give_workspace("acc", acc_ws)  # nothing returned below refers to it
    return HarvestResult(
        status=status,
        message=message,
        table=tuple(r for r in table if r["zeros"] in zeros),
        gaussianity=tuple(gauss_rows),
        directions=tuple(dir_rows),
        layers=tuple(layers_tab),
        n_batches=k,
        batch_size=batches.batch_size,
        n_params=d,
        n_passes=n_passes,
        n_nonfinite=n_bad,
        full_gradient=full_np,
        grad_norms=grad_norms,
        noise_norms=noise_norms,
        batch_losses=losses.cpu().numpy(),
        noise=noise,
        per_coordinate_alpha=pc_alpha if store else None,
        seconds=time.perf_counter() - t0,
    )
