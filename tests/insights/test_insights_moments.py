"""Summaries from moments (what SQL adds up) equal the summaries of the histograms themselves."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception.insights import describe, merge_summaries, summarise, summary_from_moments, welch_gap

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)


def moments(histogram: dict[tuple[int, int], int]) -> list[tuple[int, int, int, int, int, int]]:
    """One part per count, as perception.reports.moments_queries sums them in SQL."""
    parts: dict[int, list[int]] = {}
    for (total, count), respondents in histogram.items():
        part = parts.setdefault(count, [0, 0, 0, 0, 0])
        part[0] += respondents
        part[1] += respondents * total
        part[2] += respondents * total * total
        part[3] += respondents if total >= 4 * count else 0
        part[4] += respondents if total <= 2 * count else 0
    return [(count, *part) for count, part in parts.items()]


bars = st.dictionaries(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda count: st.tuples(st.integers(min_value=count, max_value=5 * count), st.just(count))),
    st.integers(min_value=1, max_value=40),
    max_size=12,
)


def test_hand_worked() -> None:
    histogram = {(9, 2): 3, (4, 1): 2, (7, 3): 1}  # scores 4.5 x3, 4 x2, 7/3
    summary = summary_from_moments(moments(histogram))
    assert summary == summarise(histogram)
    assert (summary.n, summary.scale, summary.top, summary.low) == (6, 6, 5, 0)
    assert summary_from_moments([]) == summarise({}) and summary_from_moments([(1, 0, 0, 0, 0, 0)]).n == 0


@settings(max_examples=150, deadline=None)
@given(first=bars, second=bars)
def test_moments_and_merges_equal_histograms(first: dict, second: dict) -> None:
    a, b = summary_from_moments(moments(first)), summary_from_moments(moments(second))
    assert describe(a) == describe(first) and describe(b) == describe(second)
    assert welch_gap(a, b) == welch_gap(first, second)
    together = dict(first)
    for key, respondents in second.items():
        together[key] = together.get(key, 0) + respondents
    merged = merge_summaries([a, b])
    assert describe(merged) == describe(together)
    assert (merged.mean, merged.variance, merged.top_box, merged.low_box) == (
        summarise(together).mean, summarise(together).variance, summarise(together).top_box,
        summarise(together).low_box)
    assert summary_from_moments(moments(first) + moments(second)).mean == summarise(together).mean
