"""The protocol registry: a protocol is one module; the worked example of docs/contributing.md,
loaded as a module of its own, gives the rows of a brute-force twin."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stabletail.sgd import MIN_BATCHES, MODEL, PROTOCOLS, harvest  # noqa: E402
from stabletail.sgd import protocols as registry  # noqa: E402

pytestmark = pytest.mark.torch

DOC = Path(__file__).resolve().parents[2] / "docs" / "contributing.md"


def _example_source() -> str:
    """The first python block of the section "Adding a harvest protocol", de-indented."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Adding a harvest protocol"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    return "\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines()) + "\n"


def load_example(directory):
    """Write the example to ``directory`` and import it: "coordinate_blocks" is registered."""
    path = Path(directory) / "coordinate_blocks_example.py"
    path.write_text(_example_source(), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("coordinate_blocks_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def coordinate_blocks(tmp_path):
    module = load_example(tmp_path)
    try:
        yield module
    finally:
        registry.unregister("coordinate_blocks")


def _problem(n=480, p=5, dead=1, seed=3):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(p, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_t(3, size=(n, p)))
    x[:, :dead] = 0.0  # weights of dead inputs: zero-noise coordinates
    y = x.sum(1) + torch.from_numpy(rng.standard_t(2, size=n))
    return model, (x, y), lambda out, t: torch.mean((out[:, 0] - t) ** 2)


def _twin(noise, cols, k1, eps):
    """1/alpha = (mean log|Y| - mean log|X|) / log K1 with the blocks of each column, written out."""
    k2 = noise.shape[0] // k1
    used = noise[: k1 * k2, cols]
    blocks = used.reshape(k2, k1, used.shape[1]).sum(1)
    inv = (np.log(np.abs(blocks) + eps).mean() - np.log(np.abs(used) + eps).mean()) / math.log(k1)
    return 1.0 / inv


def test_the_documented_example_is_a_working_protocol(coordinate_blocks):
    assert "coordinate_blocks" in registry.registered() and "coordinate_blocks" not in PROTOCOLS
    model, data, loss = _problem()
    eps = float(np.spacing(1.0))
    kept = harvest(model, loss, data, 10, protocols=("pooled", "coordinate_blocks"), store=True,
                   gaussianity_tests=None, directions=False)
    streamed = harvest(model, loss, data, 10, protocols=("pooled", "coordinate_blocks"), buffer_bytes=0,
                       gaussianity_tests=None, directions=False)
    assert kept.n_passes == 1 and streamed.n_passes == 2 and kept.n_batches == 48  # K1 = 6, K2 = 8
    offsets = np.cumsum([0] + [row["n_params"] for row in kept.layers[:-1]])
    names = [row["layer"] for row in kept.layers]
    zero = np.zeros(kept.n_params, dtype=bool)
    for row in kept.layers[:-1]:
        assert row["n_zero"] == 0 or row["layer"] == "0.weight"
    checked = 0
    for li, name in enumerate(names):
        a, b = (offsets[li], offsets[li + 1]) if name != MODEL else (0, kept.n_params)
        zero[a:b] = np.all(kept.noise[:, a:b] == 0.0, axis=0)
        for zeros in ("included", "excluded"):
            cols = np.arange(a, b) if zeros == "included" else a + np.flatnonzero(~zero[a:b])
            want = _twin(kept.noise, cols, 6, eps)
            for res in (kept, streamed):
                (row,) = res.rows("coordinate_blocks", name, zeros)
                assert row["block_size"] == 6 and row["n"] == 48 * cols.size and row["status"] == "ok"
                assert row["alpha"] == pytest.approx(want, rel=1e-9)
                assert row["ci_low"] < row["alpha"] < row["ci_high"]
                checked += 1
    assert checked == 2 * 2 * len(names)
    assert kept.rows("coordinate_blocks", "0.weight", "excluded")[0]["n_coordinates"] == 4 * 4  # 1 dead input


def test_the_example_says_when_there_are_too_few_minibatches(coordinate_blocks):
    assert MIN_BATCHES == {"per_coordinate": 32, "norm": 32}  # a snapshot of the built-in floors
    model, data, loss = _problem(n=200)
    res = harvest(model, loss, data, 10, protocols=("coordinate_blocks",), gaussianity_tests=None)
    assert res.n_batches == 20 and {r["status"] for r in res.table} == {"too_few_minibatches(K>=32)"}
    assert all(math.isfinite(r["alpha"]) for r in res.table)  # reported, flagged as not informing


def test_unregistered_protocols_are_refused_by_name():
    model, data, loss = _problem(n=200)
    with pytest.raises(ValueError, match="coordinate_blocks"):
        harvest(model, loss, data, 10, protocols=("coordinate_blocks",))


def test_the_registry_refuses_what_it_cannot_use():
    def row(sums, scope, state):
        return {"alpha": 1.5, "kurtosis": 3.0}

    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.Protocol("pooled", row))
    with pytest.raises(ValueError, match="unknown accumulators"):
        registry.Protocol("bad_needs", row, needs=frozenset({"histogram"}))
    with pytest.raises(ValueError, match="identifier"):
        registry.Protocol("two words", row)
    registry.register(registry.Protocol("extra_column", row))
    try:
        model, data, loss = _problem(n=200)
        with pytest.raises(ValueError, match="no table column.*kurtosis"):
            harvest(model, loss, data, 10, protocols=("extra_column",), gaussianity_tests=None)
    finally:
        registry.unregister("extra_column")
    assert registry.registered() == PROTOCOLS == ("pooled", "standardized", "per_coordinate", "norm")
