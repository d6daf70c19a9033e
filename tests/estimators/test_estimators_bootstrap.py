"""Bootstrap standard errors of stabletail.estimators (``stderr="bootstrap"``).

Monte-Carlo tests are seeded; replications and the tolerance derivations are stated.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri
from test_estimators import _splitmix, pareto, sym_stable

from stabletail import estimators as est

ESTIMATORS = {
    # name: (call, data maker) -- data where each estimator's asymptotics hold
    "mohammadi": (lambda x, **kw: est.mohammadi(x, **kw), lambda n, rng: sym_stable(1.5, n, rng)),
    "mohammadi_quantile": (
        lambda x, **kw: est.mohammadi_quantile(x, **kw), lambda n, rng: sym_stable(1.5, n, rng)
    ),
    "log_moment": (lambda x, **kw: est.log_moment(x, **kw), lambda n, rng: sym_stable(1.5, n, rng)),
    "hill": (lambda x, **kw: est.hill(x, max(10, x.size // 50), **kw), lambda n, rng: pareto(1.5, n, rng)),
    "moments": (
        lambda x, **kw: est.moments(x, max(10, x.size // 10), **kw), lambda n, rng: pareto(1.5, n, rng)
    ),
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_bootstrap_se_agrees_with_asymptotic_se(name):
    """n = 1e5 values, B = 1000 resamples. The bootstrap sd from B resamples has relative sampling
    error 1/sqrt(2B) = 2.2%; 4 of those plus 4% for the finite-sample difference between the two
    estimates of the same asymptotic variance (density estimates in mohammadi_quantile's) gives 13%.
    """
    call, make = ESTIMATORS[name]
    x = make(100_000, np.random.default_rng(40))
    asym = call(x)
    boot = call(x, stderr="bootstrap", n_boot=1000, random_state=7)
    assert boot.stderr_method == "bootstrap" and asym.stderr_method == "asymptotic"
    assert boot.xi == asym.xi or boot.xi == pytest.approx(asym.xi, rel=1e-12)  # same point estimate
    assert boot.params["n_boot"] == 1000
    assert boot.params["stderr_xi_asymptotic"] == pytest.approx(asym.stderr_xi, rel=1e-9)
    assert boot.stderr_xi == pytest.approx(asym.stderr_xi, rel=0.13), (boot.stderr_xi, asym.stderr_xi)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_bootstrap_seeded_thread_independent_and_used_by_ci(name):
    numba = pytest.importorskip("numba")
    call, make = ESTIMATORS[name]
    x = make(5000, np.random.default_rng(41))
    r1 = call(x, stderr="bootstrap", n_boot=200, random_state=3)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        r2 = call(x, stderr="bootstrap", n_boot=200, random_state=3)
    finally:
        numba.set_num_threads(old)
    assert r1 == r2
    assert call(x, stderr="bootstrap", n_boot=200, random_state=4).stderr_xi != r1.stderr_xi
    z = float(ndtri(0.975))
    lo, hi = r1.ci(0.95)
    assert lo == pytest.approx(1 / (r1.xi + z * r1.stderr_xi), rel=1e-12)
    assert hi == pytest.approx(1 / (r1.xi - z * r1.stderr_xi), rel=1e-12)
    assert "bootstrap" in r1.summary()


def test_upper_order_statistics_bootstrap_kernel_matches_numpy_twin():
    """The Hill/moments bootstrap kernel against sorting the same resamples (same SplitMix64
    streams) in numpy: sums of the k largest logs and their squares, and the (k+1)-th largest."""
    from stabletail.estimators import _kernels

    rng = np.random.default_rng(42)
    logs = np.sort(np.log(pareto(1.3, 301, rng)))[::-1]
    logs = logs - logs[0]
    n, k, B, seed = logs.size, 40, 6, 123457
    got = np.empty((B, 3))
    _kernels.boot_upper(logs, k, k + 1, seed, B, got)

    for r in range(B):
        state = seed ^ ((r * 0xD1B54A32D192ED03) % 2**64)
        idx = []
        while len(idx) < n:
            state, z = _splitmix(state)
            idx += [((z & 0xFFFFFFFF) * n) >> 32, ((z >> 32) * n) >> 32]
        s = np.sort(logs[idx[:n]])[::-1]
        np.testing.assert_allclose(got[r], [s[:k].sum(), (s[:k] ** 2).sum(), s[k]], rtol=1e-12, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_bootstrap_interval_coverage(name):
    """R = 200 replications of n = 4000 values (Hill, moments: Pareto 1.5, k = 80), B = 200 resamples.
    Coverage of the 95% bootstrap-se interval: binomial sd sqrt(.95 .05/200) = 1.5%; [0.905, 0.99]
    is 3 sd below and the upper end allows for the slightly conservative bootstrap sd.
    """
    call, make = ESTIMATORS[name]
    truth = 1.5
    rng = np.random.default_rng(43)
    cover = []
    for i in range(200):
        lo, hi = call(make(4000, rng), stderr="bootstrap", n_boot=200, random_state=i).ci(0.95)
        cover.append(lo <= truth <= hi)
    assert 0.905 <= np.mean(cover) <= 0.99, (name, np.mean(cover))


def test_bad_bootstrap_options():
    x = sym_stable(1.5, 600, np.random.default_rng(44))
    with pytest.raises(ValueError, match="n_boot must be an integer in \\[20"):
        est.mohammadi(x, stderr="bootstrap", n_boot=5)
    with pytest.raises(ValueError, match="stderr must be one of 'asymptotic', 'bootstrap'"):
        est.hill(x, 20, stderr="exact")
    with pytest.raises(ValueError, match="stderr must be one of"):
        est.log_moment(x, stderr="bayes")
