"""Student's t distribution in pure Python (no numpy / scipy).

Only what the gap statistics need: the survival function, the CDF and the
quantile function of Student's t for any real ``df > 0`` (Welch's
Welch-Satterthwaite degrees of freedom are not integers).

* ``t_sf`` / ``t_cdf`` use the regularized incomplete beta function
  ``I_x(df/2, 1/2)`` with ``x = df / (df + t^2)``.  ``x`` and ``y = 1 - x``
  are both computed directly, and both P(T > t) and P(0 < T < t) are computed
  without cancellation, so neither the tails nor the centre lose precision.
  The function is evaluated by the modified Lentz continued fraction
  (Numerical Recipes' ``betacf``), or, for ``df >= 30`` and ``x`` near 1
  where the continued fraction would amplify the rounding of ``x`` by
  ``df / 2``, by DiDonato & Morris's asymptotic expansion (BGRAT).  The
  log-beta normaliser uses a Stirling difference for large arguments.
* ``t_ppf`` solves for the quantile by a safeguarded Newton iteration on
  ``ln t`` (bisection whenever a Newton step leaves the bracket), matching
  whichever of the tail or the central probability is smaller.

Accuracy versus ``scipy.stats.t`` (and mpmath) is about 1e-13 relative for
``df`` from 1 to 1e6 and beyond (checked by the unit tests).
"""

from __future__ import annotations

import math

__all__ = ["t_cdf", "t_pdf", "t_ppf", "t_sf"]

_EPS = 2.220446049250313e-16
_TINY = 1e-300
# Bernoulli-number coefficients B_2k / (2k (2k - 1)) of Stirling's series.
_STIRLING = (
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
    -3617.0 / 122400.0,
)
# Below this, lgamma(a) - lgamma(a + b) straight from the C library: lgamma(32) is 78, so its rounding
# costs about 3e-14 absolute in the log (relative in the probability), inside the 1e-13 above, and it
# is a fifth of the cost of the series (a by-team report's Welch tests mostly have df 20 to 60).
_STIRLING_MIN = 32.0


def _stirling_tail(z: float) -> float:
    """Sum of Stirling's correction series for ``lgamma(z)``, z >= 10 (Horner's scheme in 1 / z^2)."""
    inv = 1.0 / z
    inv2 = inv * inv
    c0, c1, c2, c3, c4, c5, c6, c7 = _STIRLING
    return inv * (c0 + inv2 * (c1 + inv2 * (c2 + inv2 * (c3 + inv2 * (c4 + inv2 * (c5 + inv2 * (c6 + inv2 * c7)))))))


def _lgamma_ratio(a: float, b: float) -> float:
    """``lgamma(a) - lgamma(a + b)`` without cancellation when ``a`` is large."""
    if a < _STIRLING_MIN:
        return math.lgamma(a) - math.lgamma(a + b)
    # (a - 1/2) ln a - (a + b - 1/2) ln(a + b) + b + tail(a) - tail(a + b)
    return -(a - 0.5) * math.log1p(b / a) - b * math.log(a + b) + b + (_stirling_tail(a) - _stirling_tail(a + b))


def _log_beta(a: float, b: float) -> float:
    """``ln B(a, b)``, accurate when one argument is large and the other small."""
    big, small = (a, b) if a >= b else (b, a)
    return math.lgamma(small) + _lgamma_ratio(big, small)


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) (modified Lentz); converges for x < (a+1)/(a+b+2).

    The Lentz steps are written out in the loop: a by-team report evaluates this some 50,000
    times, and a function call per step cost half its time (abs() calls too: comparisons instead).
    """
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if -_TINY < d < _TINY:
        d = _TINY
    d = 1.0 / d
    h = d
    max_iter = 1000 + int(20.0 * math.sqrt(max(a, b)))
    for m in range(1, max_iter + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))  # even step
        d = 1.0 + aa * d
        if -_TINY < d < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if -_TINY < c < _TINY:
            c = _TINY
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))  # odd step
        d = 1.0 + aa * d
        if -_TINY < d < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if -_TINY < c < _TINY:
            c = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if -_EPS <= delta - 1.0 <= _EPS:
            return h
    raise ArithmeticError(f"incomplete beta continued fraction did not converge (a={a}, b={b}, x={x})")


def _bgrat_coefficients(b: float, terms: int) -> tuple[float, ...]:
    """P_n of DiDonato & Morris's Eq. 9.4 (they depend on b only)."""
    odd_factorials = [float(math.factorial(2 * k + 1)) for k in range(terms + 1)]
    p = [1.0]
    for n in range(1, terms):
        value = sum((m * b - n) * p[n - m] / odd_factorials[m] for m in range(1, n))
        p.append(value / n + (b - 1.0) / odd_factorials[n])
    return tuple(p)


_BGRAT_P = _bgrat_coefficients(0.5, 30)


def _bgrat_half(a: float, log_x: float) -> float:
    """I_x(a, 1/2) for a >= 15 and x close to 1 (DiDonato & Morris's BGRAT expansion).

    Eq. 9 of ACM TOMS Algorithm 708 with b = 1/2, where Q(1/2, u) =
    erfc(sqrt(u)).  It depends on ``x`` only through ``ln x`` (computed from
    ``y = 1 - x`` by the caller), so unlike the continued fraction it does not
    amplify the rounding of an ``x`` close to 1 by a factor ``a``.
    """
    b = 0.5
    t = a - 0.25  # a + (b - 1) / 2
    u = -t * log_x
    if u <= 0.0:
        return 1.0
    log_ratio = _lgamma_ratio(a, b)  # ln(Gamma(a) / Gamma(a + b))
    # Every term carries Gamma(a + b) / (Gamma(a) t^b); term 0 is that times Q(b, u),
    # the J_n recursion adds multiples of h = u^b e^-u / Gamma(b).
    first = math.erfc(math.sqrt(u)) * math.exp(-log_ratio - b * math.log(t))
    prefix = math.exp(b * math.log(u) - u - math.lgamma(b) - log_ratio - b * math.log(t))
    total = j_scaled = first  # prefix * J_0, J_0 = Q(b, u) / h
    lx2 = (log_x / 2.0) ** 2
    lxp = 1.0
    t4 = 4.0 * t * t
    b2n = b
    for coefficient in _BGRAT_P[1:]:
        # J_n from J_(n-1), Eq. 9.6 (kept multiplied by the prefix).
        j_scaled = (b2n * (b2n + 1.0) * j_scaled + prefix * (u + b2n + 1.0) * lxp) / t4
        lxp *= lx2
        b2n += 2.0
        term = coefficient * j_scaled
        total += term
        if abs(term) <= _EPS * abs(total):
            break
    return total


def _ibeta_pair(a: float, b: float, x: float, y: float) -> tuple[float, float]:
    """(I_x(a, b), 1 - I_x(a, b)), the smaller of the two computed directly.

    ``x`` and ``y = 1 - x`` must both be given, each computed without
    cancellation by the caller.
    """
    if x <= 0.0:
        return 0.0, 1.0
    if y <= 0.0:
        return 1.0, 0.0
    # ln x and ln y each from whichever of x, y is small, so a large ``a`` or
    # ``b`` does not multiply the rounding error of a value close to 1.
    log_x = math.log1p(-y) if y < 0.5 else math.log(x)
    log_y = math.log1p(-x) if x < 0.5 else math.log(y)
    if x < (a + 1.0) / (a + b + 2.0):
        if a >= 15.0 and b == 0.5 and y < 0.3:
            value = _bgrat_half(a, log_x)
        else:
            log_front = a * log_x + b * log_y - _log_beta(a, b)
            value = math.exp(log_front) * _beta_cf(a, b, x) / a
        return value, 1.0 - value
    if b >= 15.0 and a == 0.5 and x < 0.3:
        value = _bgrat_half(b, log_y)
    else:
        log_front = a * log_x + b * log_y - _log_beta(a, b)
        value = math.exp(log_front) * _beta_cf(b, a, y) / b
    return 1.0 - value, value


def _check_df(df: float) -> float:
    df = float(df)
    if not df > 0.0 or math.isinf(df):
        raise ValueError(f"degrees of freedom must be a finite number > 0, got {df!r}")
    return df


def _check_t(t: float) -> float:
    t = float(t)
    if math.isnan(t):
        raise ValueError("t must not be NaN")
    return t


def _split(t: float, df: float) -> tuple[float, float]:
    """(P(T > t), P(0 < T < t)) for t >= 0, each accurate relative to itself."""
    if t == 0.0:
        return 0.5, 0.0
    if math.isinf(t):
        return 0.0, 0.5
    t2 = t * t
    denominator = df + t2
    if math.isinf(denominator):
        # t^2 overflows: the power-law tail df^(df/2 - 1) / B(df/2, 1/2) * t^-df is exact here.
        log_sf = (df / 2.0 - 1.0) * math.log(df) - df * math.log(t) - _log_beta(df / 2.0, 0.5)
        return math.exp(log_sf), 0.5
    upper, central = _ibeta_pair(df / 2.0, 0.5, df / denominator, t2 / denominator)
    return 0.5 * upper, 0.5 * central


def t_sf(t: float, df: float) -> float:
    """Survival function P(T > t) of Student's t with ``df`` degrees of freedom."""
    df = _check_df(df)
    t = _check_t(t)
    upper, central = _split(abs(t), df)
    return upper if t >= 0.0 else 0.5 + central


def t_sf_positive(t: float, df: float) -> float:
    """``t_sf`` for a finite ``t >= 0`` and a finite ``df > 0`` the caller has computed (the Welch
    test's), without checking them again."""
    return _split(t, df)[0]


def t_cdf(t: float, df: float) -> float:
    """Cumulative distribution function P(T <= t) of Student's t."""
    return t_sf(-_check_t(t), df)


def _log_pdf(t: float, df: float) -> float:
    return -_log_beta(df / 2.0, 0.5) - 0.5 * math.log(df) - (df + 1.0) / 2.0 * math.log1p(t * t / df)


def t_pdf(t: float, df: float) -> float:
    """Probability density of Student's t."""
    return math.exp(_log_pdf(_check_t(t), _check_df(df)))


def _normal_isf(p: float) -> float:
    """Upper-tail standard normal quantile, 0 < p <= 0.5 (a start value for t_ppf)."""
    # Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4), then two Newton steps on erfc.
    w = math.sqrt(-2.0 * math.log(p))
    z = w - (2.515517 + 0.802853 * w + 0.010328 * w * w) / (1.0 + 1.432788 * w + 0.189269 * w * w + 0.001308 * w**3)
    for _ in range(2):
        density = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        if density <= 0.0:
            break
        z += (0.5 * math.erfc(z / math.sqrt(2.0)) - p) / density
    return z


def _start_value(tail: float, central: float, df: float) -> float:
    """A first guess for the t > 0 with P(T > t) = tail, P(0 < T < t) = central."""
    if central <= 0.25:
        # Near the centre the CDF is almost linear: t ~ central / pdf(0).
        return central / math.exp(_log_pdf(0.0, df))
    # Power-law tail P(T > t) ~ df^(df/2 - 1) / B(df/2, 1/2) * t^-df: good when t^2 >> df.
    log_power = ((df / 2.0 - 1.0) * math.log(df) - _log_beta(df / 2.0, 0.5) - math.log(tail)) / df
    if log_power < 700.0 and math.exp(2.0 * log_power) > 12.0 * df:
        return math.exp(log_power)
    # Otherwise the Cornish-Fisher expansion around the normal quantile (A&S 26.7.5).
    z = _normal_isf(tail)
    z2 = z * z
    g1 = z * (z2 + 1.0) / 4.0
    g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0
    g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0
    g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0
    guess = z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df
    return guess if guess > 0.0 and math.isfinite(guess) else 1.0


def _positive_quantile(tail: float, central: float, df: float) -> float:
    """The t > 0 with P(T > t) = tail, where central = 0.5 - tail exactly.

    Newton's method on ln t, matching whichever of ln P(T > t) and
    ln P(0 < T < t) is the smaller (so better conditioned) probability, inside
    a bracket that falls back to bisection.
    """
    use_tail = tail <= 0.25
    target = math.log(tail if use_tail else central)
    t = _start_value(tail, central, df)
    lo, hi = 0.0, math.inf
    for _ in range(300):
        upper, middle = _split(t, df)
        value = upper if use_tail else middle
        if value <= 0.0:
            hi = t
            candidate = math.nan
        else:
            log_value = math.log(value)
            if log_value == target:
                return t
            too_small_t = log_value > target if use_tail else log_value < target
            if too_small_t:
                lo = t
            else:
                hi = t
            # d ln(probability) / d ln t = -/+ t pdf(t) / probability
            slope = t * math.exp(_log_pdf(t, df)) / value
            if not use_tail:
                slope = -slope
            candidate = t * math.exp(max(-700.0, min(700.0, (log_value - target) / slope)))
        if abs(candidate - t) <= 2.0 * _EPS * t:  # converged (False for NaN)
            return candidate
        if not lo < candidate < hi:
            candidate = 2.0 * lo + 1.0 if math.isinf(hi) else 0.5 * (lo + hi)
        if math.isfinite(hi) and hi - lo <= 2.0 * _EPS * hi:
            return candidate
        t = candidate
    return t


def t_ppf(q: float, df: float) -> float:
    """Quantile function (inverse CDF) of Student's t: the t with P(T <= t) = q."""
    df = _check_df(df)
    q = float(q)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q!r}")
    if q == 0.0:
        return -math.inf
    if q == 1.0:
        return math.inf
    if q == 0.5:
        return 0.0
    # Both subtractions are exact in binary floating point for q in [0.25, 1].
    if q > 0.5:
        return _positive_quantile(1.0 - q, q - 0.5, df)
    return -_positive_quantile(q, 0.5 - q, df)
