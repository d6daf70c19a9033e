"""Tests of stabletail.sgd.models."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stabletail.sgd.models import FCN, AlexNetSmall, build_model, get_loss, linear_hinge_loss  # noqa: E402

pytestmark = pytest.mark.torch


def test_fcn_student_architecture():
    m = FCN(784, 100, 2, 10, "relu", bias=False)
    shapes = [tuple(p.shape) for p in m.parameters()]
    assert shapes == [(100, 784), (10, 100)]  # 784-100-10, no bias: 79,400 parameters
    assert sum(p.numel() for p in m.parameters()) == 79_400
    out = m(torch.zeros(3, 1, 28, 28))
    assert tuple(out.shape) == (3, 10)


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_fcn_depth_counts_linear_layers(depth):
    m = FCN(20, 7, depth, 3, "sigmoid", bias=True)
    linears = [mod for mod in m.modules() if isinstance(mod, torch.nn.Linear)]
    assert len(linears) == depth
    assert all(lin.bias is not None for lin in linears)
    assert sum(isinstance(mod, torch.nn.Sigmoid) for mod in m.modules()) == depth - 1


def test_fcn_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        FCN(depth=0)
    with pytest.raises(ValueError, match="activation must be one of"):
        FCN(activation="swishy")


def test_alexnet_shapes_and_width():
    for shape in [(3, 32, 32), (1, 28, 28)]:
        m = build_model({"kind": "alexnet", "width": 8}, shape, 10, seed=0)
        assert tuple(m(torch.zeros(2, *shape)).shape) == (2, 10)
    small, big = AlexNetSmall(width=8), AlexNetSmall(width=16)
    convs = [mod for mod in big.modules() if isinstance(mod, torch.nn.Conv2d)]
    assert len(convs) == 5 and all(c.out_channels == 16 for c in convs)
    assert sum(p.numel() for p in big.parameters()) > 2 * sum(p.numel() for p in small.parameters())


def test_build_model_seeded_and_leaves_global_rng_alone():
    before = torch.get_rng_state().clone()
    a = build_model({"kind": "fcn", "width": 16}, (1, 28, 28), 10, seed=3)
    b = build_model({"kind": "fcn", "width": 16}, (1, 28, 28), 10, seed=3)
    c = build_model({"kind": "fcn", "width": 16}, (1, 28, 28), 10, seed=4)
    assert torch.equal(torch.get_rng_state(), before)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    d = build_model({"kind": "fcn", "width": 16}, (1, 28, 28), 10, seed=3, dtype=torch.float64)
    assert next(d.parameters()).dtype == torch.float64


@given(st.integers(1, 6), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_linear_hinge_matches_definition(n, k, seed):
    g = torch.Generator().manual_seed(seed)
    out = torch.randn(n, k, generator=g, dtype=torch.float64) * 2
    y = torch.randint(0, k, (n,), generator=g)
    ref = 0.0
    for i in range(n):
        for c in range(k):
            t = 1.0 if c == int(y[i]) else -1.0
            ref += max(0.0, 1.0 - t * float(out[i, c]))
    assert float(linear_hinge_loss(out, y)) == pytest.approx(ref / (n * k), rel=1e-12)


def test_get_loss():
    assert get_loss("linear_hinge") is linear_hinge_loss
    with pytest.raises(ValueError, match="loss must be one of"):
        get_loss("mse")
