"""Serial engine vs Ray engine (local instance, 2 workers) on a small study grid.

Runs the same grid with both engines, alternating, ``--repeats`` times, each run
into a fresh output directory, checks that the result tables are identical, and
prints wall times (medians) and the speed-up. Not part of the test suite.

Usage (``medium``: about 6 minutes on 2 cores)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/scaling.py [--grid small|medium] [--repeats 3]

Timings:

- ``serial``: :func:`run_study` with the default engine in this process;
- ``ray``: :func:`run_study` with the Ray engine on a local instance that is
  already running (2 CPUs, so 2 cells at once); its workers start cold in
  every repeat (a fresh instance per repeat), so worker start-up (importing torch
  and stabletail) is included;
- ``ray warm``: the same grid once more on the same instance, whose workers
  are then running and warm (what every grid after the first costs on a
  long-lived cluster);
- ``ray_init``: the seconds ``ray.init`` itself took (paid once per study run
  when no instance is running, as with ``stabletail study --engine ray``).

The summed seconds of the cells themselves (from ``run.json``) tell whether the
machine had a spare core: on an idle 2-core machine they are about the same for
both engines; when other work saturates the cores, each Ray cell takes up to
twice as long and the wall-clock gain disappears.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from stabletail.sgd.studies import run_study
from stabletail.sgd.studies.engines import ray_engine

# Two grids on the embedded digits, float64, 8 cells each (with --seeds 2 / 4):
GRIDS = {
    # 784-100-10 ReLU nets, learning rates 0.01 and 0.1, harvested at epochs 0 and 3: about 1.5 s per cell
    "small": ("learning-rate", 4, {"n_train": 4000, "n_test": 1000, "batch_size": 500, "checkpoints": [0, 3],
                                   "lr": [0.01, 0.1], "dtype": "float64"}),
    # FCNs of width 256 and 1024, depth 2 and 3: 2 to 22 s per cell (about 8 s on average)
    "medium": ("architecture", 2, {"n_train": 4000, "n_test": 1000, "batch_size": 500, "checkpoints": [0, 3],
                                   "width": [256, 1024], "depth": [2, 3], "dtype": "float64"}),
}


def _run(study: str, grid: dict, out: Path, engine, seeds: int):
    t = time.perf_counter()
    run = run_study(study, out, overrides=grid, seeds=seeds, progress=False, figures=False, engine=engine)
    return time.perf_counter() - t, run


def _cell_seconds(run) -> float:
    """Sum of the cells' own wall times (as recorded in run.json)."""
    return float(json.loads(run.metadata.read_text())["timings"]["cells_seconds_total"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--grid", choices=sorted(GRIDS), default="medium")
    args = ap.parse_args()
    study, seeds, grid = GRIDS[args.grid]
    torch.set_num_threads(1)
    import ray

    names = ("serial", "ray", "ray_warm", "ray_init", "serial_cells", "ray_cells", "ray_warm_cells")
    times: dict[str, list[float]] = {k: [] for k in names}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # data set and numba caches warm for both engines
        _run(study, {**grid, "checkpoints": [0]}, root / "warm", None, 1)
        n_cells = 0
        for i in range(args.repeats):
            dt, serial = _run(study, grid, root / f"serial{i}", None, seeds)
            times["serial"].append(dt)
            t = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            times["ray_init"].append(time.perf_counter() - t)
            try:
                dt, par = _run(study, grid, root / f"ray{i}", ray_engine, seeds)
                # the same grid again on the same instance: workers already started and warm
                dt_warm, warm = _run(study, grid, root / f"raywarm{i}", ray_engine, seeds)
            finally:
                ray.shutdown()
            times["ray"].append(dt)
            times["ray_warm"].append(dt_warm)
            times["ray_warm_cells"].append(_cell_seconds(warm))
            times["serial_cells"].append(_cell_seconds(serial))
            times["ray_cells"].append(_cell_seconds(par))
            same = serial.table.read_text() == par.table.read_text() == warm.table.read_text()
            n_cells = serial.n_cells
            print(f"repeat {i}: serial {times['serial'][-1]:.1f} s, ray {dt:.1f} s "
                  f"(+ init {times['ray_init'][-1]:.1f} s), ray warm {dt_warm:.1f} s, "
                  f"tables identical: {same}; "
                  f"cell seconds summed: "
                  f"serial {times['serial_cells'][-1]:.1f}, ray {times['ray_cells'][-1]:.1f}, "
                  f"ray warm {times['ray_warm_cells'][-1]:.1f}; "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
            if not same or par.n_failed or serial.n_failed or warm.n_failed:
                raise SystemExit("the engines disagree or a cell failed")
    med = {k: statistics.median(v) for k, v in times.items()}
    print()
    print(f"grid {args.grid!r}: study {study!r}, {n_cells} cells ({grid}, {seeds} seeds), "
          f"{args.repeats} repeats, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("| engine | median wall (s) | speed-up vs serial | cells' own seconds, summed (median) |")
    print("|---|---|---|---|")
    print(f"| serial | {med['serial']:.1f} | 1.00 | {med['serial_cells']:.1f} |")
    print(f"| ray, 2 workers (instance running) | {med['ray']:.1f} | {med['serial'] / med['ray']:.2f} "
          f"| {med['ray_cells']:.1f} |")
    print(f"| ray, 2 warm workers (grid run again) | {med['ray_warm']:.1f} "
          f"| {med['serial'] / med['ray_warm']:.2f} "
          f"| {med['ray_warm_cells']:.1f} |")
    total = med["ray"] + med["ray_init"]
    print(f"| ray, 2 workers, incl. ray.init ({med['ray_init']:.1f} s) | {total:.1f} "
          f"| {med['serial'] / total:.2f} | |")


if __name__ == "__main__":
    main()
