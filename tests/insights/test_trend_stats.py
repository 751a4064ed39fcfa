"""Changes since the previous wave (perception.insights.trend), checked against scipy and numpy."""

import math

import numpy as np
import pytest
from scipy import stats

from perception.insights import NULL_CHANGE, describe, difference, gap_change, histogram, mean_change, welch_contrast
from perception.insights.stats import PerspectiveStats

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)


def _stats(scores):
    return describe(histogram([[int(s)] for s in scores]))


def test_mean_change_is_welchs_test_on_the_two_waves():
    before, after = [3, 4, 2, 3, 3, 4, 2, 5], [4, 5, 4, 3, 5, 4, 4, 5, 5]
    change = mean_change(_stats(before), _stats(after))
    expected = stats.ttest_ind(after, before, equal_var=False)
    assert change.value == pytest.approx(np.mean(after) - np.mean(before), rel=1e-12)
    assert change.p == pytest.approx(expected.pvalue, rel=1e-9)
    low, high = expected.confidence_interval(0.95)
    assert change.ci == pytest.approx((low, high), rel=1e-9)
    from_stats = stats.ttest_ind_from_stats(np.mean(after), np.std(after, ddof=1), len(after),
                                            np.mean(before), np.std(before, ddof=1), len(before), equal_var=False)
    assert change.p == pytest.approx(from_stats.pvalue, rel=1e-9)


def test_gap_change_combines_four_samples_like_an_independent_computation():
    rng = np.random.default_rng(16)
    staff_1, customers_1 = rng.integers(3, 6, 12), rng.integers(1, 6, 30)
    staff_2, customers_2 = rng.integers(2, 6, 9), rng.integers(2, 6, 25)
    gap_1 = staff_1.mean() - customers_1.mean()
    gap_2 = staff_2.mean() - customers_2.mean()
    change = gap_change(gap_1, (_stats(staff_1), _stats(customers_1)), gap_2, (_stats(staff_2), _stats(customers_2)))
    # The textbook Welch-Satterthwaite computation over the four samples, with numpy and scipy.
    samples = (staff_2, customers_2, staff_1, customers_1)
    parts = [np.var(s, ddof=1) / len(s) for s in samples]
    se = math.sqrt(sum(parts))
    df = sum(parts) ** 2 / sum(v * v / (len(s) - 1) for v, s in zip(parts, samples, strict=True))
    value = gap_2 - gap_1
    assert change.value == pytest.approx(value, rel=1e-12)
    assert change.p == pytest.approx(2 * stats.t.sf(abs(value) / se, df), rel=1e-9)
    half = stats.t.ppf(0.975, df) * se
    assert change.ci == pytest.approx((value - half, value + half), rel=1e-9)


def test_two_samples_reduce_to_scipy_welch():
    change = welch_contrast(0.7, [(1.1, 20), (0.8, 14)])
    expected = stats.ttest_ind_from_stats(0.7, 1.1, 20, 0.0, 0.8, 14, equal_var=False)
    assert change.p == pytest.approx(expected.pvalue, rel=1e-9)


def test_a_suppressed_side_gives_no_change():
    shown = _stats([1, 2, 3, 4, 5])
    hidden = PerspectiveStats(n=3, mean=None, sd=None, ci=None, top_box=None, suppressed=True)
    assert mean_change(shown, hidden) == NULL_CHANGE
    assert mean_change(hidden, shown) == NULL_CHANGE
    assert gap_change(0.5, (shown, shown), None, (hidden, shown)) == NULL_CHANGE
    assert difference(None, 3.0) is None and difference(2.0, 3.5) == 1.5


def test_no_spread_gives_a_value_without_interval():
    same = _stats([4, 4, 4, 4, 4])
    change = mean_change(same, _stats([3, 3, 3, 3, 3]))
    assert change.value == -1.0 and change.ci is None and change.p is None
