"""Peers timed round by round (each round runs every peer once), so that the load of a shared
machine falls on all of them alike; ratios are medians over rounds of per-round ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable


def interleaved(benchmark, run: dict[str, Callable[[], object]], rounds: int,
                threads: int | None = None) -> dict[str, list[float]]:
    """Seconds of every peer in each of ``rounds`` rounds (one warm-up round discarded); with
    ``threads`` torch runs on that many threads meanwhile."""
    times: dict[str, list[float]] = {p: [] for p in run}

    def one_round():
        for peer, fn in run.items():
            t0 = time.perf_counter()
            fn()
            times[peer].append(time.perf_counter() - t0)

    before = None
    if threads is not None:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(threads)
    try:
        one_round()  # warm-up (compilation, workspaces, caches), discarded
        for v in times.values():
            v.clear()
        benchmark.pedantic(one_round, rounds=rounds, iterations=1)
    finally:
        if before is not None:
            import torch

            torch.set_num_threads(before)
    return times


def median_ratios(times: dict[str, list[float]], peers: Iterable[str],
                  base: str = "plain") -> dict[str, float]:
    """``{"peer/base": median over rounds of peer time / base time}``."""
    return {f"{p}/{base}": statistics.median(t / q for t, q in zip(times[p], times[base])) for p in peers}
