"""Cost of a per-example harvest (``sampling="per_example"``) against plain passes (same run).

Run (torch is pinned to one thread by benchmarks/conftest.py)::

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest benchmarks/test_bench_perexample.py --benchmark-only -s

Peers, on the 784-100-10 MLP of ``test_bench_harvest.py`` (d = 79,510) and the same ``K``
examples:

- ``plain``: one plain pass over the ``K`` examples in batches of ``B`` (``zero_grad``;
  forward; ``loss.backward()``) -- the floor the goal is stated against (<= 3x);
- ``per_example``: :func:`stabletail.sgd.harvest` with ``sampling="per_example"`` (the
  ``K x d`` single-example gradients by ``torch.func.vmap``, kept; all four protocols, zero
  variants and directions; Gaussianity off, as in ``test_bench_harvest.py``);
- ``gradients``: the per-example gradients alone (the harvest's vmap calls into a ``K x d``
  buffer, no statistics): what the statistics add is ``per_example - gradients``;
- ``loop``: ``K`` single-example ``backward()`` passes, the naive way to the same rows.

``test_ratios`` interleaves the peers round by round and reports the median over rounds of
each peer's time over ``plain``'s.
"""

from __future__ import annotations

import statistics

import pytest
from _timing import interleaved, median_ratios

torch = pytest.importorskip("torch")

from stabletail.sgd import harvest  # noqa: E402
from stabletail.sgd.harvest.perexample import PerExampleGradients, chunk_rows  # noqa: E402

pytestmark = pytest.mark.torch

_LF = torch.nn.functional.cross_entropy
# examples K, batch size of the plain pass B, interleaved rounds
K, B, ROUNDS = 512, 128, 7


def _runners():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10)
    )
    g = torch.Generator().manual_seed(1)
    x = torch.randn(K, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (K,), generator=g)
    names = [n for n, _ in model.named_parameters()]
    params = list(model.parameters())
    d = sum(p.numel() for p in params)
    rows = torch.zeros(K, d)
    m = chunk_rows(d, 4, 1 << 30, K)  # examples per vmap call, as the harvest chooses
    grads = PerExampleGradients(model, _LF, names, params, torch.device("cpu"), torch.float32, None)

    def plain():
        for i in range(0, K, B):
            model.zero_grad()
            _LF(model(x[i : i + B]), y[i : i + B]).backward()

    def per_example():
        return harvest(model, _LF, (x, y), sampling="per_example", gaussianity_tests=None, progress=False)

    def gradients():
        with torch.no_grad():  # as in the harvest: vmap of grad enables grad inside
            for i in range(0, K, m):
                grads.into(x[i : i + m], y[i : i + m], rows[i : i + m])

    def loop():
        for i in range(K):
            model.zero_grad()
            _LF(model(x[i : i + 1]), y[i : i + 1]).backward()

    return {"plain": plain, "per_example": per_example, "gradients": gradients, "loop": loop}


@pytest.mark.parametrize("peer", ["plain", "per_example", "gradients", "loop"])
def test_peer(benchmark, peer):
    benchmark.group = "perexample-mlp"
    fn = _runners()[peer]
    fn()  # warm-up
    benchmark.pedantic(fn, rounds=5, iterations=1)


def test_ratios(benchmark):
    benchmark.group = "perexample-ratios"
    times = interleaved(benchmark, _runners(), ROUNDS)
    ratios = median_ratios(times, ("per_example", "gradients", "loop"))
    benchmark.extra_info.update(ratios)
    benchmark.extra_info["plain_median_s"] = statistics.median(times["plain"])
    print(f"\nper-example MLP, K = {K}, plain in batches of {B}: median plain "
          f"{statistics.median(times['plain']) * 1e3:.1f} ms; "
          + ", ".join(f"{k} = {v:.2f}" for k, v in ratios.items()))
