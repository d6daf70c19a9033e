"""HarvestOptions (one checked object for harvest, the monitor and the distributed harvest) and the
model-state context manager of the harvest package."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stabletail.sgd import HarvestOptions, TailIndexMonitor, harvest  # noqa: E402
from stabletail.sgd.harvest.state import model_state  # noqa: E402

pytestmark = pytest.mark.torch


def _mse(out, t):
    return torch.mean((out[:, 0] - t) ** 2)


def _setup(n=120, p=4, seed=0):
    """A 4-3-1 tanh network in float64 and a noisy linear target."""
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(p, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)]
    x = torch.from_numpy(np.random.default_rng(seed).standard_normal((n, p + 1)))
    return torch.nn.Sequential(*layers).double(), (x[:, :p], x[:, :p].sum(1) + x[:, p])


def test_options_object_and_keywords_give_the_same_harvest():
    model, data = _setup()
    kw = dict(protocols=("pooled", "norm"), gaussianity_tests=None, directions=False, n_batches=12, level=0.9)
    by_keywords = harvest(model, _mse, data, 10, **kw)
    by_object = harvest(model, _mse, data, 10, options=HarvestOptions(**kw))
    # an object with other values, replaced by keywords, is the same again
    replaced = harvest(model, _mse, data, 10, options=HarvestOptions(level=0.5, n_batches=3), **kw)
    for other in (by_object, replaced):
        assert len(other.table) == len(by_keywords.table) == 2 * 2 * 5  # 2 protocols x 2 zeros x 5 layers
        for a, b in zip(by_keywords.table, other.table):
            assert a.keys() == b.keys()
            for key in a:
                assert a[key] == b[key] or (a[key] != a[key] and b[key] != b[key]), key  # NaN == NaN here


def test_options_are_checked_when_made_and_frozen():
    opts = HarvestOptions(protocols=["pooled"], zeros=["excluded"], gaussianity_tests=None, eps=None)
    assert opts.protocols == ("pooled",) and opts.zeros == ("excluded",) and opts.gaussianity_tests == ()
    assert opts.eps == float(np.spacing(1.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.level = 0.5
    for bad, name in [({"protocols": ["pooled", "tail"]}, "protocols"), ({"level": 95}, "level"),
                      ({"zeros": []}, "zeros"), ({"n_batches": 0}, "n_batches"), ({"eps": -1.0}, "eps"),
                      ({"sampling": "bootstrap"}, "sampling"), ({"buffer_bytes": -1}, "buffer_bytes")]:
        with pytest.raises(ValueError, match=name):
            HarvestOptions(**bad)
    with pytest.raises(TypeError, match="batchsize"):
        HarvestOptions.build(batchsize=10)
    model, data = _setup()
    with pytest.raises(TypeError, match="unknown harvest option"):
        harvest(model, _mse, data, 10, n_batchs=5)
    with pytest.raises(TypeError, match="options must be a HarvestOptions"):
        harvest(model, _mse, data, 10, options={"level": 0.9})


def test_monitor_checks_its_options_before_any_step_and_uses_them():
    model, data = _setup()
    with pytest.raises(ValueError, match="protocols"):
        TailIndexMonitor(model, _mse, data, 10, protocols=["median"])
    opts = HarvestOptions(protocols=("pooled",), gaussianity_tests=None)
    mon = TailIndexMonitor(model, _mse, data, 10, every=1, options=opts, zeros=["included"])
    assert mon.options.progress is None  # an options object is taken as given
    res = mon.step(0)
    assert {(r["protocol"], r["zeros"]) for r in res.table} == {("pooled", "included")}


def test_model_state_is_restored_when_the_block_raises():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Dropout(0.5))
    model.train()
    model[2].eval()  # a mixed state: must come back per module
    before = [m.training for m in model.modules()]
    stats = model[1].running_mean.clone()
    cpu_state = torch.get_rng_state()
    with torch.no_grad(), pytest.raises(RuntimeError, match="inside"):
        with model_state(model, eval_mode=False, device=torch.device("cpu")):
            assert torch.is_grad_enabled() and all(m.training for m in model.modules())
            model(torch.randn(8, 3))  # train mode: the running statistics move
            assert not torch.equal(model[1].running_mean, stats)
            raise RuntimeError("inside")
    assert [m.training for m in model.modules()] == before
    assert torch.equal(model[1].running_mean, stats)
    assert torch.equal(torch.get_rng_state(), cpu_state)
