"""The regularized incomplete beta function I_x(a, b) in pure Python, as Student's t distribution
(perception/insights/distributions.py) needs it: ``ibeta_pair`` gives I_x(a, b) and 1 - I_x(a, b),
the smaller computed directly; ``log_beta`` is ln B(a, b).

I_x is evaluated by the modified Lentz continued fraction (Numerical Recipes' ``betacf``), or, for
b = 1/2, a >= 15 and x near 1, where the continued fraction would amplify the rounding of x by a, by
DiDonato & Morris's asymptotic expansion (BGRAT, ACM TOMS Algorithm 708). The log-beta normaliser
uses a Stirling difference for large arguments.
"""

from __future__ import annotations

import math

__all__ = ["EPS", "ibeta_pair", "log_beta"]

EPS = 2.220446049250313e-16
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


def log_beta(a: float, b: float) -> float:
    """``ln B(a, b)``, accurate when one argument is large and the other small."""
    big, small = (a, b) if a >= b else (b, a)
    return math.lgamma(small) + _lgamma_ratio(big, small)


def _beta_cf(a: float, b: float, x: float) -> float:
    """The continued fraction of ``_beta_cf_guarded`` without its guards against a zero denominator,
    which cost a third of the time (a by-team report evaluates it some 30,000 times). A zero
    division, a result that is not a finite positive number or no convergence sends the evaluation
    to the guarded loop, so the value is the same whenever the guards would not have acted."""
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    eps = EPS
    try:
        c = 1.0
        d = 1.0 / (1.0 - qab * x / qap)
        h = d
        for m in range(1, 1001):
            m2 = m + m
            aa = m * (b - m) * x / ((qam + m2) * (a + m2))  # even step
            d = 1.0 / (1.0 + aa * d)
            c = 1.0 + aa / c
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))  # odd step
            d = 1.0 / (1.0 + aa * d)
            c = 1.0 + aa / c
            delta = d * c
            h *= delta
            if -eps <= delta - 1.0 <= eps:
                if 0.0 < h < math.inf:
                    return h
                break
    except ZeroDivisionError:
        pass
    return _beta_cf_guarded(a, b, x)


def _beta_cf_guarded(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) (modified Lentz); converges for x < (a+1)/(a+b+2).

    The Lentz steps are written out in the loop: a by-team report evaluates this some 50,000
    times, and a function call per step cost half its time (abs() calls too: comparisons instead).
    Every step guards against a denominator of zero (Lentz's TINY).
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
        if -EPS <= delta - 1.0 <= EPS:
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
        if abs(term) <= EPS * abs(total):
            break
    return total


def ibeta_pair(a: float, b: float, x: float, y: float) -> tuple[float, float]:
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
            log_front = a * log_x + b * log_y - log_beta(a, b)
            value = math.exp(log_front) * _beta_cf(a, b, x) / a
        return value, 1.0 - value
    if b >= 15.0 and a == 0.5 and x < 0.3:
        value = _bgrat_half(b, log_y)
    else:
        log_front = a * log_x + b * log_y - log_beta(a, b)
        value = math.exp(log_front) * _beta_cf(b, a, y) / b
    return 1.0 - value, value
