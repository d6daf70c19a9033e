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
def tail_params(alpha, beta):
    """Tail-series parameters, shape (N_VAR variants, N_PARTS parts, NPAR); see module doc.

    Outside the window a single part (weight 1).  Inside |alpha - 1| <
    ALPHA_WINDOW (beta != 0) the tail is the cubic Lagrange interpolant in
    alpha through the series at 1 -/+ W and 1 -/+ 2W.
    """
    P = np.zeros((N_VAR, N_PARTS, NPAR))
    for v in range(N_VAR):
        a = alpha + TSTEP * _VA[v]
        b = beta + TSTEP * _VB[v]
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
def tail_eval(z, Pv):
    """Tail-series density and its first two z-derivatives at S0 point z for one variant Pv.

    In the alpha window the parts (series at alpha nodes) are combined
    through their logarithms when all are positive: log f is nearly linear
    in alpha (f ~ z**(-alpha-1)), while f itself varies by orders of
    magnitude across the nodes when |z| is huge.
    """
    f = 0.0
    fz = 0.0
    fzz = 0.0
    lf = 0.0
    l1 = 0.0
    l2 = 0.0
    positive = True
    nact = 0
    for part in range(Pv.shape[0]):
        w = Pv[part, 0]
        if w == 0.0:
            continue
        nact += 1
        x = z + Pv[part, 2]
        a = Pv[part, 1]
        if x > 0.0:
            v, d, dd = _series(x, a, Pv[part], 3)
        else:
            v, d, dd = _series(-x, a, Pv[part], 3 + K_TAIL)
            d = -d
        f += w * v
        fz += w * d
        fzz += w * dd
        if v > 0.0:
            r1 = d / v
            lf += w * math.log(v)
            l1 += w * r1
            l2 += w * (dd / v - r1 * r1)
        else:
            positive = False
    if nact > 1 and positive:
        f = math.exp(lf)
        fz = f * l1
        fzz = f * (l2 + l1 * l1)
    return f, fz, fzz


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
        s += P[off + k] * (integral - 0.5 * pk + e * r * pk / 12.0 - e * (e + 1) * (e + 2) * r**3 * pk / 720.0)
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
        r = u - i
        rm, r1, r2 = r + 1.0, r - 1.0, r - 2.0
        w0 = -r * r1 * r2 / 6.0
        w1 = rm * r1 * r2 / 2.0
        w2 = -rm * r * r2 / 2.0
        w3 = rm * r * r1 / 6.0
        for row in range(nrow):
            G[row, k] -= w0 * C[row, i - 1] + w1 * C[row, i] + w2 * C[row, i + 1] + w3 * C[row, i + 2]


def density_grids(alpha: float, beta: float, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Grids of the standard S0 density on z_k = -L/2 + k H (level 0: f; level 2: also its
    first and second derivatives in alpha and beta, rows as in cf_arrays), and tail params."""
    A = cf_arrays(alpha, beta, level)
    G = scipy.fft.hfft(A, n=N_GRID, axis=-1)
    G = np.ascontiguousarray(np.roll(G, N_GRID // 2, axis=-1))
    P = tail_params(alpha, beta)
    correct_grid(G, P)
    return G, P


@jit
def _point(z, G, P, level):
    """At standard point z: f, f_z, f_zz and (level 2) f_a, f_b, f_az, f_bz, f_aa, f_ab, f_bb."""
    fa = fb = faz = fbz = faa = fab = fbb = 0.0
    if abs(z) <= Z_SWITCH:
        u = (z + 0.5 * L_PERIOD) / H
        k = math.floor(u)
        r = u - k
        rm, r1, r2 = r + 1.0, r - 1.0, r - 2.0
        w0 = -r * r1 * r2 / 6.0
        w1 = rm * r1 * r2 / 2.0
        w2 = -rm * r * r2 / 2.0
        w3 = rm * r * r1 / 6.0
        d0 = -(r1 * r2 + r * r2 + r * r1) / (6.0 * H)
        d1 = (r1 * r2 + rm * r2 + rm * r1) / (2.0 * H)
        d2 = -(r * r2 + rm * r2 + rm * r) / (2.0 * H)
        d3 = (r * r1 + rm * r1 + rm * r) / (6.0 * H)
        e0 = -r1 / (H * H)
        e1 = (3.0 * r - 2.0) / (H * H)
        e2 = (1.0 - 3.0 * r) / (H * H)
        e3 = r / (H * H)
        g0, g1, g2, g3 = G[0, k - 1], G[0, k], G[0, k + 1], G[0, k + 2]
        f = w0 * g0 + w1 * g1 + w2 * g2 + w3 * g3
        fz = d0 * g0 + d1 * g1 + d2 * g2 + d3 * g3
        fzz = e0 * g0 + e1 * g1 + e2 * g2 + e3 * g3
        if level == 2:
            g0, g1, g2, g3 = G[1, k - 1], G[1, k], G[1, k + 1], G[1, k + 2]
            fa = w0 * g0 + w1 * g1 + w2 * g2 + w3 * g3
            faz = d0 * g0 + d1 * g1 + d2 * g2 + d3 * g3
            g0, g1, g2, g3 = G[2, k - 1], G[2, k], G[2, k + 1], G[2, k + 2]
            fb = w0 * g0 + w1 * g1 + w2 * g2 + w3 * g3
            fbz = d0 * g0 + d1 * g1 + d2 * g2 + d3 * g3
            faa = w0 * G[3, k - 1] + w1 * G[3, k] + w2 * G[3, k + 1] + w3 * G[3, k + 2]
            fab = w0 * G[4, k - 1] + w1 * G[4, k] + w2 * G[4, k + 1] + w3 * G[4, k + 2]
            fbb = w0 * G[5, k - 1] + w1 * G[5, k] + w2 * G[5, k + 1] + w3 * G[5, k + 2]
        return f, fz, fzz, fa, fb, faz, fbz, faa, fab, fbb
    f, fz, fzz = tail_eval(z, P[0])
    if level == 2:
        ap, apz, _ = tail_eval(z, P[1])
        am, amz, _ = tail_eval(z, P[2])
        bp, bpz, _ = tail_eval(z, P[3])
        bm, bmz, _ = tail_eval(z, P[4])
        pp, _, _ = tail_eval(z, P[5])
        pm, _, _ = tail_eval(z, P[6])
        mp, _, _ = tail_eval(z, P[7])
        mm, _, _ = tail_eval(z, P[8])
        fa = (ap - am) / (2.0 * TSTEP)
        faz = (apz - amz) / (2.0 * TSTEP)
        fb = (bp - bm) / (2.0 * TSTEP)
        fbz = (bpz - bmz) / (2.0 * TSTEP)
        faa = (ap - 2.0 * f + am) / (TSTEP * TSTEP)
        fbb = (bp - 2.0 * f + bm) / (TSTEP * TSTEP)
        fab = (pp - pm - mp + mm) / (4.0 * TSTEP * TSTEP)
    return f, fz, fzz, fa, fb, faz, fbz, faa, fab, fbb


@jit
def density_points(z, G, P):
    """Standard S0 density and its z-derivative at the points z."""
    n = z.size
    f = np.empty(n)
    fz = np.empty(n)
    for i in range(n):
        r = _point(z[i], G, P, 0)
        f[i] = r[0]
        fz[i] = r[1]
    return f, fz


@jit
def point_scores(z, G, P):
    """Per-point log f and scores d log f / d(alpha, beta, log scale, loc) at scale 1, loc 0."""
    n = z.size
    out = np.empty((n, 5))
    for i in range(n):
        f, fz, _, fa, fb, _, _, _, _, _ = _point(z[i], G, P, 2)
        f = max(f, TINY)
        out[i, 0] = math.log(f)
        out[i, 1] = fa / f
        out[i, 2] = fb / f
        out[i, 3] = -z[i] * fz / f - 1.0
        out[i, 4] = -fz / f
    return out


@jit
def loglik_pass(x, loc, scale, G, P, level):
    """Log-likelihood and (level 2) its score, BHHH matrix and Hessian.

    Coordinates (alpha, beta, log scale, loc).  Returns a vector of 25:
    [loglik, g(4), B(10), Hess(10)], the 4x4 matrices as upper triangles,
    row-major.  Serial on purpose: on the shared two-core machine a threaded
    pass was measured up to 80 times slower than this one.
    """
    inv = 1.0 / scale
    ll = 0.0
    g = np.zeros(4)
    B = np.zeros(10)
    Hs = np.zeros(10)
    s = np.zeros(4)
    Hp = np.zeros(10)
    for i in range(x.size):
        z = (x[i] - loc) * inv
        f, fz, fzz, fa, fb, faz, fbz, faa, fab, fbb = _point(z, G, P, level)
        f = max(f, TINY)
        ll += math.log(f)
        if level == 2:
            r = 1.0 / f
            lz = fz * r  # d log f / dz
            lzz = fzz * r - lz * lz
            la = fa * r
            lb = fb * r
            laz = faz * r - la * lz
            lbz = fbz * r - lb * lz
            s[0] = la
            s[1] = lb
            s[2] = -z * lz - 1.0
            s[3] = -lz * inv
            # Hessian of log f(z) - log scale, z = (x - loc) / scale, dz/dlogscale = -z, dz/dloc = -1/scale
            Hp[0] = faa * r - la * la
            Hp[1] = fab * r - la * lb
            Hp[2] = -z * laz
            Hp[3] = -laz * inv
            Hp[4] = fbb * r - lb * lb
            Hp[5] = -z * lbz
            Hp[6] = -lbz * inv
            Hp[7] = z * lz + z * z * lzz
            Hp[8] = (z * lzz + lz) * inv
            Hp[9] = lzz * inv * inv
            idx = 0
            for a in range(4):
                g[a] += s[a]
                for b in range(a, 4):
                    B[idx] += s[a] * s[b]
                    idx += 1
            for j in range(10):
                Hs[j] += Hp[j]
    out = np.empty(25)
    out[0] = ll - x.size * math.log(scale)
    out[1:5] = g
    out[5:15] = B
    out[15:25] = Hs
    return out


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
    """Solve nu_alpha(a, b) = nua, nu_beta(a, b) = nub on the table Q (quantiles 5/25/50/75/95%).

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
        sa = min(max(sa, -0.2), 0.2)
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
    return (q[4] - q[0]) / (q[3] - q[1]), (q[4] + q[0] - 2 * q[2]) / (q[4] - q[0])


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
