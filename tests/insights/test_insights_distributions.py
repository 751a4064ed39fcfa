"""Student's t in pure Python versus closed forms and scipy.stats.t."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from perception.insights import incomplete_beta, t_cdf, t_pdf, t_ppf, t_sf
from perception.insights.critical_values import t975

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)

REL = 1e-12


def close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


# Two-sided 95 % critical values t(0.975, df) (the familiar table: 12.706, 4.303, 3.182, ...).
@pytest.mark.parametrize(
    ("df", "expected"),
    [
        (1, 12.706204736174694),
        (2, 4.302652729749462),
        (3, 3.1824463052837078),
        (4, 2.7764451051977934),
        (10, 2.228138851986274),
        (30, 2.0422724563012378),
        (1000, 1.9623390808264083),
    ],
)
def test_t_ppf_975_table(df: int, expected: float) -> None:
    assert close(t_ppf(0.975, df), expected)
    assert close(t_ppf(0.025, df), -expected)


def test_closed_forms_df_1_and_2() -> None:
    # df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t) / pi, quantile tan(pi (q - 1/2)).
    for t in (1e-9, 0.3, 1.0, 7.5, 1e6):
        assert close(t_sf(t, 1), math.atan(1 / t) / math.pi)  # = 1/2 - atan(t) / pi
        assert close(t_cdf(-t, 1), math.atan(1 / t) / math.pi)
    for q in (0.5 + 2**-30, 0.6, 0.7):
        assert close(t_ppf(q, 1), math.tan(math.pi * (q - 0.5)))
    for q in (0.9, 0.975, 0.999999):  # tan(pi (q - 1/2)) = 1 / tan(pi (1 - q)), better conditioned
        assert close(t_ppf(q, 1), 1 / math.tan(math.pi * (1 - q)))
    # df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)), quantile (2q - 1) / sqrt(2 q (1 - q)).
    for t in (1e-9, 0.5, 2.0, 40.0):
        assert close(t_sf(t, 2), 0.5 - t / (2 * math.sqrt(2 + t * t)), rel=1e-9)
    for q in (0.55, 0.9, 0.975, 1 - 1e-12):
        assert close(t_ppf(q, 2), (2 * q - 1) / math.sqrt(2 * q * (1 - q)), rel=1e-11)


def test_special_values() -> None:
    assert t_sf(0.0, 7.3) == 0.5
    assert t_cdf(0.0, 7.3) == 0.5
    assert t_ppf(0.5, 3) == 0.0
    assert t_ppf(0.0, 3) == -math.inf
    assert t_ppf(1.0, 3) == math.inf
    assert t_sf(math.inf, 3) == 0.0
    assert t_sf(-math.inf, 3) == 1.0
    assert t_cdf(math.inf, 3) == 1.0
    assert 0.0 <= t_sf(1e200, 1.5) < 1e-290


@pytest.mark.parametrize("bad_df", [0, -1, math.nan, math.inf])
def test_invalid_df(bad_df: float) -> None:
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_sf(1.0, bad_df)
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_ppf(0.9, bad_df)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match=r"q must be in \[0, 1\]"):
        t_ppf(1.5, 3)
    with pytest.raises(ValueError, match=r"q must be in \[0, 1\]"):
        t_ppf(-0.1, 3)
    with pytest.raises(ValueError, match="NaN"):
        t_sf(math.nan, 3)


@pytest.mark.parametrize("df", [1, 1.5, 2.5, 7, 29.5, 30, 31.7, 250, 4321.5, 1e5, 1e6])
def test_grid_against_scipy(df: float) -> None:
    for t in (1e-3, 0.2, 0.9, 1.5, 1.96, 2.5, 4.0, 9.0, 25.0, 80.0):
        for value in (t, -t):
            expected_sf = stats.t.sf(value, df)
            if expected_sf > 1e-280:
                assert close(t_sf(value, df), expected_sf)
            expected_cdf = stats.t.cdf(value, df)
            if expected_cdf > 1e-280:
                assert close(t_cdf(value, df), expected_cdf)
            assert close(t_pdf(value, df), stats.t.pdf(value, df), rel=1e-11)
    for q in (0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-9, 0.4, 0.025, 1e-6, 1e-12):
        assert close(t_ppf(q, df), stats.t.ppf(q, df))


@settings(max_examples=200, deadline=None)
@given(
    log_df=st.floats(min_value=0.0, max_value=6.0),
    t=st.floats(min_value=1e-3, max_value=300.0),
    q=st.floats(min_value=1e-9, max_value=1 - 1e-9),
)
def test_random_against_scipy(log_df: float, t: float, q: float) -> None:
    df = 10.0**log_df
    expected = stats.t.sf(t, df)
    if expected > 1e-280:
        assert close(t_sf(t, df), expected)
    assert close(t_cdf(t, df), stats.t.cdf(t, df))
    if abs(q - 0.5) > 1e-3:  # scipy itself is less accurate right at the centre
        assert close(t_ppf(q, df), stats.t.ppf(q, df))


@settings(max_examples=100, deadline=None)
@given(log_df=st.floats(min_value=0.0, max_value=6.0), q=st.floats(min_value=1e-12, max_value=1 - 1e-12))
def test_ppf_inverts_cdf(log_df: float, q: float) -> None:
    df = 10.0**log_df
    t = t_ppf(q, df)
    if q >= 0.5:  # 1 - q is exact here
        assert t_ppf(1 - q, df) == -t
    if q < 0.5:
        assert math.isclose(t_cdf(t, df), q, rel_tol=1e-11)
    else:
        assert math.isclose(t_sf(t, df), 1 - q, rel_tol=1e-9, abs_tol=1e-15)


def test_critical_value_series_against_scipy() -> None:
    # Welch's t(0.975, df) comes from Chebyshev series in 1 / df (perception.insights.critical_values):
    # as exact as the solver on a dense grid of real df, piece boundaries and the normal limit included.
    grid = [1 + k / 400 for k in range(1201)] + [10 ** (k / 200) for k in range(1801)] + [4.0, 2.0, 1e300]
    for df in grid:
        assert close(t975(df), stats.t.ppf(0.975, df), rel=5e-15), df
        assert close(t975(df), t_ppf(0.975, df), rel=1e-13), df
    assert t975(0.999) is None
    assert t975(math.nan) is None


def test_the_unguarded_continued_fraction_is_the_guarded_one():
    """The fast loop of _beta_cf returns exactly what the guarded loop does, and falls back to it
    when a denominator is zero (here at the very first step: 1 - (a + b) x / (a + 1) = 0)."""
    for a in (0.5, 1.0, 2.5, 13.7, 40.0, 400.0):
        for b in (0.5, 1.0, 7.0):
            for x in (1e-6, 0.01, 0.2, 0.5 * (a + 1.0) / (a + b + 2.0), 0.95 * (a + 1.0) / (a + b + 2.0)):
                assert incomplete_beta._beta_cf(a, b, x) == incomplete_beta._beta_cf_guarded(a, b, x)
    assert 1.0 - 4.0 * 0.5 / 2.0 == 0.0
    assert incomplete_beta._beta_cf(1.0, 3.0, 0.5) == incomplete_beta._beta_cf_guarded(1.0, 3.0, 0.5) > 0.0
