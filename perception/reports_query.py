"""The SQL behind the gap report: score histograms aggregated inside the database.

Only small histograms come back to Python: for every (group, perspective, dimension or item,
score sum, items answered) the number of respondents. One statement (a UNION ALL) returns
all of them for a report, so the number of round trips does not depend on the data.

A respondent is a response. Only answers to items of the survey count. The group key is a
constant (no grouping), the response's team id, or the UTC month of `submitted_at`
('YYYY-MM', computed the same way on SQLite and PostgreSQL).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import String, and_, func, literal_column, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .models import Answer, Item, PredictedAnswer, Response, survey_items

# Row kinds of the aggregate statement.
DIMENSION, ITEM, PREDICTED_DIMENSION, PREDICTED_ITEM, OVERALL, RESPONSES = range(6)


class utc_month(FunctionElement):  # noqa: N801  (reads like the SQL function it stands for)
    """'YYYY-MM' of a timestamp in UTC."""

    type = String()
    name = "utc_month"
    inherit_cache = True


@compiles(utc_month, "sqlite")
def _utc_month_sqlite(element, compiler, **kw):
    # UTCDateTime stores UTC text on SQLite; strftime would also apply an explicit offset.
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(utc_month, "postgresql")
def _utc_month_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(utc_month)
def _utc_month_other(element, compiler, **kw):
    raise NotImplementedError(f"utc_month is not defined for the {compiler.dialect.name} dialect")


@dataclass
class Histograms:
    """Raw histograms of one group, keyed by database ids (turned into a GroupInput later)."""

    dimensions: dict = field(default_factory=lambda: defaultdict(dict))  # (perspective, dim id) -> {(s, c): n}
    items: dict = field(default_factory=lambda: defaultdict(dict))  # (perspective, item id) -> {(s, 1): n}
    predicted_dimensions: dict = field(default_factory=lambda: defaultdict(dict))  # dim id -> {(s, c): n}
    predicted_items: dict = field(default_factory=lambda: defaultdict(dict))  # item id -> {(s, 1): n}
    overall: dict = field(default_factory=lambda: defaultdict(dict))  # perspective -> {(s, c): n}
    responses: dict = field(default_factory=dict)  # perspective -> number of responses


def _group_key(by):
    """(expression, GROUP BY terms): a constant group is selected but never grouped by."""
    r = Response.__table__
    if by == "team":
        return r.c.team_id, [r.c.team_id]
    if by == "month":
        month = utc_month(r.c.submitted_at)
        return month, [month]
    return literal_column("0"), []


def _per_respondent(scores, conditions, group, by_dimension):
    """(group, perspective, response, [dimension,] sum, count) of answered survey items."""
    r, i = Response.__table__, Item.__table__
    expression, grouping = group
    keys = [r.c.perspective, r.c.id, *([i.c.dimension_id] if by_dimension else []), *grouping]
    columns = [expression.label("grp"), r.c.perspective.label("perspective"), r.c.id.label("rid")]
    if by_dimension:
        columns.append(i.c.dimension_id.label("key"))
    joined = (
        r.join(scores, scores.c.response_id == r.c.id)
        .join(survey_items, and_(survey_items.c.survey_id == r.c.survey_id, survey_items.c.item_id == scores.c.item_id))
    )
    if by_dimension:
        joined = joined.join(i, i.c.id == scores.c.item_id)
    return (
        select(*columns, func.sum(scores.c.score).label("s"), func.count().label("c"))
        .select_from(joined)
        .where(*conditions)
        .group_by(*keys)
        .subquery()
    )


def _histogram(kind, per_respondent, with_key):
    key = per_respondent.c.key if with_key else literal_column("NULL")
    columns = [per_respondent.c.grp, per_respondent.c.perspective, per_respondent.c.s, per_respondent.c.c]
    return select(
        literal_column(str(kind)).label("kind"), per_respondent.c.grp, per_respondent.c.perspective,
        key.label("key"), per_respondent.c.s, per_respondent.c.c, func.count().label("n"),
    ).group_by(*columns, *([per_respondent.c.key] if with_key else []))


def _item_histogram(kind, scores, conditions, group):
    r = Response.__table__
    expression, grouping = group
    keys = [*grouping, r.c.perspective, scores.c.item_id, scores.c.score]
    return (
        select(
            literal_column(str(kind)).label("kind"), expression.label("grp"), r.c.perspective.label("perspective"),
            scores.c.item_id.label("key"), scores.c.score.label("s"), literal_column("1").label("c"),
            func.count().label("n"),
        )
        .select_from(
            r.join(scores, scores.c.response_id == r.c.id).join(
                survey_items,
                and_(survey_items.c.survey_id == r.c.survey_id, survey_items.c.item_id == scores.c.item_id),
            )
        )
        .where(*conditions)
        .group_by(*keys)
    )


def aggregate_statement(survey_id, *, by=None, team_id=None, start=None, end=None):
    """The one statement that returns every histogram of a report.

    Rows: (kind, group, perspective, dimension or item id, score sum, items answered, respondents).
    `start`/`end` bound `submitted_at` (start inclusive, end exclusive).
    """
    r = Response.__table__
    answers, predictions = Answer.__table__, PredictedAnswer.__table__
    group = _group_key(by)
    conditions = [r.c.survey_id == survey_id]
    if team_id is not None:
        conditions.append(r.c.team_id == team_id)
    if start is not None:
        conditions.append(r.c.submitted_at >= start)
    if end is not None:
        conditions.append(r.c.submitted_at < end)
    staff_only = [*conditions, r.c.perspective == "staff"]

    per_dimension = _per_respondent(answers, conditions, group, by_dimension=True)
    overall = _per_respondent(answers, conditions, group, by_dimension=False)
    predicted = _per_respondent(predictions, staff_only, group, by_dimension=True)
    responses = (
        select(
            literal_column(str(RESPONSES)).label("kind"), group[0].label("grp"), r.c.perspective.label("perspective"),
            literal_column("NULL").label("key"), literal_column("NULL").label("s"), literal_column("NULL").label("c"),
            func.count().label("n"),
        )
        .where(*conditions)
        .group_by(*group[1], r.c.perspective)
    )
    return union_all(
        _histogram(DIMENSION, per_dimension, with_key=True),
        _item_histogram(ITEM, answers, conditions, group),
        _histogram(PREDICTED_DIMENSION, predicted, with_key=True),
        _item_histogram(PREDICTED_ITEM, predictions, staff_only, group),
        _histogram(OVERALL, overall, with_key=False),
        responses,
    )


def collect(rows):
    """Sort the statement's rows into Histograms per group key."""
    groups = defaultdict(Histograms)
    for kind, group, perspective, key, total, count, respondents in rows:
        histograms = groups[group]
        respondents = int(respondents)
        if kind == RESPONSES:
            histograms.responses[perspective] = respondents
            continue
        cell = (int(total), int(count))
        if kind == DIMENSION:
            histograms.dimensions[(perspective, key)][cell] = respondents
        elif kind == ITEM:
            histograms.items[(perspective, key)][cell] = respondents
        elif kind == PREDICTED_DIMENSION:
            histograms.predicted_dimensions[key][cell] = respondents
        elif kind == PREDICTED_ITEM:
            histograms.predicted_items[key][cell] = respondents
        elif kind == OVERALL:
            histograms.overall[perspective][cell] = respondents
    return dict(groups)
