"""A harvest leaves torch's thread count as it found it (process-wide state, DESIGN.md)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from stabletail.sgd import harvest  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("threads", [1, 2])
def test_harvest_keeps_torch_threads(threads):
    # the study cells after the first ran on 2 torch threads under OMP_NUM_THREADS=1 before
    # (float32 sums then differ in the last bits from a one-thread run)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(0)
        x, y = torch.randn(400, 784), torch.randint(0, 10, (400,))
        model = torch.nn.Sequential(torch.nn.Linear(784, 100, bias=False), torch.nn.ReLU(),
                                    torch.nn.Linear(100, 10, bias=False))
        harvest(model, torch.nn.functional.cross_entropy, (x, y), 100, progress=False)
        assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)
