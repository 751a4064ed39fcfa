"""Benjamini–Hochberg adjusted p-values, checked against scipy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control

from perception.insights import (
    DimensionSpec,
    ItemSpec,
    Response,
    adjust_report,
    benjamini_hochberg,
    build_gap_report,
    group_input_from_responses,
)

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)


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


def _random_report(seed):
    """A grouped report of random answers: three teams, customers, staff and leaders."""
    rng = np.random.default_rng(seed)
    dimensions = [DimensionSpec("trust", "Trust", ("t1", "t2")), DimensionSpec("respect", "Respect", ("r1",))]
    items = [ItemSpec("t1", "trust"), ItemSpec("t2", "trust"), ItemSpec("r1", "respect")]
    groups = []
    for team, shift in (("North", 0.0), ("South", 0.6), ("East", 1.2)):
        responses = [Response(perspective, {key: int(np.clip(round(rng.normal(level + shift, 1)), 1, 5))
                                            for key in ("t1", "t2", "r1")})
                     for perspective, level, count in (("customer", 2.5, 12), ("staff", 3.5, 8), ("leader", 3.0, 6))
                     for _ in range(count)]
        groups.append((team, responses))
    everyone = [response for _, responses in groups for response in responses]
    return build_gap_report(
        survey="wave-1", dimensions=dimensions, items=items, min_n=5, group_by="team",
        overall=group_input_from_responses(everyone, dimensions),
        groups=[(team, group_input_from_responses(responses, dimensions)) for team, responses in groups])


def _gaps(report):
    return [gap for body in (report, *report.groups) for cell in (*body.dimensions, *body.items)
            for gap in (cell.gap, cell.leader_gap)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_report_adjusts_over_all_its_tests_groups_included_as_scipy_does(seed):
    report = _random_report(seed)
    gaps = _gaps(report)
    tested = [gap for gap in gaps if gap.p is not None]
    assert len(tested) > 20  # top level and three teams, dimensions and items, staff and leaders
    expected = false_discovery_control([gap.p for gap in tested], method="bh")
    assert [gap.p_adjusted for gap in tested] == pytest.approx(list(expected), rel=1e-12)
    assert all(gap.p_adjusted is None for gap in gaps if gap.p is None)
    as_json = report.to_dict()
    first = as_json["groups"][0]["dimensions"][0]["gap"]
    assert list(first) == ["value", "ci", "p", "p_adjusted", "top_box_gap"]
    # Adjusting again changes nothing: it always starts from the raw p-values.
    assert adjust_report(report) == report
