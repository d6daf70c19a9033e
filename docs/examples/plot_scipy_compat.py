"""
Use the scipy-compatible object in scipy code
=============================================

``stabletail.levy_stable`` is a real ``scipy.stats.rv_continuous`` with scipy's argument order
(``pdf(x, alpha, beta, loc=0, scale=1)``), so code written for ``scipy.stats.levy_stable`` runs
unchanged, and scipy's own machinery (frozen laws, ``interval``, ``expect``, ``fit``) works on it.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from stabletail import levy_stable


def summarize(dist, data):
    """Code written against scipy.stats.levy_stable."""
    alpha, beta, loc, scale = dist.fit(data)
    frozen = dist(alpha, beta, loc=loc, scale=scale)
    return (alpha, beta, loc, scale), frozen.interval(0.9), frozen.median()


data = levy_stable.rvs(1.7, 0.0, loc=1.0, scale=2.0, size=2000, random_state=0)
params, interval, median = summarize(levy_stable, data)
print("fit (alpha, beta, loc, scale):", np.round(params, 3))
print("90% interval:", np.round(interval, 3), " median:", round(median, 3))
print("E|X - loc| truncated at 10:",
      round(levy_stable.expect(lambda v: min(abs(v - 1.0), 10.0), args=params[:2], loc=params[2],
                               scale=params[3]), 3))
print("isinstance rv_continuous:", isinstance(levy_stable, stats.rv_continuous))

# %%
# The fitted density over the data's histogram.
grid = np.linspace(-15, 17, 400)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.hist(data[np.abs(data - 1) < 16], bins=120, density=True, color="0.8")
ax.plot(grid, levy_stable.pdf(grid, *params), "C3")
ax.set_yscale("log")
plt.show()
