"""Error of the MLE's heavy-tail density (node table of log f) against ``stabletail.stable.logpdf``.

For each (alpha, beta) below: 3000 sample points of the law plus 4001 points geometric in |z - c|
(c the S1 origin) from 1e-3 eps to 1e10, all with log f > -300; prints the number of nodes, the
time to build the table (the exact density of its five alpha / beta variants), and the largest and
median absolute error of log f.  Usage: ``python scripts/grid_density_error.py`` (a few seconds).
"""

from __future__ import annotations

import time

import numpy as np

from stabletail import stable
from stabletail.fit import _loggrid

CASES = ((0.1, 0.0), (0.15, 0.5), (0.2, 0.3), (0.3, 0.0), (0.3, 0.5), (0.45, -0.8), (0.5, 0.9),
         (0.6, 0.5), (0.7, 0.2), (0.79, 0.99))


def main() -> None:
    print("| alpha | beta | nodes | build (5 rows) | max abs error | median | at z |")
    print("|---|---|---|---|---|---|---|")
    for a, b in CASES:
        _loggrid.build(a, b)  # compilation outside the timing
        _loggrid.clear()  # the rows are cached: time a cold build
        t0 = time.perf_counter()
        g = _loggrid.build(a, b)
        el = time.perf_counter() - t0
        c, eps = g.meta[0, 0], g.meta[0, 1]
        u = np.linspace(np.arcsinh(1e-3), np.arcsinh(1e10 / eps), 2000)
        z = np.concatenate([c + eps * np.sinh(u), [c], c - eps * np.sinh(u),
                            stable.rvs(a, b, size=3000, random_state=1)])
        ex = stable.logpdf(z, a, b)
        err = np.abs(g.terms(z)[:, 0] - ex)
        ok = ex > -300
        e = err[ok]
        print(f"| {a} | {b} | {g.F.shape[1]} | {1e3 * el:.0f} ms | {e.max():.1e} | {np.median(e):.0e} | "
              f"{z[ok][e.argmax()]:.3g} |")


if __name__ == "__main__":
    main()
