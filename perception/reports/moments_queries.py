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
from perception.insights import GroupInput, Summary, merge_summaries
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
    # integers into 64 bits, but 64-bit ones into slower numerics, so the others stay 32-bit). Its
    # sum comes back as a 64-bit integer too (it stays far below 2^63): as a numeric, psycopg made a
    # Decimal of each of a 2,000-team report's 100,000 rows, a tenth of the report's time.
    squares = cast(respondents, BigInteger) * c.score_sum * c.score_sum
    return (
        select(
            c.kind, (group if group is not None else literal_column("0")).label("grp"), c.perspective,
            c.subject_id, c.answered, count, func.sum(respondents * c.score_sum), cast(func.sum(squares), BigInteger),
            func.sum(case((c.score_sum >= 4 * c.answered, respondents), else_=0)),
            func.sum(case((c.score_sum <= 2 * c.answered, respondents), else_=0)),
        )
        .where(*cell_conditions(survey_id, team_id, month_from, month_to, by), c.kind.in_(KINDS),
               c.answered >= 1)
        .group_by(c.kind, *([group] if group is not None else []), c.perspective, c.subject_id, c.answered)
        .having(count > 0)
    )


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


EMPTY_INPUT = GroupInput()  # a group without answers

_FIELDS = {DIMENSION: "dimension_scores", ITEM: "item_scores", PREDICTED_DIMENSION: "predicted_dimension_scores",
           PREDICTED_ITEM: "predicted_item_scores", OVERALL: "overall_scores"}


def group_inputs(rows, keys):
    """{group: GroupInput of exact Summaries} from the rows of `moments_statement`, in one pass;
    `keys` a ReportKeys. A (kind, perspective, subject) with one number of answered items (every
    item, most dimensions) is one row and becomes its Summary at once (`summary_from_moments` of one
    part: the count is the scale); further rows of it add up exactly (`merge_summaries`)."""
    fields_by_group = {}
    for kind, group, perspective, subject, answered, respondents, first, second, top, low in rows:
        if answered < 1 or respondents < 1:  # as summary_from_moments: no respondent, or nothing answered
            continue
        fields = fields_by_group.get(group)
        if fields is None:
            fields = fields_by_group[group] = {name: {} for name in _FIELDS}
        field_kind, key = keys[(kind, perspective, subject)]
        summary = Summary(int(respondents), int(first), int(second), answered, int(top), int(low))
        target = fields[field_kind]
        found = target.get(key)
        target[key] = summary if found is None else merge_summaries((found, summary))
    return {group: GroupInput(**{_FIELDS[kind]: values for kind, values in fields.items()})
            for group, fields in fields_by_group.items()}


def merged_input(inputs):
    """One GroupInput of the respondents of several groups (`group_inputs`) together (exact)."""
    together = {name: defaultdict(list) for name in _FIELDS.values()}
    for data in inputs:
        for name, summaries in together.items():
            for key, summary in getattr(data, name).items():
                summaries[key].append(summary)
    return GroupInput(**{name: {key: merge_summaries(parts) for key, parts in summaries.items()}
                         for name, summaries in together.items()})
