"""compare_tails: which tail model fits (power law vs lognormal, exponential, stretched exponential,
truncated power law).

References used here are independent of the code: scipy.stats densities truncated by hand,
quadrature in x (not in log x) and the Fisher information of the exponential family.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from stabletail.estimators import TailComparison, compare_tails

ALTS = ("lognormal", "exponential", "stretched_exponential", "truncated_power_law")


def pareto(rng: np.random.Generator, n: int, tail_index: float, xmin: float = 1.0) -> np.ndarray:
    return xmin * (1.0 + rng.pareto(tail_index, n))


def cutoff_power_law(rng: np.random.Generator, n: int, alpha: float, lam: float) -> np.ndarray:
    """x^-alpha exp(-lam x) on x >= 1 by rejection from the Pareto with density ~ x^-alpha."""
    out = np.empty(0)
    while out.size < n:
        x = pareto(rng, 4 * n, alpha - 1.0)
        out = np.concatenate([out, x[rng.random(x.size) < np.exp(-lam * (x - 1.0))]])
    return out[:n]


# ------------------------------------------------------------------ which model is favoured
def test_pareto_data_power_law_not_rejected():
    """40 replications of n = 1000 Pareto values (tail index 1.5). Under the power law each nested
    test favours its alternative with probability 0.1 (the 0.5 chi2_0 + 0.5 chi2_1 null), so the
    count is Binomial(40, 0.1); we allow its 1e-4 upper quantile. The exponential is never
    favoured (its Vuong test has power near 1 here)."""
    rng = np.random.default_rng(20240613)
    reps = 40
    false = dict.fromkeys(ALTS, 0)
    for _ in range(reps):
        r = compare_tails(pareto(rng, 1000, 1.5), 1.0)
        for t in r.tests:
            false[t.name] += t.favours == t.name
            assert t.converged, t.message
        assert r["exponential"].favours == "power_law"
    bound = stats.binom.isf(1e-4, reps, 0.1)
    for name in ("lognormal", "stretched_exponential", "truncated_power_law"):
        assert false[name] <= bound, (name, false[name], bound)
    assert false["exponential"] == 0


def test_lognormal_on_pareto_stays_at_boundary():
    """On exact Pareto data the lognormal's curvature c = 1/(2 sigma^2) is 0 or small: under the
    power law sqrt(n) c_hat is half-normal with sd b^2/2 (Fisher information of (y, y^2) under
    y ~ Exp(b): Var y = 1/b^2, Cov = 4/b^3, Var y^2 = 20/b^4, so the information on c given b is
    4/b^4). 40 replications, n = 1000: c_hat <= 4.5 sd (probability 1 - 7e-6 each), and the
    exact boundary c = 0 is reached in about half of them (Binomial(40, 1/2) within 1e-4
    quantiles), never a far-left lognormal with an unflagged mu."""
    rng = np.random.default_rng(7)
    reps, n, b = 40, 1000, 1.5
    at_boundary = 0
    for _ in range(reps):
        t = compare_tails(pareto(rng, n, b), 1.0, alternatives=("lognormal",))["lognormal"]
        c = t.params["c"]
        assert 0.0 <= c <= 4.5 * b * b / (2.0 * math.sqrt(n))
        if c == 0.0:
            at_boundary += 1
            assert t.message.startswith("boundary") and t.pvalue == 1.0 and t.lr == 0.0
            assert t.params["mu"] == -math.inf
        elif -2.0 * t.lr < 1.0:
            assert "do not determine" in t.message
    lo, hi = stats.binom.ppf(1e-4, reps, 0.5), stats.binom.isf(1e-4, reps, 0.5)
    assert lo <= at_boundary <= hi


def test_lognormal_data_favour_lognormal():
    """Lognormal(mu=0.5, sigma=1) above xmin = 1 (about 1300 of 2000 values): the lognormal is
    favoured and its parameters are recovered within 4 standard deviations of the estimator
    (measured over 100 seeded replications of this design: sd 0.078 for mu, 0.046 for sigma,
    means 0.496 and 1.001)."""
    rng = np.random.default_rng(3)
    r = compare_tails(rng.lognormal(0.5, 1.0, 2000), 1.0)
    t = r["lognormal"]
    assert t.favours == "lognormal" and t.converged
    assert abs(t.params["mu"] - 0.5) < 4 * 0.078 and abs(t.params["sigma"] - 1.0) < 4 * 0.046


def test_exponential_data_favour_exponential():
    """Exp(rate 0.5) shifted to xmin = 1: the exponential is favoured; lambda = 1/mean(x - xmin)
    has standard error lambda/sqrt(n)."""
    rng = np.random.default_rng(4)
    n = 2000
    r = compare_tails(1.0 + rng.exponential(2.0, n), 1.0)
    t = r["exponential"]
    assert t.favours == "exponential" and t.test == "vuong" and t.lr < 0
    assert abs(t.params["lambda"] - 0.5) < 4 * 0.5 / math.sqrt(n)


def test_cutoff_data_favour_truncated_power_law():
    rng = np.random.default_rng(5)
    r = compare_tails(cutoff_power_law(rng, 5000, 2.5, 0.02), 1.0)
    t = r["truncated_power_law"]
    assert t.favours == "truncated_power_law" and t.test == "nested" and t.converged
    assert r["exponential"].favours == "power_law"


# ------------------------------------------------------------------ likelihoods vs scipy.stats
def test_logliks_match_scipy_truncated_densities():
    rng = np.random.default_rng(6)
    xmin = 2.0
    x = np.concatenate([rng.lognormal(1.0, 0.8, 1500), 2.0 * cutoff_power_law(rng, 500, 2.2, 0.05)])
    r = compare_tails(x, xmin)
    t = np.sort(x[x >= xmin])
    pl = stats.pareto(b=r.alpha - 1.0, scale=xmin)
    assert r.loglik == pytest.approx(pl.logpdf(t).sum(), rel=1e-10)
    p = r["lognormal"].params
    ln = stats.lognorm(s=p["sigma"], scale=math.exp(p["mu"]))
    assert r["lognormal"].loglik == pytest.approx((ln.logpdf(t) - ln.logsf(xmin)).sum(), rel=1e-9)
    p = r["exponential"].params
    assert r["exponential"].loglik == pytest.approx(
        stats.expon(loc=xmin, scale=1 / p["lambda"]).logpdf(t).sum(), rel=1e-10)
    p = r["stretched_exponential"].params
    wb = stats.weibull_min(c=p["beta"], scale=p["scale"])
    assert r["stretched_exponential"].loglik == pytest.approx((wb.logpdf(t) - wb.logsf(xmin)).sum(),
                                                               rel=1e-9)
    p = r["truncated_power_law"].params
    norm, _ = integrate.quad(lambda v: v ** -p["alpha"] * math.exp(-p["lambda"] * v), xmin, np.inf,
                             epsrel=1e-12, limit=500)
    ref = (-p["alpha"] * np.log(t) - p["lambda"] * t).sum() - t.size * math.log(norm)
    assert r["truncated_power_law"].loglik == pytest.approx(ref, rel=1e-9)


def test_discrete_logliks_match_direct_sums():
    rng = np.random.default_rng(8)
    x = np.round(rng.lognormal(2.0, 0.7, 1500)).astype(float)
    xmin = 4
    r = compare_tails(x, xmin, discrete=True)
    t = x[x >= xmin]
    assert r.loglik == pytest.approx((-r.alpha * np.log(t)).sum() - t.size * math.log(
        special.zeta(r.alpha, xmin)), rel=1e-10)
    lam = r["exponential"].params["lambda"]
    geo = stats.geom(p=-math.expm1(-lam))
    assert r["exponential"].loglik == pytest.approx(geo.logpmf(t - xmin + 1).sum(), rel=1e-10)
    j = np.arange(xmin, 2_000_001, dtype=float)  # the lognormal mass beyond 2e6 is < 1e-30 here
    p = r["lognormal"].params
    logg = stats.lognorm(s=p["sigma"], scale=math.exp(p["mu"])).logpdf
    assert r["lognormal"].loglik == pytest.approx(logg(t).sum() - t.size * special.logsumexp(logg(j)),
                                                  rel=1e-9)
    p = r["truncated_power_law"].params
    lg = -p["alpha"] * np.log(j) - p["lambda"] * j
    assert r["truncated_power_law"].loglik == pytest.approx(
        (-p["alpha"] * np.log(t) - p["lambda"] * t).sum() - t.size * special.logsumexp(lg), rel=1e-9)
    assert r["lognormal"].favours == "lognormal"


def test_discrete_zipf_and_geometric():
    rng = np.random.default_rng(9)
    r = compare_tails(rng.zipf(2.5, 3000).astype(float), 1, discrete=True)
    assert abs(r.alpha - 2.5) < 4 * (r.alpha - 1) / math.sqrt(3000)  # se ~ (alpha - 1)/sqrt(n)
    assert r["exponential"].favours == "power_law"
    g = compare_tails(rng.geometric(0.2, 3000) + 4.0, 5, discrete=True)
    assert g["exponential"].favours == "exponential"
    assert abs(g["exponential"].params["lambda"] + math.log(0.8)) < 0.02  # se ~ 0.004 here


# ------------------------------------------------------------------ scale equivariance
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), log_s=st.floats(-6.0, 6.0))
def test_scale_equivariance(seed, log_s):
    rng = np.random.default_rng(seed)
    x = np.concatenate([pareto(rng, 300, 1.3), rng.lognormal(0.3, 1.0, 300)])
    s = math.exp(log_s)
    a, b = compare_tails(x, 1.0), compare_tails(x * s, s)
    assert b.alpha == pytest.approx(a.alpha, rel=1e-9)
    for ta, tb in zip(a.tests, b.tests):
        assert tb.lr == pytest.approx(ta.lr, rel=1e-5, abs=1e-6)
        assert tb.pvalue == pytest.approx(ta.pvalue, rel=1e-4, abs=1e-9)
        assert tb.loglik == pytest.approx(ta.loglik - x[x >= 1.0].size * log_s, rel=1e-7)
    pa, pb = a["exponential"].params, b["exponential"].params
    assert pb["lambda"] == pytest.approx(pa["lambda"] / s, rel=1e-9)
    pa, pb = a["truncated_power_law"].params, b["truncated_power_law"].params
    assert pb["lambda"] == pytest.approx(pa["lambda"] / s, rel=1e-4, abs=1e-6 / s)
    pa, pb = a["lognormal"].params, b["lognormal"].params
    if pa["c"] > 0:
        assert pb["mu"] == pytest.approx(pa["mu"] + log_s, rel=1e-4, abs=1e-4)
    pa, pb = a["stretched_exponential"].params, b["stretched_exponential"].params
    if pa["beta"] > 0:
        assert pb["scale"] == pytest.approx(pa["scale"] * s, rel=1e-3)


# ------------------------------------------------------------------ the powerlaw package
def test_agrees_with_powerlaw_package():
    """Against the `powerlaw` package (Alstott et al. 2014) on data where its fits are sound.

    Its exponential is fitted numerically (lambda to ~1e-4 relative), ours in closed form: the
    log-likelihoods then differ by O(n (dlambda/lambda)^2) < 1e-3, so R agrees to 1e-3 and the
    Vuong p to 1e-3 relative. Its stretched exponential and truncated power law are numerical
    optima too (same tolerance on the log-likelihood). Its nested p-value for the truncated power
    law is P(chi2_1 >= 2|R|), twice ours (we use the boundary mixture). Where it differs: on
    Pareto data its stretched exponential stops below the power law's log-likelihood (a family
    containing the power law as beta -> 0 cannot), and its lognormal drifts to mu << 0; its
    truncated power law keeps alpha > 0, so on exponential data, where the optimum has alpha < 0
    (x^0.16 exp(-lambda x)), our log-likelihood is higher (checked)."""
    powerlaw = pytest.importorskip("powerlaw")
    rng = np.random.default_rng(11)
    all3 = ("exponential", "stretched_exponential", "truncated_power_law")
    for x, names in ((rng.lognormal(0.5, 1.0, 2000), all3), (1.0 + rng.exponential(2.0, 2000), all3[:2])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = powerlaw.Fit(x, xmin=1.0, verbose=False)
            ours = compare_tails(x, 1.0)
            for name in names:
                d = getattr(f, name)
                ll = float(np.sum(d.loglikelihoods(f.data)))
                R, p = f.distribution_compare("power_law", name, normalized_ratio=True)
                Rraw, _ = f.distribution_compare("power_law", name)
                t = ours[name]
                assert t.loglik == pytest.approx(ll, abs=1e-3)
                assert t.lr == pytest.approx(Rraw, abs=2e-3)
                if name == "exponential":
                    assert t.statistic == pytest.approx(R, rel=1e-3)
                    assert t.pvalue == pytest.approx(p, rel=1e-3, abs=1e-12)
                elif name == "truncated_power_law" and p > 1e-200:
                    assert t.pvalue == pytest.approx(p / 2.0, rel=1e-2)
            if len(names) == 2:
                tpl = ours["truncated_power_law"]
                assert tpl.params["alpha"] < 0
                assert tpl.loglik > float(np.sum(f.truncated_power_law.loglikelihoods(f.data))) + 0.5


# ------------------------------------------------------------------ results and bad input
def test_summary_and_to_dict():
    rng = np.random.default_rng(12)
    r = compare_tails(pareto(rng, 500, 1.5), 1.0, alternatives=("exponential", "lognormal"))
    assert isinstance(r, TailComparison) and [t.name for t in r.tests] == ["exponential", "lognormal"]
    s = r.summary()
    assert "exponential" in s and "lognormal" in s and "n_tail = 500" in s
    d = r.to_dict()
    assert d["n_tail"] == 500 and d["tests"][0]["name"] == "exponential"
    assert r.tail_index == pytest.approx(r.alpha - 1.0)
    with pytest.raises(KeyError):
        r["truncated_power_law"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(x=[], xmin=1.0), "empty"),
    (dict(x=[1.0, np.nan] * 10, xmin=1.0), "non-finite"),
    (dict(x=np.arange(1.0, 30.0), xmin=0.0), "xmin"),
    (dict(x=np.arange(1.0, 30.0), xmin=-1.0), "xmin"),
    (dict(x=np.arange(1.0, 30.0), xmin=25.0), "at least 10"),
    (dict(x=np.arange(1.0, 5.0), xmin=1.0), "at least 10"),
    (dict(x=np.full(20, 3.0), xmin=1.0), "equal"),
    (dict(x=np.arange(1.0, 30.0), xmin=1.0, alternatives=("gamma",)), "alternatives"),
    (dict(x=np.arange(1.0, 30.0) + 0.5, xmin=1.0, discrete=True), "integers"),
    (dict(x=np.arange(1.0, 30.0), xmin=1.5, discrete=True), "integer"),
    (dict(x=np.arange(1.0, 30.0), xmin=1.0, nan_policy="propagate"), "nan_policy"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare_tails(**kwargs)


def test_nan_omit():
    rng = np.random.default_rng(13)
    x = pareto(rng, 200, 1.5)
    a = compare_tails(np.concatenate([x, [np.nan, np.inf]]), 1.0, nan_policy="omit")
    assert a.alpha == compare_tails(x, 1.0).alpha
