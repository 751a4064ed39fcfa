"""The per-histogram statistics: hand-worked examples, edge cases, and scipy/numpy as oracle."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from perception.insights import calibration, care_index, describe, histogram, indifference_rate, summarise, welch_gap

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)


def scipy_welch(a: list[float], b: list[float]):  # noqa: ANN201
    """scipy's Welch test; silences its warning about an exactly constant sample (sd 0 is fine)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        return stats.ttest_ind(a, b, equal_var=False)


def close(a: float | None, b: float) -> bool:
    assert a is not None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# ----------------------------------------------------------------------------- histogram


def test_histogram_ignores_unanswered_and_drops_empty_respondents() -> None:
    # [4, 5] -> (9, 2); [3, None] -> (3, 1); [2, 3, 4] -> (9, 3); [None] and [] -> dropped.
    assert histogram([[4, 5], [3, None], [2, 3, 4], [None], []]) == {(9, 2): 1, (3, 1): 1, (9, 3): 1}
    assert histogram([[4], [4], [2, 2]]) == {(4, 1): 2, (4, 2): 1}
    assert histogram([]) == {}


def test_histogram_rejects_non_integer_scores() -> None:
    with pytest.raises(TypeError):
        histogram([[4.5]])
    with pytest.raises(TypeError):
        histogram([[True]])


def test_only_positive_counts_and_frequencies_count() -> None:
    # (0, 0) has no answered item, (5, 1): 0 and (3, 1): -2 have no respondent.
    assert summarise({(0, 0): 3, (5, 1): 0, (3, 1): -2, (4, 1): 2}).n == 2


def test_integral_decimals_are_accepted() -> None:
    from decimal import Decimal  # what a SQL SUM can return

    assert summarise({(Decimal(9), 2): 1, (3, 1): Decimal(2)}).n == 3
    with pytest.raises(TypeError):
        summarise({(Decimal("4.5"), 1): 1})


# ----------------------------------------------------------------------------- describe


def test_describe_hand_worked() -> None:
    # Scores 2, 3, 3, 4, 5: n = 5, mean = 17 / 5 = 3.4.
    # Squared deviations 1.96 + 0.16 + 0.16 + 0.36 + 2.56 = 5.2; variance = 5.2 / 4 = 1.3.
    # t(0.975, 4) = 2.7764451051977934; half width = 2.77645 * 1.14018 / 2.23607 = 1.415715
    # top box: 4 and 5 are >= 4.0 -> 2 / 5 = 0.4.
    result = describe(histogram([[2], [3], [3], [4], [5]]))
    assert result.n == 5 and result.suppressed is False
    assert result.mean == 3.4
    assert result.sd == math.sqrt(1.3)
    half = 2.7764451051977934 * math.sqrt(1.3) / math.sqrt(5)
    assert result.ci is not None
    assert close(result.ci[0], 3.4 - half) and close(result.ci[1], 3.4 + half)
    assert math.isclose(half, 1.415715, rel_tol=1e-6)
    assert result.top_box == 0.4


def test_describe_multi_item_scores() -> None:
    # Respondent scores: (4 + 5) / 2 = 4.5, 3 / 1 = 3, (2 + 3 + 4) / 3 = 3.
    # mean = 10.5 / 3 = 3.5; deviations 1, -0.5, -0.5 -> 1.5 / 2 = 0.75 variance.
    # top box: only 4.5 -> 1 / 3.
    result = describe(histogram([[4, 5], [3, None], [2, 3, 4]]))
    assert (result.n, result.mean, result.sd) == (3, 3.5, math.sqrt(0.75))
    assert result.top_box == 1 / 3


def test_top_box_boundary_is_inclusive() -> None:
    # (3 + 5) / 2 = 4.0 and 4 / 1 = 4.0 are top box; (3 + 4) / 2 = 3.5 and 11 / 3 = 3.67 are not.
    assert describe({(8, 2): 1, (4, 1): 1, (7, 2): 1, (11, 3): 1}).top_box == 0.5


def test_describe_sd_exactly_zero_when_all_equal() -> None:
    # 1/3 is not a binary fraction: a naive float pass leaves a tiny non-zero sd.
    result = describe({(1, 3): 1000, (2, 6): 1000, (4, 12): 3})
    assert result.sd == 0.0
    assert result.ci == (result.mean, result.mean)


def test_describe_n_0_and_n_1() -> None:
    empty = describe({})
    assert empty.to_dict() == {"n": 0, "mean": None, "sd": None, "ci": None, "top_box": None, "suppressed": True}
    assert describe(None) == empty
    single = describe(histogram([[5, 4]]))
    assert single.to_dict() == {"n": 1, "mean": 4.5, "sd": None, "ci": None, "top_box": 1.0, "suppressed": False}


def test_describe_min_n() -> None:
    four = histogram([[1], [2], [3], [4]])
    assert describe(four, min_n=5).to_dict() == {
        "n": 4,
        "mean": None,
        "sd": None,
        "ci": None,
        "top_box": None,
        "suppressed": True,
    }
    assert describe(four, min_n=4).suppressed is False
    with pytest.raises(ValueError, match="min_n must be an integer >= 1"):
        describe(four, min_n=0)


# ----------------------------------------------------------------------------- Welch gap


def test_welch_gap_hand_worked() -> None:
    # staff 4, 4, 5, 5: mean 4.5, variance 4 * 0.25 / 3 = 1/3.
    # customers 2, 3, 4: mean 3, variance 2 / 2 = 1.
    # value = 4.5 - 3 = 1.5; SE^2 = (1/3) / 4 + 1 / 3 = 5/12.
    # df = (5/12)^2 / ((1/12)^2 / 3 + (1/3)^2 / 2) = (25/144) / (25/432) = 3 exactly.
    # t^2 = 2.25 / (5/12) = 5.4; with df = 3, P(|T| > t) = 1 - (2/pi) (u / (1 + u^2) + atan u),
    # u = t / sqrt(3) = sqrt(1.8).
    # top box: staff 4/4 = 1, customers 1/3 -> 2/3.
    gap = welch_gap(histogram([[4], [4], [5], [5]]), histogram([[2], [3], [4]]))
    assert gap.value == 1.5
    u = math.sqrt(1.8)
    assert close(gap.p, 1 - 2 / math.pi * (u / (1 + u * u) + math.atan(u)))
    half = 3.1824463052837078 * math.sqrt(5 / 12)  # t(0.975, 3) * SE
    assert gap.ci is not None
    assert close(gap.ci[0], 1.5 - half) and close(gap.ci[1], 1.5 + half)
    assert close(gap.top_box_gap, 2 / 3)


def test_welch_gap_sign_is_first_minus_second() -> None:
    forward = welch_gap(histogram([[5], [4], [5]]), histogram([[1], [2], [2]]))
    backward = welch_gap(histogram([[1], [2], [2]]), histogram([[5], [4], [5]]))
    assert forward.value == -backward.value  # type: ignore[operator]
    assert forward.p == backward.p


def test_welch_gap_one_side_constant() -> None:
    # staff all 5 (sd 0), customers 1, 2, 3 (variance 1): SE^2 = 1/3, df = n2 - 1 = 2.
    gap = welch_gap(histogram([[5]] * 4), histogram([[1], [2], [3]]))
    assert gap.value == 3.0
    expected = scipy_welch([5, 5, 5, 5], [1, 2, 3])
    assert close(gap.p, expected.pvalue)
    assert gap.ci is not None
    assert close(gap.ci[0], 3 - 4.302652729749462 * math.sqrt(1 / 3))


def test_welch_gap_both_constant_has_no_ci_or_p() -> None:
    # Both sds are 0: SE = 0, no test, but the difference is known.
    gap = welch_gap(histogram([[5]] * 6), histogram([[3]] * 7))
    assert gap.to_dict() == {"value": 2.0, "ci": None, "p": None, "p_adjusted": None, "top_box_gap": 1.0}
    same = welch_gap(histogram([[3]] * 6), histogram([[3]] * 7))
    assert same.to_dict() == {"value": 0.0, "ci": None, "p": None, "p_adjusted": None, "top_box_gap": 0.0}


def test_welch_gap_n_1_and_n_0() -> None:
    one = welch_gap(histogram([[4]]), histogram([[1], [2]]))
    assert one.to_dict() == {"value": 2.5, "ci": None, "p": None, "p_adjusted": None, "top_box_gap": 1.0}
    assert welch_gap({}, histogram([[1], [2]])).to_dict() == {
        "value": None,
        "ci": None,
        "p": None,
        "p_adjusted": None,
        "top_box_gap": None,
    }
    assert welch_gap(histogram([[1], [2]]), None).value is None


def test_welch_gap_min_n() -> None:
    a, b = histogram([[4], [5], [3]]), histogram([[1], [2], [3], [4], [5]])
    assert welch_gap(a, b, min_n=3).value is not None
    assert welch_gap(a, b, min_n=4).to_dict() == {"value": None, "ci": None, "p": None, "p_adjusted": None,
                                                   "top_box_gap": None}


def test_welch_gap_identical_samples() -> None:
    sample = histogram([[1], [3], [5]])
    gap = welch_gap(sample, sample)
    assert gap.value == 0.0 and gap.p == 1.0


# ----------------------------------------------------------------------------- calibration, care index, indifference


def test_calibration_hand_worked() -> None:
    # Staff predictions: one staff member 3 and 4 -> 3.5, another 2 -> 2; mean 2.75.
    # Customers 2, 3, 4 -> mean 3.  Calibration = 2.75 - 3 = -0.25 (staff under-predict).
    assert calibration(histogram([[3, 4], [2]]), histogram([[2], [3], [4]])) == -0.25
    assert calibration({}, histogram([[2]])) is None
    assert calibration(histogram([[2]]), {}) is None


def test_care_index_and_indifference_hand_worked() -> None:
    # A: 5, 5, 4 -> 14/3; B: 1, 2 -> 3/2; C: 3 -> 3; D: nothing answered (not counted).
    # mean = (14/3 + 3/2 + 3) / 3 = (55/6) / 3 = 55/18; care index = (55/18 - 1) / 4 * 100 = 925/18.
    # indifference: B's 1.5 <= 2.0 -> 1/3.
    overall = histogram([[5, 5, 4], [1, 2], [3], [None, None]])
    assert care_index(overall) == 925 / 18
    assert indifference_rate(overall) == 1 / 3
    assert care_index(overall, min_n=4) is None
    assert indifference_rate(overall, min_n=4) is None


def test_care_index_bounds_and_indifference_boundary() -> None:
    assert care_index(histogram([[1, 1]] * 5)) == 0.0
    assert care_index(histogram([[5]] * 5)) == 100.0
    # (1 + 3) / 2 = 2.0 and 2 / 1 = 2.0 are indifferent; (2 + 3) / 2 = 2.5 is not.
    assert indifference_rate(histogram([[1, 3], [2], [2, 3], [5]])) == 0.5
    assert care_index({}) is None and indifference_rate({}) is None


# ----------------------------------------------------------------------------- oracle: numpy and scipy

respondent = st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=1, max_size=4)
sample = st.lists(respondent, min_size=0, max_size=40)


def scores_of(respondents: list[list[int | None]]) -> list[float]:
    result = []
    for answers in respondents:
        answered = [a for a in answers if a is not None]
        if answered:
            result.append(sum(answered) / len(answered))
    return result


@settings(max_examples=200, deadline=None)
@given(sample)
def test_describe_matches_numpy_and_scipy(respondents: list[list[int | None]]) -> None:
    scores = scores_of(respondents)
    result = describe(histogram(respondents))
    assert result.n == len(scores)
    if not scores:
        assert result.suppressed and result.mean is None
        return
    assert close(result.mean, float(np.mean(scores)))
    assert result.top_box == sum(1 for s in scores if s >= 4.0) / len(scores)
    if len(scores) < 2:
        assert result.sd is None and result.ci is None
        return
    sd = float(np.std(scores, ddof=1))
    assert close(result.sd, sd)
    half = stats.t.ppf(0.975, len(scores) - 1) * sd / math.sqrt(len(scores))
    assert result.ci is not None
    assert close(result.ci[0], float(np.mean(scores)) - half)
    assert close(result.ci[1], float(np.mean(scores)) + half)
    exact = [Fraction(s).limit_denominator(12) for s in scores]
    if len(set(exact)) == 1:
        assert result.sd == 0.0


@settings(max_examples=200, deadline=None)
@given(sample, sample)
def test_welch_gap_matches_scipy(staff: list[list[int | None]], customers: list[list[int | None]]) -> None:
    a, b = scores_of(staff), scores_of(customers)
    gap = welch_gap(histogram(staff), histogram(customers))
    if not a or not b:
        assert gap.value is None and gap.top_box_gap is None
        return
    assert close(gap.value, float(np.mean(a) - np.mean(b)))
    top_a = sum(s >= 4 for s in a) / len(a)
    top_b = sum(s >= 4 for s in b) / len(b)
    assert close(gap.top_box_gap, top_a - top_b)
    constant = len({round(s, 9) for s in a}) == 1 and len({round(s, 9) for s in b}) == 1
    if len(a) < 2 or len(b) < 2 or constant:
        assert gap.ci is None and gap.p is None
        return
    expected = scipy_welch(a, b)
    low, high = expected.confidence_interval(confidence_level=0.95)
    assert close(gap.p, float(expected.pvalue))
    assert gap.ci is not None
    assert close(gap.ci[0], float(low)) and close(gap.ci[1], float(high))


@settings(max_examples=100, deadline=None)
@given(sample, st.integers(1, 8))
def test_care_index_and_indifference_match_definition(overall: list[list[int | None]], min_n: int) -> None:
    scores = scores_of(overall)
    index, rate = care_index(histogram(overall), min_n=min_n), indifference_rate(histogram(overall), min_n=min_n)
    if len(scores) < min_n or not scores:
        assert index is None and rate is None
        return
    assert close(index, (float(np.mean(scores)) - 1) / 4 * 100)
    assert close(rate, sum(s <= 2.0 for s in scores) / len(scores))
    assert index is not None and 0 <= index <= 100


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=30), st.lists(st.integers(1, 5), min_size=2, max_size=30))
def test_large_frequencies_stay_exact(a: list[int], b: list[int]) -> None:
    # Multiplying every frequency by 10^6 keeps the mean and shrinks the SE by 1000.
    big_a = {key: 10**6 * f for key, f in histogram([[x] for x in a]).items()}
    big_b = {key: 10**6 * f for key, f in histogram([[x] for x in b]).items()}
    assume(len(set(a)) > 1 or len(set(b)) > 1)
    gap = welch_gap(big_a, big_b)
    assert close(gap.value, float(np.mean(a) - np.mean(b)))
    assert gap.p is not None and 0.0 <= gap.p <= 1.0
    assert describe(big_a).sd is not None
