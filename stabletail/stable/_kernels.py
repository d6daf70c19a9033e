"""Numba kernels of the alpha-stable law (private).

Density and distribution function come from Nolan's (1997) integral
representation, written in a variable ``s`` in which the integrand is a smooth
bump: with ``theta`` on ``(-theta0, pi/2)`` of length ``L`` we set
``d1 = theta + theta0 = L / (1 + exp(-2 s))`` and ``d2 = pi/2 - theta =
L / (1 + exp(2 s))``.  Both distances to the endpoints are then computed
without cancellation, the endpoint singularities become exponential decays, and
near the endpoints ``log g`` is linear in ``s`` so that ``g exp(-g)`` has a
Gumbel shape.  The integral is split where ``g = 1`` (found by regula falsi)
and each part is integrated by adaptive Gauss-Kronrod (7-15).

Far tails use the convergent (alpha < 1) or asymptotic (alpha > 1) series in
``y**-alpha`` (Zolotarev 1986, Nolan 2020 sec. 3.5); the point from which a
side uses the series is found per call by comparing series and integral.

All kernels work on the standardised S0 variable ``z = (x - loc) / scale``.
A *plan* is a float64 vector of constants for one ``(alpha, beta)`` (layout
below), built once per call by :func:`make_plan`.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, jit_variants, prange

PI = math.pi
HALF_PI = 0.5 * math.pi
S_MAX = 22.0  # |s| range: endpoints of theta closer than L*exp(-44) are dropped
RTOL = 1e-8  # on sum |K15 - G7| (a pessimistic bound of the K15 error)
MAX_INTERVALS = 96
KMAX = 40  # terms of the tail series
SERIES_TOL = 1e-13  # last envelope term of the tail series, relative to the sum
DALPHA = 1e-5  # |alpha - 1| below which S0 is interpolated linearly in alpha
DBETA = 1e-6  # at alpha = 1, |beta| below which the law is interpolated linearly in beta

# panel edges: where log g reaches these levels (g e^-g < 1e-17 beyond)
_LEVELS_SMALL = np.array([-2.0, -6.0, -12.0, -22.0, -40.0])  # levels of log g
_LEVELS_BIG = np.array([1.5, 3.0, 4.6])
N_UNIFORM = 16  # panels when g does not cross 1 (then 44 / 16 wide in s)

# Gauss-Kronrod 7-15 (abscissae and weights, QUADPACK qk15).
_XGK = np.array([
    0.991455371120812639206854697526329,
    0.949107912342758524526189684047851,
    0.864864423359769072789712788640926,
    0.741531185599394439863864773280788,
    0.586087235467691130294144845693013,
    0.405845151377397166906606412076961,
    0.207784955007898467600689403773245,
    0.000000000000000000000000000000000,
])
_WGK = np.array([
    0.022935322010529224963732008058970,
    0.063092092629978553290700663189204,
    0.104790010322250183839876322541518,
    0.140653259715525918745189590510238,
    0.169004726639267902826583426598550,
    0.190350578064785409913256402421014,
    0.204432940075298892414161999234649,
    0.209482141084727828012999174891714,
])
_WG = np.array([
    0.129484966168869693270611432679082,
    0.279705391489276667901467771423780,
    0.381830050505118944950369775488975,
    0.417959183673469387755102040816327,
])

# alpha = 1 tail series (see _alpha1_consts): N1 terms; Gamma^(j)(m), m = 1..N1 + 1,
# j = 0..N1, from Gamma(m) times complete Bell polynomials of the polygammas at m
N1 = 5


def _gamma_derivatives() -> np.ndarray:
    zeta = [0.0, 0.0, PI**2 / 6, 1.2020569031595942, PI**4 / 90, 1.0369277551433699, PI**6 / 945]
    out = np.zeros((N1 + 2, N1 + 1))
    for m in range(1, N1 + 2):
        # psi^(k)(m) = -euler + H_(m-1) (k = 0), (-1)^(k+1) k! (zeta(k+1) - sum_(i<m) i^-(k+1))
        x = [-0.5772156649015329 + sum(1.0 / i for i in range(1, m))]
        for k in range(1, N1):
            partial = sum(i ** -(k + 1.0) for i in range(1, m))
            x.append((-1) ** (k + 1) * math.factorial(k) * (zeta[k + 1] - partial))
        bell = [1.0]
        for j in range(N1):
            bell.append(sum(math.comb(j, i) * bell[j - i] * x[i] for i in range(j + 1)))
        out[m] = [math.gamma(m) * v for v in bell]
    return out


_GAMMA_D = _gamma_derivatives()
_BINOM = np.array([[math.comb(n, k) for k in range(N1 + 1)] for n in range(N1 + 1)], dtype=np.float64)

# ---------------------------------------------------------------- plan layout
# general part
P_ALPHA, P_BETA, P_KIND, P_ZETA, P_FZETA, P_CZETA = 0, 1, 2, 3, 4, 5
KIND_GENERAL, KIND_ALPHA1, KIND_CAUCHY, KIND_GAUSS, KIND_LEVY = 0.0, 1.0, 2.0, 3.0, 4.0
HEAD = 8
# per side (right side uses beta, left side -beta after reflecting y -> -y)
S_B, S_L, S_E0, S_M0, S_A, S_B0, S_SGN, S_YC, S_KT, S_LSIG = range(10)
S_COEF = 10  # KMAX pdf coefficients, then KMAX tail coefficients
SIDE = S_COEF + 2 * KMAX
PLAN_SIZE = HEAD + 2 * SIDE


@jit(inline="always")
def _illinois(a, fa, b, fb, t, ft, side):
    """Bracket update of the Illinois variant of regula falsi (Dowell & Jarratt 1971).

    The root lies between ``a`` (``fa < 0``) and ``b`` (``fb > 0``); ``t`` is the new point
    with value ``ft``. The end kept twice in a row has its value halved, which keeps the
    convergence superlinear. ``side`` remembers which end moved last (1: ``b``, -1: ``a``).
    Returns ``(a, fa, b, fb, side)``.
    """
    if ft > 0.0:
        b, fb = t, ft
        if side == 1:
            fa *= 0.5
        side = 1
    else:
        a, fa = t, ft
        if side == -1:
            fb *= 0.5
        side = -1
    return a, fa, b, fb, side


@jit
def _side_consts(alpha, b, out, o):
    """Constants of one side (beta = b, y > 0) for alpha != 1."""
    t = math.tan(HALF_PI * alpha)
    th0 = math.atan(b * t) / alpha
    if alpha < 1.0:
        e0 = math.atan2(t * (1.0 - b), 1.0 + b * t * t) / alpha  # pi/2 - theta0
        L = math.atan2(t * (1.0 + b), 1.0 - b * t * t) / alpha  # pi/2 + theta0
        m0 = PI - alpha * L
    else:
        e0 = HALF_PI - th0
        L = HALF_PI + th0
        tp = math.tan(HALF_PI * (2.0 - alpha))  # = -t > 0
        m0 = math.atan2(tp * (1.0 + b), 1.0 - b * tp * tp)  # pi - alpha L
    out[o + S_B] = b
    out[o + S_L] = L
    out[o + S_E0] = e0
    out[o + S_M0] = m0
    out[o + S_A] = alpha / (alpha - 1.0)
    out[o + S_B0] = -0.5 * math.log1p(b * b * t * t) / (alpha - 1.0)  # log cos(alpha th0)/(alpha-1)
    out[o + S_SGN] = 1.0 if alpha < 1.0 else -1.0  # sign of d(log g)/ds
    # tail series f(y) = sum_k a_k y^(-k alpha - 1), sf(y) = sum_k a_k/(k alpha) y^(-k alpha)
    lsig = 0.5 * math.log1p(b * b * t * t)  # log(1/cos(alpha theta0))
    aL = alpha * L
    for k in range(1, KMAX + 1):
        sn = math.sin(k * aL)
        mag = math.exp(math.lgamma(k * alpha + 1.0) - math.lgamma(k + 1.0) + k * lsig) / PI
        c = mag * sn * (1.0 if k % 2 == 1 else -1.0)
        out[o + S_COEF + k - 1] = c
        out[o + S_COEF + KMAX + k - 1] = c / (k * alpha)
    out[o + S_YC] = math.inf
    out[o + S_KT] = 0.0
    out[o + S_LSIG] = lsig


@jit(inline="always")
def _split_lengths(s, L):
    """Lengths ``L / (1 + exp(-2 s))`` and ``L / (1 + exp(2 s))`` of the two sides of
    the point ``s`` of the smoothing variable, without overflow for either sign."""
    if s >= 0.0:
        e = math.exp(-2.0 * s)
        return L / (1.0 + e), L * e / (1.0 + e)
    e = math.exp(2.0 * s)
    return L * e / (1.0 + e), L / (1.0 + e)


@jit
def _logg(s, ly, p, o, kind):
    """log g and the Jacobian d theta / d s at s (side at offset o)."""
    L = p[o + S_L]
    d1, d2 = _split_lengths(s, L)
    jac = 2.0 * d1 * d2 / L
    if kind == KIND_GENERAL:
        alpha = p[P_ALPHA]
        e0 = p[o + S_E0]
        m0 = p[o + S_M0]
        A = p[o + S_A]
        if d1 < d2:
            cth = math.sin(e0 + d1)
            cq = math.sin(e0 + (1.0 - alpha) * d1)
        else:
            cth = math.sin(d2)
            cq = math.sin(m0 + (alpha - 1.0) * d2)
        if alpha * d1 <= HALF_PI:
            sad = math.sin(alpha * d1)
        else:
            sad = math.sin(m0 + alpha * d2)
        lg = A * (ly + math.log(cth / sad)) + p[o + S_B0] + math.log(cq / cth)
    else:  # alpha = 1, beta = b > 0, ly is y itself
        b = p[o + S_B]
        if d1 < d2:
            cth = math.sin(d1)
            sth = -math.cos(d1)
            pb = (1.0 - b) * HALF_PI + b * d1
        else:
            cth = math.sin(d2)
            sth = math.cos(d2)
            pb = (1.0 + b) * HALF_PI - b * d2
        lg = -HALF_PI * ly / b + math.log(pb / (HALF_PI * cth)) + pb * sth / (cth * b)
    return lg, jac


@jit
def _integrands(s, ly, p, o, kind, small):
    """g exp(-g) J and, on the small-g side, (1 - exp(-g)) J, else exp(-g) J."""
    lg, jac = _logg(s, ly, p, o, kind)
    if lg > 700.0:
        return 0.0, 0.0
    g = math.exp(lg)
    if small:  # g < 1 here: exp(-g) = 1 + expm1(-g) loses nothing
        em = math.expm1(-g)
        return g * (1.0 + em) * jac, -em * jac
    eg = math.exp(-g)
    return g * eg * jac, eg * jac


@jit
def _gk15(a, b, ly, p, o, kind, small):
    c = 0.5 * (a + b)
    h = 0.5 * (b - a)
    f1c, f2c = _integrands(c, ly, p, o, kind, small)
    k1 = f1c * _WGK[7]
    k2 = f2c * _WGK[7]
    g1 = f1c * _WG[3]
    g2 = f2c * _WG[3]
    for j in range(7):
        dx = h * _XGK[j]
        u1, u2 = _integrands(c - dx, ly, p, o, kind, small)
        v1, v2 = _integrands(c + dx, ly, p, o, kind, small)
        k1 += _WGK[j] * (u1 + v1)
        k2 += _WGK[j] * (u2 + v2)
        if j % 2 == 1:
            g1 += _WG[j // 2] * (u1 + v1)
            g2 += _WG[j // 2] * (u2 + v2)
    h = abs(h)
    return k1 * h, k2 * h, abs(k1 - g1) * h, abs(k2 - g2) * h


@jit
def _split_point(ly, p, o, kind):
    """s where log g = 0 (clipped to [-S_MAX, S_MAX]); regula falsi (Illinois)."""
    sgn = 1.0 if kind != KIND_GENERAL else p[o + S_SGN]
    a = -S_MAX
    b = S_MAX
    fa = sgn * _logg(a, ly, p, o, kind)[0]
    fb = sgn * _logg(b, ly, p, o, kind)[0]
    if not fa < 0.0:
        return a
    if not fb > 0.0:
        return b
    side = 0
    for _ in range(100):
        c = b - fb * (b - a) / (fb - fa)
        if not (a < c < b):
            c = 0.5 * (a + b)
        fc = sgn * _logg(c, ly, p, o, kind)[0]
        if abs(fc) < 0.25 or b - a < 1e-9:
            return c
        a, fa, b, fb, side = _illinois(a, fa, b, fb, c, fc, side)
    return 0.5 * (a + b)


@jit
def _reach(s0, f0, target, sgn, slope, ly, p, o, kind):
    """(s, log g(s), |slope|) just past the level ``target`` of log g.

    Secant steps from (s0, f0 = log g(s0)); log g is monotone in s with sign
    ``sgn``. Clipped to [-S_MAX, S_MAX] (then returned with log g = target).
    """
    direction = 1.0 if target > f0 else -1.0
    sl = max(slope, 1e-3)
    s = s0
    for _ in range(40):
        sn = s + (target - f0) / (sgn * sl)
        if sn >= S_MAX:
            return S_MAX, target, sl
        if sn <= -S_MAX:
            return -S_MAX, target, sl
        fn = _logg(sn, ly, p, o, kind)[0]
        sl2 = abs((fn - f0) / (sn - s))
        if direction * (fn - target) >= -0.1 * abs(target):
            return sn, fn, max(sl2, 1e-3)
        # secant slope through the last two points, never below a quarter of the last
        sl = sl2 if sl2 > 0.25 * sl else 0.25 * sl
        s = sn
        f0 = fn
    return s, f0, sl


@jit
def _integrate(ly, p, o, kind, want_exp, rtol):
    """(int g e^-g dtheta, int e^-g dtheta if want_exp else int (1 - e^-g) dtheta).

    The s axis is cut at the split point s* (g = 1). On the side where g is
    small the integrands decay like g, on the other like exp(-g); each side is
    covered from s* to where |log g| reaches 40 (small side) or 4.6 (large
    side), on panels placed for a linear log g, by GK15 refined adaptively
    until sum |K15 - G7| <= rtol * |integral|. The part of the tail integral
    that tends to 1 is taken as an exact theta-length.
    """
    sgn = 1.0 if kind != KIND_GENERAL else p[o + S_SGN]  # sign of d log g / d s
    sstar = _split_point(ly, p, o, kind)
    h = 1e-7 * max(1.0, abs(sstar))
    slope = abs(_logg(sstar + h, ly, p, o, kind)[0] - _logg(sstar - h, ly, p, o, kind)[0]) / (2.0 * h)
    # g increases with sgn * s: the small-g side lies towards -sgn
    lo = np.empty(MAX_INTERVALS)
    hi = np.empty(MAX_INTERVALS)
    sm = np.empty(MAX_INTERVALS, dtype=np.bool_)
    r1 = np.empty(MAX_INTERVALS)
    r2 = np.empty(MAX_INTERVALS)
    e1 = np.empty(MAX_INTERVALS)
    e2 = np.empty(MAX_INTERVALS)
    n = 0
    if abs(sstar) >= S_MAX:
        # g stays on one side of 1: no bump to place panels around, and the
        # integrand may be a narrow feature anywhere; start from uniform panels
        small = (sstar > 0.0) == (sgn > 0.0)
        for j in range(N_UNIFORM):
            lo[n] = -S_MAX + 2.0 * S_MAX * j / N_UNIFORM
            hi[n] = -S_MAX + 2.0 * S_MAX * (j + 1) / N_UNIFORM
            sm[n] = small
            r1[n], r2[n], e1[n], e2[n] = _gk15(lo[n], hi[n], ly, p, o, kind, small)
            n += 1
    for side in range(2 if n == 0 else 0):
        small = side == 0
        levels = _LEVELS_SMALL if small else _LEVELS_BIG
        prev = sstar
        f0 = _logg(sstar, ly, p, o, kind)[0]
        sl = slope
        for lev in levels:
            if (small and f0 <= lev) or (not small and f0 >= lev):
                continue  # level already passed at the (clipped) split point
            e, f0, sl = _reach(prev, f0, lev, sgn, sl, ly, p, o, kind)
            if e != prev:
                lo[n] = min(prev, e)
                hi[n] = max(prev, e)
                sm[n] = small
                r1[n], r2[n], e1[n], e2[n] = _gk15(lo[n], hi[n], ly, p, o, kind, small)
                n += 1
            prev = e
            if abs(e) >= S_MAX:
                break
    while True:
        t1 = 0.0
        xs = 0.0
        yb = 0.0
        s1 = 0.0
        s2 = 0.0
        for j in range(n):
            t1 += r1[j]
            s1 += e1[j]
            s2 += e2[j]
            if sm[j]:
                xs += r2[j]
            else:
                yb += r2[j]
        tol1 = rtol * abs(t1) + 1e-300
        tol2 = rtol * max(xs, yb) + 1e-300
        if (s1 <= tol1 and s2 <= tol2) or n >= MAX_INTERVALS:
            break
        jm = 0
        em = -1.0
        for j in range(n):
            ej = e1[j] / tol1 + e2[j] / tol2
            if ej > em:
                em = ej
                jm = j
        m = 0.5 * (lo[jm] + hi[jm])
        lo[n] = m
        hi[n] = hi[jm]
        sm[n] = sm[jm]
        hi[jm] = m
        r1[jm], r2[jm], e1[jm], e2[jm] = _gk15(lo[jm], hi[jm], ly, p, o, kind, sm[jm])
        r1[n], r2[n], e1[n], e2[n] = _gk15(lo[n], hi[n], ly, p, o, kind, sm[n])
        n += 1
    # theta-lengths of the two sides of s*
    L = p[o + S_L]
    d1, d2 = _split_lengths(sstar, L)
    # a split point clipped to an end of the s range means g stays on one side
    # of 1 there; the sliver of theta beyond (< L exp(-44)) is dropped
    if sstar <= -S_MAX:
        d1 = 0.0
    if sstar >= S_MAX:
        d2 = 0.0
    len_small, len_big = (d1, d2) if sgn > 0 else (d2, d1)
    if want_exp:
        return t1, (len_small - xs) + yb
    return t1, xs + (len_big - yb)


@jit
def _series(yy, p, o):
    """Tail series at yy > 0 on side o: (pdf, tail) with the side's term count."""
    alpha = p[P_ALPHA]
    K = int(p[o + S_KT])
    u = yy ** (-alpha)
    f = 0.0
    t = 0.0
    for k in range(K - 1, -1, -1):
        f = f * u + p[o + S_COEF + k]
        t = t * u + p[o + S_COEF + KMAX + k]
    return f * u / yy, t * u


@jit
def _series_ok(yy, p, o):
    """Number of terms after which the tail series has converged at yy, or 0.

    Convergence is judged on the envelope |a_k| / |sin(k alpha L)| y^(-k alpha)
    (the sines may vanish for single k): accepted when the envelope falls
    below SERIES_TOL of the sum before it starts growing, and the cancellation
    (sum of |terms| / |sum|) stays below 10.
    """
    alpha = p[P_ALPHA]
    lu = -alpha * math.log(yy)
    s = 0.0
    sabs = 0.0
    prev = math.inf
    for k in range(1, KMAX + 1):
        env = math.exp(math.lgamma(k * alpha + 1.0) - math.lgamma(k + 1.0) + k * (lu + p[o + S_LSIG])) / PI
        term = p[o + S_COEF + k - 1] * math.exp(k * lu)
        s += term
        sabs += abs(term)
        if env > prev:
            return 0
        if k > 2 and env <= SERIES_TOL * abs(s):
            if sabs > 10.0 * abs(s) or s <= 0.0:
                return 0
            return k
        prev = env
    return 0


@jit
def _side_point(yy, p, o, rtol):
    """(pdf, sf) at S1-standard distance yy > 0 on side o (alpha != 1)."""
    if p[o + S_L] <= 0.0:  # no mass on this side (alpha < 1, |beta| = 1)
        return 0.0, 0.0
    if yy >= p[o + S_YC]:
        return _series(yy, p, o)
    alpha = p[P_ALPHA]
    i1, i2 = _integrate(math.log(yy), p, o, KIND_GENERAL, alpha > 1.0, rtol)
    return alpha / (PI * abs(alpha - 1.0) * yy) * i1, i2 / PI


@jit
def _alpha1_consts(b, p, o):
    """Tail series of the alpha = 1 law (S1, scale 1) with skewness b, for x -> +inf.

    Expanding phi(t) = exp(-t (1 + i c log t)), c = 2 b / pi, in powers of t and
    integrating term by term (int_0^inf e^(-itx) t^(s-1) log(t)^k dt is the k-th
    s-derivative of Gamma(s) (ix)^(-s)) gives pdf ~ (1/pi) sum_n Re[P_n(w)] x^(-n-1)
    and sf ~ (1/pi) sum_n Im[Q_n(w)] x^(-n), w = -(log x + i pi/2), polynomials of
    degree n. Their complex coefficients go to o + S_COEF (pdf) and o + S_COEF + KMAX (sf).
    """
    c = 2.0 * b / PI
    for dens in range(2):
        base = o + S_COEF + (0 if dens == 1 else KMAX)
        idx = 0
        for n in range(1, N1 + 1):
            s = n + 1 if dens == 1 else n
            pref = (-1.0) ** n / math.gamma(n + 1.0) * (-1j) ** s
            for m in range(n + 1):
                a = 0j
                for k in range(m, n + 1):
                    a += pref * _BINOM[n, k] * (1j * c) ** k * _BINOM[k, m] * _GAMMA_D[s, k - m]
                p[base + 2 * idx] = a.real
                p[base + 2 * idx + 1] = a.imag
                idx += 1


@jit
def _alpha1_series(x, p, o):
    """(pdf, tail) of the alpha = 1 law at x > 0 from the series at side o; and the last terms."""
    w = complex(-math.log(x), -HALF_PI)
    f = 0.0
    t = 0.0
    lf = 0.0
    lt = 0.0
    idx = 0
    for n in range(1, N1 + 1):
        pf = 0j
        pt = 0j
        for m in range(n, -1, -1):
            j = 2 * (idx + m)
            pf = pf * w + complex(p[o + S_COEF + j], p[o + S_COEF + j + 1])
            pt = pt * w + complex(p[o + S_COEF + KMAX + j], p[o + S_COEF + KMAX + j + 1])
        idx += n + 1
        lf = pf.real * x ** (-n - 1.0)
        lt = pt.imag * x ** (-1.0 * n)
        f += lf
        t += lt
    return f / PI, t / PI, abs(lf / PI), abs(lt / PI)


@jit
def _alpha1_cutoff(p, o, b):
    """Smallest y (powers of sqrt(2) from 4) from which the alpha = 1 series is used at side o:
    its last terms below SERIES_TOL of the sums, and within 1e-10 of the integral."""
    p[o + S_YC] = math.inf
    if b <= -1.0:  # no power tail on this side
        return
    _alpha1_consts(b, p, o)
    y = 4.0
    for _ in range(60):
        f, t, lf, lt = _alpha1_series(y, p, o)
        if f > 0.0 and t > 0.0 and lf <= SERIES_TOL * f and lt <= SERIES_TOL * t:
            # the integral of the law with skewness |beta| at yr = +-y
            if o == HEAD:
                fi, ti = _integrate(y, p, HEAD, KIND_ALPHA1, False, RTOL)
            else:
                fi, ti = _integrate(-y, p, HEAD, KIND_ALPHA1, True, RTOL)
            fi /= 2.0 * p[HEAD + S_B]
            ti /= PI
            if abs(f - fi) <= 1e-10 * fi and abs(t - ti) <= 1e-10 * ti:
                p[o + S_YC] = y
                return
        y *= math.sqrt(2.0)


@jit
def _point(z, p, rtol):
    """(pdf, cdf, sf) at the standardised S0 point z for one plan."""
    if math.isnan(z):
        return math.nan, math.nan, math.nan
    if math.isinf(z):
        return 0.0, (1.0 if z > 0 else 0.0), (0.0 if z > 0 else 1.0)
    kind = p[P_KIND]
    if kind == KIND_CAUCHY:
        return 1.0 / (PI * (1.0 + z * z)), math.atan2(1.0, -z) / PI, math.atan2(1.0, z) / PI
    if kind == KIND_GAUSS:  # S0 with alpha = 2 is N(0, 2)
        return (
            math.exp(-0.25 * z * z) / (2.0 * math.sqrt(PI)),
            0.5 * math.erfc(-0.5 * z),
            0.5 * math.erfc(0.5 * z),
        )
    if kind == KIND_LEVY:  # alpha = 1/2, |beta| = 1: S1 standard Levy at y = z - zeta
        bs = p[P_BETA]
        y = bs * (z - p[P_ZETA])
        if y <= 0.0:
            f, c, s = 0.0, 0.0, 1.0
        else:
            r = math.sqrt(0.5 / y)
            f = math.exp(-0.5 / y) / (math.sqrt(2.0 * PI) * y * math.sqrt(y))
            c = math.erfc(r)
            s = math.erf(r)
        if bs > 0.0:
            return f, c, s
        return f, s, c
    if kind == KIND_ALPHA1:
        # one side, stored for b = |beta| > 0; the representation holds for all real y
        # (tail series from the cut-offs at HEAD (right) and HEAD + SIDE (left))
        pos = p[P_BETA] > 0.0
        yr = z if pos else -z
        if yr >= p[HEAD + S_YC]:
            f, sr = _alpha1_series(yr, p, HEAD)[:2]
            cr = 1.0 - sr
        elif -yr >= p[HEAD + SIDE + S_YC]:
            f, cr = _alpha1_series(-yr, p, HEAD + SIDE)[:2]
            sr = 1.0 - cr
        elif yr >= 0.0:
            f, t = _integrate(yr, p, HEAD, KIND_ALPHA1, False, rtol)  # t = pi * sf(yr)
            cr, sr = 1.0 - t / PI, t / PI
            f /= 2.0 * p[HEAD + S_B]
        else:
            f, t = _integrate(yr, p, HEAD, KIND_ALPHA1, True, rtol)  # t = pi * cdf(yr)
            cr, sr = t / PI, 1.0 - t / PI
            f /= 2.0 * p[HEAD + S_B]
        if pos:
            return f, cr, sr
        return f, sr, cr
    y = z - p[P_ZETA]
    if abs(y) <= 1e-15 * max(1.0, abs(p[P_ZETA])):
        c = p[P_CZETA]
        return p[P_FZETA], c, 1.0 - c
    if y > 0.0:
        f, t = _side_point(y, p, HEAD, rtol)
        return f, 1.0 - t, t
    f, t = _side_point(-y, p, HEAD + SIDE, rtol)
    return f, t, 1.0 - t


@jit
def _tail_cutoff(p, o):
    """Smallest y (powers of sqrt(2) from 1) from which the tail series is used.

    The series must have converged (see _series_ok) and agree with the
    integral to 1e-10 (relative, pdf and sf) at the cutoff.
    """
    if p[o + S_L] <= 0.0 or p[o + S_COEF] == 0.0:
        return
    alpha = p[P_ALPHA]
    y = 1.0
    for _ in range(400):
        k = _series_ok(y, p, o)
        if k > 0:
            p[o + S_KT] = k
            fs, ts = _series(y, p, o)
            i1, i2 = _integrate(math.log(y), p, o, KIND_GENERAL, alpha > 1.0, RTOL)
            fi = alpha / (PI * abs(alpha - 1.0) * y) * i1
            ti = i2 / PI
            if abs(fs - fi) <= 1e-10 * abs(fi) and abs(ts - ti) <= 1e-10 * abs(ti):
                p[o + S_YC] = y
                return
            p[o + S_KT] = 0.0
        y *= math.sqrt(2.0)
        if y > 1e300:
            return


@jit
def make_plan(alpha, beta):
    """Constants of the standardised S0 law with parameters (alpha, beta)."""
    p = np.zeros(PLAN_SIZE)
    p[P_ALPHA] = alpha
    p[P_BETA] = beta
    if alpha == 1.0:
        if beta == 0.0:
            p[P_KIND] = KIND_CAUCHY
        else:
            p[P_KIND] = KIND_ALPHA1
            p[HEAD + S_B] = abs(beta)
            p[HEAD + S_L] = PI
            _alpha1_cutoff(p, HEAD, abs(beta))
            _alpha1_cutoff(p, HEAD + SIDE, -abs(beta))
        return p
    p[P_KIND] = KIND_GENERAL
    if alpha == 2.0:
        p[P_KIND] = KIND_GAUSS
        return p
    t = math.tan(HALF_PI * alpha)
    if alpha == 0.5 and abs(beta) == 1.0:
        p[P_KIND] = KIND_LEVY
        p[P_ZETA] = -beta * t
        return p
    zeta = -beta * t
    p[P_ZETA] = zeta
    _side_consts(alpha, beta, p, HEAD)
    _side_consts(alpha, -beta, p, HEAD + SIDE)
    e0 = p[HEAD + S_E0]
    # f(zeta) = Gamma(1 + 1/alpha) cos(theta0) / (pi (1 + zeta^2)^(1/(2 alpha))), cos(theta0) = sin(e0)
    p[P_FZETA] = (
        math.exp(math.lgamma(1.0 + 1.0 / alpha) - 0.5 * math.log1p(zeta * zeta) / alpha) * math.sin(e0) / PI
    )
    p[P_CZETA] = min(1.0, max(0.0, e0 / PI))
    if alpha < 1.0 and abs(beta) == 1.0:  # zeta is the end of the support
        p[P_FZETA] = 0.0
        p[P_CZETA] = 0.0 if beta > 0.0 else 1.0
    _tail_cutoff(p, HEAD)
    _tail_cutoff(p, HEAD + SIDE)
    return p


@jit
def _point_blended(z, p1, p2, w, rtol):
    """_point for plan p1, or (1 - w) p1 + w p2 when w > 0 (linear in alpha next to 1)."""
    f, c, s = _point(z, p1, rtol)
    if w > 0.0:
        f2, c2, s2 = _point(z, p2, rtol)
        f = (1.0 - w) * f + w * f2
        c = (1.0 - w) * c + w * c2
        s = (1.0 - w) * s + w * s2
    return f, c, s


def _eval_many(z, p1, p2, w, rtol, out_f, out_c, out_s):
    """pdf, cdf, sf at standardised points z (flat)."""
    for i in prange(z.size):
        f, c, s = _point_blended(z[i], p1, p2, w, rtol)
        out_f[i] = f
        out_c[i] = c
        out_s[i] = s


# A parallel region costs a scheduler time slice whenever a thread is
# descheduled (shared machines): small jobs run serially. Every point is
# computed independently, so results do not depend on the thread count.
PARALLEL_WORK = 300  # points of quadrature from which the parallel kernels are used
eval_many_serial, eval_many_parallel = jit_variants(_eval_many)


def _pdf_laws(z, plans, rtol, out):
    """Densities at z[r, j] of the law plans[r] (alpha away from 1: no blending), one flat loop."""
    n = z.shape[1]
    for k in prange(z.size):
        r = k // n
        j = k - r * n
        out[r, j] = _point(z[r, j], plans[r], rtol)[0]


_pdf_laws_serial, _pdf_laws_parallel = jit_variants(_pdf_laws)


def pdf_laws(z, plans, rtol=RTOL):
    """Densities at z[r, j] (2-D) of the standardised S0 law with plan plans[r] (|alpha - 1| >=
    ``DALPHA``), serial for small jobs.  The node tables of :mod:`stabletail.fit` use it: a few
    laws of a few hundred nodes each, evaluated together."""
    out = np.empty(z.shape)
    kernel = _pdf_laws_parallel if z.size >= PARALLEL_WORK else _pdf_laws_serial
    kernel(np.ascontiguousarray(z, dtype=np.float64), plans, rtol, out)
    return out


FAR_TINY = 1e-300  # below this the standardised density is taken from its tail expansion in log space


def far_tail_logpdf(z: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """log f of the standardised law where f underflows: log(alpha C (1 +- beta)) - (1 + alpha) log|z|,
    C = Gamma(alpha) sin(pi alpha / 2) / pi, the leading term of the tail expansion.  Its relative
    error is O(|z|^-alpha), below 1e-15 wherever f < 1e-300 (|z| > 1e150 for alpha >= 0.1);
    -inf on the light side of a totally skewed law.  alpha = 2: the Gaussian's -z^2/4 - log(2 sqrt(pi))."""
    if alpha == 2.0:
        return -0.25 * z * z - 0.5 * math.log(4.0 * math.pi)
    c = alpha * math.gamma(alpha) * math.sin(0.5 * math.pi * alpha) / math.pi
    side = 1.0 + np.sign(z) * beta
    with np.errstate(divide="ignore"):
        return np.log(c * side) - (1.0 + alpha) * np.log(np.abs(z))


def eval_many(z, p1, p2, w, out_f, out_c, out_s, rtol=RTOL):
    """pdf, cdf, sf at standardised points z (flat), serial for small jobs.

    ``rtol``: quadrature tolerance (see _integrate); looser only for table nodes.
    """
    kernel = eval_many_parallel if z.size >= PARALLEL_WORK else eval_many_serial
    kernel(z, p1, p2, w, rtol, out_f, out_c, out_s)


@jit
def support(p):
    """(lower, upper) end of the support of the standardised S0 law."""
    alpha = p[P_ALPHA]
    beta = p[P_BETA]
    if alpha < 1.0 and beta == 1.0:
        return p[P_ZETA], math.inf
    if alpha < 1.0 and beta == -1.0:
        return -math.inf, p[P_ZETA]
    return -math.inf, math.inf


@jit
def _resid(z, upper, qt, p1, p2, w):
    """cdf(z) - q (or q_upper - sf(z) in the upper half) and the density."""
    f, c, s = _point_blended(z, p1, p2, w, RTOL)
    return ((qt - s) if upper else (c - qt)), f


@jit
def _ppf_point(q, p1, p2, w, lo_s, hi_s):
    if math.isnan(q):
        return math.nan
    if q <= 0.0:
        return lo_s
    if q >= 1.0:
        return hi_s
    upper = q > 0.5
    qt = 1.0 - q if upper else q  # exact for q > 1/2 (Sterbenz)
    alpha = p1[P_ALPHA] if w == 0.0 else 1.0
    beta = p1[P_BETA]
    # start: median-like point, then a tail guess P(tail) ~ c (1 +- beta) z^-alpha
    ca = math.exp(math.lgamma(alpha)) * math.sin(HALF_PI * alpha) / PI
    bt = (1.0 + beta) if upper else (1.0 - beta)
    z0 = 0.0
    if qt < 0.1 and bt > 0.0 and alpha < 2.0:
        d = (ca * bt / qt) ** (1.0 / alpha)
        z0 = d if upper else -d
    if z0 < lo_s or z0 > hi_s or not math.isfinite(z0):
        z0 = 0.5 * (max(lo_s, -1.0) + min(hi_s, 1.0))

    r0, f0 = _resid(z0, upper, qt, p1, p2, w)
    # bracket [a, b] with r(a) < 0 < r(b)
    step = 1.0 + abs(z0)
    if r0 < 0.0:
        a, ra = z0, r0
        b = z0 + step
        while True:
            if b > hi_s:
                b = hi_s if math.isfinite(hi_s) else b
            rb, fb = _resid(b, upper, qt, p1, p2, w)
            if rb >= 0.0 or not math.isfinite(b):
                break
            a, ra = b, rb
            step *= 2.0
            b = a + step
    else:
        b, rb = z0, r0
        a = z0 - step
        while True:
            if a < lo_s:
                a = lo_s if math.isfinite(lo_s) else a
            ra, fa = _resid(a, upper, qt, p1, p2, w)
            if ra <= 0.0 or not math.isfinite(a):
                break
            b, rb = a, ra
            step *= 2.0
            a = b - step
    if not math.isfinite(a) or not math.isfinite(b):
        return a if not math.isfinite(a) else b
    # safeguarded Newton
    z = 0.5 * (a + b)
    for _ in range(200):
        r, f = _resid(z, upper, qt, p1, p2, w)
        if r == 0.0:
            return z
        if r < 0.0:
            a = z
        else:
            b = z
        zn = z - r / f if f > 0.0 else 0.5 * (a + b)
        if not (a < zn < b):
            zn = 0.5 * (a + b)
        if abs(zn - z) <= 1e-14 * max(1.0, abs(z)) or b - a <= 4e-16 * max(1.0, abs(z)):
            return zn
        z = zn
    return z


def _ppf_many(q, p1, p2, w, lo_s, hi_s, out):
    """Quantiles of the standardised S0 law at probabilities q (flat)."""
    for i in prange(q.size):
        out[i] = _ppf_point(q[i], p1, p2, w, lo_s, hi_s)


_ppf_serial, _ppf_parallel = jit_variants(_ppf_many)


def ppf_many(q, p1, p2, w, lo_s, hi_s, out):
    """Quantiles at probabilities q (flat); each costs ~10 quadratures."""
    kernel = _ppf_parallel if 10 * q.size >= PARALLEL_WORK else _ppf_serial
    kernel(q, p1, p2, w, lo_s, hi_s, out)
