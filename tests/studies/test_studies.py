"""Tests of the study runner: a tiny grid end to end, resume, interruption, failures."""

from __future__ import annotations

import csv
import json
import math
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from stabletail.sgd.studies import (  # noqa: E402
    STUDIES,
    execute_cell,
    make_cells,
    resolve_config,
    run_study,
    summarize,
)

pytestmark = pytest.mark.torch

# A tiny grid on the embedded digits: 400 training images, b = 100 (K = 4 minibatches).
TINY = {"n_train": 400, "n_test": 200, "batch_size": 100, "checkpoints": [0, 1], "scaling": "standardize"}


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_study_catalog_is_complete():
    assert set(STUDIES) == {
        "activation",
        "learning-rate",
        "architecture",
        "gaussianity",
        "direction",
        "protocols",
        "batch-size",
    }
    for st in STUDIES.values():
        assert {"quick", "paper"} <= set(st.presets)
        assert st.presets["quick"]["dataset"] == ["mnist5k"]  # quick runs offline on the embedded digits
        assert "mnist5k" not in st.presets["paper"]["dataset"]
        for a in st.axes:
            assert isinstance(st.presets["paper"][a], list)


def test_resolve_config_and_cells():
    cfg = resolve_config("learning-rate", "quick", {"lr": 0.05, "checkpoints": [0, 3]}, seeds=2)
    assert cfg["lr"] == [0.05] and cfg["seeds"] == [0, 1] and cfg["checkpoints"] == [0, 3]
    cells = make_cells("learning-rate", resolve_config("learning-rate", "quick", seeds=[4, 7]))
    assert len(cells) == 5 * 2 and {c.seed for c in cells} == {4, 7}
    assert len({c.key for c in cells}) == len(cells)
    with pytest.raises(ValueError, match="unknown option 'bogus'.*options are"):
        resolve_config("activation", "quick", {"bogus": 1})
    with pytest.raises(ValueError, match="preset must be one of"):
        resolve_config("activation", "huge")
    with pytest.raises(ValueError, match="study must be one of"):
        resolve_config("nope")


def test_summarize_t_interval():
    rows = [{"g": "a", "v": 1.0}, {"g": "a", "v": 2.0}, {"g": "a", "v": 3.0}, {"g": "b", "v": 5.0}]
    out = {r["g"]: r for r in summarize(rows, ["g"], ["v"], level=0.95)}
    # mean 2, sd 1, n 3: half-width t_{0.975, 2} / sqrt(3) with t_{0.975, 2} = 4.302653 (t tables)
    assert out["a"]["v_mean"] == pytest.approx(2.0) and out["a"]["v_sd"] == pytest.approx(1.0)
    assert out["a"]["v_high"] - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert out["b"]["v_n"] == 1 and math.isnan(out["b"]["v_low"])


def test_cell_is_picklable_and_deterministic():
    cfg = resolve_config("protocols", "quick", TINY, seeds=[3])
    (cell,) = make_cells("protocols", cfg)
    clone = pickle.loads(pickle.dumps(cell))
    assert clone.key == cell.key
    a, b = execute_cell(cell), execute_cell(clone)
    assert a.status == b.status == "ok"
    assert a.rows == b.rows
    assert {r["protocol"] for r in a.rows} == {"pooled", "standardized", "per_coordinate", "norm"}
    assert {r["epoch"] for r in a.rows} == {0, 1}


def test_tiny_grid_end_to_end_and_resume(tmp_path):
    out = tmp_path / "run"
    run = run_study("protocols", out, overrides=TINY, seeds=2, progress=False)
    assert run.n_cells == 2 and run.n_skipped == 0 and run.n_failed == 0
    rows = read_csv(run.table)
    assert {r["seed"] for r in rows} == {"0", "1"}
    meta = json.loads(run.metadata.read_text())
    assert meta["seeds"] == [0, 1] and meta["device"] == "cpu" and meta["preset"] == "quick"
    assert meta["config"]["checkpoints"] == [0, 1] and "torch" in meta["versions"]
    assert meta["timings"]["cells_run_now"] == 2 and all(c["status"] == "ok" for c in meta["cells"])
    assert run.figures and all(f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in run.figures)
    # the summary is the seed average of the table, with the t interval (t_{0.975,1} = 12.7062)
    sel = [r for r in rows if r["layer"] == "model" and r["protocol"] == "pooled" and r["zeros"] == "included"
           and r["epoch"] == "1" and r["split"] == "train" and r["harvest_batch_size"] == "100"]
    vals = np.array([float(r["alpha"]) for r in sel])
    assert len(vals) == 2
    (srow,) = [r for r in read_csv(run.summary) if r["layer"] == "model" and r["protocol"] == "pooled"
               and r["zeros"] == "included" and r["epoch"] == "1" and r["split"] == "train"
               and r["harvest_batch_size"] == "100"]
    assert float(srow["alpha_mean"]) == pytest.approx(vals.mean(), rel=1e-12)
    half = 12.7062 * vals.std(ddof=1) / math.sqrt(2)
    assert float(srow["alpha_high"]) - vals.mean() == pytest.approx(half, rel=1e-4)

    cell_files = sorted((out / "cells").glob("*.json"))
    stamps = [f.stat().st_mtime_ns for f in cell_files]
    again = run_study("protocols", out, overrides=TINY, seeds=2, progress=False)
    assert again.n_skipped == 2 and again.n_failed == 0
    assert [f.stat().st_mtime_ns for f in cell_files] == stamps  # finished cells untouched
    assert read_csv(again.table) == rows
    # one more seed: only the new cell runs
    more = run_study("protocols", out, overrides=TINY, seeds=3, progress=False)
    assert more.n_skipped == 2 and {r["seed"] for r in read_csv(more.table)} == {"0", "1", "2"}


def test_interrupted_run_loses_nothing(tmp_path):
    out = tmp_path / "run"
    calls = []

    def interrupted_engine(cells, device, data_dir):
        for cell in cells:
            if calls:  # the second cell is "interrupted" (Ctrl-C) before it finishes
                raise KeyboardInterrupt
            calls.append(cell.key)
            yield execute_cell(cell, device, data_dir)

    overrides = {**TINY, "checkpoints": [0]}
    with pytest.raises(KeyboardInterrupt):
        run_study("protocols", out, overrides=overrides, seeds=3, progress=False, engine=interrupted_engine)
    files = list((out / "cells").iterdir())
    assert [f.name for f in files] == [f"{calls[0]}.json"]  # one finished cell, no temporary file
    assert json.loads(files[0].read_text())["status"] == "ok"
    resumed = run_study("protocols", out, overrides=overrides, seeds=3, progress=False)
    assert resumed.n_skipped == 1 and resumed.n_failed == 0
    assert {r["seed"] for r in read_csv(resumed.table)} == {"0", "1", "2"}


def test_failed_cell_is_recorded_and_retried(tmp_path):
    out = tmp_path / "run"
    overrides = {**TINY, "checkpoints": [0], "activation": ["relu", "no-such-activation"]}
    run = run_study("activation", out, overrides=overrides, seeds=1, progress=False, figures=False)
    assert run.n_failed == 1
    meta = json.loads(run.metadata.read_text())
    (bad,) = [c for c in meta["cells"] if c["status"] == "failed"]
    assert bad["activation"] == "no-such-activation" and "activation must be one of" in bad["error"]
    assert {r["activation"] for r in read_csv(run.table)} == {"relu"}
    again = run_study("activation", out, overrides=overrides, seeds=1, progress=False, figures=False)
    assert again.n_skipped == 1 and again.n_failed == 1  # the failed cell was tried again


def test_learning_rate_fresh_init_per_rate(tmp_path):
    overrides = {**TINY, "lr": [0.01, 0.1], "measures": ["direction"]}
    run = run_study(
        "learning-rate", tmp_path / "lr", overrides=overrides, seeds=1, progress=False, figures=False
    )
    rows = [r for r in read_csv(run.table) if r["layer"] == "model"]
    by = {(r["lr"], r["epoch"]): r for r in rows}
    # same seed -> the same initial model for every rate (a fresh start, not the previous rate's end)
    assert by[("0.01", "0")]["kappa"] == by[("0.1", "0")]["kappa"]
    assert by[("0.01", "0")]["train_loss"] == by[("0.1", "0")]["train_loss"]
    assert by[("0.01", "1")]["train_loss"] != by[("0.1", "1")]["train_loss"]
    assert int(by[("0.1", "1")]["step"]) == 4  # 400 images / b = 100, one epoch


def test_gaussianity_cell_rows():
    overrides = {**TINY, "checkpoints": [0], "harvest_batch_sizes": [25, 100],
                 "harvest_options": {"n_batches": 30, "sampling": "random", "n_gaussianity": 20}}
    (cell,) = make_cells("gaussianity", resolve_config("gaussianity", "quick", overrides, seeds=[0]))
    res = execute_cell(cell)
    assert res.status == "ok", res.error
    g = [r for r in res.rows if r["measure"] == "gaussianity" and r["layer"] == "model"]
    assert {(r["harvest_batch_size"], r["test"]) for r in g} == {
        (b, t) for b in (25, 100) for t in ("shapiro", "anderson", "jarque_bera")}
    assert all(0.0 <= r["fraction_not_rejected"] <= 1.0 and r["n_batches"] == 30 for r in g)


def test_unit_scaled_inputs_give_zero_noise_coordinates():
    # pixels in [0, 1]: background pixels are exactly 0 in every image of the subset, so the
    # first-layer weights they feed have exactly zero gradient and zero noise
    overrides = {**TINY, "checkpoints": [0], "scaling": "unit", "harvest_batch_sizes": [100]}
    (cell,) = make_cells("protocols", resolve_config("protocols", "quick", overrides, seeds=[0]))
    res = execute_cell(cell)
    assert res.status == "ok", res.error
    first = [r for r in res.rows if r["layer"] == "net.0.weight" and r["protocol"] == "pooled"]
    inc = next(r for r in first if r["zeros"] == "included")
    exc = next(r for r in first if r["zeros"] == "excluded")
    from stabletail.sgd.datasets import load_dataset

    x = load_dataset("mnist5k", scaling="unit").subset(400).x_train.reshape(400, -1)
    black = int((x == 0).all(axis=0).sum())  # pixels that are 0 in every training image
    assert black > 0
    # each feeds 100 first-layer weights with zero noise (dead units can add more)
    assert inc["n_zero"] >= 100 * black
    assert exc["n_coordinates"] == inc["n_coordinates"] - inc["n_zero"]


def test_diverged_training_is_recorded_not_raised():
    overrides = {**TINY, "checkpoints": [0, 2], "lr": [1e30]}
    (cell,) = make_cells("learning-rate", resolve_config("learning-rate", "quick", overrides, seeds=[0]))
    res = execute_cell(cell)
    assert res.status == "ok"
    assert res.rows[-1]["status"] == "diverged" and res.rows[-1]["epoch"] == 2
    # before training every row is a measurement (the tiny grid's K leaves the per-coordinate
    # and norm rows marked too_few_minibatches, which is no failure)
    first = [r["status"] for r in res.rows[:-1] if r["epoch"] == 0]
    assert all(s == "ok" or s.startswith("too_few") for s in first)


def test_batch_size_study_tiny_run(tmp_path):
    """b = 1 is harvested from single examples (the same numbers as a direct per-example harvest),
    the other sizes from random minibatches; every protocol and test has a row at every b; both
    figures are drawn."""
    overrides = {**TINY, "activation": ["relu"], "harvest_batch_sizes": [1, 4, 16],
                 "harvest_options": {"n_batches": 32, "sampling": "random", "n_gaussianity": 20}}
    run = run_study("batch-size", tmp_path / "bs", overrides=overrides, seeds=1, progress=False)
    assert run.n_failed == 0
    rows = read_csv(run.table)
    alpha = [r for r in rows
             if r["measure"] == "alpha" and r["layer"] == "model" and r["zeros"] == "included"]
    assert {(r["epoch"], r["harvest_batch_size"], r["protocol"]) for r in alpha} == {
        (e, b, p) for e in ("0", "1") for b in ("1", "4", "16")
        for p in ("pooled", "standardized", "per_coordinate", "norm")}
    assert all(r["n_batches"] == "32" and r["status"] == "ok" for r in alpha)
    gauss = [r for r in rows if r["measure"] == "gaussianity" and r["layer"] == "model"]
    assert {(r["harvest_batch_size"], r["test"]) for r in gauss} == {
        (b, t) for b in ("1", "4", "16") for t in ("shapiro", "anderson", "jarque_bera")}
    assert sorted(p.name for p in run.figures) == ["alpha_vs_batch_size.png",
                                                   "gaussian_fraction_vs_batch_size.png"]

    from stabletail.sgd import harvest
    from stabletail.sgd.datasets import load_dataset
    from stabletail.sgd.models import build_model

    data = load_dataset("mnist5k", scaling="standardize").subset(400, 200)
    x, y = data.tensors("train", "cpu", torch.float32)
    spec = {"kind": "fcn", "width": 100, "depth": 2, "activation": "relu", "bias": False}
    model = build_model(spec, data.input_shape, data.n_classes, seed=0)
    direct = harvest(model, torch.nn.functional.cross_entropy, (x, y), 1, sampling="per_example",
                     n_batches=32, random_state=0, gaussianity_tests=None, progress=False)
    for r in (r for r in alpha if r["epoch"] == "0" and r["harvest_batch_size"] == "1"):
        assert float(r["alpha"]) == pytest.approx(direct.alpha(r["protocol"]), rel=1e-12)
