"""Directional statistics of minibatch gradients (Lee, Cho & Kang 2019).

The unit minibatch gradients ``u_k = g_k / ||g_k||`` (k = 1..K, in ``d``
dimensions) are summarised by their mean resultant length
``R = ||sum_k u_k|| / K`` and the concentration ``kappa`` of a von Mises-Fisher
fit, which solves ``A_d(kappa) = R`` with
``A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa)``. The start value is Banerjee,
Dhillon, Ghosh & Sra's (2005) approximation ``kappa0 = R (d - R^2) / (1 - R^2)``,
refined by Newton steps using ``A_d'(kappa) = 1 - A_d^2 - (d - 1) A_d / kappa``.
Uniform directions give ``E[R^2] = 1 / K`` (so ``R`` near ``1/sqrt(K)`` is no
evidence of concentration). The spread of the gradient sizes is the coefficient
of variation of the norms ``||g_k||``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .._validation import check_int, check_scalar

__all__ = ["bessel_ratio", "vmf_kappa", "direction_summary"]


def _ratio_continued_fraction(nu: float, x: float, max_terms: int = 200_000) -> float:
    # I_{nu+1}(x)/I_nu(x) = 1 / (2(nu+1)/x + 1 / (2(nu+2)/x + ...)) (from the recurrence
    # I_{nu-1} - I_{nu+1} = (2 nu / x) I_nu), evaluated by the modified Lentz method.
    tiny = 1e-300
    f = tiny
    c = f
    dd = 0.0
    for j in range(1, max_terms + 1):
        b = 2.0 * (nu + j) / x
        dd = b + dd
        dd = tiny if dd == 0.0 else dd
        c = b + 1.0 / c
        c = tiny if c == 0.0 else c
        dd = 1.0 / dd
        delta = c * dd
        f *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return f


def bessel_ratio(d: int, kappa: float) -> float:
    """``A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa)`` for ``d >= 2``, ``kappa > 0``.

    Uses exponentially scaled Bessel functions (:func:`scipy.special.ive`) when
    they are representable, else a continued fraction (orders in the millions
    underflow ``ive``).

    Parameters
    ----------
    d : int
        Dimension (at least 2).
    kappa : float
        Concentration (positive).

    Returns
    -------
    float
        The mean resultant length of a von Mises-Fisher law with these parameters.
    """
    nu = d / 2.0 - 1.0
    num, den = special.ive(nu + 1.0, kappa), special.ive(nu, kappa)
    if np.isfinite(num) and np.isfinite(den) and den > 1e-290 and num > 1e-290:
        return float(num / den)
    return _ratio_continued_fraction(nu, kappa)


def vmf_kappa(r: float, d: int, *, newton_steps: int = 20) -> tuple[float, float]:
    """Concentration of a von Mises-Fisher fit from the mean resultant length.

    Parameters
    ----------
    r : float
        Mean resultant length in ``[0, 1)``.
    d : int
        Dimension, ``>= 2``.
    newton_steps : int
        Maximum Newton steps on ``A_d(kappa) = r`` (stops at relative change 1e-12).

    Returns
    -------
    kappa, kappa_banerjee : float
        The refined root and Banerjee et al.'s approximation (``inf`` for ``r = 1``).
    """
    r = check_scalar("r", r, 0.0, 1.0)
    d = check_int("d", d, 2)
    newton_steps = check_int("newton_steps", newton_steps, 0)
    if r == 1.0:
        return math.inf, math.inf
    if r == 0.0:
        return 0.0, 0.0
    k0 = r * (d - r * r) / (1.0 - r * r)
    k = k0
    for _ in range(newton_steps):
        a = bessel_ratio(d, k)
        deriv = 1.0 - a * a - (d - 1.0) * a / k
        if not (deriv > 0 and math.isfinite(a)):
            break
        step = (a - r) / deriv
        k_new = k - step
        if k_new <= 0:
            k_new = k / 2.0
        if abs(k_new - k) <= 1e-12 * k:
            k = k_new
            break
        k = k_new
    return float(k), float(k0)


def direction_summary(r: float, d: int, n: int, norms: np.ndarray) -> dict[str, float]:
    """Row of directional statistics: R, kappa (refined and Banerjee), norm spread.

    Parameters
    ----------
    r : mean resultant length of the ``n`` unit gradients.
    d : dimension.
    n : number of unit vectors that entered ``r``.
    norms : gradient norms (zeros and non-finite values are ignored).

    Returns
    -------
    dict
        ``dim``, ``n``, ``resultant_length`` and its value for uniform directions,
        ``kappa`` (refined) and ``kappa_banerjee``, ``norm_mean``, ``norm_std``, ``norm_cv``
        (NaN where undefined).
    """
    nrm = np.asarray(norms, dtype=np.float64)
    nrm = nrm[np.isfinite(nrm) & (nrm > 0)]
    out = {
        "dim": d,
        "n": n,
        "resultant_length": float(r),
        "resultant_length_uniform": 1.0 / math.sqrt(n) if n > 0 else math.nan,
        "kappa": math.nan,
        "kappa_banerjee": math.nan,
        "norm_mean": float(nrm.mean()) if nrm.size else math.nan,
        "norm_std": float(nrm.std(ddof=1)) if nrm.size > 1 else math.nan,
    }
    out["norm_cv"] = out["norm_std"] / out["norm_mean"] if nrm.size > 1 else math.nan
    if d >= 2 and n > 0 and math.isfinite(r):
        out["kappa"], out["kappa_banerjee"] = vmf_kappa(min(max(r, 0.0), 1.0), d)
    return out
