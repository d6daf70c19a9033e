"""TailIndexMonitor in a plain training loop."""

from __future__ import annotations

import csv
import json

import pytest

torch = pytest.importorskip("torch")

from stabletail.sgd import LOG_COLUMNS, MODEL, TailIndexMonitor  # noqa: E402

pytestmark = pytest.mark.torch


def _setup():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).double()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(200, 5, generator=g, dtype=torch.float64)
    y = x.sum(1) + torch.randn(200, generator=g, dtype=torch.float64)
    loss = lambda out, t: torch.nn.functional.mse_loss(out.squeeze(-1), t)  # noqa: E731
    return model, loss, x, y


def _train(monitor, model, loss, x, y, steps):
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    results = []
    for step in range(steps):
        idx = slice((step * 20) % 200, (step * 20) % 200 + 20)
        opt.zero_grad()
        loss(model(x[idx]), y[idx]).backward()
        opt.step()
        results.append(monitor.step(step))
    return results


class _Writer:
    def __init__(self):
        self.scalars = []

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))


def test_csv_log_every_n_steps(tmp_path):
    model, loss, x, y = _setup()
    path = tmp_path / "log.csv"
    writer = _Writer()
    mon = TailIndexMonitor(model, loss, (x, y), 20, every=10, path=path, tensorboard=writer,
                           gaussianity_tests=None)
    results = _train(mon, model, loss, x, y, 25)
    harvested = [i for i, r in enumerate(results) if r is not None]
    assert harvested == [0, 10, 20]
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(LOG_COLUMNS)
    n_table = len(results[0].table)
    assert len(rows) == 3 * n_table == len(mon.rows)
    assert [int(r["step"]) for r in rows[::n_table]] == [0, 10, 20]
    # the parameters moved between harvests, so the logged alphas differ
    a0 = float(rows[0]["alpha"])
    assert a0 == pytest.approx(results[0].table[0]["alpha"])
    assert float(rows[2 * n_table]["alpha"]) != a0
    tags = {t for t, _, _ in writer.scalars}
    assert "tail_index/pooled/included" in tags and {s for _, _, s in writer.scalars} == {0, 10, 20}
    # a second monitor appends to the same log without a second header
    mon2 = TailIndexMonitor(model, loss, (x, y), 20, every=5, path=path, gaussianity_tests=None)
    mon2.step(5)
    with open(path, newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 4 * n_table
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_jsonl_log(tmp_path):
    model, loss, x, y = _setup()
    path = tmp_path / "log.jsonl"
    mon = TailIndexMonitor(model, loss, (x, y), 20, every=3, path=path, fmt="jsonl",
                           protocols=("pooled",), gaussianity_tests=None, directions=False)
    _train(mon, model, loss, x, y, 7)
    lines = [json.loads(s) for s in path.read_text().splitlines()]
    assert {r["step"] for r in lines} == {0, 3, 6}
    assert {r["protocol"] for r in lines} == {"pooled"}
    assert any(r["layer"] == MODEL for r in lines)


def test_bad_arguments():
    model, loss, x, y = _setup()
    with pytest.raises(ValueError, match="every"):
        TailIndexMonitor(model, loss, (x, y), 20, every=0)
    with pytest.raises(ValueError, match="fmt"):
        TailIndexMonitor(model, loss, (x, y), 20, fmt="xml")
    with pytest.raises(TypeError, match="tensorboard"):
        TailIndexMonitor(model, loss, (x, y), 20, tensorboard=42)
