"""Tests of the vectorisable elementary functions and the counter-based generator (stabletail._vecmath).

Accuracy is measured in ulps of the reference value, ``|ours - ref| / spacing(ref)``,
on dense grids and on hypothesis-drawn floats. The functions are checked as
compiled without and with FMA contraction (the random-variate kernels use the
latter). References: numpy (itself within 1 ulp on these ranges) and mpmath at
120 bits where numpy's own rounding near a zero would dominate.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from stabletail import _vecmath as V
from stabletail._jit import jit
from stabletail.stable import _rvs

FLAGS = [False, _rvs.FASTMATH]


def _compiled(fastmath):
    """Array wrappers of the scalar functions, compiled with the given fastmath flags."""

    def fn(f):
        return jit(f, fastmath=fastmath, cache=False)

    @fn
    def log(x, out):
        for i in range(x.size):
            out[i] = V._log(x[i])

    @fn
    def exp(x, out):
        for i in range(x.size):
            out[i] = V._exp(x[i])

    @fn
    def sincos(x, s, c):
        for i in range(x.size):
            s[i], c[i] = V._sincos(x[i])

    @fn
    def sincospi(x, s, c):
        for i in range(x.size):
            s[i], c[i] = V._sincospi(x[i])

    return {"log": log, "exp": exp, "sincos": sincos, "sincospi": sincospi}


_KERNELS = {str(f): _compiled(f) for f in FLAGS}


def _apply(name, x, fastmath):
    x = np.ascontiguousarray(x, dtype=np.float64)
    k = _KERNELS[str(fastmath)][name]
    if name.startswith("sincos"):
        s, c = np.empty_like(x), np.empty_like(x)
        k(x, s, c)
        return s, c
    out = np.empty_like(x)
    k(x, out)
    return out


def _ulps(ours, ref):
    ref = np.asarray(ref, dtype=np.float64)
    return np.abs(ours - ref) / np.spacing(np.abs(ref))


# ---------------------------------------------------------------- constants


def _significant_bits(v):
    m = Fraction(v).numerator  # v = m / 2**k exactly
    while m % 2 == 0:
        m //= 2
    return m.bit_length()


def test_split_constants():
    # Cody-Waite splits: leading parts short enough that k * part is exact, sums exact to the stated precision
    mp.mp.prec = 200
    assert _significant_bits(V._PIO2_1) <= 33 and _significant_bits(V._PIO2_2) <= 33
    assert abs(mp.mpf(V._PIO2_1) + mp.mpf(V._PIO2_2) + mp.mpf(V._PIO2_3) - mp.pi / 2) < mp.mpf(2) ** -120
    assert _significant_bits(V._LN2_HI) <= 42
    assert abs(mp.mpf(V._LN2_HI) + mp.mpf(V._LN2_LO) - mp.log(2)) < mp.mpf(2) ** -95


# ---------------------------------------------------------------- log


@pytest.mark.parametrize("fm", FLAGS)
def test_log_dense_grid_within_2_ulp(fm):
    # 10**6 points log-spaced over every binade, subnormals included, 10**6 points of
    # [1/2, 2] (where the reduction switches) and 2 * 10**4 next to 1
    x = np.concatenate(
        [
            np.geomspace(5e-324, 1.7e308, 10**6),
            np.linspace(0.5, 2.0, 10**6),
            1.0 + np.arange(-(10**4), 10**4) * 2.0**-40,
        ]
    )
    x = x[x > 0]
    assert _ulps(_apply("log", x, fm), np.log(x)).max() <= 2.0


def test_log_series_coefficients_reproduce():
    """The log series coefficients are mpmath's Chebyshev fit stated in _vecmath."""
    mp.mp.dps = 40
    zmax = (3 - 2 * mp.sqrt(2)) ** 2

    def q(z):
        if z == 0:
            return mp.mpf(1) / 3
        s = mp.sqrt(z)
        return (mp.atanh(s) / s - 1) / z

    coeffs = mp.chebyfit(q, [0, 1.001 * zmax], 7)
    np.testing.assert_allclose(V._LOGQ, [float(c) for c in coeffs], rtol=1e-14)


@pytest.mark.parametrize("fm", FLAGS)
def test_log_special_values(fm):
    x = np.array([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 5e-324, 2.0**-1022, 1.0, 2.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(_apply("log", x, fm), np.log(x))


@given(st.floats(min_value=5e-324, max_value=1.7976931348623157e308))
def test_log_hypothesis(v):
    for fm in FLAGS:
        assert _ulps(_apply("log", [v], fm), np.log([v]))[0] <= 2.0


# ---------------------------------------------------------------- exp


@pytest.mark.parametrize("fm", FLAGS)
def test_exp_dense_grid_within_2_ulp(fm):
    # the whole range with a finite nonzero result, subnormal results included
    x = np.concatenate([np.linspace(-745.1, 709.78, 10**6), np.linspace(-1e-3, 1e-3, 10**4)])
    assert _ulps(_apply("exp", x, fm), np.exp(x)).max() <= 2.0


@pytest.mark.parametrize("fm", FLAGS)
def test_exp_special_values(fm):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 709.8, 710.0, 1e300, -746.0, -1e300, 1e-300])
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(_apply("exp", x, fm), np.exp(x))


@given(st.floats(min_value=-745.0, max_value=709.7))
def test_exp_hypothesis(v):
    for fm in FLAGS:
        assert _ulps(_apply("exp", [v], fm), np.exp([v]))[0] <= 2.0


# ---------------------------------------------------------------- sin, cos


@pytest.mark.parametrize("fm", FLAGS)
def test_sincos_dense_grid_within_1_ulp(fm):
    x = np.linspace(-100.0, 100.0, 10**6 + 1)
    s, c = _apply("sincos", x, fm)
    assert _ulps(s, np.sin(x)).max() <= 1.0
    assert _ulps(c, np.cos(x)).max() <= 1.0


@pytest.mark.parametrize("fm", FLAGS)
def test_sincos_next_to_zeros(fm):
    # the floats nearest to k pi / 2: relative accuracy needs the 3-part reduction
    k = np.arange(-63, 64) * (math.pi / 2)
    x = np.concatenate([np.nextafter(k, np.inf), k, np.nextafter(k, -np.inf)])
    mp.mp.prec = 120
    rs = [float(mp.sin(mp.mpf(v))) for v in x]
    rc = [float(mp.cos(mp.mpf(v))) for v in x]
    s, c = _apply("sincos", x, fm)
    assert _ulps(s, rs).max() <= 1.0
    assert _ulps(c, rc).max() <= 1.0


@given(st.floats(min_value=-1e5, max_value=1e5))
def test_sincos_hypothesis(v):
    for fm in FLAGS:
        s, c = _apply("sincos", [v], fm)
        assert _ulps(s, np.sin([v]))[0] <= 1.0
        assert _ulps(c, np.cos([v]))[0] <= 1.0


@pytest.mark.parametrize("fm", FLAGS)
def test_sincospi_within_2_ulp_of_mpmath(fm):
    # a grid over [-3, 3] plus the points next to the zeros (half-integers and integers)
    y = np.linspace(-3.0, 3.0, 6001)
    h = np.arange(-6, 7) * 0.5
    y = np.concatenate([y + 1.234e-5, np.nextafter(h, 9.0), np.nextafter(h, -9.0), h])
    mp.mp.prec = 120
    rs = np.array([float(mp.sinpi(mp.mpf(v))) for v in y])
    rc = np.array([float(mp.cospi(mp.mpf(v))) for v in y])
    s, c = _apply("sincospi", y, fm)
    for ours, ref in ((s, rs), (c, rc)):
        zero = ref == 0.0
        assert np.all(ours[zero] == 0.0)
        assert _ulps(ours[~zero], ref[~zero]).max() <= 2.0


@given(st.floats(min_value=-0.5, max_value=0.5))
def test_sincospi_hypothesis(v):
    mp.mp.prec = 120
    rs, rc = float(mp.sinpi(mp.mpf(v))), float(mp.cospi(mp.mpf(v)))
    for fm in FLAGS:
        s, c = _apply("sincospi", [v], fm)
        assert s[0] == rs if rs == 0.0 else _ulps(s, [rs])[0] <= 2.0
        assert c[0] == rc if rc == 0.0 else _ulps(c, [rc])[0] <= 2.0


# ---------------------------------------------------------------- counter-based generator

_M64 = (1 << 64) - 1


def _splitmix64_ref(state, count):
    """The first ``count`` SplitMix64 outputs from ``state``, sequentially (Python ints)."""
    out = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & _M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        out.append(z ^ (z >> 31))
    return out


@jit(cache=False)
def _outputs(key, j0, count, out):
    for t in range(count):
        out[t] = V._splitmix64_at(key, np.uint64(j0 + t))


@jit(cache=False)
def _uniforms(h, oc, sym):
    for i in range(h.size):
        oc[i] = V._uniform_oc(h[i])
        sym[i] = V._uniform_sym(h[i])


@jit(cache=False)
def _draws(key, n, y, w):
    for i in range(n):
        y[i], w[i] = _rvs._draw(key, i)


def test_splitmix64_at_is_the_sequential_stream():
    # known answer of the reference generator: first output from state 0
    assert _splitmix64_ref(0, 1)[0] == 0xE220A8397B1DCDAF
    for key in (0, 12345, _M64, 0x0123456789ABCDEF):
        out = np.empty(40, np.uint64)
        _outputs(np.uint64(key), 1, 40, out)
        assert [int(v) for v in out] == _splitmix64_ref(key, 40)
        # random access: outputs 1000..1009 without the first 999
        _outputs(np.uint64(key), 1000, 10, out)
        assert [int(v) for v in out[:10]] == _splitmix64_ref(key, 1009)[999:]


@given(st.integers(0, _M64))
def test_uniforms_are_exact_53_bit_grids(h):
    oc, sym = np.empty(1), np.empty(1)
    _uniforms(np.array([h], np.uint64), oc, sym)
    m = h >> 11
    assert Fraction(oc[0]) == Fraction(2**53 - m, 2**53)  # in [2**-53, 1]
    assert Fraction(sym[0]) == Fraction(2 * m + 1, 2**54) - Fraction(1, 2)  # in (-1/2, 1/2)


def test_uniform_extremes():
    h = np.array([0, _M64, 1 << 11, _M64 ^ (1 << 11)], np.uint64)
    oc, sym = np.empty(4), np.empty(4)
    _uniforms(h, oc, sym)
    assert oc[0] == 1.0 and oc[1] == 2.0**-53
    assert sym[0] == -0.5 + 2.0**-54 and sym[1] == 0.5 - 2.0**-54
    # V = pi y stays inside (-pi/2, pi/2) and cos V > 0 after rounding
    assert np.all(np.abs(math.pi * sym) < math.pi / 2)


def test_draws_chi_square():
    """Uniformity and independence of the draws behind stable.rvs.

    n = 10**6 draws of one key. y (on (-1/2, 1/2)) and u = exp(-w) (on (0, 1])
    in 100 equal bins each, the pair (y, u) and the serial pair (y_i, y_{i+1})
    in 10 x 10 cells. Under the null each statistic is chi-square distributed;
    p < 1e-4 would reject (false alarm 1e-4 per test).
    """
    n = 10**6
    y, w = np.empty(n), np.empty(n)
    _draws(np.uint64(20261123), n, y, w)
    u = np.exp(-w)
    assert np.all(np.abs(y) < 0.5) and np.all((w >= 0.0) & np.isfinite(w))
    for v in (y + 0.5, u):
        counts = np.bincount(np.minimum((v * 100).astype(int), 99), minlength=100)
        assert stats.chisquare(counts).pvalue > 1e-4
    for a, b in ((y + 0.5, u), (y[:-1] + 0.5, y[1:] + 0.5), (u[:-1], u[1:])):
        cells = np.minimum((a * 10).astype(int), 9) * 10 + np.minimum((b * 10).astype(int), 9)
        counts = np.bincount(cells, minlength=100)
        assert stats.chisquare(counts).pvalue > 1e-4
    # W is Exp(1): KS against its cdf
    assert stats.kstest(w[:100_000], "expon").pvalue > 1e-4
