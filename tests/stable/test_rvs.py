"""Tests of stabletail.stable.rvs (Chambers-Mallows-Stuck sampler)."""

from __future__ import annotations

import math

import mpmath as mp
import numba
import numpy as np
import pytest
from scipy import stats

from stabletail import stable
from stabletail._jit import jit
from stabletail.stable import _rvs


@pytest.mark.parametrize(
    "a,b,par",
    [
        (1.5, 0.5, "S0"),
        (0.7, 1.0, "S0"),
        (1.0, -0.6, "S1"),
        (1.0 + 5e-8, 0.6, "S0"),
        (1.0 - 4e-6, -0.9, "S0"),
        (2.0, 0.0, "S1"),
        (0.4, -0.2, "S1"),
        (0.5, 0.0, "S0"),
        (1.0, 0.0, "S0"),
        (1.9, 0.7, "S1"),
        (1.2, -1.0, "S0"),
    ],
)
def test_rvs_ks_against_cdf(a, b, par):
    # n = 4000 seeded draws; with a correct sampler the KS p-value is uniform,
    # so a threshold of 1e-3 fails with probability 1e-3 for a fresh seed.
    x = stable.rvs(a, b, 2.0, 1.0, size=4000, random_state=11, parameterization=par)
    res = stats.kstest(x, lambda v: stable.cdf(v, a, b, 2.0, 1.0, par))
    assert res.pvalue > 1e-3


@pytest.mark.parametrize("a,b,par,seed", [(1.5, 0.5, "S0", 31), (0.7, 1.0, "S0", 32), (1.0, 0.7, "S1", 33)])
def test_rvs_ks_million(a, b, par, seed):
    # n = 10**6: KS detects a cdf deviation of about 1.9e-3 (the 1e-3 critical value
    # 1.95 / sqrt(n)); a fresh seed per case, false alarm 1e-3 per case
    x = stable.rvs(a, b, size=10**6, random_state=seed, parameterization=par)
    assert stats.kstest(x, lambda v: stable.cdf(v, a, b, 1.0, 0.0, par)).pvalue > 1e-3


def test_rvs_reproducible_and_thread_independent():
    x1 = stable.rvs(1.3, 0.4, size=(50, 40), random_state=3)
    assert x1.shape == (50, 40)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        x2 = stable.rvs(1.3, 0.4, size=(50, 40), random_state=np.random.default_rng(3))
    finally:
        numba.set_num_threads(old)
    np.testing.assert_array_equal(x1, x2)
    assert isinstance(stable.rvs(1.3, random_state=1), float)
    assert stable.rvs(1.3, size=0).shape == (0,)


@pytest.mark.parametrize("a,b", [(1.5, 0.5), (1.0, 0.7), (1.0 + 3e-7, -0.4)])
def test_rvs_depends_only_on_seed_and_index(a, b):
    """Same values for 1 and all threads, and for every size: sizes straddle the chunk and block
    edges and the size from which the chunks run in parallel."""
    c, blk, par = _rvs.CHUNK, _rvs.BLOCK, _rvs.PARALLEL_MIN
    sizes = [1, blk - 1, blk + 1, c - 1, c, c + 1, 3 * c + blk + 7, par - 1, par, par + c + 5]
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = {n: stable.rvs(a, b, size=n, random_state=8) for n in sizes}
    finally:
        numba.set_num_threads(old)
    longest = one[sizes[-1]]
    for n in sizes:
        np.testing.assert_array_equal(stable.rvs(a, b, size=n, random_state=8), one[n])
        np.testing.assert_array_equal(one[n], longest[:n])


def test_generator_advances_and_streams_differ():
    g = np.random.default_rng(5)
    x1 = stable.rvs(1.5, size=100, random_state=g)
    x2 = stable.rvs(1.5, size=100, random_state=g)
    assert not np.any(x1 == x2)
    # an int seed and a Generator with that seed give the same draws
    np.testing.assert_array_equal(x1, stable.rvs(1.5, size=100, random_state=5))


# ---------------------------------------------------------------- the map against mpmath


@jit(cache=False)
def _draws(key, n, y, w):
    for i in range(n):
        y[i], w[i] = _rvs._draw(key, i)


def _cms_reference(a, b, y, w):
    """Standardised S0 variate at V = pi y, W = w, evaluated with 60 digits (mpmath)."""
    a, b, v, w = mp.mpf(a), mp.mpf(b), mp.pi * mp.mpf(y), mp.mpf(w)
    if a == 1:
        pb = mp.pi / 2 + b * v
        return (pb * mp.tan(v) - b * mp.log(mp.pi / 2 * w * mp.cos(v) / pb)) / (mp.pi / 2)
    t = mp.tan(mp.pi * a / 2)
    zeta = -b * t
    th0 = mp.atan(b * t) / a
    x1 = (1 + zeta**2) ** (1 / (2 * a)) * mp.sin(a * (v + th0)) / mp.cos(v) ** (1 / a)
    return x1 * (mp.cos(v - a * (v + th0)) / w) ** ((1 - a) / a) + zeta


@pytest.mark.parametrize(
    "a,b,tol",
    [
        # alpha != 1: x = sa exp(A) (+ zeta); each elementary function is within
        # 2 ulp (tests/estimators/test_vecmath.py) and |A| < 100 here, so the relative error of
        # the S1 value is below ~ (100 + 10) * 4 * 1.1e-16 = 5e-14, i.e. an absolute
        # error below 5e-14 (|x| + |zeta|) for the S0 value
        (0.5, 0.0, 5e-14),
        (0.3, -1.0, 5e-14),
        (0.8, 0.2, 5e-14),
        (1.5, 0.5, 5e-14),
        (1.2, 1.0, 5e-14),
        (1.9, -0.7, 5e-14),
        (2.0, 0.0, 5e-14),
        # alpha = 1: pb tan V - beta log(...) may cancel terms up to ~1e3 (x of order
        # 1): 1e3 * 4 ulp -> 1e-12 (1 + |x|)
        (1.0, 0.0, 1e-12),
        (1.0, 0.7, 1e-12),
        # interpolated / cancelling S0 map next to alpha = 1: see DALPHA_RVS in
        # _rvs.py (largest error 2e-8 over 1000 draws); 1e-7 (1 + |x|) allows for the
        # longer tail of this sample
        (1.0 + 1e-9, 0.6, 1e-7),
        (1.0 + 5e-7, 1.0, 1e-7),
        (1.0 - 9.99e-7, -0.3, 1e-7),
        (1.0 + 1.001e-6, 0.6, 1e-7),
        (1.0 + 2e-5, 1.0, 1e-7),
    ],
)
def test_map_matches_mpmath(a, b, tol):
    n = 300
    y, w = np.empty(n), np.empty(n)
    key = np.uint64(77)
    _draws(key, n, y, w)
    x = np.empty(n)
    _rvs.rvs_fill(key, a, b, 1.0, 0.0, x)
    mp.mp.dps = 60
    ref = np.array([float(_cms_reference(a, b, y[i], w[i])) for i in range(n)])
    zeta = abs(b * math.tan(math.pi * a / 2)) if a != 1.0 else 1.0
    assert np.all(np.abs(x - ref) <= tol * (np.abs(ref) + zeta))


def test_s0_continuous_in_alpha_pathwise():
    """The same key gives the same (V, W) for every alpha: the S0 draws move smoothly through alpha = 1.

    With slope D and curvature C of each draw in alpha from alpha = 1 and 1 +- 1e-3
    (central differences), Taylor gives |x(1 + d) - x(1) - d D| <= d**2 |C| / 2 up to
    third-order terms, plus the errors of the map next to alpha = 1 (below 2e-8 (1 + |x|),
    see DALPHA_RVS). Bound used: d**2 |C| + 1e-7 (1 + |x|), for d on both sides of the
    interpolation edge 1e-6.
    """
    n = 2000
    for b in (0.7, -1.0):
        x1 = stable.rvs(1.0, b, size=n, random_state=4)
        xp = stable.rvs(1.001, b, size=n, random_state=4)
        xm = stable.rvs(0.999, b, size=n, random_state=4)
        slope = (xp - xm) / 2e-3
        curv = (xp - 2.0 * x1 + xm) / 1e-6
        for d in (1e-9, 5e-7, 0.999e-6, 1.001e-6, -1.001e-6, 1e-5, -1e-4):
            xd = stable.rvs(1.0 + d, b, size=n, random_state=4)
            dev = np.abs(xd - x1 - d * slope)
            assert np.all(dev <= d * d * np.abs(curv) + 1e-7 * (1.0 + np.abs(x1))), (b, d)


@pytest.mark.parametrize("a", [0.1, 0.5, 0.9, 1.0 - 5e-7, 1.0, 1.0 + 2e-6, 1.5, 1.99, 2.0])
def test_finite_and_one_sided_support(a):
    # 10**5 draws per (alpha, beta): every draw finite (the heaviest tail, alpha = 0.1,
    # exceeds 1e300 with probability about (1e300)**-0.1 = 1e-30 per draw); for alpha < 1 and
    # beta = +-1 the S1 law lives on the half-line beta * x >= 0 (Nolan 2020, ch. 1)
    for b in (-1.0, -0.3, 0.0, 0.6, 1.0):
        x = stable.rvs(a, b, size=10**5, random_state=2, parameterization="S1")
        assert np.all(np.isfinite(x))
        if a < 1.0 and abs(b) == 1.0:
            assert np.all(b * x >= 0.0)
