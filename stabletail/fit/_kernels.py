"""Compiled kernels of :mod:`stabletail.fit` (private).

The fast stable density used by the maximum-likelihood fit
----------------------------------------------------------
For the standard S0 law (scale 1, loc 0) the density is the inverse Fourier
transform of the characteristic function,

    f(z) = (1 / 2 pi) * int phi(t) exp(-i t z) dt,
    log phi(t) = -t**a - i b tan(pi a / 2) (t - t**a),   t > 0,

and phi(-t) = conj(phi(t)).  The trapezoid sum with step ``DT = 2 pi / L`` is,
by Poisson summation, exactly the periodised density ``sum_m f(z + m L)``
(up to truncating t where |phi| < exp(-45)).  One real FFT of length
``N_GRID`` therefore gives the periodised density on the grid
``z_k = -L/2 + k H``.  Heavy tails make the aliased copies non-negligible,
so they are subtracted: for |z| <= L/2 every copy sits at |z + m L| >= L/2,
where the asymptotic (Bergstrom) tail series below is accurate to ~1e-9.
Beyond ``Z_SWITCH`` the tail series is used directly.  Between grid nodes a
four-point (cubic) Lagrange interpolant is used.

Tail series (Bergstrom's asymptotic expansion, derived here by integrating the
power series of the S1 characteristic function term by term): with x = z + b tan(pi a / 2)
the S1 variable, c = 1 - i b tan(pi a/2) = |c| exp(-i psi),

    f(x) ~ (1/pi) sum_k (-1)**(k+1) |c|**k Gamma(k a + 1) / k!
                  * sin(k (pi a / 2 + psi)) * x**(-k a - 1),    x -> +inf,

and f(-x; a, b) = f(x; a, -b).  Close to a = 1 (|a - 1| < ALPHA_WINDOW, b != 0)
the S1 shift b tan(pi a / 2) blows up and the series loses accuracy, so the
tail there is interpolated in ``a`` (the S0 density is smooth in a),
cubically through the series at 1 -/+ W and 1 -/+ 2W, W = ALPHA_WINDOW (in
log f where the node values are positive).
Measured against Nolan's tables: relative error <= 5e-5 for alpha >= 0.7
(about 1e-6 for alpha >= 1.1), including alpha = 1.

First and second derivatives in alpha and beta come from the same FFT (the
characteristic function is differentiated analytically in beta and through
central differences of the real function h(alpha) in alpha); in the tail and
alias series they are central differences with step ``TSTEP``.  Derivatives
in z come from the interpolating polynomial.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

from stabletail._jit import jit

N_GRID = 8192
H = 0.02
L_PERIOD = N_GRID * H
DT = 2.0 * math.pi / L_PERIOD
NT = N_GRID // 2 + 1
Z_SWITCH = 0.4 * L_PERIOD
K_TAIL = 16
K_ALIAS = 8
N_PARTS = 4
ALPHA_WINDOW = 0.03
DELTA = 1e-5  # step of the central difference of h(alpha) in the characteristic function
DELTA2 = 1e-3  # step of the second difference of h(alpha)
TSTEP = 1e-4  # step of the differences of the tail and alias series in alpha and beta
N_COARSE = 33
M_ALIAS = 3
TINY = 1e-300
DENSITY_FLOOR = 1e-14  # relative to the peak of the FFT grid
LOG_TINY = math.log(TINY)
# floor of log f where the tail series is not positive (the light side of a totally skewed law):
# below any power-law tail value of a representable point (-(alpha + 1) log|z| > -2200)
LOG_FLOOR = -1e4
# variants of (alpha, beta) (in units of TSTEP) for differences of the tail and alias terms
_VA = np.array([0.0, 1.0, -1.0, 0.0, 0.0, 1.0, 1.0, -1.0, -1.0])
_VB = np.array([0.0, 0.0, 0.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
N_VAR = 9
N_ROWS = 6  # grid rows at level 2: f, f_a, f_b, f_aa, f_ab, f_bb
NPAR = 3 + 2 * K_TAIL


@jit
def _hfun(a, t, lt):
    """tan(pi a / 2) (t - t**a) for t > 0, without cancellation near a = 1."""
    eps = 1.0 - a
    if eps == 0.0:
        return 2.0 / math.pi * t * lt
    return -t * math.expm1(-eps * lt) / math.tan(0.5 * math.pi * eps)


@jit
def cf_arrays(alpha, beta, level):
    """dt/(2 pi) * phi(t_j) for t_j = j DT; at level 2 also its first and second
    derivatives in (alpha, beta): rows phi, phi_a, phi_b, phi_aa, phi_ab, phi_bb."""
    nrow = N_ROWS if level == 2 else 1
    out = np.zeros((nrow, NT), dtype=np.complex128)
    w = DT / (2.0 * math.pi)
    out[0, 0] = w
    for j in range(1, NT):
        t = j * DT
        lt = math.log(t)
        ta = math.exp(alpha * lt)
        if ta > 38.0:
            break
        hb = _hfun(alpha, t, lt)
        p0 = w * np.exp(complex(-ta, -beta * hb))
        out[0, j] = p0
        if level == 2:
            ha = (_hfun(alpha + DELTA, t, lt) - _hfun(alpha - DELTA, t, lt)) / (2.0 * DELTA)
            haa = (_hfun(alpha + DELTA2, t, lt) - 2.0 * hb + _hfun(alpha - DELTA2, t, lt)) / (DELTA2 * DELTA2)
            psa = complex(-ta * lt, -beta * ha)
            psb = complex(0.0, -hb)
            out[1, j] = psa * p0
            out[2, j] = psb * p0
            out[3, j] = (complex(-ta * lt * lt, -beta * haa) + psa * psa) * p0
            out[4, j] = (complex(0.0, -ha) + psa * psb) * p0
            out[5, j] = psb * psb * p0
    return out


@jit
def _series_coefs(a, b, row):
    """Fill row = [weight, a, shift, right coefs (K), left coefs (K)] (weight untouched)."""
    ta = math.tan(0.5 * math.pi * a)
    bt = b * ta
    psi = math.atan(bt)
    cabs = math.hypot(1.0, bt)
    row[1] = a
    row[2] = bt
    for k in range(1, K_TAIL + 1):
        g = math.exp(math.lgamma(k * a + 1.0) - math.lgamma(k + 1.0) + k * math.log(cabs)) / math.pi
        if k % 2 == 0:
            g = -g
        row[2 + k] = g * math.sin(k * (0.5 * math.pi * a + psi))
        row[2 + K_TAIL + k] = g * math.sin(k * (0.5 * math.pi * a - psi))


@jit
def tail_params_at(alphas, betas):
    """Tail-series parameters for the variants (alphas[v], betas[v]), shape (variants, N_PARTS, NPAR).

    Outside the window a single part (weight 1).  Inside |alpha - 1| <
    ALPHA_WINDOW (beta != 0) the tail is the cubic Lagrange interpolant in
    alpha through the series at 1 -/+ W and 1 -/+ 2W.
    """
    nv = alphas.size
    P = np.zeros((nv, N_PARTS, NPAR))
    for v in range(nv):
        a = alphas[v]
        b = betas[v]
        for part in range(N_PARTS):
            P[v, part, 1] = a
        if b != 0.0 and abs(a - 1.0) < ALPHA_WINDOW:
            u = (a - 1.0) / ALPHA_WINDOW
            nodes = (-2.0, -1.0, 1.0, 2.0)
            for i in range(4):
                w = 1.0
                for j in range(4):
                    if j != i:
                        w *= (u - nodes[j]) / (nodes[i] - nodes[j])
                P[v, i, 0] = w
                _series_coefs(1.0 + nodes[i] * ALPHA_WINDOW, b, P[v, i])
        else:
            P[v, 0, 0] = 1.0
            _series_coefs(a, b, P[v, 0])
    return P


def tail_params(alpha: float, beta: float) -> np.ndarray:
    """Tail-series parameters of the N_VAR variants (alpha, beta) + TSTEP * (_VA, _VB)."""
    return tail_params_at(alpha + TSTEP * _VA, beta + TSTEP * _VB)


@jit
def _series(u, a, P, off, kmax=K_TAIL):
    """sum_k c_k u**(-k a - 1) and its first two u-derivatives, u > 0, coefs P[off:off+kmax]."""
    p = 1.0 / u
    q = math.exp(-a * math.log(u))
    pk = p
    val = 0.0
    d1 = 0.0
    d2 = 0.0
    for k in range(kmax):
        pk *= q
        c = P[off + k] * pk
        e = (k + 1) * a + 1.0
        val += c
        d1 -= e * c
        d2 += e * (e + 1.0) * c
    return val, d1 * p, d2 * p * p


@jit
def _series_log(u, a, P, off):
    """log of sum_k c_k u**(-k a - 1) and its first two u-derivatives of the log, u > 0.

    The leading power u**(-a - 1) is factored out, so nothing underflows for
    any finite u (log value -inf only where the series itself is <= 0).
    """
    lu = math.log(u)
    q = math.exp(-a * lu)
    qk = 1.0
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for k in range(K_TAIL):
        c = P[off + k] * qk
        e = (k + 1) * a + 1.0
        s0 += c
        s1 -= e * c
        s2 += e * (e + 1.0) * c
        qk *= q
    if not s0 > 0.0:
        return -math.inf, 0.0, 0.0
    r1 = s1 / (s0 * u)
    return math.log(s0) - (a + 1.0) * lu, r1, s2 / (s0 * u * u) - r1 * r1


@jit
def tail_eval(z, Pv):
    """Log tail density and its z-derivatives, floored at LOG_FLOOR (derivatives 0 there)."""
    lf, l1, l2 = _tail_eval(z, Pv)
    if not lf > LOG_FLOOR:
        return LOG_FLOOR, 0.0, 0.0
    return lf, l1, l2


@jit
def _tail_eval(z, Pv):
    """Log of the tail-series density and its first two z-derivatives at S0 point z, one variant Pv.

    In the alpha window the parts (series at alpha nodes) are combined
    through their logarithms when all are positive: log f is nearly linear
    in alpha (f ~ z**(-alpha-1)), while f itself varies by orders of
    magnitude across the nodes when |z| is huge.  Otherwise (a part not
    positive) the parts are summed as densities, scaled by the largest.
    """
    lf = 0.0
    l1 = 0.0
    l2 = 0.0
    positive = True
    nact = 0
    lv = np.empty(N_PARTS)
    d1 = np.empty(N_PARTS)
    d2 = np.empty(N_PARTS)
    for part in range(Pv.shape[0]):
        w = Pv[part, 0]
        lv[part] = -math.inf
        if w == 0.0:
            continue
        nact += 1
        x = z + Pv[part, 2]
        a = Pv[part, 1]
        if x > 0.0:
            v, d, dd = _series_log(x, a, Pv[part], 3)
        else:
            v, d, dd = _series_log(-x, a, Pv[part], 3 + K_TAIL)
            d = -d
        lv[part] = v
        d1[part] = d
        d2[part] = dd
        if v > -math.inf:
            lf += w * v
            l1 += w * d
            l2 += w * dd
        else:
            positive = False
    if positive:
        return lf, l1, l2
    # some part not positive: sum the densities w f (f' = f l1, f'' = f (l2 + l1^2)) relative to the largest
    top = -math.inf
    for part in range(Pv.shape[0]):
        top = max(top, lv[part])
    if top == -math.inf:
        return -math.inf, 0.0, 0.0
    f = 0.0
    fz = 0.0
    fzz = 0.0
    for part in range(Pv.shape[0]):
        w = Pv[part, 0]
        if w == 0.0 or lv[part] == -math.inf:
            continue
        e = w * math.exp(lv[part] - top)
        f += e
        fz += e * d1[part]
        fzz += e * (d2[part] + d1[part] * d1[part])
    if not f > 0.0:
        return -math.inf, 0.0, 0.0
    r1 = fz / f
    return top + math.log(f), r1, fzz / f - r1 * r1


@jit
def _powsum_tail(x0, a, P, off):
    """sum_k c_k sum_{m > M} (x0 + m L)**(-k a - 1), by Euler-Maclaurin to the third derivative."""
    u = x0 + M_ALIAS * L_PERIOD
    r = L_PERIOD / u
    q = math.exp(-a * math.log(u))
    pk = 1.0 / u
    s = 0.0
    for k in range(K_ALIAS):
        pk *= q
        e = (k + 1) * a + 1.0
        integral = pk * u / ((e - 1.0) * L_PERIOD)
        em = e * r * pk / 12.0 - e * (e + 1) * (e + 2) * r**3 * pk / 720.0
        s += P[off + k] * (integral - 0.5 * pk + em)
    return s


@jit
def alias_sum(z, Pv):
    """sum_{m != 0} f(z + m L) from the tail series, for |z| < L/2."""
    tot = 0.0
    for part in range(Pv.shape[0]):
        w = Pv[part, 0]
        if w == 0.0:
            continue
        a = Pv[part, 1]
        x = z + Pv[part, 2]
        for m in range(1, M_ALIAS + 1):
            v, _, _ = _series(x + m * L_PERIOD, a, Pv[part], 3, K_ALIAS)
            tot += w * v
            v, _, _ = _series(m * L_PERIOD - x, a, Pv[part], 3 + K_TAIL, K_ALIAS)
            tot += w * v
        tot += w * _powsum_tail(x, a, Pv[part], 3)
        tot += w * _powsum_tail(-x, a, Pv[part], 3 + K_TAIL)
    return tot


@jit(inline="always")
def cubic_weights(r, h):
    """Weights of the cubic Lagrange interpolant through nodes ``k - 1 .. k + 2`` (spacing ``h``)
    at ``k + r``: ``(value, first derivative, second derivative)``, four weights each."""
    rm, r1, r2 = r + 1.0, r - 1.0, r - 2.0
    w = (-r * r1 * r2 / 6.0, rm * r1 * r2 / 2.0, -rm * r * r2 / 2.0, rm * r * r1 / 6.0)
    d = (-(r1 * r2 + r * r2 + r * r1) / (6.0 * h), (r1 * r2 + rm * r2 + rm * r1) / (2.0 * h),
         -(r * r2 + rm * r2 + rm * r) / (2.0 * h), (r * r1 + rm * r1 + rm * r) / (6.0 * h))
    hh = h * h
    e = (-r1 / hh, (3.0 * r - 2.0) / hh, (1.0 - 3.0 * r) / hh, r / hh)
    return w, d, e


@jit(inline="always")
def dot4(c, A, row, k):
    """``c[0] A[row, k - 1] + ... + c[3] A[row, k + 2]``: four weights applied to a table row."""
    return c[0] * A[row, k - 1] + c[1] * A[row, k] + c[2] * A[row, k + 1] + c[3] * A[row, k + 2]


@jit
def correct_grid(G, P):
    """Subtract the aliased copies from the periodised grids G (rows as in cf_arrays)."""
    nrow = G.shape[0]
    zlo = Z_SWITCH + 4 * H
    dz = 2.0 * zlo / (N_COARSE - 1)
    C = np.zeros((nrow, N_COARSE))
    A = np.zeros(N_VAR)
    for i in range(N_COARSE):
        z = -zlo + i * dz
        for v in range(N_VAR if nrow > 1 else 1):
            A[v] = alias_sum(z, P[v])
        C[0, i] = A[0]
        if nrow > 1:
            C[1, i] = (A[1] - A[2]) / (2.0 * TSTEP)
            C[2, i] = (A[3] - A[4]) / (2.0 * TSTEP)
            C[3, i] = (A[1] - 2.0 * A[0] + A[2]) / (TSTEP * TSTEP)
            C[4, i] = (A[5] - A[6] - A[7] + A[8]) / (4.0 * TSTEP * TSTEP)
            C[5, i] = (A[3] - 2.0 * A[0] + A[4]) / (TSTEP * TSTEP)
    kmin = int((L_PERIOD / 2 - zlo) / H) + 1
    kmax = N_GRID - kmin
    for k in range(kmin, kmax):
        z = -0.5 * L_PERIOD + k * H
        u = (z + zlo) / dz
        i = min(max(int(u), 1), N_COARSE - 3)
        w = cubic_weights(u - i, dz)[0]
        for row in range(nrow):
            G[row, k] -= dot4(w, C, row, i)


def density_grids(alpha: float, beta: float, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Grids of the standard S0 density on z_k = -L/2 + k H (level 0: f; level 2: also its
    first and second derivatives in alpha and beta, rows as in cf_arrays), and tail params."""
    A = cf_arrays(alpha, beta, level)
    G = scipy.fft.hfft(A, n=N_GRID, axis=-1)
    G = np.ascontiguousarray(np.roll(G, N_GRID // 2, axis=-1))
    P = tail_params(alpha, beta)
    correct_grid(G, P)
    # below ~1e-14 of the peak the grid is FFT rounding noise (only alpha at or next to 2 gets
    # there inside Z_SWITCH): a flat floor with no derivatives instead of noise divided by noise
    low = G[0] < DENSITY_FLOOR * G[0].max()
    if low.any():
        G[0, low] = DENSITY_FLOOR * G[0].max()
        G[1:, low] = 0.0
    return G, P


@jit
def _point(z, G, P, level):
    """Log density and its derivatives at standard point z.

    Returns (l, l_z, l_zz, l_a, l_b, l_az, l_bz, l_aa, l_ab, l_bb) for
    l = log f; the (alpha, beta) terms only at level 2 (else 0).
    """
    la = lb = laz = lbz = laa = lab = lbb = 0.0
    if abs(z) <= Z_SWITCH:
        u = (z + 0.5 * L_PERIOD) / H
        k = math.floor(u)
        w, d, e = cubic_weights(u - k, H)
        # below TINY the grid is rounding noise: a floor with no slope (only light tails reach it
        # inside Z_SWITCH, e.g. a Gaussian fit of heavy-tailed data)
        f = dot4(w, G, 0, k)
        if not f > TINY:
            return LOG_TINY, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        rf = 1.0 / f
        lz = dot4(d, G, 0, k) * rf
        lzz = dot4(e, G, 0, k) * rf - lz * lz
        if level == 2:
            la = dot4(w, G, 1, k) * rf
            laz = dot4(d, G, 1, k) * rf - la * lz
            lb = dot4(w, G, 2, k) * rf
            lbz = dot4(d, G, 2, k) * rf - lb * lz
            laa = dot4(w, G, 3, k) * rf - la * la
            lab = dot4(w, G, 4, k) * rf - la * lb
            lbb = dot4(w, G, 5, k) * rf - lb * lb
        return math.log(f), lz, lzz, la, lb, laz, lbz, laa, lab, lbb
    lf, lz, lzz = tail_eval(z, P[0])
    if level == 2:
        ap, apz, _ = tail_eval(z, P[1])
        am, amz, _ = tail_eval(z, P[2])
        bp, bpz, _ = tail_eval(z, P[3])
        bm, bmz, _ = tail_eval(z, P[4])
        pp, _, _ = tail_eval(z, P[5])
        pm, _, _ = tail_eval(z, P[6])
        mp, _, _ = tail_eval(z, P[7])
        mm, _, _ = tail_eval(z, P[8])
        la = (ap - am) / (2.0 * TSTEP)
        laz = (apz - amz) / (2.0 * TSTEP)
        lb = (bp - bm) / (2.0 * TSTEP)
        lbz = (bpz - bmz) / (2.0 * TSTEP)
        laa = (ap - 2.0 * lf + am) / (TSTEP * TSTEP)
        lbb = (bp - 2.0 * lf + bm) / (TSTEP * TSTEP)
        lab = (pp - pm - mp + mm) / (4.0 * TSTEP * TSTEP)
    return lf, lz, lzz, la, lb, laz, lbz, laa, lab, lbb


@jit
def density_points(z, G, P):
    """Standard S0 density and its z-derivative at the points z."""
    n = z.size
    f = np.empty(n)
    fz = np.empty(n)
    for i in range(n):
        r = _point(z[i], G, P, 0)
        f[i] = math.exp(r[0])
        fz[i] = f[i] * r[1]
    return f, fz


@jit
def point_scores(z, G, P):
    """Per-point log f and scores d log f / d(alpha, beta, log scale, loc) at scale 1, loc 0."""
    n = z.size
    out = np.empty((n, 5))
    for i in range(n):
        lf, lz, _, la, lb, _, _, _, _, _ = _point(z[i], G, P, 2)
        out[i, 0] = lf
        out[i, 1] = la
        out[i, 2] = lb
        out[i, 3] = -z[i] * lz - 1.0
        out[i, 4] = -lz
    return out


@jit
def accumulate(acc, z, inv, r):
    """Add one point's log-likelihood terms to acc = [loglik, g(4), B(10), Hess(10)].

    r = (l, l_z, l_zz, l_a, l_b, l_az, l_bz, l_aa, l_ab, l_bb) of the standard
    density at z = (x - loc) / scale; coordinates (alpha, beta, log scale, loc).
    """
    lf, lz, lzz, la, lb, laz, lbz, laa, lab, lbb = r
    acc[0] += lf
    s0 = la
    s1 = lb
    s2 = -z * lz - 1.0
    s3 = -lz * inv
    s = (s0, s1, s2, s3)
    idx = 0
    for a in range(4):
        acc[1 + a] += s[a]
        for b in range(a, 4):
            acc[5 + idx] += s[a] * s[b]
            idx += 1
    # Hessian of log f(z) - log scale, z = (x - loc) / scale, dz/dlogscale = -z, dz/dloc = -1/scale
    acc[15] += laa
    acc[16] += lab
    acc[17] += -z * laz
    acc[18] += -laz * inv
    acc[19] += lbb
    acc[20] += -z * lbz
    acc[21] += -lbz * inv
    acc[22] += z * lz + z * z * lzz
    acc[23] += (z * lzz + lz) * inv
    acc[24] += lzz * inv * inv


# --------------------------------------------------------------------------------------------
# characteristic-function regression


@jit
def ecf_values(x, loc, scale, dt, m):
    """Empirical characteristic function of (x - loc) / scale at t = dt, 2 dt, ..., m dt.

    One sincos per point; the powers exp(i k dt z) follow by complex multiplication.
    """
    re = np.zeros(m)
    im = np.zeros(m)
    inv = 1.0 / scale
    for i in range(x.size):
        z = (x[i] - loc) * inv * dt
        c1 = math.cos(z)
        s1 = math.sin(z)
        c = c1
        s = s1
        for k in range(m):
            re[k] += c
            im[k] += s
            c, s = c * c1 - s * s1, s * c1 + c * s1
    n = x.size
    return re / n, im / n


# --------------------------------------------------------------------------------------------
# quantile method


@jit
def _bilinear(T, a0, da, na, b0, db, nb, a, b):
    """Bilinear interpolation of table T[ia, ib, :] at (a, b), clamped to the table."""
    u = min(max((a - a0) / da, 0.0), na - 1.000001)
    v = min(max((b - b0) / db, 0.0), nb - 1.000001)
    i = int(u)
    j = int(v)
    r = u - i
    s = v - j
    return ((1 - r) * (1 - s)) * T[i, j] + (r * (1 - s)) * T[i + 1, j] + ((1 - r) * s) * T[i, j + 1] + (
        r * s
    ) * T[i + 1, j + 1]


@jit
def quantile_invert(Q, a0, da, b0, db, nua, nub, afix, bfix, a_init, b_init):
    """Solve log nu_alpha(a, b) = nua, nu_beta(a, b) = nub on the table Q (quantiles 5/25/50/75/95%).

    Q has shape (n_alpha, n_beta, 5) for beta >= 0; negative beta uses the
    mirror image.  afix/bfix: NaN when free, else the fixed value.  Returns
    (a, b, converged) with a, b clamped to the table.
    """
    na, nb = Q.shape[0], Q.shape[1]
    amin, amax = a0, a0 + (na - 1) * da
    a = a_init if math.isnan(afix) else afix
    b = b_init if math.isnan(bfix) else bfix
    ok = False
    for it in range(60):
        Fa, Fb = _nus(Q, a0, da, na, b0, db, nb, a, b)
        ra = Fa - nua
        rb = Fb - nub
        ea = 1e-4 if a + 1e-4 <= amax else -1e-4
        eb = 1e-4 if b + 1e-4 <= 1.0 else -1e-4
        Fa1, Fb1 = _nus(Q, a0, da, na, b0, db, nb, a + ea, b)
        Fa2, Fb2 = _nus(Q, a0, da, na, b0, db, nb, a, b + eb)
        J00 = (Fa1 - Fa) / ea
        J10 = (Fb1 - Fb) / ea
        J01 = (Fa2 - Fa) / eb
        J11 = (Fb2 - Fb) / eb
        if math.isnan(afix) and math.isnan(bfix):
            det = J00 * J11 - J01 * J10
            if det == 0.0:
                break
            sa = -(J11 * ra - J01 * rb) / det
            sb = -(-J10 * ra + J00 * rb) / det
        elif math.isnan(afix):
            sa = -ra / J00 if J00 != 0.0 else 0.0
            sb = 0.0
        elif math.isnan(bfix):
            sa = 0.0
            sb = -rb / J11 if J11 != 0.0 else 0.0
        else:
            ok = True
            break
        # at most 0.2, and at most half way to the table's lower edge (log nu_alpha is convex in
        # alpha: Newton from above overshoots the heavy end and would cycle)
        sa = min(max(sa, -0.2, -0.5 * (a - amin)), 0.2)
        sb = min(max(sb, -0.3), 0.3)
        an = min(max(a + sa, amin), amax)
        bn = min(max(b + sb, -1.0), 1.0)
        moved = abs(an - a) + abs(bn - b)
        a = an
        b = bn
        if moved < 1e-10:
            ok = True
            break
    return a, b, ok


@jit
def _nus(Q, a0, da, na, b0, db, nb, a, b):
    q = table_at(Q, a0, da, b0, db, a, b, True)
    # log of nu_alpha: it spans 2.4 (Gaussian) to 1.5e8 (alpha = 0.1), nearly linear in alpha in logs
    return math.log((q[4] - q[0]) / (q[3] - q[1])), (q[4] + q[0] - 2 * q[2]) / (q[4] - q[0])


@jit
def table_at(T, a0, da, b0, db, a, b, odd):
    """Row of a (alpha, beta >= 0) table at (a, b), any sign of b.

    For b < 0 the mirror image is used: reversed order, negated when ``odd``
    (quantiles), as is (densities at the quantiles).
    """
    na, nb = T.shape[0], T.shape[1]
    if b >= 0.0:
        return _bilinear(T, a0, da, na, b0, db, nb, a, b)
    q = _bilinear(T, a0, da, na, b0, db, nb, a, -b)[::-1].copy()
    if odd:
        q = -q
    return q
