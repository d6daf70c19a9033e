"""``sampling="per_example"``: single-example gradients against a loop of single-example backward passes."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from stabletail.sgd import MODEL, harvest  # noqa: E402

pytestmark = pytest.mark.torch

_CE = torch.nn.functional.cross_entropy


def _classifier(dtype, seed=0, frozen=False, norm=None, dropout=0.0):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(7, 6)]
    if norm is not None:
        layers.append(norm)
    layers += [torch.nn.Tanh(), torch.nn.Dropout(dropout), torch.nn.Linear(6, 3)]
    model = torch.nn.Sequential(*layers).to(dtype)
    if frozen:  # a frozen tensor is no coordinate but still enters the forward pass
        model[0].bias.requires_grad_(False)
    return model


def _data(dtype, n=90, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 7, generator=g).to(dtype)
    y = torch.randint(0, 3, (n,), generator=g)
    return x, y


def _loop(model, x, y, examples, train=False):
    """The rows by brute force: one backward pass of a batch of one per example (eval mode)."""
    model.train(train)
    params = [p for p in model.parameters() if p.requires_grad]
    rows, losses = [], []
    for i in examples:
        loss = _CE(model(x[i : i + 1]), y[i : i + 1])
        grads = torch.autograd.grad(loss, params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]).to(torch.float64))
        losses.append(float(loss.detach()))
    return torch.stack(rows).numpy(), np.array(losses)


@pytest.mark.parametrize(("dtype", "tol"), [(torch.float32, 1e-6), (torch.float64, 1e-12)])
@pytest.mark.parametrize("buffer_bytes", [1 << 30, 0])
def test_rows_equal_a_loop_of_single_example_passes(dtype, tol, buffer_bytes):
    """Noise rows + full gradient = the loop's gradients, to ``tol`` relative to the largest entry
    (float32: the same products summed in another order; float64 likewise, 1e-12)."""
    model = _classifier(dtype, frozen=True)
    x, y = _data(dtype)
    res = harvest(model, _CE, (x, y), sampling="per_example", n_batches=40, store=buffer_bytes > 0,
                  buffer_bytes=buffer_bytes, random_state=5, progress=False, gaussianity_tests=None)
    assert res.status == "ok" and res.n_batches == 40 and res.batch_size == 1
    assert res.n_params == 7 * 6 + 6 * 3 + 3  # the frozen bias is no coordinate
    rows, losses = _loop(model, x, y, res.examples)
    scale = np.abs(rows).max()
    np.testing.assert_allclose(res.batch_losses, losses, rtol=tol, atol=0)
    # the noise is defined as for minibatches: row minus the mean of the rows
    np.testing.assert_allclose(res.full_gradient, rows.mean(0), rtol=0, atol=tol * scale)
    np.testing.assert_allclose(res.grad_norms[:, -1], np.linalg.norm(rows, axis=1), rtol=tol * 10, atol=0)
    np.testing.assert_allclose(res.noise_norms[:, -1], np.linalg.norm(rows - rows.mean(0), axis=1),
                               rtol=0, atol=tol * scale * 10)
    if res.noise is not None:
        np.testing.assert_allclose(res.noise + res.full_gradient, rows, rtol=0, atol=tol * scale)
    assert res.n_passes == (1 if buffer_bytes else 2)


def test_two_passes_and_chunking_give_the_same_table():
    """Kept rows in one vmap call vs streamed in two passes with one example per vmap call (float64:
    the same numbers, sums in another order)."""
    x, y = _data(torch.float64)
    model = _classifier(torch.float64)
    a = harvest(model, _CE, (x, y), sampling="per_example", n_batches=64, random_state=2, progress=False)
    b = harvest(model, _CE, (x, y), sampling="per_example", n_batches=64, random_state=2, progress=False,
                buffer_bytes=0)
    assert a.n_passes == 1 and b.n_passes == 2 and b.status == "ok"
    np.testing.assert_array_equal(a.examples, b.examples)
    for ra, rb in zip(a.table, b.table):
        assert ra["protocol"] == rb["protocol"] and ra["layer"] == rb["layer"]
        np.testing.assert_allclose(ra["alpha"], rb["alpha"], rtol=1e-10)
    for ga, gb in zip(a.gaussianity, b.gaussianity):
        assert ga["n_not_rejected"] == gb["n_not_rejected"]


def test_exact_full_gradient_is_the_gradient_of_the_mean_loss():
    x, y = _data(torch.float64, n=2500)  # more than one chunk of the exact pass (1024 examples)
    model = _classifier(torch.float64)
    res = harvest(model, _CE, (x, y), sampling="per_example", n_batches=50, full_gradient="exact",
                  progress=False, gaussianity_tests=None)
    model.eval()
    grads = torch.autograd.grad(_CE(model(x), y), list(model.parameters()))
    want = torch.cat([g.reshape(-1) for g in grads]).numpy()
    np.testing.assert_allclose(res.full_gradient, want, rtol=1e-12, atol=1e-15)
    assert res.n_passes == 2


def test_examples_are_recorded_seeded_and_written(tmp_path):
    x, y = _data(torch.float64)
    model = _classifier(torch.float64)
    res = harvest(model, _CE, (x, y), sampling="per_example", n_batches=32, random_state=9, progress=False)
    ex = res.examples
    assert ex.shape == (32,) and len(set(ex.tolist())) == 32 and ex.min() >= 0 and ex.max() < len(y)
    again = harvest(model, _CE, (x, y), sampling="per_example", n_batches=32, random_state=9, progress=False)
    other = harvest(model, _CE, (x, y), sampling="per_example", n_batches=32, random_state=10, progress=False)
    np.testing.assert_array_equal(again.examples, ex)
    assert not np.array_equal(other.examples, ex)
    # every example by default, in a seeded order
    every = harvest(model, _CE, (x, y), sampling="per_example", random_state=9, progress=False)
    assert sorted(every.examples.tolist()) == list(range(len(y))) and every.n_batches == len(y)
    res.to_json(tmp_path / "r.json")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["examples"] == ex.tolist() and doc["batch_size"] == 1
    res.to_csv(tmp_path / "ex.csv", which="examples")
    with open(tmp_path / "ex.csv") as fh:
        lines = list(csv.DictReader(fh))
    assert [int(r["example"]) for r in lines] == ex.tolist()
    np.testing.assert_allclose([float(r["loss"]) for r in lines], res.batch_losses, rtol=1e-12)
    # the loss of row k is that of example examples[k]
    model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(res.batch_losses[3], float(_CE(model(x[ex[3] : ex[3] + 1]), y[ex[3 : 4]])),
                                   rtol=1e-12)
    minibatch = harvest(model, _CE, (x, y), 10, progress=False)
    assert minibatch.examples is None
    with pytest.raises(ValueError, match="per_example"):
        minibatch.to_csv(tmp_path / "no.csv", which="examples")


def test_batch_norm_uses_running_statistics():
    """With batch norm the rows are the gradients of the eval-mode (running-statistics) network,
    example by example; train-mode batch norm would be degenerate and is refused."""
    norm = torch.nn.BatchNorm1d(6)
    model = _classifier(torch.float64, norm=norm)
    with torch.no_grad():  # running statistics away from (0, 1), as after training
        norm.running_mean.copy_(torch.linspace(-0.5, 0.5, 6))
        norm.running_var.copy_(torch.linspace(0.5, 2.0, 6))
    x, y = _data(torch.float64)
    buffers = [b.clone() for b in model.buffers()]
    res = harvest(model, _CE, (x, y), sampling="per_example", n_batches=40, store=True, progress=False,
                  gaussianity_tests=None)
    for b, saved in zip(model.buffers(), buffers):
        assert torch.equal(b, saved)
    rows, _ = _loop(model, x, y, res.examples)
    np.testing.assert_allclose(res.noise + res.full_gradient, rows, rtol=0, atol=1e-12 * np.abs(rows).max())
    bn_cols = slice(7 * 6 + 6, 7 * 6 + 6 + 12)  # BN weight and bias: non-zero noise per example
    assert (res.noise[:, bn_cols].std(0) > 0).all()
    with pytest.raises(ValueError, match="eval_mode=True"):
        harvest(model, _CE, (x, y), sampling="per_example", n_batches=40, eval_mode=False, progress=False)
    no_stats = _classifier(torch.float64, norm=torch.nn.BatchNorm1d(6, track_running_stats=False))
    with pytest.raises(ValueError, match="track_running_stats"):
        harvest(no_stats, _CE, (x, y), sampling="per_example", n_batches=40, progress=False)
    # minibatch harvests of the same model are unaffected
    assert harvest(model, _CE, (x, y), 10, eval_mode=False, progress=False).status == "ok"


def test_dropout_is_seeded_and_the_same_in_both_passes():
    x, y = _data(torch.float64)
    model = _classifier(torch.float64, dropout=0.5)
    kw = dict(sampling="per_example", n_batches=48, eval_mode=False, store=True, progress=False,
              random_state=4, gaussianity_tests=None)
    a = harvest(model, _CE, (x, y), **kw)
    b = harvest(model, _CE, (x, y), **kw)
    np.testing.assert_array_equal(a.noise, b.noise)
    c = harvest(model, _CE, (x, y), **{**kw, "store": False, "buffer_bytes": 0})
    assert c.status == "ok" and c.n_passes == 2  # the second pass saw the same losses
    np.testing.assert_allclose(c.batch_losses, a.batch_losses, rtol=1e-12)
    ev = harvest(model, _CE, (x, y), **{**kw, "eval_mode": True})
    assert not np.allclose(ev.batch_losses, a.batch_losses)  # dropout was active
    # masks differ from example to example: the rows are not those of a dropout-free net
    rows, _ = _loop(model, x, y, a.examples)
    assert np.abs(a.noise + a.full_gradient - rows).max() > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(batch_size=5), "batch_size must be 1 or None"),
        (dict(n_batches=91), "n_batches"),
        (dict(n_batches=0), "n_batches"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    x, y = _data(torch.float64)
    model = _classifier(torch.float64)
    with pytest.raises(ValueError, match=match):
        harvest(model, _CE, (x, y), sampling="per_example", progress=False, **kwargs)


def test_a_loader_is_refused_and_batch_size_one_is_accepted():
    x, y = _data(torch.float64)
    model = _classifier(torch.float64)
    with pytest.raises(ValueError, match="per_example.*pair of tensors"):
        harvest(model, _CE, [(x[:10], y[:10]), (x[10:20], y[10:20])], sampling="per_example", progress=False)
    res = harvest(model, _CE, (x, y), 1, sampling="per_example", n_batches=33, progress=False)
    assert res.status == "ok" and all(r["batch_size"] == 1 for r in res.table)


def test_a_loss_that_vmap_cannot_batch_gets_a_clear_error():
    x, y = _data(torch.float64)
    model = _classifier(torch.float64)

    def host_loss(out, t):  # .item() inside a vmapped function
        return _CE(out, t) * float(out.sum().item() != 0.0)

    with pytest.raises(RuntimeError, match="torch.func.vmap"):
        harvest(model, host_loss, (x, y), sampling="per_example", n_batches=40,
                progress=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(34, 80), k=st.integers(32, 34), seed=st.integers(0, 2**16))
def test_property_mean_row_is_the_full_gradient_and_noise_sums_to_zero(n, k, seed):
    """For any data size, K and seed: the mean of the K per-example rows is the full gradient
    ("mean"), so the noise sums to zero (float64 rounding of K rows), and every row is one example."""
    k = min(k, n)
    x, y = _data(torch.float64, n=n, seed=seed)
    model = _classifier(torch.float64, seed=seed % 7)
    res = harvest(model, _CE, (x, y), sampling="per_example", n_batches=k, store=True, progress=False,
                  random_state=seed, gaussianity_tests=None, directions=False, protocols=("norm",))
    assert len(set(res.examples.tolist())) == k
    scale = np.abs(res.noise).max()
    np.testing.assert_allclose(res.noise.sum(0), 0.0, atol=1e-13 * k * scale)
    assert {r["layer"] for r in res.table} >= {MODEL}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_rows_equal_the_cpu_rows():
    x, y = _data(torch.float64)
    model = _classifier(torch.float64)
    cpu = harvest(model, _CE, (x, y), sampling="per_example", n_batches=40, store=True, progress=False)
    gpu = harvest(model.cuda(), _CE, (x.cuda(), y.cuda()), sampling="per_example", n_batches=40, store=True,
                  progress=False)
    np.testing.assert_array_equal(cpu.examples, gpu.examples)
    np.testing.assert_allclose(gpu.noise, cpu.noise, rtol=0, atol=1e-12)
