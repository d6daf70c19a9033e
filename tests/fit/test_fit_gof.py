"""Checks of a stable fit (issue 12, section 3): bootstrap goodness of fit and the alpha = 2 test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from stabletail import fit, stable


def test_edf_statistics_match_scipy():
    u = np.random.default_rng(0).uniform(size=300) ** 1.2
    got = fit.edf_statistics(u)
    assert got["ks"] == pytest.approx(stats.kstest(u, "uniform").statistic, rel=1e-12)
    assert got["cvm"] == pytest.approx(stats.cramervonmises(u, "uniform").statistic, rel=1e-10)
    # Anderson-Darling of a fully specified law: A^2 = -n - mean((2i - 1)(log u_i + log(1 - u_{n+1-i})))
    z = np.sort(u)
    i = np.arange(1, z.size + 1)
    ref = -z.size - np.sum((2 * i - 1) * (np.log(z) + np.log(1 - z[::-1]))) / z.size
    assert got["ad"] == pytest.approx(ref, rel=1e-12)


def test_gof_is_seeded_and_reports_every_statistic():
    x = stable.rvs(1.5, 0.2, size=1500, random_state=0)
    res = fit.fit(x)
    a = fit.gof(res, x, n_boot=39, random_state=3, progress=False)
    b = fit.gof(res, x, n_boot=39, random_state=3, progress=False)
    assert a.pvalue == b.pvalue and set(a.tests) == {"ks", "ad", "cvm"}
    for t in a.tests.values():
        assert 1 / 40 <= t.pvalue <= 1.0 and t.statistic > 0 and "bootstrap" in t.method
    assert a.n_boot + a.n_failed == 39 and "refits" in a.summary()
    with pytest.raises(ValueError, match="fitted data"):
        fit.gof(res, x[:100], n_boot=39)
    with pytest.raises(ValueError, match="n_boot"):
        fit.gof(res, x, n_boot=5)


@pytest.mark.slow
def test_gof_pvalues_are_uniform_on_stable_data():
    # 60 samples of n = 400 (alpha 1.4, beta 0.3), 99 refits each: under the null the
    # p-values are uniform on {1/100, ..., 1}; KS test of uniformity at 0.1% and the count
    # below 0.1 within 3 binomial sd of 6
    p = []
    for seed in range(60):
        x = stable.rvs(1.4, 0.3, 1.0, 0.0, size=400, random_state=seed)
        p.append(fit.gof(fit.fit(x), x, n_boot=99, random_state=seed, progress=False).pvalue["ad"])
    p = np.array(p)
    assert stats.kstest(p, "uniform").pvalue > 1e-3
    assert np.sum(p < 0.1) <= 6 + 3 * math.sqrt(60 * 0.1 * 0.9)


@pytest.mark.slow
def test_gof_rejects_student_t_with_three_degrees_of_freedom():
    # 10 samples of n = 5,000 from Student-t(3): the stable law is rejected at 5% in most
    rejected = 0
    for seed in range(10):
        x = stats.t.rvs(3, size=5000, random_state=seed)
        g = fit.gof(fit.fit(x), x, n_boot=49, random_state=seed, progress=False)
        rejected += g.pvalue["ad"] < 0.05
    assert rejected >= 7


@pytest.mark.slow
def test_gaussian_lr_test_size_and_power():
    # size: 40 Gaussian samples (n = 400), 49 null draws each: rejections at 5% within
    # 3 binomial sd of 2; power: stable alpha = 1.7 at n = 2,000 is rejected
    rej = 0
    for seed in range(40):
        x = np.random.default_rng(seed).normal(3.0, 2.0, 400)
        rej += fit.gaussian_lr_test(x, n_boot=49, random_state=seed, progress=False).pvalue < 0.05
    assert rej <= 2 + 3 * math.sqrt(40 * 0.05 * 0.95)
    x = stable.rvs(1.7, 0.0, size=2000, random_state=1)
    assert fit.gaussian_lr_test(x, n_boot=49, random_state=1, progress=False).pvalue < 0.05


def test_plot_writes_a_png_and_matplotlib_loads_only_then(tmp_path):
    import subprocess
    import sys

    code = "import stabletail.fit, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    x = stable.rvs(1.6, 0.3, 2.0, 1.0, size=800, random_state=2)
    res = fit.fit(x)
    fig = res.plot(x, tmp_path / "fit.png", n_sim=39)
    assert (tmp_path / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 4 and [a.get_title() for a in fig.axes] == ["QQ", "PP", "density (log scale)",
                                                                        "tails (log-log)"]


def test_command_line_gof_and_plot(tmp_path, capsys):
    import json

    from stabletail.cli import main

    p = tmp_path / "x.txt"
    np.savetxt(p, stable.rvs(1.5, 0.0, size=600, random_state=5))
    assert main(["fit", str(p), "--gof", "--n-boot", "39", "--plot", str(tmp_path / "f.png"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d["gof"]) == {"ks", "ad", "cvm"} and 0 < d["gof"]["ad"]["pvalue"] <= 1
    assert (tmp_path / "f.png").exists()
