"""Pictures of a stable fit (matplotlib, imported only when a figure is drawn)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import stable
from .._io import save_figure
from .._typing import ArrayLike, SeedLike
from .._validation import as_float_array, check_int, check_random_state
from .result import StableFit

__all__ = ["plot_fit"]


def plot_fit(
    res: StableFit,
    x: ArrayLike,
    path: str | os.PathLike[str] | None = None,
    *,
    n_sim: int = 199,
    random_state: SeedLike = 0,
) -> Any:
    """Four views of a stable fit: QQ with simulated bands, PP, density, both tails.

    Parameters
    ----------
    res : StableFit
        The fit.
    x : array_like
        The data it was fitted to.
    path : path-like, optional
        Write the figure there (PNG by the suffix), atomically.
    n_sim : int
        Samples of the fitted law for the pointwise 95% bands of the QQ plot (at least 19).
    random_state : int, numpy Generator or None
        Seed of those samples.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    QQ: sorted data against the fitted quantiles at ``(i - 1/2)/n``, in the coordinates
    ``asinh`` (heavy tails stay visible), with the 2.5-97.5% band of each order statistic
    over ``n_sim`` samples of the fitted law. PP: fitted distribution function at the
    sorted data against ``(i - 1/2)/n``. Density: histogram of the central 98% of the data
    and the fitted density, log scale. Tails: empirical ``P(X > t)`` and ``P(X < -t)``
    against the fitted ones on log-log axes.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    data = np.sort(as_float_array(x, "x", dtype=np.float64).ravel())
    n = data.size
    n_sim = check_int("n_sim", n_sim, 19)
    law = (res.alpha, res.beta, res.scale, res.loc, res.parameterization)
    probs = (np.arange(1, n + 1) - 0.5) / n
    q = stable.ppf(probs, *law)
    draws = stable.rvs(res.alpha, res.beta, res.scale, res.loc, size=(n_sim, n),
                       random_state=check_random_state(random_state), parameterization=res.parameterization)
    sims = np.sort(draws, axis=1)
    lo, hi = np.percentile(sims, [2.5, 97.5], axis=0)
    f = lambda v: np.arcsinh(np.asarray(v) / res.scale)  # noqa: E731

    fig, ax = plt.subplots(2, 2, figsize=(10, 8))
    a = ax[0, 0]
    a.fill_between(f(q), f(lo), f(hi), color="0.85", label="95% band (simulated)")
    a.plot(f(q), f(data), ".", ms=2, label="data")
    a.plot(f(q), f(q), "k-", lw=0.8)
    a.set(xlabel="fitted quantile, asinh(q/scale)", ylabel="data, asinh(x/scale)", title="QQ")
    a.legend(fontsize=8)
    a = ax[0, 1]
    a.plot(probs, stable.cdf(data, *law), ".", ms=2)
    a.plot([0, 1], [0, 1], "k-", lw=0.8)
    a.set(xlabel="(i - 1/2)/n", ylabel="fitted F(x_(i))", title="PP")
    a = ax[1, 0]
    lo_x, hi_x = np.quantile(data, [0.01, 0.99])
    a.hist(data[(data >= lo_x) & (data <= hi_x)], bins=80, density=True, color="0.75",
           label="data (central 98%)")
    grid = np.linspace(lo_x, hi_x, 400)
    a.plot(grid, stable.pdf(grid, *law) / (stable.cdf(hi_x, *law) - stable.cdf(lo_x, *law)), "C3-",
           label="fitted density")
    a.set(yscale="log", xlabel="x", title="density (log scale)")
    a.legend(fontsize=8)
    a = ax[1, 1]
    med = float(np.median(data))
    for side, sign, color in (("right", 1.0, "C0"), ("left", -1.0, "C1")):
        t = np.sort(sign * (data - med))
        t = t[t > 0]
        if t.size < 2:
            continue
        emp = 1.0 - np.arange(1, t.size + 1) / (n + 1.0) - (n - t.size) / (n + 1.0)
        fitted = stable.sf(med + t, *law) if sign > 0 else stable.cdf(med - t, *law)
        a.loglog(t, emp, ".", ms=2, color=color, label=f"{side} tail, data")
        a.loglog(t, fitted, "-", color=color, lw=1, label=f"{side} tail, fit")
    a.set(xlabel="distance from the median", ylabel="tail probability", title="tails (log-log)")
    a.legend(fontsize=8)
    fig.suptitle(f"stable fit ({res.method}, {res.parameterization}): alpha {res.alpha:.3g}, "
                 f"beta {res.beta:.3g}, scale {res.scale:.3g}, loc {res.loc:.3g}, n = {n}", fontsize=10)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig
