"""Jarque-Bera on every coordinate from the noise pass's power sums."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from stabletail.sgd import harvest  # noqa: E402
from stabletail.sgd.gaussianity import jarque_bera_from_sums  # noqa: E402
from stabletail.sgd.harvest import MODEL  # noqa: E402

pytestmark = pytest.mark.torch


def _power_sums(x):
    return np.stack([(x**p).sum(0) for p in range(1, 5)])


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 200), st.integers(1, 6), st.floats(-3.0, 3.0), st.integers(0, 2**32 - 1))
def test_from_sums_equals_scipy(k, m, log_scale, seed):
    # the biased central moments from raw power sums: exact up to rounding for columns whose
    # mean is at most a few spreads away from 0 (the harvest's noise has mean ~0)
    from scipy import stats

    rng = np.random.default_rng(seed)
    x = rng.standard_t(4, (k, m)) * 10.0**log_scale + 0.5 * 10.0**log_scale
    jb, p = jarque_bera_from_sums(_power_sums(x), k)
    for j in range(m):
        ref = stats.jarque_bera(x[:, j])
        assert jb[j] == pytest.approx(ref.statistic, rel=1e-8, abs=1e-10)
        assert p[j] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-12)


def test_from_sums_constant_and_bad_input():
    x = np.ones((10, 2))
    x[:, 1] = np.arange(10.0)
    jb, p = jarque_bera_from_sums(_power_sums(x), 10)
    assert np.isnan(jb[0]) and np.isnan(p[0]) and np.isfinite(jb[1])
    with pytest.raises(ValueError, match="power_sums must have shape"):
        jarque_bera_from_sums(np.zeros((3, 2)), 10)
    with pytest.raises(ValueError, match="k"):
        jarque_bera_from_sums(np.zeros((4, 2)), 2)


def _problem(dtype=torch.float64):
    # d = 3 * 12 + 3 + 3 + 1 = 43; two dead inputs make 6 zero-noise weights; K = 40
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).to(dtype)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(40 * 6, 12, generator=g, dtype=dtype)
    x[:, :2] = 0.0
    y = x.sum(1, keepdim=True) + torch.randn(40 * 6, 1, generator=g, dtype=dtype)
    return model, torch.nn.functional.mse_loss, (x, y), 6


@pytest.mark.parametrize("kernels", [True, False])
@pytest.mark.parametrize("streamed", [False, True])
def test_harvest_jarque_bera_equals_scipy_on_the_noise_columns(monkeypatch, kernels, streamed):
    # The power sums accumulated by the noise pass (compiled kernels or the torch twin; one
    # pass over kept gradients or two streamed ones) give scipy's Jarque-Bera on the stored
    # noise columns to 1e-10; the rows count every non-zero-noise coordinate.
    from scipy import stats

    from stabletail.sgd import _torchstats

    monkeypatch.setattr(_torchstats, "USE_KERNELS", kernels)
    model, loss, data, b = _problem()
    opts = {"buffer_bytes": 0} if streamed else {}
    res = harvest(model, loss, data, b, store=True, n_gaussianity=4, progress=False, **opts)
    assert res.status == "ok" and res.noise.shape == (40, 43)
    zero = np.zeros(43, dtype=bool)
    zero[[0, 1, 12, 13, 24, 25]] = True  # the dead inputs' weights
    assert res.layers[0]["n_zero"] == 6
    jb = res.per_coordinate_jarque_bera
    assert jb.shape == (2, 43) and np.isnan(jb[:, zero]).all()
    ref = np.full((2, 43), np.nan)
    for j in np.flatnonzero(~zero):
        r = stats.jarque_bera(res.noise[:, j])
        ref[:, j] = r.statistic, r.pvalue
    np.testing.assert_allclose(jb[:, ~zero], ref[:, ~zero], rtol=1e-10, atol=1e-300)
    rows = {(r["layer"], r["test"]): r for r in res.gaussianity}
    level = 0.95
    for layer, (a, b_) in (("0.weight", (0, 36)), (MODEL, (0, 43))):
        row = rows[layer, "jarque_bera"]
        keep = ~zero[a:b_]
        assert row["n_coordinates"] == keep.sum()  # every non-zero-noise coordinate, not 4
        assert row["n_not_rejected"] == int(np.sum(ref[1, a:b_][keep] >= 1 - level))
        assert rows[layer, "shapiro"]["n_coordinates"] == (4 if layer != MODEL else 4 + 3 + 3 + 1)
        assert 0.85 < row["expected_fraction"] < 1.0  # simulated under the null at K = 40


def test_order_statistic_tests_on_every_coordinate_when_asked():
    model, loss, data, b = _problem()
    res = harvest(model, loss, data, b, n_gaussianity=None, progress=False)
    rows = {(r["layer"], r["test"]): r for r in res.gaussianity}
    for test in ("shapiro", "anderson", "jarque_bera"):
        assert rows[MODEL, test]["n_coordinates"] == 43 - 6
    assert res.per_coordinate_jarque_bera is None  # store=False


def test_model_row_of_sampled_tests_weights_layers_by_size():
    # The order-statistic tests sample up to n_gaussianity coordinates per layer; the model row
    # estimates the whole model's fraction: the layers' fractions weighted by their coordinates
    # with noise (0.weight: 30 of 36, tested on 4; the others tested whole), not the plain union
    # (where 4 weights of the first layer would count as much as 4 of the 7 biases and outputs)
    model, loss, data, b = _problem()
    res = harvest(model, loss, data, b, n_gaussianity=4, progress=False)
    rows = {(r["layer"], r["test"]): r for r in res.gaussianity}
    nz = {"0.weight": 30, "0.bias": 3, "2.weight": 3, "2.bias": 1}
    for test in ("shapiro", "anderson"):
        weighted = sum(nz[name] * rows[name, test]["fraction_not_rejected"] for name in nz) / sum(nz.values())
        model_row = rows[MODEL, test]
        assert model_row["fraction_not_rejected"] == pytest.approx(weighted, rel=1e-12)
        assert model_row["n_coordinates"] == 4 + 3 + 3 + 1  # counts stay counts
        w = np.array([30 / 4] * 4 + [1.0] * 7)
        assert model_row["stderr"] == pytest.approx(np.sqrt(0.95 * 0.05 * (w**2).sum()) / w.sum(), rel=1e-12)
