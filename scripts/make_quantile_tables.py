"""Regenerate ``stabletail/fit/quantile_table.npz`` (tables of McCulloch's quantile method).

For every (alpha, beta) on the grid below, the 5, 25, 50, 75 and 95% quantiles
of the standard S0 law (scale 1, loc 0) and the density at those quantiles are
computed from this project's own density: for alpha >= 0.6 the FFT density of
``stabletail.fit._kernels`` (inversion of the characteristic function with
alias correction and tail series), below 0.6 (where no FFT grid resolves the
density) ``stabletail.stable.ppf`` and ``stabletail.stable.pdf``.  With the
FFT density the cdf is its integral: tail series mass below -Z_SWITCH,
trapezoid sum with the Euler-Maclaurin end correction on the grid, and a
3-point Gauss-Legendre rule between the last grid node and the point;
quantiles come from Newton's method on that cdf.  Negative beta is the mirror
image (q_p(a, -b) = -q_{1-p}(a, b)) and is not stored.

Usage: ``python scripts/make_quantile_tables.py`` (about a minute).
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np

from stabletail import stable
from stabletail.fit import _kernels as K

PROBS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
ALPHAS = np.round(np.arange(0.1, 2.0 + 1e-9, 0.02), 10)
FFT_FROM = 0.6  # the FFT density serves alpha >= FFT_FROM
BETAS = np.round(np.arange(0.0, 1.0 + 1e-9, 0.05), 10)
OUT = Path(__file__).resolve().parents[1] / "stabletail" / "fit" / "quantile_table.npz"
_GL_X = np.array([-math.sqrt(0.6), 0.0, math.sqrt(0.6)])
_GL_W = np.array([5.0, 8.0, 5.0]) / 9.0


def _left_tail_mass(z: float, P: np.ndarray) -> float:
    """P(Z < z) for z far in the left tail, by integrating the tail series term by term."""
    total = 0.0
    for part in range(P.shape[1]):
        w, a, shift = P[0, part, 0], P[0, part, 1], P[0, part, 2]
        if w == 0.0:
            continue
        u = -(z + shift)
        coefs = P[0, part, 3 + K.K_TAIL : 3 + 2 * K.K_TAIL]
        k = np.arange(1, K.K_TAIL + 1)
        total += w * float(np.sum(coefs * u ** (-k * a) / (k * a)))
    return total


def std_cdf_tools(alpha: float, beta: float):
    """Return (cdf, pdf) callables of the standard S0 law built from the compiled density."""
    G, P = K.density_grids(alpha, beta, 0)
    z0 = -K.Z_SWITCH
    k0 = math.ceil((z0 + 0.5 * K.L_PERIOD) / K.H)
    k1 = math.floor((K.Z_SWITCH + 0.5 * K.L_PERIOD) / K.H)
    zk = -0.5 * K.L_PERIOD + np.arange(k0, k1 + 1) * K.H
    fk, dk = K.density_points(zk, G, P)
    trap = np.concatenate([[0.0], np.cumsum(0.5 * (fk[1:] + fk[:-1]) * K.H)])
    cum = _left_tail_mass(zk[0], P) + trap - K.H**2 / 12.0 * (dk - dk[0])

    def pdf(z: np.ndarray) -> np.ndarray:
        return K.density_points(np.atleast_1d(np.asarray(z, dtype=float)), G, P)[0]

    def cdf(z: float) -> float:
        i = int(np.clip(np.floor((z - zk[0]) / K.H), 0, zk.size - 1))
        a, b = zk[i], z
        nodes = 0.5 * (a + b) + 0.5 * (b - a) * _GL_X
        return float(cum[i] + 0.5 * (b - a) * np.dot(_GL_W, pdf(nodes)))

    return cdf, pdf, zk, cum


def std_quantiles(alpha: float, beta: float, probs: np.ndarray = PROBS) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of the standard S0 law and the density there."""
    if alpha < FFT_FROM:
        q = np.asarray(stable.ppf(probs, alpha, beta), dtype=float)
        return q, np.asarray(stable.pdf(q, alpha, beta), dtype=float)
    cdf, pdf, zk, cum = std_cdf_tools(alpha, beta)
    q = np.empty(probs.size)
    for j, p in enumerate(probs):
        z = float(np.interp(p, cum, zk))
        for _ in range(50):
            step = (cdf(z) - p) / pdf(z)[0]
            z -= step
            if abs(step) < 1e-13:
                break
        q[j] = z
    return q, pdf(q)


def main() -> None:
    Q = np.empty((ALPHAS.size, BETAS.size, PROBS.size))
    D = np.empty_like(Q)
    for i, a in enumerate(ALPHAS):
        for j, b in enumerate(BETAS):
            Q[i, j], D[i, j] = std_quantiles(float(a), float(b))
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=OUT.parent)
    os.close(fd)
    try:
        np.savez(tmp, alpha=ALPHAS, beta=BETAS, probs=PROBS, quantiles=Q, density=D)
        os.chmod(tmp, 0o644)
        os.replace(tmp, OUT)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {OUT} ({ALPHAS.size} alphas x {BETAS.size} betas)")


if __name__ == "__main__":
    main()
