"""Tests of the Ray engine for study grids: same tables as the serial engine, faults, resume.

One local Ray instance (2 CPUs) serves the whole module.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

torch = pytest.importorskip("torch")
ray = pytest.importorskip("ray")

from stabletail.sgd.studies import execute_cell, make_cells, resolve_config, run_study  # noqa: E402
from stabletail.sgd.studies.engines import ray_engine  # noqa: E402

pytestmark = pytest.mark.torch

# A tiny grid on the embedded digits, in float64: 400 training images, b = 100 (K = 4).
TINY = {"n_train": 400, "n_test": 200, "batch_size": 100, "checkpoints": [0, 1], "dtype": "float64"}
STUDY = "protocols"


def read(path):
    with open(path, newline="") as fh:
        return fh.read()


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return run_study(STUDY, out, overrides=TINY, seeds=4, progress=False, figures=False)


@pytest.mark.slow
def test_ray_grid_equals_serial_grid(local_ray, serial_run, tmp_path):
    run = run_study(STUDY, tmp_path / "ray", overrides=TINY, seeds=4, progress=False, figures=False,
                    engine="ray")
    assert run.n_cells == serial_run.n_cells == 4 and run.n_failed == 0
    # same seeds, CPU, float64, one thread on both sides: the tables agree to the last digit
    assert read(run.table) == read(serial_run.table)
    assert read(run.summary) == read(serial_run.summary)
    # resuming is engine-blind: the serial engine finds every cell done
    again = run_study(STUDY, tmp_path / "ray", overrides=TINY, seeds=4, progress=False, figures=False)
    assert again.n_skipped == 4
    assert read(again.table) == read(serial_run.table)


@pytest.mark.slow
def test_killed_worker_is_retried_and_dying_cell_is_recorded(local_ray, serial_run, tmp_path):
    cells = make_cells(STUDY, resolve_config(STUDY, "quick", TINY, seeds=4))
    victim, doomed = cells[0].key, cells[2].key
    marks = tmp_path / "attempts"
    marks.mkdir()

    def execute(cell, device, data_dir):
        # runs in a Ray worker: record the attempt and the worker's pid
        attempt = len(list(marks.glob(f"{cell.key}.*")))
        (marks / f"{cell.key}.{attempt}.{os.getpid()}").touch()
        if cell.key == doomed:  # this cell's worker dies on every attempt
            os.kill(os.getpid(), signal.SIGKILL)
        if cell.key == victim and attempt == 0:  # stays busy until the test kills it from outside
            time.sleep(120)
        return execute_cell(cell, device, data_dir)

    killed = []

    def killer():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = list(marks.glob(f"{victim}.0.*"))
            if found:
                pid = int(found[0].name.rsplit(".", 1)[1])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    engine = functools.partial(ray_engine, max_retries=1, execute=execute)
    run = run_study(STUDY, tmp_path / "faults", overrides=TINY, seeds=4, progress=False, figures=False,
                    engine=engine)
    thread.join(1)
    assert killed, "the victim cell never started"

    def attempts(key):
        return sorted(p.name for p in marks.glob(f"{key}.*"))

    assert len(attempts(victim)) == 2  # killed once, retried once, then finished
    assert len(attempts(doomed)) == 2  # max_retries=1: two attempts, both died
    assert run.n_cells == 4 and run.n_failed == 1
    status = {c["key"]: c for c in json.loads(read(run.metadata))["cells"]}
    assert status[doomed]["status"] == "failed"
    assert "died" in status[doomed]["error"] or "Crashed" in status[doomed]["error"]
    assert all(status[c.key]["status"] == "ok" for c in cells if c.key != doomed)

    # no row lost or duplicated: the table is the serial table without the doomed cell's rows
    def rows(path):
        with open(path, newline="") as fh:
            return list(csv.DictReader(fh))

    expected = [r for r in rows(serial_run.table) if int(r["seed"]) != cells[2].seed]
    assert rows(run.table) == expected

    # re-running (plain Ray engine) runs only the failed cell; the table is then complete
    again = run_study(STUDY, tmp_path / "faults", overrides=TINY, seeds=4, progress=False, figures=False,
                      engine=ray_engine)
    assert again.n_skipped == 3 and again.n_failed == 0
    assert read(again.table) == read(serial_run.table)


@pytest.mark.slow
def test_command_line_engine_ray(local_ray, serial_run, tmp_path, capsys):
    from stabletail.cli import main

    out = tmp_path / "cli"
    sets = [f"--set={k}={json.dumps(v)}" for k, v in TINY.items()]
    argv = [
        "study",
        STUDY,
        "--out",
        str(out),
        "--seeds",
        "4",
        "--engine",
        "ray",
        "--quiet",
        "--no-figures",
        *sets,
    ]
    assert main(argv) == 0
    assert "4 cells, 0 already done, 0 failed" in capsys.readouterr().out
    assert read(out / "results.csv") == read(serial_run.table)


def test_bad_options():
    with pytest.raises(ValueError, match="address needs engine='ray'"):
        run_study(STUDY, "unused", overrides=TINY, seeds=1, address="auto")
    with pytest.raises(ValueError, match="engine must be one of"):
        run_study(STUDY, "unused", overrides=TINY, seeds=1, engine="dask")
    cells = make_cells(STUDY, resolve_config(STUDY, "quick", TINY, seeds=1))
    with pytest.raises(ValueError, match="max_retries"):
        next(ray_engine(cells, "cpu", None, max_retries=-1))
    with pytest.raises(ValueError, match="num_cpus"):
        next(ray_engine(cells, "cpu", None, num_cpus=0))
    assert list(ray_engine([], "cpu", None)) == []  # nothing to do: Ray is not even started


def test_ray_is_imported_only_by_the_ray_engine():
    code = ("import sys, stabletail, stabletail.sgd, stabletail.sgd.studies, stabletail.cli, "
            "stabletail.sgd.studies.engines; print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "False"
