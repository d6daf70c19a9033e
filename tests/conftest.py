"""Shared test configuration.

Hypothesis profiles: ``ci`` (fast, the default) and ``dev`` (thorough); pick one
with ``HYPOTHESIS_PROFILE=dev``. torch, when present, is pinned to one thread:
on two cores its default thread pool collapses when anything else runs.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

os.environ.setdefault("OMP_NUM_THREADS", "1")

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

try:  # torch is optional (the sgd extra)
    import torch
except ImportError:  # pragma: no cover
    torch = None
else:
    torch.set_num_threads(1)
