"""von Mises-Fisher concentration of gradient directions and the harvester's direction rows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from stabletail.sgd.direction import bessel_ratio, direction_summary, vmf_kappa

pytestmark = pytest.mark.torch  # lives in the torch-only subpackage


@pytest.mark.parametrize("d,kappa", [(2, 0.5), (3, 10.0), (50, 20.0), (1000, 300.0), (10, 1e4)])
def test_bessel_ratio_matches_scaled_bessel(d, kappa):
    ref = special.ive(d / 2, kappa) / special.ive(d / 2 - 1, kappa)
    assert bessel_ratio(d, kappa) == pytest.approx(ref, rel=1e-12)


def test_bessel_ratio_at_orders_where_ive_underflows():
    mpmath = pytest.importorskip("mpmath")
    d, kappa = 2_000_000, 3000.0
    with mpmath.workdps(30):
        ref = mpmath.besseli(d / 2, kappa) / mpmath.besseli(d / 2 - 1, kappa)
    assert special.ive(d / 2, kappa) == 0.0  # the continued fraction is needed here
    assert bessel_ratio(d, kappa) == pytest.approx(float(ref), rel=1e-10)


@pytest.mark.parametrize("d,kappa", [(2_000_000, 3000.0), (10**7, 5e5), (10**7, 5e7)])
def test_bessel_ratio_within_amos_bounds(d, kappa):
    # Amos (1974): with nu = d/2 - 1, k / (nu + 1/2 + sqrt((nu + 3/2)^2 + k^2)) <= A_d(k)
    # <= k / (nu + 1/2 + sqrt((nu + 1/2)^2 + k^2)); at these orders the bounds are tight
    nu = d / 2 - 1
    lo = kappa / (nu + 0.5 + math.sqrt((nu + 1.5) ** 2 + kappa**2))
    hi = kappa / (nu + 0.5 + math.sqrt((nu + 0.5) ** 2 + kappa**2))
    a = bessel_ratio(d, kappa)
    assert lo * (1 - 1e-12) <= a <= hi * (1 + 1e-12)


@given(st.integers(2, 10**6), st.floats(1e-3, 1e5))
def test_vmf_kappa_inverts_the_bessel_ratio(d, kappa):
    r = bessel_ratio(d, kappa)
    if not 1e-12 < r < 1 - 1e-9:
        return
    k, k0 = vmf_kappa(r, d)
    assert k == pytest.approx(kappa, rel=1e-6)
    assert k0 > 0


def _sample_vmf(d, kappa, n, rng):
    """Wood (1994) sampler for the vMF on S^{d-1} with mean direction e_1."""
    b = (-2 * kappa + math.sqrt(4 * kappa**2 + (d - 1) ** 2)) / (d - 1)
    x0 = (1 - b) / (1 + b)
    c = kappa * x0 + (d - 1) * math.log(1 - x0**2)
    out = np.empty(n)
    i = 0
    while i < n:
        z = rng.beta((d - 1) / 2, (d - 1) / 2)
        w = (1 - (1 + b) * z) / (1 - (1 - b) * z)
        if kappa * w + (d - 1) * math.log(1 - x0 * w) - c >= math.log(rng.uniform()):
            out[i] = w
            i += 1
    v = rng.standard_normal((n, d - 1))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return np.column_stack([out, np.sqrt(1 - out**2)[:, None] * v])


def test_kappa_recovered_from_vmf_samples():
    rng = np.random.default_rng(12)
    d, kappa, n = 20, 15.0, 4000
    u = _sample_vmf(d, kappa, n, rng)
    r = np.linalg.norm(u.mean(0))
    # R estimates A_d(kappa) with sd about sd(w) / sqrt(n) (w = projection on the mean)
    assert abs(r - bessel_ratio(d, kappa)) < 4 * u[:, 0].std() / math.sqrt(n) + 1.0 / n
    k, k0 = vmf_kappa(r, d)
    # delta method: sd(kappa) = sd(R) / A_d'(kappa)
    a = bessel_ratio(d, kappa)
    slope = 1 - a * a - (d - 1) * a / kappa
    assert abs(k - kappa) < 4 * u[:, 0].std() / math.sqrt(n) / slope
    assert abs(k0 - k) / k < 0.05  # Banerjee's approximation is close at d = 20


def test_direction_summary_and_limits():
    row = direction_summary(0.0, 10, 5, np.array([1.0, 2.0, 3.0]))
    assert row["kappa"] == 0.0 and row["norm_cv"] == pytest.approx(1.0 / 2.0)
    assert row["resultant_length_uniform"] == pytest.approx(1 / math.sqrt(5))
    assert vmf_kappa(1.0, 5) == (math.inf, math.inf)
    with pytest.raises(ValueError, match="r"):
        vmf_kappa(1.5, 3)
    with pytest.raises(ValueError, match="d"):
        vmf_kappa(0.5, 1)


def test_harvest_direction_rows_match_numpy():
    torch = pytest.importorskip("torch")
    from stabletail.sgd import MODEL, harvest

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(400, 4, generator=g, dtype=torch.float64)
    y = torch.randn(400, generator=g, dtype=torch.float64)
    loss = lambda out, t: torch.nn.functional.mse_loss(out.squeeze(-1), t)  # noqa: E731
    res = harvest(model, loss, (x, y), 20, store=True)
    grads = res.noise + res.full_gradient
    for info, row in zip(res.layers, res.directions):
        assert row["layer"] == info["layer"]
        gl = grads if row["layer"] == MODEL else grads[:, info["offset"] : info["offset"] + info["n_params"]]
        nrm = np.linalg.norm(gl, axis=1)
        r = np.linalg.norm((gl / nrm[:, None]).mean(0))
        assert row["resultant_length"] == pytest.approx(r, rel=1e-10)
        assert row["norm_cv"] == pytest.approx(nrm.std(ddof=1) / nrm.mean(), rel=1e-10)
        np.testing.assert_allclose(res.grad_norms[:, res.layers.index(info)], nrm, rtol=1e-10)
