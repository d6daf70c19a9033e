"""The architecture study's CNN recipe trains on the embedded digits (the quick preset's CNN cells)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from stabletail.sgd.studies import make_cells, resolve_config  # noqa: E402
from stabletail.sgd.studies.experiment import run_cell  # noqa: E402

pytestmark = pytest.mark.torch


def _cnn_params(**changes):
    cfg = resolve_config("architecture", "quick")
    (cell, *_) = [c for c in make_cells("architecture", cfg) if c.params["model"] == "alexnet"]
    return {**cell.params, **changes}


def test_quick_preset_has_cnn_cells_beside_fcn():
    cells = make_cells("architecture", resolve_config("architecture", "quick"))
    kinds = {c.params["model"] for c in cells}
    assert kinds == {"fcn", "alexnet"}
    assert all(c.params["harvest_batch_sizes"] in (None, [500]) for c in cells)  # noise at b = 500 for both
    fcn = [c for c in cells if c.params["model"] == "fcn"]
    assert len(fcn) == 4 * 3 * 2 and all(c.params["lr"] == 0.1 and c.params["batch_size"] == 500 for c in fcn)
    # dropping the extra grid leaves the FCN grid, with the same cell keys
    only_fcn = make_cells("architecture", resolve_config("architecture", "quick", {"extra_grids": []}))
    assert [c.key for c in only_fcn] == [c.key for c in fcn]


def test_cnn_recipe_learns_in_two_epochs():
    """Seed 0, width 32, the preset's recipe (b = 50, lr 0.01, He init, no dropout), 2 epochs (160 steps).

    Chance is 0.10 (10 balanced classes; 1,000 test images, so a binomial standard error of
    0.0095 at chance): 0.5 is more than 40 standard errors above it (the run reaches 0.86;
    seed 1 reaches 0.80).
    """
    params = _cnn_params(width=32, checkpoints=[2], splits=["test"])
    rows = run_cell(params, seed=0)
    assert rows and {r["epoch"] for r in rows} == {2}
    assert rows[0]["test_acc"] > 0.5 and rows[0]["train_acc"] > 0.5
    assert rows[0]["step"] == 2 * 4000 // 50
    alpha = [r for r in rows if r["measure"] == "alpha" and r["layer"] == "model"]
    assert alpha and all(r["n_batches"] == 2 for r in alpha)  # test noise at b = 500: K = 2


def test_bad_extra_grid():
    with pytest.raises(ValueError, match="extra_grids: unknown option 'bogus'"):
        resolve_config("architecture", "quick", {"extra_grids": [{"bogus": 1}]})
    with pytest.raises(ValueError, match="dropout .* must be a number in \\[0, 1\\)"):
        resolve_config("architecture", "quick", {"extra_grids": [{"dropout": 1.0}]})
    with pytest.raises(ValueError, match="extra_grids must be a list of objects"):
        resolve_config("architecture", "quick", {"extra_grids": [3]})
