"""The S0/S1 parameterisation module: shift against the stable law, Jacobian against differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabletail import _params, stable

alphas = st.floats(0.2, 2.0).filter(lambda a: abs(a - 1.0) > 1e-3)
betas = st.floats(-1.0, 1.0)
scales = st.floats(0.1, 10.0)


@settings(max_examples=30, deadline=None)
@given(alphas, betas, scales, st.floats(-5.0, 5.0))
def test_s1_location_gives_the_same_law(a, b, s, m0):
    """pdf in S0 at loc0 equals pdf in S1 at s1_loc(loc0): the shift is the parameterisation change."""
    m1 = _params.s1_loc(a, b, s, m0)
    x = m0 + s * np.array([-1.0, 0.0, 0.7])
    p0 = stable.pdf(x, a, b, s, m0, "S0")
    p1 = stable.pdf(x, a, b, s, m1, "S1")
    np.testing.assert_allclose(p1, p0, rtol=1e-9)
    assert _params.s0_loc(a, b, s, m1, "S1") == pytest.approx(m0, rel=1e-12, abs=1e-12 * (1 + abs(m0)))


@pytest.mark.parametrize("a", [0.5, 1.0, 1.5, 1.9])
def test_s1_jacobian_matches_central_differences(a):
    """Row loc1 of the Jacobian against central differences of s1_loc (alpha column NaN at alpha = 1)."""
    b, s, m0 = 0.4, 1.7, 0.3
    J = _params.s1_jacobian(a, b, s)
    th = np.array([a, b, s, m0])
    h = 1e-6
    for j in range(4):
        if a == 1.0 and j == 0:
            assert np.isnan(J[3, 0])
            continue
        tp, tm = th.copy(), th.copy()
        tp[j] += h
        tm[j] -= h
        d = (_params.s1_loc(*tp) - _params.s1_loc(*tm)) / (2 * h)
        assert J[3, j] == pytest.approx(d, rel=1e-6, abs=1e-8)
    np.testing.assert_array_equal(J[:3], np.eye(4)[:3])


@pytest.mark.parametrize(
    ("args", "name"),
    [((0.0, 0, 1, 0), "alpha"), ((2.1, 0, 1, 0), "alpha"), ((1.5, 1.2, 1, 0), "beta"),
     ((1.5, 0, 0.0, 0), "scale"), ((1.5, 0, 1, np.inf), "loc")],
)
def test_check_params_names_the_argument(args, name):
    with pytest.raises(ValueError, match=name):
        _params.check_params(*args)


def test_check_parameterization():
    assert _params.check_parameterization("S1") == "S1"
    with pytest.raises(ValueError, match="parameterization"):
        _params.check_parameterization("S2")
