"""Every estimator of the registry offers the same surface and the same invariances."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabletail import estimators as est
from stabletail import stable

NAMES = sorted(est.ESTIMATORS)


def _call(name, x):
    """Seeded where the estimator draws random numbers (Hill's double bootstrap)."""
    func = est.ESTIMATORS[name]
    seeded = "random_state" in inspect.signature(func).parameters
    return func(x, random_state=0) if seeded else func(x)


@pytest.fixture(scope="module")
def sample():
    return stable.rvs(1.5, 0.0, size=4_000, random_state=11)


@pytest.mark.parametrize("name", NAMES)
def test_result_surface(name, sample):
    r = _call(name, sample)
    assert isinstance(r, est.TailIndex) and r.method == name and r.n > 0
    assert math.isfinite(r.alpha) and r.stderr > 0
    lo90, hi90 = r.ci(0.90)
    lo99, hi99 = r.ci(0.99)
    assert lo99 <= lo90 <= r.alpha <= hi90 <= hi99  # nested intervals around the estimate
    assert name in r.summary()


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(power=st.integers(-60, 60), flip=st.booleans())
def test_scale_and_sign_invariance(name, sample, power, flip):
    # a tail index does not depend on the unit: scaling by 2^power (exact in binary) and,
    # for these symmetric-use estimators, flipping every sign leave alpha unchanged
    x = np.ldexp(sample, power) * (-1.0 if flip else 1.0)
    a, b = _call(name, sample), _call(name, x)
    assert b.alpha == pytest.approx(a.alpha, rel=1e-9)
    assert b.stderr == pytest.approx(a.stderr, rel=1e-9)
