"""What a harvest borrows and gives back: the model's state and the reusable buffers."""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import torch

__all__ = ["model_state", "workspace", "take_workspace", "give_workspace"]


@contextlib.contextmanager
def model_state(model: torch.nn.Module, eval_mode: bool, device: torch.device) -> Iterator[None]:
    """Run the block with ``model`` in eval (or train) mode, grad enabled, on a forked RNG.

    On exit, also by an exception, every module's train/eval flag, every buffer
    (batch-norm running statistics), the global grad mode and the RNG state of
    the CPU (and of ``device``) are what they were on entry.
    """
    modes = [(m, m.training) for m in model.modules()]
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
    rng_devices = [device] if device.type != "cpu" else []
    try:
        model.train(not eval_mode)
        with torch.random.fork_rng(devices=rng_devices, device_type=device.type if rng_devices else None):
            with torch.enable_grad():
                yield
    finally:
        for mod, flag in modes:
            mod.training = flag
        with torch.no_grad():
            for b, saved in saved_buffers:
                b.copy_(saved)


# Workspaces for the K x d rows and for the float64 d-vector accumulators are kept between
# harvests (each up to KEEP_BYTES) so that a monitor harvesting every N steps does not touch
# fresh memory (page faults) each time; see docs/sgd.md.
KEEP_BYTES = 1 << 28
_workspaces: dict[tuple[str, str, torch.dtype], torch.Tensor] = {}
_workspace_lock = threading.Lock()


def take_workspace(role: str, n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A 1-D tensor of at least ``n`` elements for ``role`` (reused when one is free)."""
    with _workspace_lock:
        ws = _workspaces.pop((role, str(device), dtype), None)
    if ws is None or ws.numel() < n:
        ws = torch.empty(n, dtype=dtype, device=device)
    return ws


def give_workspace(role: str, ws: torch.Tensor) -> None:
    """Hand ``ws`` back for the next harvest of this process (CPU buffers up to :data:`KEEP_BYTES`)."""
    # CPU only: torch's CUDA allocator already keeps freed blocks, and device memory is scarcer
    if ws.device.type == "cpu" and ws.numel() * ws.element_size() <= KEEP_BYTES:
        with _workspace_lock:
            _workspaces[(role, str(ws.device), ws.dtype)] = ws


@contextlib.contextmanager
def workspace(role: str, n: int, device: torch.device, dtype: torch.dtype) -> Iterator[torch.Tensor]:
    """:func:`take_workspace` for the block; given back on exit (also by an exception)."""
    ws = take_workspace(role, n, device, dtype)
    try:
        yield ws
    finally:
        give_workspace(role, ws)
