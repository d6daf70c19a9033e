"""Cramer-Rao bounds for the four stable parameters (S0), by quadrature of the Fisher information.

I(theta) = int s(z) s(z)^T f(z) dz per observation, with s the score in
(alpha, beta, log scale, loc) at scale 1, loc 0 (the bound on alpha does not
depend on scale and loc).  Density and scores come from the densities the
MLE uses: for alpha >= 0.6 the compiled FFT density of
``stabletail.fit._kernels`` (composite Simpson on |z| <= Z_SWITCH with step
0.0025, and in each tail Simpson in u = log|z|, step 0.005, out to
|z| = 1e40, where the integrand is below 1e-12 of the total); below, the
node-table density of ``stabletail.fit._loggrid`` (exact ``stable.logpdf``
at its nodes), integrated by Simpson in its own coordinate
u = asinh((z - c) / eps) (step 0.005, dz = eps cosh(u) du), which resolves
the spike at the S1 origin c, out to |z - c| = 1e300 (the tails of
alpha = 0.3 still hold 1e-8 of the information at 1e40).

Usage: ``python scripts/cramer_rao.py`` prints sqrt(n) * sd for every
parameter, all four parameters free, as a markdown table.
"""

from __future__ import annotations

import numpy as np

from stabletail.fit import _kernels as K
from stabletail.fit import _loggrid


def _simpson(y: np.ndarray, h: float) -> np.ndarray:
    """Composite Simpson along axis 0 (odd number of nodes)."""
    w = np.ones(y.shape[0])
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    return h / 3.0 * np.tensordot(w, y, axes=(0, 0))


def fisher_information(alpha: float, beta: float) -> np.ndarray:
    """Per-observation Fisher information in (alpha, beta, log scale, loc) at scale 1, loc 0."""
    if alpha < 0.6:
        return _fisher_grid(alpha, beta)
    G, P = K.density_grids(alpha, beta, 2)
    h = 0.0025
    n = round(2 * K.Z_SWITCH / h)
    n += n % 2
    z = np.linspace(-K.Z_SWITCH, K.Z_SWITCH, n + 1)
    info = _simpson(_integrand(z, G, P), z[1] - z[0])
    du = 0.005
    u = np.arange(np.log(K.Z_SWITCH), np.log(1e40) + du, du)
    if u.size % 2 == 0:
        u = u[:-1]
    for sign in (1.0, -1.0):
        zz = sign * np.exp(u)
        info += _simpson(_integrand(zz, G, P) * np.exp(u)[:, None, None], du)
    return info


def _outer(lf: np.ndarray, s: np.ndarray) -> np.ndarray:
    f = np.exp(lf)
    return s[:, :, None] * s[:, None, :] * f[:, None, None]


def _integrand(z: np.ndarray, G: np.ndarray, P: np.ndarray) -> np.ndarray:
    out = K.point_scores(np.ascontiguousarray(z), G, P)
    return _outer(out[:, 0], out[:, 1:])


def _fisher_grid(alpha: float, beta: float) -> np.ndarray:
    return _loggrid.build(alpha, beta).information(du=0.005)


def cr_sd(alpha: float, beta: float) -> np.ndarray:
    """sqrt(n) times the Cramer-Rao bound on the sd of (alpha, beta, log scale, loc), all free."""
    return np.sqrt(np.diag(np.linalg.inv(fisher_information(alpha, beta))))


def main() -> None:
    print("| alpha | beta | sqrt(n) sd(alpha) | sqrt(n) sd(beta) | sqrt(n) sd(scale)/scale "
          "| sqrt(n) sd(loc)/scale |")
    print("|---|---|---|---|---|---|")
    for beta in (0.0, 0.5):
        for alpha in (0.3, 0.5, 0.8, 1.2, 1.5, 1.8, 1.9):
            sd = cr_sd(alpha, beta)
            print(f"| {alpha} | {beta} | {sd[0]:.4f} | {sd[1]:.4f} | {sd[2]:.4f} | {sd[3]:.4f} |")


if __name__ == "__main__":
    main()
