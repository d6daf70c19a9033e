"""The one pytest configuration of the tests and the benchmarks.

``tests/`` is put on the import path so tests and benchmarks can ``import references``
(the independent references in ``tests/references.py``). Hypothesis profiles: ``ci``
(fast, the default) and ``dev`` (thorough); pick one with ``HYPOTHESIS_PROFILE=dev``.
torch, when present, is pinned to one thread: on two cores its default thread pool collapses
when anything else runs.
"""

from __future__ import annotations

import os
import sys

from hypothesis import HealthCheck, settings

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))

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
