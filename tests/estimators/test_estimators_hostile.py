"""Hostile input to the tail-index estimators (issue 15): right numbers or clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabletail import estimators as est
from stabletail import stable


def _reference_multivariate(y, k1):
    """Mohammadi's multivariate estimate with every norm by math.hypot (no under- or overflow)."""
    k2 = y.shape[0] // k1
    d = []
    for i in range(k2):
        block = y[i * k1 : (i + 1) * k1]
        ly = math.log(math.hypot(*block.sum(axis=0)))
        lx = sum(math.log(math.hypot(*row)) for row in block) / k1
        d.append(ly - lx)
    return 1.0 / (sum(d) / k2 / math.log(k1))


@pytest.mark.parametrize("factor", [1e-170, 1e154, 1e-300, 1e300])
def test_multivariate_rows_of_any_magnitude(factor):
    y = stable.rvs(1.5, size=6000, random_state=1).reshape(-1, 3)
    y[7] *= factor
    r = est.mohammadi(y, axis=1)
    assert r.alpha == pytest.approx(_reference_multivariate(y, 6), rel=1e-9)


@settings(max_examples=20, deadline=None)
@given(power=st.integers(-1000, 1000))
def test_multivariate_estimate_is_scale_invariant(power):
    y = stable.rvs(1.2, size=1200, random_state=2).reshape(-1, 4)
    a = est.mohammadi(y, axis=1).alpha
    assert est.mohammadi(np.ldexp(y, power), axis=1).alpha == pytest.approx(a, rel=1e-9)


@pytest.mark.parametrize("name", sorted(est.ESTIMATORS))
@pytest.mark.parametrize("data", [[], [1.0], [3.0] * 50, [0.0] * 50])
def test_degenerate_samples_are_refused_with_a_message(name, data):
    with pytest.raises(ValueError, match="x"):
        est.ESTIMATORS[name](np.asarray(data, dtype=float))


@pytest.mark.parametrize("name", sorted(est.ESTIMATORS))
def test_non_finite_values_follow_nan_policy(name):
    x = stable.rvs(1.5, size=3000, random_state=3)
    x[10] = np.nan
    func = est.ESTIMATORS[name]
    with pytest.raises(ValueError, match="x"):
        func(x)
    assert math.isnan(func(x, nan_policy="propagate").alpha)
    assert math.isfinite(func(x, nan_policy="omit").alpha)


@pytest.mark.parametrize(
    "name, options, words",
    [("hill", {"t_bootstrap": 1e-6}, "t_bootstrap"), ("hill", {"k": -3}, "k"), ("hill", {"k": 1e9}, "k"),
     ("mohammadi", {"block_size": 1}, "block_size"), ("mohammadi", {"block_size": 10**6}, "block_size"),
     ("mohammadi", {"eps": -1.0}, "eps"), ("log_moment", {"nan_policy": "ignore"}, "nan_policy"),
     ("moments", {"k": 0}, "k"), ("pickands", {"k": 10**6}, "k"),
     ("mohammadi", {"stderr": "jackknife"}, "stderr"),
     ("mohammadi", {"stderr": "bootstrap", "n_boot": 3}, "n_boot")],
)
def test_bad_options_name_the_argument(name, options, words):
    x = stable.rvs(1.5, size=3000, random_state=4)
    with pytest.raises(ValueError, match=words):
        est.ESTIMATORS[name](x, **options)
