"""The figure of :meth:`stabletail.Diagnosis.plot` (matplotlib, imported only here)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from scipy import stats

from . import stable
from ._io import save_figure


def _laws(diag: Any) -> dict[str, tuple[Any, Any, Any]]:
    """name -> (sf, cdf, pdf) of every whole-sample law of the diagnosis."""
    out = {}
    g = diag.model("gaussian").params
    out["Gaussian"] = (lambda t: stats.norm.sf(t, g["loc"], g["scale"]),
                       lambda t: stats.norm.cdf(t, g["loc"], g["scale"]),
                       lambda t: stats.norm.pdf(t, g["loc"], g["scale"]))
    t = diag.model("student_t").params
    out[f"Student-t ({t['df']:.3g} df)"] = (lambda v: stats.t.sf(v, t["df"], t["loc"], t["scale"]),
                                           lambda v: stats.t.cdf(v, t["df"], t["loc"], t["scale"]),
                                           lambda v: stats.t.pdf(v, t["df"], t["loc"], t["scale"]))
    s = diag.model("stable").params
    law = (s["alpha"], s["beta"], s["scale"], s["loc"], s["parameterization"])
    out[f"stable (alpha {s['alpha']:.3g})"] = (lambda v: stable.sf(v, *law), lambda v: stable.cdf(v, *law),
                                               lambda v: stable.pdf(v, *law))
    return out


def plot_diagnosis(diag: Any, data: np.ndarray, path: str | os.PathLike[str] | None = None) -> Any:
    """Both tails with every law, a Hill plot, a QQ plot against the stable fit, the log density."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .estimators import hill_plot

    x = np.sort(data)
    n = x.size
    laws = _laws(diag)
    pl = diag.model("power_law_tail").params
    fig, ax = plt.subplots(2, 2, figsize=(11, 8.5))

    a = ax[0, 0]
    for side, sign, marker in (("right", 1.0, "."), ("left", -1.0, "x")):
        t = np.sort(sign * x)
        t = t[t > 0]
        if t.size < 2:
            continue
        emp = (t.size - np.arange(t.size)) / n  # P(sign X >= t)
        a.loglog(t, emp, marker, ms=2, color="0.35", label=f"{side} tail, data")
        for k, (name, (sf, cdf, _)) in enumerate(laws.items()):
            fitted = sf(t) if sign > 0 else cdf(-t)
            a.loglog(t, fitted, "-" if sign > 0 else "--", color=f"C{k}", lw=1,
                     label=name if sign > 0 else None)
    absx = np.sort(np.abs(x[x != 0]))
    a.loglog(absx, (absx.size - np.arange(absx.size)) / n, "s", ms=1.5, color="0.7", label="|x|, data")
    grid = np.geomspace(pl["xmin"], absx[-1], 50)
    a.loglog(grid, pl["n_tail"] / n * (grid / pl["xmin"]) ** -pl["alpha"], "k-", lw=2, alpha=0.6,
             label=f"power law of |x| (index {pl['alpha']:.3g}, xmin {pl['xmin']:.3g})")
    a.set(xlabel="t", ylabel="P(X > t), P(X < -t), P(|X| > t)", title="tails (log-log; dashed: left)",
          ylim=(0.3 / n, 1.5), xlim=(max(float(np.quantile(absx, 0.5)), absx[0]), absx[-1] * 1.3))
    a.legend(fontsize=7)

    a = ax[0, 1]
    hp = hill_plot(data)
    hp.plot(ax=a, color="C0")
    hill_row = next((t for t in diag.tail_indices if t.method.startswith("hill")), None)
    if hill_row is not None and hill_row.note.startswith("k = "):
        a.axvline(int(hill_row.note[4:]), color="C3", lw=1,
                  label=f"double bootstrap k ({hill_row.alpha:.3g})")
    a.axhline(pl["alpha"], color="k", lw=1, ls=":", label=f"CSN index {pl['alpha']:.3g}")
    finite = hp.alpha[np.isfinite(hp.alpha)]
    if finite.size:
        a.set_ylim(0, min(float(np.quantile(finite, 0.99)) * 1.2, 10))
    a.set_title("Hill plot")
    a.legend(fontsize=7)

    a = ax[1, 0]
    s = diag.model("stable").params
    law = (s["alpha"], s["beta"], s["scale"], s["loc"], s["parameterization"])
    q = stable.ppf((np.arange(1, n + 1) - 0.5) / n, *law)
    f = lambda v: np.arcsinh((np.asarray(v) - s["loc"]) / s["scale"])  # noqa: E731
    a.plot(f(q), f(x), ".", ms=2)
    a.plot(f(q), f(q), "k-", lw=0.8)
    a.set(xlabel="stable quantile, asinh((q - loc)/scale)", ylabel="data, same scale",
          title=f"QQ against the stable fit (alpha {s['alpha']:.3g})")

    a = ax[1, 1]
    lo, hi = np.quantile(x, [0.005, 0.995])
    inside = x[(x >= lo) & (x <= hi)]
    a.hist(inside, bins=80, density=True, color="0.8", label="data (central 99%)")
    grid = np.linspace(lo, hi, 400)
    for k, (name, (_, cdf, pdf)) in enumerate(laws.items()):
        mass = cdf(hi) - cdf(lo)
        a.plot(grid, pdf(grid) / mass, color=f"C{k}", lw=1, label=name)
    a.set(yscale="log", xlabel="x", title="density (log scale)")
    a.legend(fontsize=7)
    fig.suptitle(diag.verdict if len(diag.verdict) < 140 else diag.verdict[:137] + "...", fontsize=9)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig
