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


def _group_key(by, table):
    """(expression, GROUP BY terms) on `table` (responses or an alias of it).

    A constant group (no --by) is selected but never grouped by: GROUP BY 0 would mean
    "the first column" to SQL.
    """
    if by == "team":
        return table.c.team_id, [table.c.team_id]
    if by == "month":
        month = utc_month(table.c.submitted_at)
        return month, [month]
    return literal_column("0"), []


def _per_respondent(scores, conditions, by_dimension):
    """(response, [dimension,] sum, count) of each respondent's answered survey items.

    Grouped by integer ids only (the big aggregation over every answer stays cheap); the
    respondent's group and perspective are looked up afterwards, once per respondent.
    """
    r, i = Response.__table__, Item.__table__
    keys = [scores.c.response_id.label("rid")]
    joined = r.join(scores, scores.c.response_id == r.c.id).join(
        survey_items, and_(survey_items.c.survey_id == r.c.survey_id, survey_items.c.item_id == scores.c.item_id)
    )
    if by_dimension:
        keys.append(i.c.dimension_id.label("key"))
        joined = joined.join(i, i.c.id == scores.c.item_id)
    return (
        select(*keys, func.sum(scores.c.score).label("s"), func.count().label("c"))
        .select_from(joined)
        .where(*conditions)
        .group_by(*(key.element for key in keys))
    )


def _histogram(kind, per_respondent, by, with_key):
    """(kind, group, perspective, key, sum, count, respondents) from per-respondent rows."""
    respondent = Response.__table__.alias("respondent")
    expression, grouping = _group_key(by, respondent)
    key = per_respondent.c.key if with_key else literal_column("NULL")
    return (
        select(
            literal_column(str(kind)).label("kind"), expression.label("grp"),
            respondent.c.perspective.label("perspective"), key.label("key"),
            per_respondent.c.s, per_respondent.c.c, func.count().label("n"),
        )
        .select_from(per_respondent.join(respondent, respondent.c.id == per_respondent.c.rid))
        .group_by(*grouping, respondent.c.perspective, *([per_respondent.c.key] if with_key else []),
                  per_respondent.c.s, per_respondent.c.c)
    )


def _item_histogram(kind, scores, conditions, by):
    r = Response.__table__
    expression, grouping = _group_key(by, r)
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
        .group_by(*grouping, r.c.perspective, scores.c.item_id, scores.c.score)
    )


def aggregate_statement(survey_id, *, by=None, team_id=None, start=None, end=None):
    """The one statement that returns every histogram of a report.

    Rows: (kind, group, perspective, dimension or item id, score sum, items answered, respondents).
    `start`/`end` bound `submitted_at` (start inclusive, end exclusive).
    """
    r = Response.__table__
    answers, predictions = Answer.__table__, PredictedAnswer.__table__
    conditions = [r.c.survey_id == survey_id]
    if team_id is not None:
        conditions.append(r.c.team_id == team_id)
    if start is not None:
        conditions.append(r.c.submitted_at >= start)
    if end is not None:
        conditions.append(r.c.submitted_at < end)
    staff_only = [*conditions, r.c.perspective == "staff"]

    # Each respondent's (sum, count) per dimension, computed once and reused for the overall
    # figures (summed over dimensions), so the answers are read twice, not three times.
    per_dimension = _per_respondent(answers, conditions, by_dimension=True).cte("per_dimension")
    overall = (
        select(per_dimension.c.rid, func.sum(per_dimension.c.s).label("s"), func.sum(per_dimension.c.c).label("c"))
        .group_by(per_dimension.c.rid)
        .subquery("overall")
    )
    predicted = _per_respondent(predictions, staff_only, by_dimension=True).subquery("predicted")
    expression, grouping = _group_key(by, r)
    responses = (
        select(
            literal_column(str(RESPONSES)).label("kind"), expression.label("grp"), r.c.perspective.label("perspective"),
            literal_column("NULL").label("key"), literal_column("NULL").label("s"), literal_column("NULL").label("c"),
            func.count().label("n"),
        )
        .where(*conditions)
        .group_by(*grouping, r.c.perspective)
    )
    return union_all(
        _histogram(DIMENSION, per_dimension, by, with_key=True),
        _item_histogram(ITEM, answers, conditions, by),
        _histogram(PREDICTED_DIMENSION, predicted, by, with_key=True),
        _item_histogram(PREDICTED_ITEM, predictions, staff_only, by),
        _histogram(OVERALL, overall, by, with_key=False),
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
