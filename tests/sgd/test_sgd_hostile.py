"""Hostile input to the harvest (issue 15 items 12 and 15): clear errors up front."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stabletail.sgd import harvest  # noqa: E402

pytestmark = pytest.mark.torch


def _setup(n=230):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).double()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 6, generator=g, dtype=torch.float64)
    y = x.sum(1, keepdim=True) + torch.randn(n, 1, generator=g, dtype=torch.float64)
    return model, x, y


def _mse(out, t):
    return torch.nn.functional.mse_loss(out, t)


@pytest.mark.parametrize(
    "make, words",
    [(lambda x, y: (x,), "1 tensors"), (lambda x, y: (x, y, y), "3 tensors"), (lambda x, y: [], "empty"),
     (lambda x, y: (x.numpy(), y), "ndarray"), (lambda x, y: {"x": x, "y": y}, "dict"),
     (lambda x, y: x, "Tensor"),
     (lambda x, y: [{"x": x[:10], "y": y[:10]}] * 3, "batch 0 is dict"),
     (lambda x, y: [(x[:10],)] * 3, "batch 0 is tuple of length 1")],
)
def test_data_that_is_not_batches_is_named(make, words):
    model, x, y = _setup()
    with pytest.raises((TypeError, ValueError), match="data must be a pair") as info:
        harvest(model, _mse, make(x, y), 10, progress=False)
    assert words in str(info.value)


def test_a_loss_returning_a_float_is_named():
    model, x, y = _setup()
    with pytest.raises(TypeError, match="scalar tensor; got float"):
        harvest(model, lambda out, t: float(_mse(out, t).detach()), (x, y), 23, progress=False)


@pytest.mark.parametrize("loss", [torch.nn.MSELoss(reduction="sum"),
                                  lambda out, t: torch.nn.functional.mse_loss(out, t, reduction="sum")])
def test_exact_full_gradient_refuses_a_summed_loss(loss):
    # 230 examples in chunks of 23 would be fine; chunks of 50 leave a partial last chunk of 30,
    # which a summed loss weights wrongly (alpha changed silently before)
    model, x, y = _setup()
    with pytest.raises(ValueError, match="mean loss"):
        harvest(model, loss, (x, y), 50, full_gradient="exact", progress=False)


def test_exact_full_gradient_with_a_generator_is_refused_up_front():
    model, x, y = _setup()
    batches = ((x[i : i + 23], y[i : i + 23]) for i in range(0, 230, 23))
    with pytest.raises(ValueError, match="one-shot iterator"):
        harvest(model, _mse, batches, n_batches=10, full_gradient="exact", progress=False)


def test_exact_full_gradient_with_a_mean_loss_still_works():
    model, x, y = _setup()
    res = harvest(model, _mse, (x, y), 50, full_gradient="exact", progress=False)
    assert res.status == "ok" and np.isfinite(res.full_gradient).all()


class _OnceOnly:
    """Re-iterable in form (``iter`` returns a new iterator each time) but its batches come only once."""

    def __init__(self, batches):
        self.batches, self.used = list(batches), False

    def __len__(self):
        return len(self.batches)

    def __iter__(self):  # a generator: nothing runs before the first batch is asked for
        if not self.used:
            self.used = True
            yield from self.batches


def test_exact_full_gradient_that_finds_the_data_exhausted_says_so():
    # not recognisable up front (not an iterator itself): the exact pass sees no example
    model, x, y = _setup()
    data = _OnceOnly((x[i : i + 23], y[i : i + 23]) for i in range(0, 230, 23))
    with pytest.raises(ValueError, match="found no data in its pass over data"):
        harvest(model, _mse, data, full_gradient="exact", progress=False)


class _Counted:
    """Batches that count how often they are iterated (a loader starts its workers each time)."""

    def __init__(self, batches):
        self.batches, self.iterations = list(batches), 0

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        self.iterations += 1
        return iter(self.batches)


@pytest.mark.parametrize("full_gradient, passes", [("mean", 1), ("exact", 2)])
def test_data_is_iterated_once_per_pass(full_gradient, passes):
    model, x, y = _setup()
    data = _Counted((x[i : i + 23], y[i : i + 23]) for i in range(0, 230, 23))
    res = harvest(model, _mse, data, full_gradient=full_gradient, progress=False)
    assert res.status == "ok" and res.n_passes == passes and data.iterations == passes
