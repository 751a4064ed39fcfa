"""The gap report's reading of the report cells, as moments: per group, perspective, dimension or
item and number of answered items, the respondents and the sums of their score sums and squares
(perception/insights/moments.py), added up by the database.

A by-team report of 2,000 teams reads some 500,000 report cells (histogram bars); as moments the
database sends back a fifth as many rows, and Python builds each exact Summary from a few integers
instead of cleaning and summarising a histogram (the figures are the same to the last bit).
"""

from collections import defaultdict

from sqlalchemy import BigInteger, case, cast, func, literal_column, select

from perception.core.models import ReportCell
from perception.insights import GroupInput, merge_summaries, summary_from_moments
from perception.reports.histogram_queries import (
    DIMENSION,
    ITEM,
    OVERALL,
    PREDICTED_DIMENSION,
    PREDICTED_ITEM,
    cell_conditions,
)

KINDS = (DIMENSION, ITEM, PREDICTED_DIMENSION, PREDICTED_ITEM, OVERALL)


def moments_statement(survey_id, *, by=None, team_id=None, month_from=None, month_to=None):
    """Rows (kind, group, perspective, subject id, answered, respondents, sum of r * s, sum of
    r * s^2, respondents with s >= 4 answered, with s <= 2 answered) over the cells the report
    reads (`histogram_queries.cell_conditions`); group as in `cells_statement`."""
    cell = ReportCell.__table__
    c = cell.c
    group = {"team": c.team_id, "month": c.month}.get(by)
    respondents = c.respondents
    count = func.sum(respondents)
    # r * s^2 of a whole chain passes 2^31: that product alone in 64 bits (PostgreSQL sums 32-bit
    # integers into 64 bits, but 64-bit ones into slower numerics, so the others stay 32-bit).
    squares = cast(respondents, BigInteger) * c.score_sum * c.score_sum
    return (
        select(
            c.kind, (group if group is not None else literal_column("0")).label("grp"), c.perspective,
            c.subject_id, c.answered, count, func.sum(respondents * c.score_sum), func.sum(squares),
            func.sum(case((c.score_sum >= 4 * c.answered, respondents), else_=0)),
            func.sum(case((c.score_sum <= 2 * c.answered, respondents), else_=0)),
        )
        .where(*cell_conditions(survey_id, team_id, month_from, month_to, by), c.kind.in_(KINDS),
               c.answered >= 1)
        .group_by(c.kind, *([group] if group is not None else []), c.perspective, c.subject_id, c.answered)
        .having(count > 0)
    )


def collect_moments(rows):
    """{group: {(kind, perspective, subject id): [(answered, respondents, first, second, top, low)]}}."""
    groups = defaultdict(lambda: defaultdict(list))
    for kind, group, perspective, subject, answered, respondents, first, second, top, low in rows:
        groups[group][(kind, perspective, subject)].append(
            (answered, int(respondents), int(first), int(second), int(top), int(low)))
    return dict(groups)


class ReportKeys(dict):
    """(kind, perspective, subject id) -> (kind, the GroupInput key), worked out once per report."""

    def __init__(self, dimension_keys, item_keys):
        super().__init__()
        self.dimension_keys, self.item_keys = dimension_keys, item_keys

    def __missing__(self, cell):
        kind, perspective, subject = cell
        if kind == DIMENSION:
            key = (perspective, self.dimension_keys[subject])
        elif kind == ITEM:
            key = (perspective, self.item_keys[subject][0])
        elif kind == PREDICTED_DIMENSION:
            key = self.dimension_keys[subject]
        elif kind == PREDICTED_ITEM:
            key = self.item_keys[subject][0]
        else:
            key = perspective
        self[cell] = (kind, key)
        return kind, key


def moments_input(parts, keys):
    """One GroupInput of exact Summaries from {(kind, perspective, subject id): [moments]} (those of
    one group, or of several groups concatenated: moments add up); `keys` a ReportKeys."""
    fields = {kind: {} for kind in KINDS}
    for cell, moments in parts.items():
        kind, key = keys[cell]
        summary = summary_from_moments(moments)
        target = fields[kind]
        target[key] = merge_summaries((target[key], summary)) if key in target else summary
    return GroupInput(
        dimension_scores=fields[DIMENSION],
        item_scores=fields[ITEM],
        predicted_dimension_scores=fields[PREDICTED_DIMENSION],
        predicted_item_scores=fields[PREDICTED_ITEM],
        overall_scores=fields[OVERALL],
    )


def all_groups(data):
    """The moments of every group of `data` (collect_moments) together."""
    together = defaultdict(list)
    for parts in data.values():
        for key, moments in parts.items():
            together[key].extend(moments)
    return together
