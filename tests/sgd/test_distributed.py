"""Tests of the data-parallel harvest: 2 CPU processes (gloo, launched by torchrun) vs one process.

This file is also the per-rank program: ``torchrun ... tests/sgd/test_distributed.py OUT``
runs :func:`_rank_main` on every rank.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

# Harvest configurations compared (each on its own seeded problem).
CONFIGS = {
    # K = 12: row blocks of 3, ranks hold rows [0, 6) and [6, 12); gradients kept (one pass)
    "kept": dict(n=96, batch=8, harvest=dict(n_gaussianity=10)),
    # K = 13 (prime: the 13th row is outside the row blocks), two streamed passes, exact full
    # gradient, a coordinate subset
    "streamed": dict(n=110, batch=8, harvest=dict(buffer_bytes=0, full_gradient="exact", n_coordinates=20,
                                                   n_gaussianity=10)),
    # a data loader (a list of 11 batches of 7): every rank iterates it and skips the others' batches
    "loader": dict(n=77, batch=7, harvest=dict(n_gaussianity=10)),
    # a NaN input in minibatch 8 (rank 1's share): every rank reports the diverged status
    "nonfinite": dict(n=96, batch=8, harvest=dict(n_gaussianity=10)),
    # K = 10 random draws of 8 examples, train mode with dropout (seeded per minibatch)
    "random": dict(n=90, batch=8, harvest=dict(sampling="random", n_batches=10, eval_mode=False,
                                               n_gaussianity=10, zeros=("excluded",))),
    # K = 40 single examples (sampling="per_example", vmap), streamed in two passes, exact full gradient
    "per_example": dict(n=90, batch=None, harvest=dict(sampling="per_example", n_batches=40, buffer_bytes=0,
                                                       full_gradient="exact", n_gaussianity=10)),
    # K = 33 single examples in train mode (dropout seeded per row), kept
    "per_example_dropout": dict(n=90, batch=None, harvest=dict(sampling="per_example", n_batches=33,
                                                               eval_mode=False, n_gaussianity=10)),
    # the protocol of docs/contributing.md (its own accumulator, summed over the ranks), K = 13 streamed
    "example": dict(n=110, batch=8, harvest=dict(buffer_bytes=0, n_gaussianity=10,
                                                  protocols=("pooled", "coordinate_blocks"))),
}


def _problem(name):
    """A small float64 classifier whose first input is always 0 (zero-noise coordinates)."""
    spec = CONFIGS[name]
    gen = torch.Generator().manual_seed(sorted(CONFIGS).index(name) + 11)
    x = torch.randn(spec["n"], 6, generator=gen, dtype=torch.float64)
    x[:, 0] = 0.0
    y = torch.randint(0, 3, (spec["n"],), generator=gen)
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Dropout(0.3), torch.nn.Linear(5, 3)
    ).to(torch.float64)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    if name == "nonfinite":
        x[66, 3] = float("nan")
    data = (x, y)
    if name == "loader":
        b = spec["batch"]
        data = [(x[i : i + b], y[i : i + b]) for i in range(0, spec["n"], b)]
    return model, torch.nn.functional.cross_entropy, data, spec["batch"], spec["harvest"]


def _rank_main(out_dir):
    torch.set_num_threads(1)
    from stabletail.sgd.distributed import harvest_distributed, init_distributed

    device = init_distributed("cpu")
    import torch.distributed as dist
    from test_protocol_registry import load_example

    # registers "coordinate_blocks" in this rank's process; each rank writes its own copy (two ranks
    # writing one file race: one may import it half-written)
    own = os.path.join(out_dir, f"example{dist.get_rank()}")
    os.makedirs(own, exist_ok=True)
    load_example(own)

    results = {}
    for name in CONFIGS:
        model, loss_fn, data, batch, opts = _problem(name)
        results[name] = harvest_distributed(model.to(device), loss_fn, data, batch, random_state=3, **opts)
    with open(os.path.join(out_dir, f"rank{dist.get_rank()}.pkl"), "wb") as fh:
        pickle.dump(results, fh)
    dist.destroy_process_group()


def _divisor_block(n):
    return max(b for b in range(1, math.isqrt(n) + 1) if n % b == 0)


def _same(a, b, path):
    """Equal up to float rounding: both sides compute the same float64 sums (a few hundred terms)
    in a different order, so their relative difference is ~1e-14; 1e-9 leaves a wide margin while
    a wrong or missing block, row or rank would change the results at the 1e-3 level or more."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, float) or isinstance(b, float):
        if math.isnan(a):
            assert math.isnan(b), path
        else:
            assert b == pytest.approx(a, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    if torchrun is None:
        pytest.skip("torchrun not found next to the Python executable")
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [torchrun, "--standalone", "--nnodes", "1", "--nproc-per-node", "2", __file__, str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    # the first failing rank's traceback is the cause: keep the head of the output as well as its tail
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[:6000] + "\n...\n" + proc.stderr[-2000:]
    results = []
    for r in range(2):
        with open(out / f"rank{r}.pkl", "rb") as fh:
            results.append(pickle.load(fh))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_two_gloo_ranks_equal_one_process(ranks, name, tmp_path):
    from stabletail.sgd import harvest

    model, loss_fn, data, batch, opts = _problem(name)
    if name == "example":
        from test_protocol_registry import load_example

        from stabletail.sgd.protocols import unregister

        load_example(tmp_path)
        try:
            ref = harvest(model, loss_fn, data, batch, random_state=3, progress=False, **opts)
        finally:
            unregister("coordinate_blocks")
        assert {r["protocol"] for r in ref.table} == {"pooled", "coordinate_blocks"}
    else:
        ref = harvest(model, loss_fn, data, batch, random_state=3, progress=False, **opts)
    assert ref.status == ("nonfinite" if name == "nonfinite" else "ok")
    if ref.status == "ok":
        assert ref.layers[0]["n_zero"] == 5  # the weights of the always-zero input: "excluded" rows differ
        assert len(ref.gaussianity) > 0
    for res in (r[name] for r in ranks):  # every rank holds the whole result
        assert res.status == ref.status and res.n_batches == ref.n_batches
        assert res.n_passes == ref.n_passes
        np.testing.assert_allclose(res.full_gradient, ref.full_gradient, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(res.batch_losses, ref.batch_losses, rtol=1e-12)
        np.testing.assert_allclose(res.grad_norms, ref.grad_norms, rtol=1e-9)
        np.testing.assert_allclose(res.noise_norms, ref.noise_norms, rtol=1e-9)
        assert res.n_nonfinite == ref.n_nonfinite
        assert len(res.table) == len(ref.table) and len(res.gaussianity) == len(ref.gaussianity)
        for a, b in zip(ref.table, res.table):
            _same(a, b, f"table[{a['layer']}, {a['protocol']}, {a['zeros']}]")
        for a, b in zip(ref.gaussianity, res.gaussianity):
            _same(a, b, f"gaussianity[{a['layer']}, {a['test']}]")
        for a, b in zip(ref.directions, res.directions):
            _same(a, b, f"directions[{a['layer']}]")
        for a, b in zip(ref.layers, res.layers):
            _same(a, b, f"layers[{a['layer']}]")


def test_pooled_blocks_straddle_the_rank_boundary():
    # the "kept" grid: K = 12 rows, rank 1 starts at row 6; the whole model has d = 53 coordinates.
    # A pooled block of the whole model straddles the two ranks: each rank adds its part to that
    # block's sum and the all-reduce completes it, which test_two_gloo_ranks_equal_one_process
    # exercises (not a vacuous comparison).
    from stabletail.sgd.distributed import rank_rows

    k, d = 12, 53
    assert rank_rows(k, 2, 0) == (0, 6) and rank_rows(k, 2, 1) == (6, 12)
    block = _divisor_block(k * d)
    assert (6 * d) % block != 0


def test_rank_rows_cover_the_partition_on_block_boundaries():
    from stabletail.sgd.distributed import rank_rows

    for k in range(1, 60):
        k1 = _divisor_block(k)
        k1 = k1 if k1 >= 2 else math.isqrt(k)
        for world in (1, 2, 3, 5):
            parts = [rank_rows(k, world, r) for r in range(world)]
            assert parts[0][0] == 0 and parts[0][1] > 0 and parts[-1][1] == k  # rank 0 holds row 0
            assert all(parts[i][1] == parts[i + 1][0] for i in range(world - 1))
            if k1 >= 2:  # every boundary inside the row blocks falls on a block boundary
                assert all(p[1] % k1 == 0 for p in parts[:-1])
    with pytest.raises(ValueError, match="rank"):
        rank_rows(10, 2, 2)


def test_needs_an_initialised_group():
    from stabletail.sgd.distributed import harvest_distributed

    model, loss_fn, data, batch, _ = _problem("kept")
    with pytest.raises(RuntimeError, match="init_distributed"):
        harvest_distributed(model, loss_fn, data, batch)


if __name__ == "__main__":
    _rank_main(sys.argv[1])
