"""The two-sided 95 % critical value t(0.975, df) of Student's t, in a few microseconds.

Every Welch test of a report needs t(0.975, df) at its own, non-integer Welch-Satterthwaite
``df``; solving for it (``distributions.t_ppf``: Newton steps, each an incomplete beta function)
cost about 50 microseconds, three quarters of a by-team report of 2,000 teams. As a function of
``u = 1 / df`` on [0, 1] (df >= 1) the quantile is smooth, so three Chebyshev series of degree 16
(on u in [0, 1/4], [1/4, 1/2] and [1/2, 1]) give it to about 2e-15 relative (tests/insights check
it against ``scipy.stats.t.ppf`` on a dense grid). The coefficients were fitted by least squares
to ``scipy.stats.t.ppf(0.975, 1 / u)`` at 400 Chebyshev nodes of each piece (numpy.polynomial.
chebyshev.chebfit; u = 0 is the normal quantile). Below df = 1 the caller solves as before.
"""

from __future__ import annotations

__all__ = ["t975"]

# (u from, u to, Chebyshev coefficients in x = (2u - from - to) / (to - from)).
_PIECES = (
    (0.0, 0.25, (
        2.337037224422109, 0.4065237325032396, 0.031100140966271308,
        0.00171461292646037, 6.711534631369222e-05, 2.2145630850689643e-06,
        6.387002066674468e-08, 3.40406813213356e-10, 2.681769028745356e-10,
        -5.100709674297602e-12, -3.916448091526483e-12, 7.904542866292542e-13,
        -5.212228953836973e-14, -1.0300655547870883e-14, 4.07277780690382e-15,
        -4.640885081108686e-16, 3.027899082828228e-16,
    )),
    (0.25, 0.5, (
        3.4795284896824716, 0.7598577963580533, 0.059889480564684516,
        0.003241573341689503, 0.00013081381935279977, 4.43919867622726e-06,
        1.3336550457966854e-07, 3.37516679827441e-09, 4.149443495984059e-11,
        2.262125751576661e-12, 1.193035503438462e-13, -1.3782849871702741e-14,
        1.514596807956517e-15, -2.3660371085047436e-16, 3.21943824789718e-16,
        -1.858491795012457e-16, 2.7560807798116325e-16,
    )),
    (0.5, 1.0, (
        7.842006445293691, 4.129825463638094, 0.6563979322102906,
        0.07153482838200896, 0.006000372508464243, 0.00041452260548602955,
        2.3928815237722265e-05, 1.1865100543360195e-06, 5.4069141888216835e-08,
        2.073156161645431e-09, 6.527691096765915e-11, 3.8165031992449e-12,
        -1.698313275426533e-14, 8.209285862675299e-16, 2.389519926659745e-15,
        2.992728664629871e-16, 1.168518328574495e-15,
    )),
)


def t975(df: float) -> float | None:
    """t(0.975, df) for df >= 1 (a finite float), else None."""
    if not df >= 1.0:
        return None
    u = 1.0 / df
    low, high, coefficients = _PIECES[0] if u <= 0.25 else _PIECES[1] if u <= 0.5 else _PIECES[2]
    x = (2.0 * u - low - high) / (high - low)
    # Clenshaw's recurrence.
    x2 = 2.0 * x
    b1 = b2 = 0.0
    for coefficient in coefficients[:0:-1]:
        b1, b2 = coefficient + x2 * b1 - b2, b1
    return coefficients[0] + x * b1 - b2
