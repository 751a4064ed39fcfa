"""Benjamini–Hochberg adjusted p-values, checked against scipy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control

from perception.insights import benjamini_hochberg


def test_matches_scipy_on_a_page_of_tests():
    rng = np.random.default_rng(16)
    p = list(rng.uniform(0, 1, 48) ** 3)
    assert benjamini_hochberg(p) == pytest.approx(list(false_discovery_control(p, method="bh")))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=1, max_size=30))
def test_none_is_no_test_and_the_rest_match_scipy(p_values):
    adjusted = benjamini_hochberg(p_values)
    assert [a is None for a in adjusted] == [p is None for p in p_values]
    tested = [p for p in p_values if p is not None]
    if tested:
        expected = false_discovery_control(tested, method="bh")
        assert [a for a in adjusted if a is not None] == pytest.approx(list(expected))


def test_adjusting_never_lowers_a_p_value():
    p = [0.001, 0.01, 0.02, 0.04, 0.5]
    assert all(a >= raw for a, raw in zip(benjamini_hochberg(p), p, strict=True))
    assert benjamini_hochberg([]) == []
