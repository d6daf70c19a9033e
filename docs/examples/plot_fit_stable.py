"""
Fit a stable law and check it
=============================

Draw a sample, fit all four parameters by maximum likelihood, test the fit with a parametric
bootstrap that refits every synthetic sample, and look at the four diagnostic plots.
"""

import matplotlib.pyplot as plt

from stabletail import fit, stable

x = stable.rvs(1.6, 0.3, 1.0, 0.0, size=3000, random_state=1)
res = fit.fit(x)
print(res.summary())

# %%
# Goodness of fit: Kolmogorov-Smirnov, Anderson-Darling and Cramer-von Mises with p-values from
# 200 refitted bootstrap samples (the parameters are estimated, so tabulated p-values are wrong).
print(res.gof(x, n_boot=200, random_state=2, progress=False).summary())

# %%
# QQ plot with simulated bands, PP plot, density and both tails.
res.plot(x)
plt.show()
