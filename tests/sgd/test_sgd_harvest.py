"""Correctness of stabletail.sgd.harvest against brute-force autograd (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stabletail.sgd import MODEL, PROTOCOLS, TABLE_COLUMNS, harvest  # noqa: E402

pytestmark = pytest.mark.torch


def _mse(out, t):
    return torch.nn.functional.mse_loss(out.squeeze(-1), t)


def _mlp(p=6, h=5, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(p, h), torch.nn.Tanh(), torch.nn.Linear(h, 1)).double()


def _data(n=240, p=6, seed=1, dead=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, p, generator=g, dtype=torch.float64)
    if dead:
        x[:, :dead] = 0.0  # inputs that are never active: zero-noise weights
    y = x.sum(1) + torch.randn(n, generator=g, dtype=torch.float64)
    return x, y


def _flat_grad(model, loss):
    grads = torch.autograd.grad(loss, [p for p in model.parameters() if p.requires_grad])
    return torch.cat([g.reshape(-1) for g in grads]).numpy()


def _state(model):
    return (
        [m.training for m in model.modules()],
        [p.detach().clone() for p in model.parameters()],
        [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        [p.requires_grad for p in model.parameters()],
        [b.detach().clone() for b in model.buffers()],
    )


def _same_state(a, b):
    assert a[0] == b[0] and a[3] == b[3]
    for u, v in zip(a[1] + a[4], b[1] + b[4]):
        assert torch.equal(u, v)
    for u, v in zip(a[2], b[2]):
        assert (u is None and v is None) or torch.equal(u, v)


@pytest.mark.parametrize("full_gradient", ["mean", "exact"])
def test_full_gradient_equals_autograd_on_whole_dataset(full_gradient):
    model = _mlp()
    x, y = _data(n=240)
    ref = _flat_grad(model, _mse(model(x), y))
    # 240 = 12 x 20: the partition covers the data, so the mean of minibatch gradients is
    # also the whole-data gradient (mean-reduced loss, equal batch sizes)
    res = harvest(model, _mse, (x, y), 20, full_gradient=full_gradient, store=True)
    np.testing.assert_allclose(res.full_gradient, ref, rtol=1e-5, atol=1e-12 * np.abs(ref).max())
    # each minibatch gradient is autograd's on that minibatch
    for k in (0, 7, 11):
        gk = _flat_grad(model, _mse(model(x[20 * k : 20 * (k + 1)]), y[20 * k : 20 * (k + 1)]))
        np.testing.assert_allclose(res.noise[k] + res.full_gradient, gk, rtol=1e-10, atol=1e-13)


def test_exact_full_gradient_uses_all_data_when_partition_drops_some():
    model = _mlp()
    x, y = _data(n=250)  # 12 batches of 20 and 10 examples left over
    ref = _flat_grad(model, _mse(model(x), y))
    res = harvest(model, _mse, (x, y), 20, full_gradient="exact", store=True)
    assert res.n_batches == 12 and res.n_passes == 2
    np.testing.assert_allclose(res.full_gradient, ref, rtol=1e-5)
    mean = harvest(model, _mse, (x, y), 20, store=True).full_gradient
    assert np.abs(mean - ref).max() > 1e-6 * np.abs(ref).max()  # the mean of 12 batches is not it


def test_noise_sums_to_zero_and_streaming_equals_stored():
    model = _mlp()
    x, y = _data(n=240, dead=2)
    kept = harvest(model, _mse, (x, y), 10, store=True)
    scale = np.abs(kept.noise).max()
    np.testing.assert_allclose(kept.noise.sum(0), 0.0, atol=1e-12 * scale * kept.n_batches)
    streamed = harvest(model, _mse, (x, y), 10, buffer_bytes=0)
    assert kept.n_passes == 1 and streamed.n_passes == 2
    assert streamed.noise is None
    for a, b in zip(kept.table, streamed.table):
        assert (a["layer"], a["protocol"], a["zeros"]) == (b["layer"], b["protocol"], b["zeros"])
        for col in ("alpha", "stderr", "ci_low", "ci_high", "q25", "q75"):
            assert a[col] == pytest.approx(b[col], rel=1e-9, nan_ok=True), (a, col)
    np.testing.assert_allclose(kept.noise_norms, streamed.noise_norms, rtol=1e-9)


def test_table_layout_and_zero_counts():
    model = _mlp(p=6, h=5)
    x, y = _data(n=240, p=6, dead=2)
    res = harvest(model, _mse, (x, y), 20)
    names = [n for n, _ in model.named_parameters()] + [MODEL]
    assert res.status == "ok" and res.n_params == 6 * 5 + 5 + 5 + 1
    assert len(res.table) == len(names) * len(PROTOCOLS) * 2
    assert all(tuple(r) == TABLE_COLUMNS for r in res.table)
    zero = {r["layer"]: r["n_zero"] for r in res.layers}
    # two dead inputs: their 2 x 5 first-layer weights never move the loss
    assert zero == {"0.weight": 10, "0.bias": 0, "2.weight": 0, "2.bias": 0, MODEL: 10}
    for r in res.table:
        assert r["n_zero"] == zero[r["layer"]]
        n_layer = next(info["n_params"] for info in res.layers if info["layer"] == r["layer"])
        assert r["n_coordinates"] == n_layer - (r["n_zero"] if r["zeros"] == "excluded" else 0)


def test_per_layer_results_concatenate_to_the_whole_model():
    model = _mlp()
    x, y = _data(n=240, dead=1)
    res = harvest(model, _mse, (x, y), 10, store=True)
    # the noise, the full gradient and the per-coordinate alphas are layer blocks of the model's
    pieces = [res.noise[:, r["offset"] : r["offset"] + r["n_params"]] for r in res.layers[:-1]]
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), res.noise)
    assert sum(r["n_zero"] for r in res.layers[:-1]) == res.layers[-1]["n_zero"]
    np.testing.assert_allclose(
        (res.noise_norms[:, :-1] ** 2).sum(1), res.noise_norms[:, -1] ** 2, rtol=1e-12
    )
    np.testing.assert_allclose(np.linalg.norm(res.noise, axis=1), res.noise_norms[:, -1], rtol=1e-12)
    model_pc = res.rows("per_coordinate", MODEL, "included")[0]
    assert model_pc["alpha"] == pytest.approx(np.median(res.per_coordinate_alpha))
    # a harvest of one layer alone (the others frozen) reproduces that layer's rows
    for name, p in model.named_parameters():
        p.requires_grad_(name == "0.weight")
    try:
        alone = harvest(model, _mse, (x, y), 10, store=True)
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    for r in alone.rows(layer="0.weight"):
        full = res.rows(r["protocol"], "0.weight", r["zeros"])[0]
        for col in ("alpha", "stderr", "ci_low", "ci_high"):
            assert r[col] == pytest.approx(full[col], rel=1e-12, nan_ok=True)
        whole = alone.rows(r["protocol"], MODEL, r["zeros"])[0]
        assert whole["alpha"] == pytest.approx(r["alpha"], rel=1e-12, nan_ok=True)


class _Dropout(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(6, 4)
        self.bn = torch.nn.BatchNorm1d(4)
        self.drop = torch.nn.Dropout(0.3)
        self.out = torch.nn.Linear(4, 1)

    def forward(self, x):
        return self.out(self.drop(self.bn(self.lin(x))))


@pytest.mark.parametrize("eval_mode", [True, False])
def test_model_state_unchanged(eval_mode):
    torch.manual_seed(3)
    model = _Dropout().double()
    model.train()
    model.bn.eval()  # a submodule in another mode than its parent must stay so
    model.lin.weight.grad = torch.ones_like(model.lin.weight)  # a user's accumulated gradient
    model.out.bias.requires_grad_(False)
    x, y = _data(n=120)
    before = _state(model)
    rng_before = torch.get_rng_state()
    with torch.no_grad():  # the harvest needs grad mode and must restore it
        res = harvest(model, _mse, (x, y), 20, eval_mode=eval_mode, buffer_bytes=0)
        assert not torch.is_grad_enabled()
    assert res.status == "ok", res.message  # two passes saw the same dropout draws
    _same_state(before, _state(model))
    assert torch.equal(rng_before, torch.get_rng_state())
    assert "out.bias" not in [r["layer"] for r in res.layers]


def test_state_restored_when_the_loss_raises():
    model = _mlp()
    model.train()
    before = _state(model)
    x, y = _data()

    def bad_loss(out, t):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        harvest(model, bad_loss, (x, y), 20)
    _same_state(before, _state(model))


@pytest.mark.parametrize("buffer_bytes", [0, 1 << 30])
def test_nonfinite_gradients_give_a_status(buffer_bytes):
    model = _mlp()
    x, y = _data(n=200)
    x[57, 0] = math.inf  # one minibatch diverges
    before = _state(model)
    res = harvest(model, _mse, (x, y), 20, buffer_bytes=buffer_bytes)
    assert res.status == "nonfinite" and res.n_nonfinite == 1
    assert "not finite" in res.message
    assert all(r["status"] == "nonfinite" and math.isnan(r["alpha"]) for r in res.table)
    _same_state(before, _state(model))
    with torch.no_grad():
        model[0].weight[0, 0] = math.nan  # every minibatch diverges
    res = harvest(model, _mse, (x, y), 20)
    assert res.status == "nonfinite" and res.n_nonfinite == res.n_batches


def test_dataloader_like_iterable_and_reshuffling_detected():
    model = _mlp()
    x, y = _data(n=200)
    batches = [(x[i : i + 20], y[i : i + 20]) for i in range(0, 200, 20)]
    a = harvest(model, _mse, batches, buffer_bytes=0)
    b = harvest(model, _mse, (x, y), 20, buffer_bytes=0)
    assert a.status == "ok" and a.alpha("pooled") == pytest.approx(b.alpha("pooled"), rel=1e-12)

    class Reshuffling:
        def __init__(self):
            self.calls = 0

        def __iter__(self):
            self.calls += 1
            order = batches if self.calls % 2 else batches[::-1]
            return iter(order)

        def __len__(self):
            return len(batches)

    res = harvest(model, _mse, Reshuffling(), buffer_bytes=0)
    assert res.status == "inconsistent_batches"


def test_random_draws_are_seeded():
    model = _mlp()
    x, y = _data(n=200)
    a = harvest(model, _mse, (x, y), 20, sampling="random", n_batches=30, random_state=5, store=True)
    b = harvest(model, _mse, (x, y), 20, sampling="random", n_batches=30, random_state=5, buffer_bytes=0)
    assert a.n_batches == 30
    assert a.alpha("pooled") == pytest.approx(b.alpha("pooled"), rel=1e-12)
    c = harvest(model, _mse, (x, y), 20, sampling="random", n_batches=30, random_state=6)
    assert c.alpha("pooled") != a.alpha("pooled")


def test_bad_input_names_the_argument():
    model = _mlp()
    x, y = _data(n=100)
    with pytest.raises(ValueError, match="batch_size"):
        harvest(model, _mse, (x, y), 0)
    with pytest.raises(ValueError, match="protocols"):
        harvest(model, _mse, (x, y), 10, protocols=["pooled", "hill"])
    with pytest.raises(ValueError, match="full_gradient"):
        harvest(model, _mse, (x, y), 10, full_gradient="full")
    with pytest.raises(ValueError, match="n_batches"):
        harvest(model, _mse, (x, y), 10, sampling="random")
    with pytest.raises(ValueError, match="level"):
        harvest(model, _mse, (x, y), 10, level=95)
    with pytest.raises(TypeError, match="model"):
        harvest(lambda t: t, _mse, (x, y), 10)
    mixed = _mlp()
    mixed[2].float()
    with pytest.raises(ValueError, match="same device and dtype"):
        harvest(mixed, _mse, (x, y), 10)


def test_outputs_written_atomically(tmp_path):
    model = _mlp()
    x, y = _data(n=100)
    res = harvest(model, _mse, (x, y), 10)
    res.to_csv(tmp_path / "t.csv")
    res.to_json(tmp_path / "t.json")
    res.to_csv(tmp_path / "g.csv", which="gaussianity")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0].split(",") == list(TABLE_COLUMNS) and len(lines) == 1 + len(res.table)
    import json

    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["status"] == "ok" and len(doc["table"]) == len(res.table)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.csv", "t.csv", "t.json"]  # no temp files left


def test_options_subset_zeros_protocols_and_progress(capsys):
    model = _mlp(p=6, h=5)
    x, y = _data(n=240, p=6, dead=1)
    res = harvest(model, _mse, (x, y), 10, n_coordinates=20, zeros=["excluded"], progress=True,
                  protocols=("per_coordinate", "pooled"))
    assert {r["zeros"] for r in res.table} == {"excluded"}
    assert {r["protocol"] for r in res.table} == {"per_coordinate", "pooled"}
    per = res.rows("per_coordinate")
    # a seeded uniform subset of 20 of the 46 coordinates; layers split it
    assert sum(r["n"] for r in per if r["layer"] != MODEL) == next(r["n"] for r in per if r["layer"] == MODEL)
    assert next(r["n"] for r in per if r["layer"] == MODEL) <= 20
    assert "harvest" in capsys.readouterr().err  # the progress bar was drawn
    only = harvest(model, _mse, (x, y), 10, protocols=(), directions=False, gaussianity_tests=("shapiro",))
    assert only.table == () and only.directions == () and {r["test"] for r in only.gaussianity} == {"shapiro"}
    with pytest.raises(ValueError, match="zeros"):
        harvest(model, _mse, (x, y), 10, zeros=["all"])


def _wide_problem(dtype):
    # d = 2 * 1100 + 2 = 2202 coordinates (more than one column tile of the CPU kernels), 20 dead
    # inputs (zero-noise weights), K = 13 (prime: the row blocks leave the last row out)
    torch.manual_seed(3)
    model = torch.nn.Linear(1100, 2).to(dtype)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(13 * 8, 1100, generator=g, dtype=dtype)
    x[:, :20] = 0.0
    y = torch.randn(13 * 8, 2, generator=g, dtype=dtype)
    return model, torch.nn.functional.mse_loss, (x, y), 8


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cpu_kernels_agree_with_the_torch_path(monkeypatch, dtype):
    # On the CPU the statistics run in numba kernels; on other devices in torch. The private
    # switch runs the torch formulation on the CPU; both must give the same result. float64:
    # the same sums in other orders, rounding only (1e-10). float32: the torch path rounds each
    # log(|e| + eps) to float32 (relative 2**-24 = 6e-8) and forms e / sd in float32, the kernels
    # work in float64; an alpha is a ratio of differences of mean logs of order 0.1, so these
    # roundings move it by at most about 1e-6 relatively; 1e-5 is allowed.
    from stabletail.sgd import _torchstats

    rel = 1e-10 if dtype == torch.float64 else 1e-5
    model, loss, data, batch = _wide_problem(dtype)
    out = {}
    for kernels in (True, False):
        monkeypatch.setattr(_torchstats, "USE_KERNELS", kernels)
        out[kernels] = [harvest(model, loss, data, batch, store=True, n_gaussianity=5),
                        harvest(model, loss, data, batch, buffer_bytes=0, n_gaussianity=5)]
    for a, b in zip(out[True], out[False]):
        assert a.status == b.status == "ok"
        assert a.layers == b.layers and a.layers[0]["n_zero"] == 40
        for ra, rb in zip(a.table, b.table):
            for col in ("alpha", "stderr", "ci_low", "ci_high", "q05", "q25", "q75", "q95", "frac_ge_2"):
                assert ra[col] == pytest.approx(rb[col], rel=rel, nan_ok=True), (ra, rb, col)
        np.testing.assert_allclose(a.noise_norms, b.noise_norms, rtol=rel)
        np.testing.assert_allclose(a.full_gradient, b.full_gradient, rtol=1e-12)
        for ra, rb in zip(a.directions, b.directions):
            assert ra["resultant_length"] == pytest.approx(rb["resultant_length"], rel=rel)
        assert [r["n_not_rejected"] for r in a.gaussianity] == [r["n_not_rejected"] for r in b.gaussianity]
    # the noise: g_k minus the mean, which the two paths sum in different orders (float64) and
    # then round to the rows' dtype, where one rounding may fall the other way
    e1, e0 = out[True][0].noise, out[False][0].noise
    ulp = 1e-15 if dtype == torch.float64 else 2.0**-23
    np.testing.assert_allclose(e1, e0, rtol=0, atol=4 * ulp * np.abs(e0).max())


def _bits(res):
    """Every table and array of a harvest, as exact values (floats compared bit for bit)."""
    arrays = (res.full_gradient, res.grad_norms, res.noise_norms, res.noise, res.per_coordinate_alpha)
    return (res.table, res.gaussianity, res.directions, res.layers,
            [None if a is None else a.tobytes() for a in arrays])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cpu_kernels_give_the_same_bits_on_any_number_of_threads(monkeypatch, dtype):
    # The kernels share fixed column tiles among numba's threads, as many as torch may use, and
    # add what crosses tiles (row norms, block sums) in tile order: one or two threads, serial or
    # parallel kernels must give identical results. Tiles of 64 columns put many tile boundaries
    # inside the Mohammadi blocks of every stream; a parallel threshold of 0 runs the parallel
    # kernels on this small problem.
    import numba

    from stabletail.sgd import _kernels, _torchstats

    monkeypatch.setattr(_torchstats, "_TILE", 64)
    model, loss, data, batch = _wide_problem(dtype)
    threads_seen = []
    for name in ("prepass", "mainpass"):
        kernel = getattr(_kernels, name)

        def spy(*args, kernel=kernel):
            threads_seen.append((numba.get_num_threads(), args[-1]))
            kernel(*args)

        monkeypatch.setattr(_kernels, name, spy)
    numba_before = numba.get_num_threads()
    out = {}
    for threads, par_min in ((1, 0), (2, 0), (2, 2**62)):
        monkeypatch.setattr(_torchstats, "_PARALLEL_MIN", par_min)
        torch.set_num_threads(threads)
        try:
            out[threads, par_min] = [
                _bits(harvest(model, loss, data, batch, store=True, n_gaussianity=5)),
                _bits(harvest(model, loss, data, batch, buffer_bytes=0, n_gaussianity=5)),
            ]
        finally:
            torch.set_num_threads(1)
        assert numba.get_num_threads() == numba_before  # restored after the harvest
    # numba ran on as many threads as torch (capped at numba's maximum), in parallel when allowed
    n2 = min(2, numba.config.NUMBA_NUM_THREADS)
    assert {t for t in threads_seen} == {(1, False), (n2, n2 > 1), (n2, False)}
    assert out[1, 0] == out[2, 0] == out[2, 2**62]
    # and still the statistics of the torch formulation (tolerances of the test above)
    monkeypatch.setattr(_torchstats, "USE_KERNELS", False)
    ref = harvest(model, loss, data, batch, store=True, n_gaussianity=5)
    rel = 1e-10 if dtype == torch.float64 else 1e-5
    for ra, rb in zip(out[1, 0][0][0], ref.table):
        for col in ("alpha", "stderr", "q05", "q95", "frac_ge_2"):
            assert ra[col] == pytest.approx(rb[col], rel=rel, nan_ok=True), (ra, rb, col)


def test_harvest_restores_numba_threads_when_the_loss_raises():
    import numba

    # the harvest sets numba's thread count to torch's (2) and must put back the 1 it found
    model = _mlp()
    before = numba.get_num_threads()
    seen = []

    def bad_loss(out, t):
        seen.append(numba.get_num_threads())
        raise RuntimeError("boom")

    numba.set_num_threads(1)
    torch.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            harvest(model, bad_loss, _data(), 10)
        assert seen == [min(2, numba.config.NUMBA_NUM_THREADS)]
        assert numba.get_num_threads() == 1
    finally:
        torch.set_num_threads(1)
        numba.set_num_threads(before)


def test_float32_zero_noise_coordinates_are_found():
    # float32 rows detect zero noise by a zero sum of squared deviations (float64), exact for
    # float32 values; the count must equal the columns of the stored noise that never move
    model, loss, data, batch = _wide_problem(torch.float32)
    res = harvest(model, loss, data, batch, store=True, gaussianity_tests=None)
    e = res.noise
    assert res.layers[-1]["n_zero"] == int(np.all(e == 0.0, axis=0).sum()) == 40


class _DeadLayer(torch.nn.Module):
    """A layer whose input is always zero (every weight without noise) beside a live one."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(3, 1, bias=False)
        self.b = torch.nn.Linear(4, 1)

    def forward(self, x):
        return self.a(x[:, :3] * 0.0) + self.b(x[:, 3:])


@pytest.mark.parametrize("buffer_bytes", [2**30, 0])
def test_a_layer_without_noise(buffer_bytes):
    torch.manual_seed(0)
    model = _DeadLayer().double()
    x, y = _data(n=330, p=7)  # K = 33 minibatches: enough for the per-coordinate and norm rows
    res = harvest(model, _mse, (x, y), 10, buffer_bytes=buffer_bytes, gaussianity_tests=None)
    assert res.status == "ok" and res.layers[0]["n_zero"] == 3
    pc = res.rows("per_coordinate", "a.weight", "included")[0]
    # every coordinate has alpha_j = inf (no noise): the median is inf, all are >= 2
    assert pc["alpha"] == math.inf and pc["frac_ge_2"] == 1.0 and pc["status"] == "ok"
    for row in res.rows(layer="a.weight", zeros="excluded"):  # nothing left to estimate from
        assert row["n_coordinates"] == 0 and row["status"] == "undefined", row
    for row in res.rows(layer="b.weight"):  # the live layer is unaffected
        assert row["status"] == "ok" and math.isfinite(row["alpha"]), row


def test_zero_gradient_everywhere_gives_no_confident_alpha():
    # issue 15, item 6: a loss whose gradient is zero everywhere has no noise at all; every
    # Mohammadi row (per layer and the model, pooled and standardized included) must be
    # undefined, not alpha ~ 4e14 with status "ok"
    model = _mlp()
    x, y = _data()
    res = harvest(model, lambda out, t: (out * 0.0).sum(), (x, y), 24, progress=False)
    for row in res.table:
        if row["protocol"] in ("pooled", "standardized", "norm"):
            assert not np.isfinite(row["alpha"]) or math.isnan(row["alpha"]), row
            assert row["status"] != "ok", row


def test_rows_from_too_few_minibatches_say_so():
    # issue 14: with K = 24 minibatches the per-coordinate and norm rows cannot inform (the
    # per-coordinate median of Gaussian noise is 1.89 there, MIN_BATCHES); they say so and
    # name the K they need, while the pooled rows (K x d values) stay "ok"
    from stabletail.sgd import MIN_BATCHES

    model = _mlp()
    x, y = _data()
    res = harvest(model, _mse, (x, y), 10, progress=False, gaussianity_tests=None)
    assert res.n_batches == 24
    for row in res.table:
        if row["protocol"] in MIN_BATCHES:
            assert row["status"] == f"too_few_minibatches(K>={MIN_BATCHES[row['protocol']]})", row
        else:
            assert not row["status"].startswith("too_few"), row
    assert any(r["status"] == "ok" for r in res.table if r["protocol"] == "pooled")
