"""Seeded Monte-Carlo accuracy of k='dbs' against k='sqrt' for moments and pickands (docs table).

Usage: python scripts/mc_kselect.py N REPS
"""

import sys

import numpy as np

from stabletail.estimators import moments, pickands

n, reps = int(sys.argv[1]), int(sys.argv[2])
gens = {
    "Pareto, alpha 1.5": (1.5, lambda r: 1 + r.pareto(1.5, n)),
    "Student t1 (Cauchy)": (1.0, lambda r: r.standard_t(1, n)),
    "Student t3": (3.0, lambda r: r.standard_t(3, n)),
}
print(f"n = {n}, {reps} reps")
print("| data | estimator | k | RMSE xi | RMSE alpha (finite) | alpha = inf | median k |")
for g, (a, f) in gens.items():
    for est in (moments, pickands):
        rng = np.random.default_rng(2024)
        out = {"dbs": ([], []), "sqrt": ([], [])}
        for i in range(reps):
            x = f(rng)
            for k in out:
                r = est(x, k, random_state=i)
                out[k][0].append(r.xi)
                out[k][1].append(r.params["k"])
        for k, (xi, kk) in out.items():
            xi = np.array(xi)
            al = 1 / xi[xi > 0]
            print(f"| {g} | {est.__name__} | {k} | {np.sqrt(np.mean((xi - 1 / a) ** 2)):.3f} "
                  f"| {np.sqrt(np.mean((al - a) ** 2)):.3f} | {np.sum(xi <= 0)} | {int(np.median(kk))} |",
                  flush=True)
