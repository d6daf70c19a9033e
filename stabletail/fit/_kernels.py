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

Tail series (Nolan 2020, Thm 1.12; derived by integrating the power series of
the S1 characteristic function term by term): with x = z + b tan(pi a / 2)
the S1 variable, c = 1 - i b tan(pi a/2) = |c| exp(-i psi),

    f(x) ~ (1/pi) sum_k (-1)**(k+1) |c|**k Gamma(k a + 1) / k!
                  * sin(k (pi a / 2 + psi)) * x**(-k a - 1),    x -> +inf,

and f(-x; a, b) = f(x; a, -b).  Close to a = 1 (|a - 1| < ALPHA_WINDOW, b != 0)
the S1 shift b tan(pi a / 2) blows up and the series loses accuracy, so the
tail there is interpolated in ``a`` (the S0 density is smooth in a),
cubically through the series at 1 -/+ W and 1 -/+ 2W, W = ALPHA_WINDOW.
Measured against Nolan's tables: relative error <= 5e-5 for alpha >= 0.7
(about 1e-6 for alpha >= 1.1), including alpha = 1.

Derivatives in alpha come from central differences (step ``DELTA``) of the
characteristic function and of the tail series; in beta the characteristic
function is differentiated analytically.
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
DELTA = 1e-5
N_COARSE = 33
M_ALIAS = 3
TINY = 1e-300
# variants of (alpha, beta) used for derivatives of the tail and alias terms
_VARIANTS = ((0.0, 0.0), (DELTA, 0.0), (-DELTA, 0.0), (0.0, DELTA), (0.0, -DELTA))
NPAR = 3 + 2 * K_TAIL


@jit
def _hfun(a, t, lt):
    """tan(pi a / 2) (t - t**a) for t > 0, without cancellation near a = 1."""
    eps = 1.0 - a
    if eps == 0.0:
        return 2.0 / math.pi * t * lt
    return -t * math.expm1(-eps * lt) / math.tan(0.5 * math.pi * eps)


@jit
def cf_arrays(alpha, beta, derivs):
    """dt/(2 pi) * phi(t_j) (and its alpha, beta derivatives) for t_j = j DT."""
    nrow = 3 if derivs else 1
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
        if derivs:
            dh = (_hfun(alpha + DELTA, t, lt) - _hfun(alpha - DELTA, t, lt)) / (2.0 * DELTA)
            out[1, j] = complex(-ta * lt, -beta * dh) * p0
            out[2, j] = complex(0.0, -hb) * p0
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
    """Tail-series parameters, shape (5 variants, N_PARTS parts, NPAR); see module doc.

    Outside the window a single part (weight 1).  Inside |alpha - 1| <
    ALPHA_WINDOW (beta != 0) the tail is the cubic Lagrange interpolant in
    alpha through the series at 1 -/+ W and 1 -/+ 2W.
    """
    P = np.zeros((5, N_PARTS, NPAR))
    for v in range(5):
        a = alpha + (DELTA if v == 1 else (-DELTA if v == 2 else 0.0))
        b = beta + (DELTA if v == 3 else (-DELTA if v == 4 else 0.0))
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
    """sum_k c_k u**(-k a - 1) and its u-derivative, u > 0, coefs P[off:off+kmax]."""
    p = 1.0 / u
    q = math.exp(-a * math.log(u))
    pk = p
    val = 0.0
    dval = 0.0
    for k in range(kmax):
        pk *= q
        c = P[off + k]
        val += c * pk
        dval -= ((k + 1) * a + 1.0) * c * pk
    return val, dval * p


@jit
def tail_eval(z, Pv):
    """Tail-series density and its z-derivative at S0 point z for one variant Pv (2, NPAR)."""
    f = 0.0
    fz = 0.0
    for part in range(Pv.shape[0]):
        w = Pv[part, 0]
        if w == 0.0:
            continue
        x = z + Pv[part, 2]
        a = Pv[part, 1]
        if x > 0.0:
            v, d = _series(x, a, Pv[part], 3)
            f += w * v
            fz += w * d
        else:
            v, d = _series(-x, a, Pv[part], 3 + K_TAIL)
            f += w * v
            fz -= w * d
    return f, fz


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
            v, _ = _series(x + m * L_PERIOD, a, Pv[part], 3, K_ALIAS)
            tot += w * v
            v, _ = _series(m * L_PERIOD - x, a, Pv[part], 3 + K_TAIL, K_ALIAS)
            tot += w * v
        tot += w * _powsum_tail(x, a, Pv[part], 3)
        tot += w * _powsum_tail(-x, a, Pv[part], 3 + K_TAIL)
    return tot


@jit
def correct_grid(G, P):
    """Subtract the aliased copies from the periodised grids G (rows: f, f_alpha, f_beta)."""
    nrow = G.shape[0]
    zlo = Z_SWITCH + 4 * H
    dz = 2.0 * zlo / (N_COARSE - 1)
    C = np.zeros((nrow, N_COARSE))
    for i in range(N_COARSE):
        z = -zlo + i * dz
        C[0, i] = alias_sum(z, P[0])
        if nrow == 3:
            C[1, i] = (alias_sum(z, P[1]) - alias_sum(z, P[2])) / (2.0 * DELTA)
            C[2, i] = (alias_sum(z, P[3]) - alias_sum(z, P[4])) / (2.0 * DELTA)
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


def density_grids(alpha: float, beta: float, derivs: bool) -> tuple[np.ndarray, np.ndarray]:
    """Grids (rows f[, f_alpha, f_beta]) of the standard S0 density on z_k = -L/2 + k H, and tail params."""
    A = cf_arrays(alpha, beta, derivs)
    G = scipy.fft.hfft(A, n=N_GRID, axis=-1)
    G = np.ascontiguousarray(np.roll(G, N_GRID // 2, axis=-1))
    P = tail_params(alpha, beta)
    correct_grid(G, P)
    return G, P


@jit
def _point(z, G, P, derivs):
    """f, f_z, f_alpha, f_beta at standard point z."""
    if abs(z) <= Z_SWITCH:
        u = (z + 0.5 * L_PERIOD) / H
        k = int(math.floor(u))
        r = u - k
        rm, r1, r2 = r + 1.0, r - 1.0, r - 2.0
        w0 = -r * r1 * r2 / 6.0
        w1 = rm * r1 * r2 / 2.0
        w2 = -rm * r * r2 / 2.0
        w3 = rm * r * r1 / 6.0
        d0 = -(r1 * r2 + r * r2 + r * r1) / 6.0
        d1 = (r1 * r2 + rm * r2 + rm * r1) / 2.0
        d2 = -(r * r2 + rm * r2 + rm * r) / 2.0
        d3 = (r * r1 + rm * r1 + rm * r) / 6.0
        g = G[0]
        f = w0 * g[k - 1] + w1 * g[k] + w2 * g[k + 1] + w3 * g[k + 2]
        fz = (d0 * g[k - 1] + d1 * g[k] + d2 * g[k + 1] + d3 * g[k + 2]) / H
        fa = 0.0
        fb = 0.0
        if derivs:
            g = G[1]
            fa = w0 * g[k - 1] + w1 * g[k] + w2 * g[k + 1] + w3 * g[k + 2]
            g = G[2]
            fb = w0 * g[k - 1] + w1 * g[k] + w2 * g[k + 1] + w3 * g[k + 2]
        return f, fz, fa, fb
    f, fz = tail_eval(z, P[0])
    fa = 0.0
    fb = 0.0
    if derivs:
        fp, _ = tail_eval(z, P[1])
        fm, _ = tail_eval(z, P[2])
        fa = (fp - fm) / (2.0 * DELTA)
        fp, _ = tail_eval(z, P[3])
        fm, _ = tail_eval(z, P[4])
        fb = (fp - fm) / (2.0 * DELTA)
    return f, fz, fa, fb


@jit
def density_points(z, G, P):
    """Standard S0 density and its z-derivative at the points z."""
    n = z.size
    f = np.empty(n)
    fz = np.empty(n)
    for i in range(n):
        f[i], fz[i], _, _ = _point(z[i], G, P, False)
    return f, fz


@jit
def point_scores(z, G, P):
    """Per-point log f and scores d log f / d(alpha, beta, log scale, loc) at scale 1, loc 0."""
    n = z.size
    out = np.empty((n, 5))
    for i in range(n):
        f, fz, fa, fb = _point(z[i], G, P, True)
        f = max(f, TINY)
        out[i, 0] = math.log(f)
        out[i, 1] = fa / f
        out[i, 2] = fb / f
        out[i, 3] = -z[i] * fz / f - 1.0
        out[i, 4] = -fz / f
    return out


@jit
def _chunk(x, lo, hi, loc, scale, G, P, derivs, out):
    inv = 1.0 / scale
    ll = 0.0
    g0 = g1 = g2 = g3 = 0.0
    b00 = b01 = b02 = b03 = b11 = b12 = b13 = b22 = b23 = b33 = 0.0
    for i in range(lo, hi):
        z = (x[i] - loc) * inv
        f, fz, fa, fb = _point(z, G, P, derivs)
        f = max(f, TINY)
        ll += math.log(f)
        if derivs:
            r = 1.0 / f
            s0 = fa * r
            s1 = fb * r
            s3 = -fz * r
            s2 = z * s3 - 1.0
            s3 *= inv
            g0 += s0
            g1 += s1
            g2 += s2
            g3 += s3
            b00 += s0 * s0
            b01 += s0 * s1
            b02 += s0 * s2
            b03 += s0 * s3
            b11 += s1 * s1
            b12 += s1 * s2
            b13 += s1 * s3
            b22 += s2 * s2
            b23 += s2 * s3
            b33 += s3 * s3
    out[0] = ll - (hi - lo) * math.log(scale)
    out[1] = g0
    out[2] = g1
    out[3] = g2
    out[4] = g3
    out[5] = b00
    out[6] = b01
    out[7] = b02
    out[8] = b03
    out[9] = b11
    out[10] = b12
    out[11] = b13
    out[12] = b22
    out[13] = b23
    out[14] = b33


@jit
def loglik_pass(x, loc, scale, G, P, derivs):
    """Sum of log-likelihood, score (alpha, beta, log scale, loc) and the BHHH matrix.

    Returns a vector of 15: [loglik, g(4), B(10, upper triangle row-major)].
    Serial on purpose: on a shared two-core machine a threaded pass was
    measured up to 80 times slower than this one.
    """
    out = np.zeros(15)
    _chunk(x, 0, x.size, loc, scale, G, P, derivs, out)
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
