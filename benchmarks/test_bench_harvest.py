"""Cost of harvesting gradient noise, against plain forward+backward passes (same run).

Run (torch is pinned to one thread by benchmarks/conftest.py)::

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest benchmarks/test_bench_harvest.py --benchmark-only \
        -m "not slow" -s

Peers, each on the same model, data, batch size and K:

- ``plain``: K x (``zero_grad``; forward; ``loss.backward()``) -- the floor;
- ``one_pass``: :func:`stabletail.sgd.harvest` keeping the K x d gradients on the
  device (all four protocols, zero-noise variants, directions; Gaussianity off:
  it is a host-side test of a coordinate subset whose cost does not grow with K or d);
- ``two_pass``: the same harvest streaming in two passes (``buffer_bytes=0``).

``test_ratios`` interleaves the three peers round by round (the machine is
shared, so a drift in load hits all three alike) and reports the median over
rounds of ``one_pass / plain`` and ``two_pass / plain`` (targets 1.15 and 2.3)
in ``extra_info`` and on stdout, for three models: the 784-100-10 MLP, a deeper
and wider fully connected net (``fcn``, 784-256-256-256-10) and a small CNN; with
torch on one thread, and for the two fully connected nets also on two threads
(every peer alike; the harvest's own statistics use as many numba threads as torch
has, for chunks of at least 2**22 elements, and never overlap with torch's passes). The slow
``test_ten_million_parameters`` runs a harvest of a 1.16e7-parameter MLP in a subprocess and
reports its peak RSS.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

import pytest
from _timing import interleaved, median_ratios

torch = pytest.importorskip("torch")

from stabletail.sgd import harvest  # noqa: E402

pytestmark = pytest.mark.torch

_LF = torch.nn.functional.cross_entropy


def _mlp():
    # Simsekli et al.'s fully connected setting (MNIST input, batch 500): d = 79,510
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10)
    )


def _fcn():
    # a deeper and wider fully connected net of Simsekli et al.'s grid (depth 4, width 256): d = 335,114
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )


def _cnn():
    # a small AlexNet-style convnet on 28 x 28 input: d = 29,226
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10),
    )


# model, batch size, K, interleaved rounds
CASES = {"mlp": (_mlp, 500, 100, 9), "fcn": (_fcn, 500, 60, 5), "cnn": (_cnn, 500, 6, 5)}


def _setup(name):
    make, b, k, _ = CASES[name]
    torch.manual_seed(0)
    model = make()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(k * b, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (k * b,), generator=g)
    return model, x, y, b, k


def _runners(name):
    model, x, y, b, k = _setup(name)

    def plain():
        for i in range(k):
            model.zero_grad()
            _LF(model(x[i * b : (i + 1) * b]), y[i * b : (i + 1) * b]).backward()

    def one_pass():
        return harvest(model, _LF, (x, y), b, gaussianity_tests=None, progress=False)

    def two_pass():
        return harvest(model, _LF, (x, y), b, gaussianity_tests=None, buffer_bytes=0, progress=False)

    return {"plain": plain, "one_pass": one_pass, "two_pass": two_pass}


@pytest.mark.parametrize("peer", ["plain", "one_pass", "two_pass"])
@pytest.mark.parametrize("name", list(CASES))
def test_peer(benchmark, name, peer):
    benchmark.group = f"harvest-{name}"
    fn = _runners(name)[peer]
    fn()  # warm-up (allocator, lazy init)
    benchmark.pedantic(fn, rounds=5, iterations=1)


@pytest.mark.parametrize(("name", "threads"), [("mlp", 1), ("fcn", 1), ("cnn", 1), ("mlp", 2), ("fcn", 2)])
def test_ratios(benchmark, name, threads):
    benchmark.group = f"ratios-{name}-{threads}thr"
    times = interleaved(benchmark, _runners(name), CASES[name][3], threads=threads)
    ratios = median_ratios(times, ("one_pass", "two_pass"))
    benchmark.extra_info.update(ratios)
    benchmark.extra_info["plain_median_s"] = statistics.median(times["plain"])
    print(
        f"\n{name} ({threads} torch thread{'s' if threads > 1 else ''}): median plain "
        f"{statistics.median(times['plain']):.3f} s; "
        + ", ".join(f"{k} = {v:.3f}" for k, v in ratios.items())
    )


_BIG = r"""
import json, resource, sys, time, torch
torch.set_num_threads(1)
from stabletail.sgd import harvest
torch.manual_seed(0)
# 784 -> 4096 -> 2048 -> 10: 11,626,506 parameters
model = torch.nn.Sequential(torch.nn.Linear(784, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 2048),
                            torch.nn.ReLU(), torch.nn.Linear(2048, 10))
k, b = int(sys.argv[1]), 100
x = torch.randn(k * b, 784); y = torch.randint(0, 10, (k * b,))
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
res = harvest(model, torch.nn.functional.cross_entropy, (x, y), b, buffer_bytes=0, progress=False)
sec = time.perf_counter() - t0
print(json.dumps({"n_params": res.n_params, "k": k, "seconds": sec, "status": res.status,
                  "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "rss_before_gib": rss0 / 2**20, "n_passes": res.n_passes,
                  "alpha_pooled": res.alpha("pooled")}))
"""


@pytest.mark.slow
def test_ten_million_parameters(benchmark):
    """Two-pass streaming harvest of a 1.16e7-parameter model; peak RSS reported (limit 24 GiB)."""
    benchmark.group = "harvest-1e7"
    out: dict = {}

    def run():
        env = dict(os.environ, OMP_NUM_THREADS="1")
        proc = subprocess.run([sys.executable, "-c", _BIG, "20"], capture_output=True, text=True, env=env,
                              check=True)
        out.update(json.loads(proc.stdout.strip().splitlines()[-1]))

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(out)
    print("\n", out)
    assert out["status"] == "ok" and out["n_params"] > 10**7
    assert out["peak_rss_gib"] < 24.0


# ---------------------------------------------------------------- the default call
#
# ``harvest(model, loss, data, b)`` with every default: every protocol, both zero variants,
# directions, and the Gaussianity tests (Jarque-Bera on every non-zero-noise coordinate from
# the pass's power sums, Shapiro-Wilk and Anderson-Darling on 1,000 seeded coordinates per
# layer). Peers in the same rounds: ``plain`` (the K forward+backward passes), ``stripped``
# (the same call with ``gaussianity_tests=None``) and ``default_two_pass`` (the default call
# streaming, ``buffer_bytes=0``). Targets: default/plain <= 1.15 at b = 500 and <= 1.3 at
# b = 100; default_two_pass/plain <= 2.3 (MLP 784-100-10, K = 100, one torch thread).

DEFAULT_CASES = {"mlp-b500": (500, 100, 9), "mlp-b100": (100, 100, 9)}  # b, K, rounds


def _default_runners(b, k):
    torch.manual_seed(0)
    model = _mlp()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(k * b, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (k * b,), generator=g)

    def plain():
        for i in range(k):
            model.zero_grad()
            _LF(model(x[i * b : (i + 1) * b]), y[i * b : (i + 1) * b]).backward()

    return {
        "plain": plain,
        "default": lambda: harvest(model, _LF, (x, y), b, progress=False),
        "stripped": lambda: harvest(model, _LF, (x, y), b, gaussianity_tests=None, progress=False),
        "default_two_pass": lambda: harvest(model, _LF, (x, y), b, buffer_bytes=0, progress=False),
    }


@pytest.mark.parametrize("case", list(DEFAULT_CASES))
def test_default_call_ratios(benchmark, case):
    b, k, rounds = DEFAULT_CASES[case]
    benchmark.group = f"default-call-{case}"
    times = interleaved(benchmark, _default_runners(b, k), rounds, threads=1)
    ratios = median_ratios(times, ("default", "stripped", "default_two_pass"))
    ratios.update(median_ratios(times, ("default",), base="stripped"))
    benchmark.extra_info.update(ratios)
    benchmark.extra_info["plain_median_s"] = statistics.median(times["plain"])
    print(f"\n{case} (K = {k}, 1 torch thread): median plain {statistics.median(times['plain']):.3f} s; "
          + ", ".join(f"{key} = {v:.3f}" for key, v in ratios.items())
          + "; range default/plain "
          + f"{min(t / q for t, q in zip(times['default'], times['plain'])):.3f}-"
          + f"{max(t / q for t, q in zip(times['default'], times['plain'])):.3f}")


def test_default_call_fixed_overhead(benchmark):
    """The default call on a tiny model (4-3-2 MLP, K = 10, b = 4): its time minus the plain passes'."""
    benchmark.group = "default-call-tiny"
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    g = torch.Generator().manual_seed(1)
    x = torch.randn(40, 4, generator=g)
    y = torch.randint(0, 2, (40,), generator=g)

    def plain():
        for i in range(10):
            model.zero_grad()
            _LF(model(x[i * 4 : (i + 1) * 4]), y[i * 4 : (i + 1) * 4]).backward()

    run = {"plain": plain, "default": lambda: harvest(model, _LF, (x, y), 4, progress=False),
           "stripped": lambda: harvest(model, _LF, (x, y), 4, gaussianity_tests=None, progress=False)}
    times = interleaved(benchmark, run, 31, threads=1)
    over = {f"{p}-plain_ms": 1e3 * statistics.median(t - q for t, q in zip(times[p], times["plain"]))
            for p in ("default", "stripped")}
    benchmark.extra_info.update(over)
    print(f"\ntiny model: median plain {1e3 * statistics.median(times['plain']):.2f} ms; "
          + ", ".join(f"{key} = {v:.2f}" for key, v in over.items()))
