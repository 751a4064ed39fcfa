"""Property tests of the gap report built straight from random histograms (degenerate ones included:
one respondent, everybody giving the same score, huge counts, empty groups): the JSON is always
strict (no NaN or infinity), and the anonymity rules hold in every cell and across groups."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception.insights import DimensionSpec, GroupInput, ItemSpec, build_gap_report

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)

DIMENSIONS = (DimensionSpec("trust", "Trust", ("t1", "t2")), DimensionSpec("respect", "Respect", ("r1",)))
ITEMS = (ItemSpec("t1", "trust"), ItemSpec("t2", "trust"), ItemSpec("r1", "respect"))
PERSPECTIVES = ("customer", "staff", "leader")
STATS_KEYS = {"n", "mean", "sd", "ci", "top_box", "suppressed"}


@st.composite
def score_counts(draw, items_per_respondent=(1, 2)):
    """A histogram {(sum of scores, number answered): respondents}."""
    counts = {}
    for _ in range(draw(st.integers(0, 4))):
        answered = draw(st.sampled_from(items_per_respondent))
        total = draw(st.integers(answered, 5 * answered))
        counts[(total, answered)] = draw(st.one_of(st.integers(1, 6), st.integers(1, 10**6)))
    return counts


@st.composite
def group_inputs(draw):
    dimension_scores, item_scores, predicted = {}, {}, {}
    for perspective in draw(st.sets(st.sampled_from(PERSPECTIVES))):
        for dimension in DIMENSIONS:
            dimension_scores[(perspective, dimension.key)] = draw(score_counts((1, 2)))
        for item in ITEMS:
            item_scores[(perspective, item.key)] = draw(score_counts((1,)))
    if draw(st.booleans()):
        predicted = {dimension.key: draw(score_counts((1,))) for dimension in DIMENSIONS}
    overall = {perspective: draw(score_counts((1, 2, 3))) for perspective in PERSPECTIVES if draw(st.booleans())}
    return GroupInput(dimension_scores=dimension_scores, item_scores=item_scores,
                      predicted_dimension_scores=predicted, overall_scores=overall)


def merged(groups: list[GroupInput]) -> GroupInput:
    """The whole survey: every group's histograms added together."""
    fields = {}
    for name in ("dimension_scores", "item_scores", "predicted_dimension_scores", "overall_scores"):
        total: dict = {}
        for group in groups:
            for key, counts in getattr(group, name).items():
                total[key] = Counter(total.get(key, {})) + Counter(counts)
        fields[name] = {key: dict(counts) for key, counts in total.items()}
    return GroupInput(**fields)


def stats_cells(node):
    if isinstance(node, dict):
        if node.keys() >= STATS_KEYS:
            yield node
        for value in node.values():
            yield from stats_cells(value)
    elif isinstance(node, list):
        for value in node:
            yield from stats_cells(value)


def respondents(counts) -> int:
    return sum(counts.values())


@settings(max_examples=100, deadline=None)
@given(st.lists(group_inputs(), min_size=1, max_size=4), st.integers(1, 8))
def test_any_histograms_give_strict_json_and_keep_the_anonymity_rules(groups, min_n):
    labelled = [(f"team {index}", group) for index, group in enumerate(groups)]
    report = build_gap_report(survey="wave", dimensions=DIMENSIONS, items=ITEMS, overall=merged(groups),
                              min_n=min_n, group_by="team", groups=labelled).to_dict()
    json.dumps(report, allow_nan=False)

    for cell in stats_cells(report):
        if cell["suppressed"]:
            assert cell["mean"] is None and cell["sd"] is None and cell["ci"] is None and cell["top_box"] is None
        else:
            assert cell["n"] >= min_n and 1 <= cell["mean"] <= 5 and 0 <= cell["top_box"] <= 1
            assert cell["sd"] is None or cell["sd"] >= 0
            if cell["ci"] is not None:
                low, high = cell["ci"]
                assert low <= cell["mean"] + 1e-9 and cell["mean"] <= high + 1e-9

    for scope in [report, *report["groups"]]:
        for row in scope["dimensions"] + scope["items"]:
            if row["gap"]["value"] is not None:  # a gap only between two cells that are shown
                assert not row["customer"]["suppressed"] and not row["staff"]["suppressed"]
                assert abs(row["gap"]["value"] - (row["staff"]["mean"] - row["customer"]["mean"])) < 1e-9

    # Across groups: the hidden respondents of a cell can never be recovered by subtracting the
    # shown groups from the total: together they are none, or at least min_n.
    for index, dimension in enumerate(DIMENSIONS):
        for perspective in PERSPECTIVES:
            sizes = [respondents(group.dimension_scores.get((perspective, dimension.key), {})) for group in groups]
            flags = [scope["dimensions"][index][perspective]["suppressed"] for scope in report["groups"]]
            hidden = sum(n for n, flag in zip(sizes, flags, strict=True) if flag)
            shown = [n for n, flag in zip(sizes, flags, strict=True) if not flag and n]
            assert hidden == 0 or hidden >= min_n or not shown, (sizes, flags, min_n)
