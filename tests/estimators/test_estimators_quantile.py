"""Tests for stabletail.estimators.mohammadi_quantile (the order-statistics form).

Monte-Carlo tests are seeded; replications and the tolerance derivations are stated.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_estimators import sym_stable

from stabletail import estimators as est


def published_alpha_estimator2(X: np.ndarray, m: int, k: int) -> float:
    """Transcription (numpy) of ``alpha_estimator2`` in the published code of Simsekli et al.
    (2019), utils.py ("Corollary 2.2 in Mohammadi 2014"): X is N x d."""
    N = len(X)
    n = N // m
    Y = X[: n * m].reshape(n, m, -1).sum(1)
    eps = np.spacing(1)
    y = np.log(np.linalg.norm(Y, axis=1) + eps)
    x = np.log(np.linalg.norm(X.reshape(N, -1), axis=1) + eps)
    return 1.0 / ((np.sort(y)[k - 1] - np.sort(x)[m * k - 1]) / math.log(m))


def test_reproduces_published_code_1d_and_2d():
    rng = np.random.default_rng(30)
    x = sym_stable(1.3, 4096, rng)
    for k in (1, 17, 32, 64):
        r = est.mohammadi_quantile(x, "sqrt", k, eps=np.spacing(1))
        assert r.params["block_size"] == 64 and r.params["k"] == k
        assert r.alpha == pytest.approx(published_alpha_estimator2(x[:, None], 64, k), rel=1e-12)
    X = sym_stable(1.3, (1000, 3), rng)
    r2 = est.mohammadi_quantile(X, 25, 20, axis=1, eps=np.spacing(1))
    assert r2.alpha == pytest.approx(published_alpha_estimator2(X, 25, 20), rel=1e-12)
    assert est.mohammadi_quantile(X.T, 25, 20, axis=0, eps=np.spacing(1)).alpha == pytest.approx(r2.alpha,
                                                                                                  rel=1e-13)


def test_quantile_level_and_defaults():
    x = sym_stable(1.5, 6000, np.random.default_rng(31))
    r = est.mohammadi_quantile(x)  # K1 = 6, K2 = 1000, median: k = 500
    assert r.params["k"] == 500 and r.params["q"] == 0.5 and r.params["block_size"] == 6
    assert est.mohammadi_quantile(x, k=0.25).params["k"] == 250
    assert est.mohammadi_quantile(x, k=0.25).alpha == est.mohammadi_quantile(x, k=250).alpha
    assert r.n == 6000 and r.stderr_method == "asymptotic"


def test_stderr_is_the_bahadur_formula():
    """se(1/alpha) = sd(Z)/(sqrt(K2) log K1), Z_i = frac_i/g_V - 1{U_i <= U_(k)}/g_U, recomputed here
    with the densities from Siddiqui quotients at Hall-Sheather bandwidths."""
    from scipy.stats import norm

    rng = np.random.default_rng(32)
    x = sym_stable(1.2, 12_000, rng)
    k1, k2, k = 6, 2000, 700
    w = x.reshape(k2, k1)
    u = np.log(np.abs(w.sum(1)))
    v = np.log(np.abs(w))
    us, vs = np.sort(u), np.sort(v.ravel())
    u_k, v_k = us[k - 1], vs[k1 * k - 1]

    def density(z_sorted, rank):
        n = z_sorted.size
        p = rank / n
        q = norm.ppf(p)
        h = n ** (-1 / 3) * norm.ppf(0.975) ** (2 / 3) * (1.5 * norm.pdf(q) ** 2 / (2 * q * q + 1)) ** (1 / 3)
        lo, hi = max(1, math.floor(n * (p - h))), min(n, math.ceil(n * (p + h)))
        return (hi - lo) / n / (z_sorted[hi - 1] - z_sorted[lo - 1])

    z = (v <= v_k).mean(1) / density(vs, k1 * k) - (u <= u_k) / density(us, k)
    r = est.mohammadi_quantile(x, k1, k)
    assert r.xi == pytest.approx((u_k - v_k) / math.log(k1), rel=1e-12)
    assert r.stderr_xi == pytest.approx(z.std(ddof=1) / math.sqrt(k2) / math.log(k1), rel=1e-6)


@pytest.mark.slow
def test_monte_carlo_accuracy_and_coverage():
    """R = 200 replications of n = 1e4 symmetric stable values, K1 = 6, medians.

    Mean within 3 sd/sqrt(R) of alpha (plus 0.01 for the O(1/K2) bias of sample quantiles).
    Reported stderr vs the empirical sd: the sd of R draws is known to ~1/sqrt(2R) = 5%,
    and the density estimates in the reported se add scatter, so +-20%. Coverage of the
    95% interval: binomial sd 1.5%, [0.905, 0.995].
    """
    R, n = 200, 10_000
    rng = np.random.default_rng(33)
    for a in (1.2, 1.8):
        rs = [est.mohammadi_quantile(sym_stable(a, n, rng)) for _ in range(R)]
        al = np.array([r.alpha for r in rs])
        sd = al.std(ddof=1)
        assert abs(al.mean() - a) < 3 * sd / math.sqrt(R) + 0.01, (a, al.mean())
        assert np.mean([r.stderr for r in rs]) == pytest.approx(sd, rel=0.2), a
        cover = np.mean([lo <= a <= hi for lo, hi in (r.ci() for r in rs)])
        assert 0.905 <= cover <= 0.995, (a, cover)


@given(seed=st.integers(0, 2**32 - 1), c=st.floats(1e-6, 1e6), sign=st.sampled_from([-1.0, 1.0]))
def test_scale_sign_and_block_order_invariance(seed, c, sign):
    rng = np.random.default_rng(seed)
    x = sym_stable(1.4, 600, rng)
    ref = est.mohammadi_quantile(x)
    assert est.mohammadi_quantile(sign * c * x).alpha == pytest.approx(ref.alpha, rel=1e-9)
    b = x.reshape(100, 6)
    # permuting values inside blocks, or whole blocks, keeps every block sum and value
    shuffled = rng.permuted(b, axis=1)[rng.permutation(100)].ravel()
    assert est.mohammadi_quantile(shuffled).alpha == pytest.approx(ref.alpha, rel=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: est.mohammadi_quantile(x, 6, 0), "k must be an integer in \\[1"),
        (lambda x: est.mohammadi_quantile(x, 6, 101), "k must be an integer in \\[1, 100\\]"),
        (lambda x: est.mohammadi_quantile(x, 6, 1.0), "k must be in \\(0, 1\\)"),
        (lambda x: est.mohammadi_quantile(x, 301), "at least 2 \\* block_size"),
        (lambda x: est.mohammadi_quantile(np.full(600, 2.0)), "degenerate"),
        (lambda x: est.mohammadi_quantile(np.r_[0.0, x[1:]]), "exact zero"),
        (lambda x: est.mohammadi_quantile(x, stderr="jackknife"), "stderr must be one of"),
    ],
)
def test_bad_input(call, match):
    x = sym_stable(1.5, 600, np.random.default_rng(34))
    with pytest.raises(ValueError, match=match):
        call(x)
