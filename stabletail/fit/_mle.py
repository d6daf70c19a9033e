"""Maximum-likelihood fit with the compiled stable density."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .._params import PARAM_NAMES
from .._typing import ArrayLike, FloatArray, Parameterization
from . import _loggrid
from ._common import Standardized, boundary, prepare
from ._ecf import ecf_s0
from ._optim import FFT_ALPHA_MIN, GRID_ALPHA_MAX, MLE_ALPHA_MIN, Objective, newton, s1_coords
from ._quantile import quantile_s0
from .result import StableFit, make_result, transform_cov

__all__ = ["MLE_ALPHA_MIN", "mle"]

#: Below this alpha (at the start) the S1 origin is first put on a data point (see _align_s1_origin).
ALIGN_ALPHA = 0.25
_ALIGN_CANDIDATES = 64
_REALIGN = 4  # rounds of (align the S1 origin, simplex search) at most
_SUBSAMPLE_ABOVE = 50_000
_SUBSAMPLE_SIZE = 20_000
_SCALE_LOC = np.array([False, False, True, True])


def _align_s1_origin(obj: Objective, x: FloatArray, th: FloatArray) -> FloatArray:
    """Put the S1 origin on the data point that maximises the log-likelihood among likely ones.

    For small alpha the density has a spike of width ~1e-12 (alpha = 0.1) at the S1
    origin and falls like |x - loc1|**(alpha - 1) around it, so the log-likelihood in
    loc1 has a narrow peak at every data point: Newton from a start between them
    cannot climb.  The maximum sits where the points pile up around the origin, i.e.
    where neighbouring order statistics are closest: try the ``_ALIGN_CANDIDATES``
    points between the 5% and 95% sample quantiles with the smallest gaps (one table,
    one pass per candidate; a skewed law has its S1 origin far from the median).
    """
    loc1 = float(th[3])
    xs = np.sort(x)
    n = xs.size
    mid = xs[n // 20 : n - n // 20]  # the 5-95% range: a skewed law keeps its S1 origin off-centre
    gap = mid[2:] - mid[:-2]
    near = 1 + np.argsort(gap, kind="stable")[:_ALIGN_CANDIDATES]
    best, best_ll = loc1, obj.value(th)
    g = _loggrid.build(float(th[0]), float(th[1]), 0)
    sc = math.exp(th[2])
    shift = s1_coords(th)[0]
    for c in mid[near]:
        ll = float(g.loglik(x, float(c) + shift, sc, 0)[0])
        if ll > best_ll:
            best, best_ll = float(c), ll
    out = th.copy()
    out[3] = best
    return out


def _simplex(obj: Objective, th: FloatArray, idx: np.ndarray, steps: FloatArray, max_iter: int):
    """Nelder-Mead over the coordinates idx of th (the rest held), from a simplex of the given steps."""
    from scipy.optimize import minimize

    lower, upper = obj.lower, obj.upper

    def negll(p: FloatArray) -> float:
        t = th.copy()
        t[idx] = p
        if np.any(t[:2] < lower[:2]) or np.any(t[:2] > upper[:2]):
            return 1e300  # finite: the simplex compares differences of these
        v = obj.value(t)
        return -v if math.isfinite(v) else 1e300

    base = th[idx]
    simplex = [base]
    for j in range(idx.size):
        v = base.copy()
        inward = base[j] + steps[j] <= upper[idx[j]]
        v[j] += steps[j] if inward else -steps[j]
        simplex.append(v)
    return minimize(negll, base, method="Nelder-Mead",
                    options={"xatol": 1e-5, "fatol": 1e-4, "maxiter": 40 * max_iter,
                             "initial_simplex": np.array(simplex)})


def _small_alpha(obj: Objective, th: FloatArray, free: np.ndarray, max_iter: int):
    """Fit for alpha below ALIGN_ALPHA: S1 origin on a data point, then Nelder-Mead in the rest.

    The point at the spike fixes loc1 to ~1e-12 of the scale; it also makes the
    log-likelihood rough on that scale in alpha and beta (the spike's shape moves
    under it), so derivative steps fail while a simplex search on the values
    converges.  Measured: alpha = 0.1, 0.15, 0.2 recovered to 1e-3 at n = 10^4.
    Standard errors from the expected information at the estimate.
    """
    idx = np.flatnonzero(free[:3])
    steps = np.array([0.01, 0.05, 0.1])[idx]
    th = th.copy()
    th[:2] = np.clip(th[:2], obj.lower[:2], obj.upper[:2])  # a start value (ecf) may lie below alpha's range
    res = None
    for _ in range(_REALIGN):
        # the best data point for the S1 origin depends on (alpha, beta, scale): align, fit the
        # rest, and align again at the new values until the point stays
        aligned = _align_s1_origin(obj, obj.x, th)
        if res is not None and aligned[3] == th[3]:
            break
        th = aligned
        res = _simplex(obj, th, idx, steps, max_iter)
        th = th.copy()
        th[idx] = res.x
    ll = obj.value(th)
    # the observed information is dominated by the few points at the spike, whose curvature is
    # the spike's 1e-12 fine structure (measured: 100x the Cramer-Rao information at alpha = 0.12);
    # the expected information, by quadrature of the same density, is the honest one
    # information of (alpha, beta, log scale) with loc1 held, per observation at scale 1: the S0
    # information I of the standard law seen through loc0 = loc1 + beta scale tan(pi alpha / 2),
    # i.e. M' I M with M = [identity; (beta t', t, beta t)] (scale-free: no 1/scale^2 overflow)
    th0 = obj.to_s0(th)
    t = math.tan(0.5 * math.pi * th0[0])
    m = np.vstack([np.eye(3), [th0[1] * 0.5 * math.pi * (1.0 + t * t), t, th0[1] * t]])
    info3 = obj.x.size * (m.T @ _loggrid.build(float(th0[0]), float(th0[1])).information() @ m)
    Hm = np.full((4, 4), np.nan)  # loc1 is held: its row and column are not used
    Hm[:3, :3] = -info3
    B = -Hm
    msg = ("loc: the S1 origin sits on a data point (the density's spike at small alpha); "
           "its standard error is not estimated")
    if not res.success:
        msg = f"simplex search did not converge ({res.message}); " + msg
    return th, ll, B, Hm, int(res.nit), bool(res.success), msg, True


def _scoring(obj: Objective, start: FloatArray, free: np.ndarray, max_iter: int):
    """Fisher scoring in node-table mode; the Hessian returned is minus the expected information.

    The observed curvature is rough there (points near the S1 origin) and the tables give no
    second alpha/beta derivatives, so the steps use the expected information at the start.  Its
    S1 location is first put on its peak: at alpha = 0.3 the characteristic-function start lies
    ~20 standard errors of loc1 off it (those are ~1e-4 of the scale), where the steps in (alpha,
    beta) would only crawl; these log scale and loc1 steps use the observed curvature, from one
    table row.
    """
    start = np.clip(start, obj.lower, obj.upper)
    if obj.s1:
        start = newton(obj, start, free & _SCALE_LOC, max_iter, level=1)[0]
    th, ll, g, B, _, it, conv, msg = newton(obj, start, free, max_iter, obj.fisher(start, du=0.5))
    return th, ll, g, B, -obj.fisher(th), it, conv, msg


def _fit_modes(x: FloatArray, th0: FloatArray, free: np.ndarray, max_iter: int):
    """Newton in the density mode that serves the start; switch once when alpha leaves its range.

    Returns theta (S0), loglik, the BHHH matrix and Hessian in S0 coordinates (the
    Hessian's S1-coordinate curvature term vanishes at a stationary point), n_iter, converged,
    message and whether loc1 was held on a data point.
    """
    mode = "grid" if th0[0] < 0.5 * (FFT_ALPHA_MIN + GRID_ALPHA_MAX) else "fft"
    _loggrid.clear()
    for _ in range(3):
        obj = Objective(x, mode, s1=mode == "grid" and bool(free[3]))
        start = obj.from_s0(th0)
        if obj.s1 and start[0] < ALIGN_ALPHA:
            # the simplex search is local and the ecf start is rough down here: also start it from
            # the quantile method's estimate and keep the better end
            tries = [_small_alpha(obj, start, free, max_iter)]
            q = quantile_s0(x, {}, with_cov=False)[0]
            alt = obj.from_s0(np.where(free, [q[0], q[1], math.log(q[2]), q[3]], th0))
            alt[0] = min(alt[0], ALIGN_ALPHA)
            tries.append(_small_alpha(obj, alt, free, max_iter))
            th, ll, B, Hm, it, conv, msg, held = max(tries, key=lambda r: r[1])
            g = None
        else:
            held = False
            if mode == "fft":
                th, ll, g, B, Hm, it, conv, msg = newton(obj, start, free, max_iter)
            else:
                th, ll, g, B, Hm, it, conv, msg = _scoring(obj, start, free, max_iter)
        th0 = obj.to_s0(th)
        if free[0] and mode == "fft" and th[0] <= FFT_ALPHA_MIN + 1e-9:
            mode = "grid"
        elif free[0] and mode == "grid" and th[0] >= GRID_ALPHA_MAX - 1e-9:
            mode = "fft"
        else:
            break
    Ji = np.linalg.inv(obj.jacobian(th))
    if held:  # the (alpha, beta, log scale) information with loc1 held, as it is
        return th0, ll, None, B, Hm, it, conv, msg, held
    g0 = None if g is None else Ji.T @ g
    return th0, ll, g0, Ji.T @ B @ Ji, Ji.T @ Hm @ Ji, it, conv, msg, held


def _lr_test(std: Standardized, ll_fixed: float, max_iter: int) -> str:
    """Likelihood-ratio test of the fixed values against the free fit; a message when it rejects
    (chi-square with as many degrees of freedom as fixed values, below p = 1e-3)."""
    from scipy.stats import chi2

    try:
        _, _, ll_free, _, conv, _ = _mle_s0(std.x, {}, max_iter, std.quantiles)
    except ValueError:
        return ""
    lr = 2.0 * (ll_free - ll_fixed)
    if not (conv and math.isfinite(lr) and lr > 0):
        return ""
    p = float(chi2.sf(lr, len(std.fixed)))
    if p >= 1e-3:
        return ""
    return (f"the data reject the fixed value(s) of {', '.join(std.fixed)} "
            f"(likelihood ratio {lr:.4g}, p = {p:.2g})")


def _score_test(g: FloatArray, Hm: FloatArray, free: np.ndarray) -> str:
    """Rao's score test of the fixed values at the constrained maximum; a message when it rejects.

    LM = g_f' [I^-1]_ff g_f with I = -Hessian (all four parameters), chi-square with as
    many degrees of freedom as fixed values; reported below p = 1e-3.
    """
    from scipy.stats import chi2

    fx = np.flatnonzero(~free)
    try:
        inv = np.linalg.inv(-Hm)
    except np.linalg.LinAlgError:
        return ""
    lm = float(g[fx] @ inv[np.ix_(fx, fx)] @ g[fx])
    if not (math.isfinite(lm) and lm > 0):
        return ""
    p = float(chi2.sf(lm, fx.size))
    if p >= 1e-3:
        return ""
    names = ", ".join(PARAM_NAMES[i] for i in fx)
    return f"the data reject the fixed value(s) of {names} (score test LM = {lm:.4g}, p = {p:.2g})"


def _mle_s0(x: FloatArray, fixed: dict[str, float], max_iter: int, qs: FloatArray | None = None):
    n = x.size
    if n > _SUBSAMPLE_ABOVE:
        # converge on an evenly strided subsample first, then polish on all data
        th0 = _mle_s0(x[:: n // _SUBSAMPLE_SIZE], fixed, max_iter)[0].copy()
        th0[2] = math.log(th0[2])
    else:
        st, _, _ = ecf_s0(x, fixed, max_iter=2, with_cov=False, qs=qs)
        th0 = np.array([st[0], st[1], math.log(st[2]), st[3]])
    free = np.ones(4, dtype=bool)
    for i, k in enumerate(PARAM_NAMES):
        if k in fixed:
            free[i] = False
            th0[i] = math.log(fixed[k]) if k == "scale" else fixed[k]
    if "alpha" in fixed and fixed["alpha"] < MLE_ALPHA_MIN:
        raise ValueError(
            f"fix['alpha'] must be in [{MLE_ALPHA_MIN:g}, 2] for method='mle', got {fixed['alpha']:g}"
        )
    th, ll, g, B, Hm, it, conv, msg, held = _fit_modes(x, th0, free, max_iter)
    if g is not None and not free.all() and th[0] < 2.0:
        msg = "; ".join(m for m in (_score_test(g, Hm, free), msg) if m)
    if free[0] and th[0] <= MLE_ALPHA_MIN + 1e-9:
        conv, msg = False, f"alpha reached the lower edge {MLE_ALPHA_MIN:g} of the MLE's range"
    eff = free.copy()
    if th[0] >= 2.0:
        eff[:2] = False
    if held:
        eff[3] = False  # loc sits on a data point: no normal-theory error, and its information is huge
    idx = np.flatnonzero(eff)
    cov_l = np.full((4, 4), np.nan)
    for i in np.flatnonzero(~free):
        cov_l[i, :] = 0.0
        cov_l[:, i] = 0.0
    if idx.size:
        info = -Hm[np.ix_(idx, idx)]  # observed Fisher information
        try:
            np.linalg.cholesky(info)
        except np.linalg.LinAlgError:
            # a rough log-likelihood (alpha < 0.5: points at the S1 origin) can leave the observed
            # information indefinite; the outer product of the scores estimates the same matrix
            info = B[np.ix_(idx, idx)]
            msg = msg or ("observed information not positive definite: "
                          "standard errors from the score outer product")
        try:
            np.linalg.cholesky(info)
            cov_l[np.ix_(idx, idx)] = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            msg = msg or "information matrix is singular; standard errors are NaN"
    if held:
        cov_l[3, :] = np.nan
        cov_l[:, 3] = np.nan
    cov = transform_cov(np.diag([1.0, 1.0, math.exp(th[2]), 1.0]), cov_l)
    theta = np.array([th[0], th[1], math.exp(th[2]), th[3]])
    return theta, cov, ll, it, conv, msg


def mle(
    x: ArrayLike,
    *,
    parameterization: Parameterization = "S0",
    fix: Mapping[str, float] | None = None,
    max_iter: int = 100,
) -> StableFit:
    """Maximum-likelihood fit of the four stable parameters, alpha in [0.1, 2].

    The data are standardised (median, interquartile range) first, so the fit
    is equivariant for data anywhere in 1e-300..1e300.  Two densities serve
    the likelihood, both in log space (no observation is lost to underflow):

    - alpha >= 0.6: one FFT of the characteristic function on 8192 points
      (spacing 0.02), corrected for the aliased heavy tails, cubic Lagrange
      interpolation, and the tail series beyond ``|z| = 65.5``; its derivatives
      in alpha and beta come from the same FFT.
    - alpha <= 0.8: log f of :func:`stabletail.stable.logpdf` at nodes
      0.15 apart in u = asinh((z - c) / eps) around the S1 origin c (the
      density's sharpest feature), cubic interpolation, the convergent tail
      series in log space beyond; alpha and beta derivatives by differences
      of six such tables.  Newton runs in the S1 location there.

    Newton steps (outer-product matrix where the Hessian is not negative
    definite) with backtracking start from :func:`ecf` and switch density
    when alpha leaves one's range.  Below alpha = 0.25 the S1 origin is put
    on the data point where the sample piles up and a simplex search fits
    alpha, beta and scale (the likelihood is rough on the 1e-12 scale of the
    density's spike there).  For more than 50 000 points the fit first
    converges on an evenly strided subsample of 20 000, then polishes on
    all data.  docs/fit.md gives the measured accuracy and speed.

    Parameters
    ----------
    x : array_like, 1-D
        Data; at least ``MIN_POINTS["mle"]`` (20) finite values, not constant.
    parameterization : {"S0", "S1"}
        Parameterisation of the result (and of ``fix``).
    fix : mapping, optional
        Parameters held at given values, e.g. ``{"beta": 0, "loc": 0}``.
    max_iter : int
        Maximum number of Newton steps.

    Returns
    -------
    StableFit
        Standard errors from the inverse observed Fisher information (minus
        the Hessian at the estimate; the outer product of the scores where
        that is not positive definite; below alpha = 0.25 the expected
        information, with no standard error for loc).  ``converged=False``
        (with the best point and a ``message``) when the optimiser stops
        early or alpha sits at 0.1.  With fixed values, a score test that
        rejects them (p < 1e-3) is reported in ``message``.

    Raises
    ------
    ValueError
        Too few points, non-finite values, constant data, or a bad ``fix``.
    """
    parameterization, std = prepare(x, "mle", parameterization, fix)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    theta, cov, ll, it, conv, msg = _mle_s0(std.x, std.fixed, int(max_iter), std.quantiles)
    if std.fixed and "reject" not in msg:  # where the score test had no gradient: a likelihood ratio
        msg = "; ".join(m for m in (_lr_test(std, ll, int(max_iter)), msg) if m)
    edge = boundary(theta, std.fixed, MLE_ALPHA_MIN)
    return make_result(theta, cov, std, method="mle", parameterization=parameterization,
                       loglik=ll, converged=conv, n_iter=it, message=msg, at_boundary=edge)

