"""The harvest's passes over the data, for the rows of one shard.

:func:`run` is the single harvest core: :func:`stabletail.sgd.harvest` calls it
with a :class:`~stabletail.sgd.harvest.LocalShard` (all rows), and
:func:`stabletail.sgd.distributed.harvest_distributed` with a shard whose hooks
combine the ranks' accumulators after each pass.

Passes: the first computes this shard's minibatch gradients and the statistics
that need no full gradient (:class:`~stabletail.sgd._torchstats.PrePass`);
with ``full_gradient="exact"`` a pass over all the data gives the full
gradient; the noise pass (:class:`~stabletail.sgd._noisepass.MainPass`) runs
over the kept gradients, or recomputes them when they did not fit in
``buffer_bytes`` (then the losses of both passes are compared).
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..._validation import check_random_state
from .. import _torchstats, protocols
from .._noisepass import MainPass
from ..gaussianity import jarque_bera_from_sums
from .batches import Batches, check_loss_value, check_mean_reduction, to_device
from .options import HarvestOptions, trainable
from .perexample import PerExampleGradients, check_model
from .perexample import chunk_rows as vmap_rows
from .result import HarvestResult
from .shard import LocalShard
from .state import give_workspace, model_state, take_workspace, workspace
from .sums import NoiseSums
from .table import Layout, direction_rows, empty_tail_table, gaussianity_rows, tail_table

__all__ = ["run"]

# Rows handed together to the statistics: at least MIN_CHUNK_ROWS (each call streams the
# d-vector accumulators once, so a chunk needs enough rows to amortise that) or CHUNK_BYTES;
# kept rows go to the CPU kernels all at once (they need no temporaries).
CHUNK_BYTES = 1 << 22
MIN_CHUNK_ROWS = 16
# d-vectors of accumulators: 4 first-pass (s1, s2, spread, sd), 7 noise-pass, 1 spare
N_ACCUMULATORS = 16


class _Gradients:
    """Flat minibatch gradients of ``loss_fn(model(x), y)`` written into rows."""

    def __init__(self, model: torch.nn.Module, loss_fn: Callable[[Any, Any], Any], params: list[torch.Tensor],
                 device: torch.device, dtype: torch.dtype, eval_mode: bool, seed_base: int, bar: Any) -> None:
        self.model, self.loss_fn, self.params = model, loss_fn, params
        self.device, self.dtype = device, dtype
        self.eval_mode, self.seed_base, self.bar = eval_mode, seed_base, bar

    def into(self, x: Any, y: Any, row: torch.Tensor, i: int | None) -> torch.Tensor:
        """Write the gradient of minibatch ``i`` (None: not a numbered minibatch) into ``row``; its loss."""
        if i is not None and not self.eval_mode:  # same dropout draws in both passes
            torch.default_generator.manual_seed(self.seed_base + i)
            if self.device.type != "cpu":
                getattr(torch, self.device.type).manual_seed(self.seed_base + i)
        x, y = to_device(x, self.device, self.dtype), to_device(y, self.device, self.dtype)
        loss = self.loss_fn(self.model(x), y)
        check_loss_value(loss)
        grads = torch.autograd.grad(loss, self.params, allow_unused=True)
        flat = [(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, self.params)]
        torch.cat(flat, out=row)
        if self.bar is not None:
            self.bar.update(1)
        return loss.detach()


def _exact_full_gradient(gradients: _Gradients, batches: Batches, shard: LocalShard, d: int) -> torch.Tensor:
    """The gradient of the mean loss over every example (chunks weighted by their size), float64.

    Raises
    ------
    ValueError
        When the loss is a sum over the batch (the weights would be wrong) or the
        pass finds no data (an iterator exhausted by the minibatch passes).
    """
    device, dtype = gradients.device, gradients.dtype
    acc = torch.zeros(d, dtype=torch.float64, device=device)
    total = torch.zeros((), dtype=torch.float64, device=device)
    row = torch.empty(d, dtype=dtype, device=device)
    for j, (x, y) in enumerate(batches.full()):
        if j == 0:
            check_mean_reduction(gradients.model, gradients.loss_fn, to_device(x, device, dtype),
                                 to_device(y, device, dtype), gradients.eval_mode)
        if j % shard.world_size == shard.rank:
            m = int(x.shape[0])
            gradients.into(x, y, row, None)
            acc += row.to(torch.float64) * m
            total += m
    total = shard.all_sum(total)
    if float(total) == 0.0:
        raise ValueError(
            "full_gradient='exact' found no data in its pass over data: an iterator "
            "or generator is exhausted after the minibatch passes; pass a list or "
            "a re-iterable loader, or full_gradient='mean'"
        )
    return shard.all_sum(acc) / total


def _needs(opts: HarvestOptions) -> frozenset[str]:
    """The built-in accumulators the chosen protocols read, ``"directions"`` when asked for and
    ``"moments"`` (the power sums of Jarque-Bera) when that test is."""
    needs = set().union(*(protocols.get(name).needs for name in opts.protocols))
    needs |= {"directions"} if opts.directions else set()
    needs |= {"moments"} if "jarque_bera" in opts.gaussianity_tests else set()
    return frozenset(needs)


def _extra_accumulators(opts: HarvestOptions, k: int, offsets: Sequence[int],
                        device: torch.device) -> dict[str, Any]:
    """The chosen protocols' own accumulators, by protocol name."""
    k1, k2 = _torchstats.row_blocks(k)
    out = {}
    for name in opts.protocols:
        make = protocols.get(name).accumulator
        if make is not None:
            out[name] = make(k=k, offsets=list(offsets), d=offsets[-1], device=device, eps=opts.eps, k1=k1,
                             rows_used=k1 * k2 if k1 >= 2 else 0)
    return out


def _gauss_index(
    zero: torch.Tensor, offsets: Sequence[int], m: int | None, rng: np.random.Generator, device: torch.device
) -> torch.Tensor | None:
    """Up to ``m`` seeded coordinates per layer with noise (all: ``m=None``), to gather for the
    order-statistic Gaussianity tests."""
    if m == 0:
        return None
    zero_np = zero.cpu().numpy()
    picks = []
    for a, b in zip(offsets[:-1], offsets[1:]):
        nz = a + np.flatnonzero(~zero_np[a:b])
        if nz.size:
            picks.append(nz if m is None or m >= nz.size else np.sort(rng.choice(nz, m, replace=False)))
    if not picks:
        return None
    return torch.from_numpy(np.concatenate(picks)).to(device)


def run(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], Any],
    data: Any,
    batch_size: int | None,
    options: HarvestOptions,
    shard: LocalShard,
) -> HarvestResult:
    """The harvest of the minibatch rows of ``shard`` (all of them for :class:`LocalShard`).

    The core that :func:`harvest` and :func:`~stabletail.sgd.distributed.harvest_distributed` run.

    Parameters
    ----------
    model : torch.nn.Module
        The model, at the parameters to harvest (its state is restored on exit).
    loss_fn : callable
        ``loss_fn(model(x), y) -> scalar tensor`` (mean over the minibatch).
    data : tuple of tensors, sequence of batches or iterable
        As for :func:`harvest`.
    batch_size : int or None
        Minibatch size when ``data`` is a tuple of tensors.
    options : HarvestOptions
        Everything else.
    shard : LocalShard
        Which minibatch rows this process computes and how shards combine their sums.

    Returns
    -------
    HarvestResult
    """
    t0 = time.perf_counter()
    opts = options
    names, params, device, dtype = trainable(model)
    shard.device = device
    random_state = shard.seed(opts.random_state)
    rng = check_random_state(random_state)
    offsets = [0]
    for p in params:
        offsets.append(offsets[-1] + p.numel())
    d = offsets[-1]
    layout = Layout(names, offsets)

    batches = Batches(data, batch_size, opts.n_batches, opts.sampling, rng)  # the same draws on every shard
    if batches.one_shot and opts.full_gradient == "exact":
        raise ValueError(
            "full_gradient='exact' needs a second pass over data, but data is a one-shot iterator "
            "(a generator?): pass a list or a re-iterable loader, or full_gradient='mean'"
        )
    per_example = batches.examples is not None
    if per_example:
        check_model(model, opts.eval_mode)
    k = batches.k
    start, stop = shard.rows(k)
    n_own = stop - start
    most = max(b - a for a, b in (shard.rows(k, r) for r in range(shard.world_size)))
    itemsize = torch.empty((), dtype=dtype).element_size()
    keep = opts.store or most * d * itemsize <= opts.buffer_bytes
    kernels = _torchstats.uses_kernels(device, dtype)
    chunk_rows = n_own if keep and kernels else max(MIN_CHUNK_ROWS, CHUNK_BYTES // max(1, d * itemsize))
    chunk_rows = max(1, min(max(n_own, 1), chunk_rows))
    seed_base = int(rng.integers(2**62))
    exact = opts.full_gradient == "exact"
    n_passes = (1 if keep else 2) + exact
    progress = opts.progress
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())

    with contextlib.ExitStack() as stack:
        bar = None
        if progress:
            from tqdm.auto import tqdm

            total = n_own * (1 if keep else 2) + exact
            bar = stack.enter_context(tqdm(total=total, desc="harvest", leave=False))
        acc_ws = take_workspace("acc", N_ACCUMULATORS * d, device, torch.float64)
        arena = _torchstats.Arena(acc_ws, device)
        # this shard's rows: all of them when kept, one reused chunk when streaming
        rows_ws = stack.enter_context(workspace("rows", (n_own if keep else chunk_rows) * d, device, dtype))
        buf = rows_ws[: (n_own if keep else chunk_rows) * d].view(-1, d)
        if kernels:  # the kernels' parallel regions use as many threads as torch
            stack.enter_context(_torchstats.kernel_threads(torch.get_num_threads()))
        stack.enter_context(model_state(model, opts.eval_mode, device))
        gradients = _Gradients(model, loss_fn, params, device, dtype, opts.eval_mode, seed_base, bar)
        if per_example:
            examples = PerExampleGradients(model, loss_fn, names, params, device, dtype, bar)
            per_call = vmap_rows(d, itemsize, opts.buffer_bytes, chunk_rows) if opts.eval_mode else 1
            ex_index = torch.from_numpy(batches.examples)
            x_all, y_all = batches.tensors  # type: ignore[misc]

        def example_rows_pass(sink: Callable[[torch.Tensor, int], None]) -> torch.Tensor:
            """:func:`rows_pass` of single examples: vmap calls of ``per_call`` examples fill each chunk."""
            own_losses = []
            for c0 in range(start, stop, chunk_rows):
                c1 = min(stop, c0 + chunk_rows)
                for a in range(c0, c1, per_call):
                    b = min(c1, a + per_call)
                    slot = a - start if keep else a - c0
                    if opts.eval_mode:
                        idx = ex_index[a:b]
                        own_losses.append(examples.into(x_all[idx], y_all[idx], buf[slot : slot + b - a]))
                    else:  # dropout seeded per row as for minibatches: one example at a time
                        i = int(batches.examples[a])  # type: ignore[index]
                        loss = gradients.into(x_all[i : i + 1], y_all[i : i + 1], buf[slot], a)
                        own_losses.append(loss.reshape(1))
                sink(buf[c0 - start : c1 - start] if keep else buf[: c1 - c0], c0)
            pass_losses = torch.zeros(k, dtype=torch.float64, device=device)
            if own_losses:
                pass_losses[start:stop] = torch.cat(own_losses).to(torch.float64)
            return pass_losses

        def rows_pass(sink: Callable[[torch.Tensor, int], None]) -> torch.Tensor:
            """One pass over this shard's rows; ``sink(rows, first_row)`` per chunk of rows; the losses."""
            if per_example:
                return example_rows_pass(sink)
            own_losses = []
            c0 = start
            for i, (x, y) in enumerate(batches):
                if i < start:
                    continue
                if i >= stop:
                    break
                slot = i - start if keep else i - c0
                own_losses.append(gradients.into(x, y, buf[slot], i))
                if i + 1 - c0 == chunk_rows or i + 1 == stop:
                    sink(buf[c0 - start : i + 1 - start] if keep else buf[: i + 1 - c0], c0)
                    c0 = i + 1
            pass_losses = torch.zeros(k, dtype=torch.float64, device=device)
            if own_losses:
                pass_losses[start:stop] = torch.stack(own_losses).to(torch.float64)
            return pass_losses

        pre = _torchstats.PrePass(k, offsets, dtype, device, arena)
        losses = shard.all_sum(rows_pass(pre.update))
        zero = shard.combine_first_pass(pre, n_own)
        sq = pre.sq_norms
        n_bad = int(k - (torch.isfinite(sq.sum(1)) & torch.isfinite(losses)).sum().item())
        if exact and n_bad == 0:
            g_full64 = _exact_full_gradient(gradients, batches, shard, d)
        else:
            g_full64 = pre.mean()
        if not torch.isfinite(g_full64).all():
            n_bad = max(n_bad, 1)
        sd = pre.std(arena.zeros(d))
        status, message, main, noise = "ok", "", None, None
        if n_bad:
            status = "nonfinite"
            message = f"{n_bad} of {k} minibatch gradients or losses are not finite (diverged?)"
        else:
            inv_sd = torch.where(zero | (sd == 0), 0.0, 1.0 / sd)
            nz_index = torch.nonzero(~zero).reshape(-1) if bool(zero.any()) else None
            tests = opts.gaussianity_tests
            sampled = [t for t in tests if t != "jarque_bera"]  # Jarque-Bera: every coordinate, from sums
            gauss_index = _gauss_index(zero, offsets, opts.n_gaussianity, rng, device) if sampled else None
            norms = torch.cat([sq, sq.sum(1, keepdim=True)], 1).sqrt()
            inv_norms = torch.where(norms > 0, 1.0 / norms, 0.0)
            extra = _extra_accumulators(opts, k, offsets, device)
            main = MainPass(k, offsets, g_full64.to(dtype), inv_sd, nz_index, _needs(opts),
                                       opts.eps, gauss_index, inv_norms, arena, extra)
            if keep:
                for c0 in range(0, n_own, chunk_rows):
                    main.update(buf[c0 : c0 + chunk_rows], start + c0)
            else:
                losses2 = rows_pass(main.update)
                own = slice(start, stop)
                if shard.any_shard(not torch.allclose(losses[own], losses2[own], rtol=1e-5, atol=0.0)):
                    status = "inconsistent_batches"
                    message = "the two passes over data saw different minibatches (reshuffling loader?)"
            shard.combine_noise_pass(main)
            if opts.store:  # the rows now hold the noise
                noise = buf.to(torch.float64, copy=True).cpu().numpy()  # not the workspace

    grad_norms = torch.cat([sq, sq.sum(1, keepdim=True)], 1).sqrt().cpu().numpy()
    full_np = g_full64.cpu().numpy()
    zero_np = zero.cpu().numpy()
    layers_tab = [
        {
            "layer": name,
            "shape": tuple(params[i].shape) if i < len(params) else (d,),
            "offset": a,
            "n_params": b - a,
            "n_zero": int(zero_np[a:b].sum()),
            "full_grad_norm": float(np.linalg.norm(full_np[a:b])),
        }
        for i, (name, (a, b)) in enumerate(zip(layout.names, layout.ranges))
    ]
    common = {"level": opts.level, "n_batches": k, "batch_size": batches.batch_size}
    coord_alpha = coord_jb = None
    gauss_rows: list[dict[str, Any]] = []
    dir_rows: list[dict[str, Any]] = []
    if main is None:
        table = empty_tail_table(opts.protocols, layers_tab, opts.per_coordinate_estimator, common, status)
        noise_norms = np.full_like(grad_norms, np.nan)
    else:
        sums = NoiseSums(main, layout, zero_np, sd, level=opts.level, n_coordinates=opts.n_coordinates,
                         per_coordinate_estimator=opts.per_coordinate_estimator, rng=rng)
        table, states = tail_table(sums, opts.protocols, common, status)
        noise_norms = sums.noise_norms
        coord_alpha = (states.get("per_coordinate") or {}).get("alpha")
        if opts.gaussianity_tests:
            seed = int(random_state) if isinstance(random_state, (int, np.integer)) else 0
            gauss_rows = gaussianity_rows(main, layout, zero_np, opts.gaussianity_tests, opts.level, seed)
            if opts.store and main.moments:
                coord_jb = np.stack(jarque_bera_from_sums(main.power_sums.cpu().numpy(), k))
                coord_jb[:, zero_np] = np.nan
        if opts.directions:
            dir_rows = direction_rows(main, layout, grad_norms)
    give_workspace("acc", acc_ws)  # nothing returned below refers to it
    return HarvestResult(
        status=status,
        message=message,
        table=tuple(r for r in table if r["zeros"] in opts.zeros),
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
        per_coordinate_alpha=coord_alpha if opts.store else None,
        seconds=time.perf_counter() - t0,
        examples=None if batches.examples is None else batches.examples.copy(),
        per_coordinate_jarque_bera=coord_jb,
    )
