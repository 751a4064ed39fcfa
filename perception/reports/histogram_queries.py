"""The SQL behind the gap report: score histograms aggregated inside the database.

Only small histograms come back to Python: for every (group, perspective, dimension or item,
score sum, items answered) the number of respondents. A respondent is a response. Only answers
to items of the survey count.

Two statements, one definition:
- `histogram_statement` computes the histograms from the answers themselves (one UNION ALL).
  Grouped by CELL (team and UTC month) it is what fills the report cells
  (perception/reports/service.py), restricted to the responses being written;
- `cells_statement` sums the report cells a report needs. Reports read only the cells, so their
  cost depends on the number of teams and months, not on the number of answers.

Only published responses count (answers enter the figures in batches, see
perception/insights/publication.py and perception/reports/service.py). The group key is a
constant (no grouping), the response's team id (0 for no team), or the UTC month of
`published_at` ('YYYY-MM', computed the same way on SQLite and PostgreSQL).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, func, literal, literal_column, select, union_all

from perception.core.database import utc_month
from perception.core.models import Answer, Item, PredictedAnswer, ReportCell, Response, survey_items

# Row kinds of the aggregate statement.
DIMENSION, ITEM, PREDICTED_DIMENSION, PREDICTED_ITEM, OVERALL, RESPONSES = range(6)
CELL = "cell"  # group by team and month: the key of a report cell
# Roll-up cells: a report of every team, or of every month, sums a few of these instead of one
# cell per team and month, so its cost does not grow with the number of teams (or months).
ALL_TEAMS = -1  # team_id of the cells that add up every team (responses without a team included)
ALL_MONTHS = "*"  # month of the cells that add up every month


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
    """(labelled group columns, GROUP BY terms) on `table` (responses or an alias of it).

    A constant group (no --by) is selected but never grouped by: GROUP BY 0 would mean
    "the first column" to SQL.
    """
    if by == CELL:
        team, month = func.coalesce(table.c.team_id, literal_column("0")), utc_month(table.c.published_at)
        return [team.label("team_id"), month.label("month")], [team, month]
    if by == "team":
        return [table.c.team_id.label("grp")], [table.c.team_id]
    if by == "month":
        month = utc_month(table.c.published_at)
        return [month.label("grp")], [month]
    return [literal_column("0").label("grp")], []


def _per_respondent(scores, conditions, by, by_dimension):
    """(response, group column(s), perspective, [dimension,] sum, count) of each respondent's
    answered survey items. The group and perspective depend on the response alone; carrying them
    here spares a second join to the responses (whose plan, for one response, PostgreSQL may get
    wrong before its statistics exist)."""
    r, i = Response.__table__, Item.__table__
    columns, grouping = _group_key(by, r)
    keys = [scores.c.response_id.label("rid")]
    joined = r.join(scores, scores.c.response_id == r.c.id).join(
        survey_items, and_(survey_items.c.survey_id == r.c.survey_id, survey_items.c.item_id == scores.c.item_id)
    )
    if by_dimension:
        keys.append(i.c.dimension_id.label("key"))
        joined = joined.join(i, i.c.id == scores.c.item_id)
    carried = columns if grouping else []  # a constant group is added by _histogram
    return (
        select(*keys, *carried, r.c.perspective.label("perspective"), func.sum(scores.c.score).label("s"),
               func.count().label("c"))
        .select_from(joined)
        .where(*conditions)
        .group_by(*(key.element for key in keys), *grouping, r.c.perspective)
    )


def _carried_group(by, source):
    """(labelled group columns, GROUP BY terms) of a per-respondent subquery `source`."""
    if by == CELL:
        return [source.c.team_id, source.c.month], [source.c.team_id, source.c.month]
    if by in ("team", "month"):
        return [source.c.grp], [source.c.grp]
    return [literal_column("0").label("grp")], []


def _histogram(kind, per_respondent, by, with_key):
    """(kind, group, perspective, key, sum, count, respondents) from per-respondent rows."""
    columns, grouping = _carried_group(by, per_respondent)
    key = per_respondent.c.key if with_key else literal_column("0")
    return (
        select(
            literal_column(str(kind)).label("kind"), *columns, per_respondent.c.perspective, key.label("key"),
            per_respondent.c.s, per_respondent.c.c, func.count().label("n"),
        )
        .group_by(*grouping, per_respondent.c.perspective, *([per_respondent.c.key] if with_key else []),
                  per_respondent.c.s, per_respondent.c.c)
    )


def _item_histogram(kind, scores, conditions, by):
    r = Response.__table__
    columns, grouping = _group_key(by, r)
    return (
        select(
            literal_column(str(kind)).label("kind"), *columns, r.c.perspective.label("perspective"),
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


def histogram_statement(conditions, *, by=None):
    """The one statement that computes every histogram of a report from the answers.

    Rows: (kind, group column(s), perspective, dimension or item id (0 for none), score sum,
    items answered, respondents); for the RESPONSES kind sum and count are 0. `conditions` are
    on the responses table (e.g. its survey, or the ids of the responses being written); only
    published responses count, in the month of their publication.
    """
    r = Response.__table__
    conditions = [*conditions, r.c.published_at.is_not(None)]
    answers, predictions = Answer.__table__, PredictedAnswer.__table__
    staff_only = [*conditions, r.c.perspective == "staff"]

    # Each respondent's (sum, count) per dimension, computed once and reused for the overall
    # figures (summed over dimensions), so the answers are read twice, not three times.
    per_dimension = _per_respondent(answers, conditions, by, by_dimension=True).cte("per_dimension")
    carried, carried_grouping = _carried_group(by, per_dimension)
    carried = carried if carried_grouping else []
    overall = (
        select(per_dimension.c.rid, *carried, per_dimension.c.perspective,
               func.sum(per_dimension.c.s).label("s"), func.sum(per_dimension.c.c).label("c"))
        .group_by(per_dimension.c.rid, *carried_grouping, per_dimension.c.perspective)
        .subquery("overall")
    )
    predicted = _per_respondent(predictions, staff_only, by, by_dimension=True).subquery("predicted")
    columns, grouping = _group_key(by, r)
    responses = (
        select(
            literal_column(str(RESPONSES)).label("kind"), *columns, r.c.perspective.label("perspective"),
            literal_column("0").label("key"), literal_column("0").label("s"), literal_column("0").label("c"),
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


def rolled_up(histograms):
    """The cells of `histograms` (histogram_statement by CELL, as a CTE) and their roll-ups: the
    same rows with the team as ALL_TEAMS, the month as ALL_MONTHS, and both, summed per cell key."""
    h = histograms.c
    rest = [h.perspective, h.kind, h.key, h.s, h.c, h.n]
    every_team, every_month = literal_column(str(ALL_TEAMS)), literal(ALL_MONTHS)
    variants = union_all(
        select(h.team_id, h.month, *rest),
        select(every_team.label("team_id"), h.month, *rest),
        select(h.team_id, every_month.label("month"), *rest),
        select(every_team.label("team_id"), every_month.label("month"), *rest),
    ).subquery("rolled")
    v = variants.c
    key = [v.team_id, v.month, v.perspective, v.kind, v.key, v.s, v.c]
    return select(*key, func.sum(v.n).label("n")).group_by(*key)


def cell_conditions(survey_id, team_id, month_from, month_to, by=None):
    """The cells a report reads: one team's, every team's (by team) or the roll-up of all teams;
    per month when the report is by month or bounded by months, else the roll-up of all months."""
    cell = ReportCell.__table__
    conditions = [cell.c.survey_id == survey_id]
    if team_id is not None:
        conditions.append(cell.c.team_id == team_id)
    elif by == "team":
        conditions.append(cell.c.team_id > ALL_TEAMS)
    else:
        conditions.append(cell.c.team_id == ALL_TEAMS)
    if by == "month" or month_from is not None or month_to is not None:
        conditions.append(cell.c.month != ALL_MONTHS)
    else:
        conditions.append(cell.c.month == ALL_MONTHS)
    if month_from is not None:
        conditions.append(cell.c.month >= month_from)
    if month_to is not None:
        conditions.append(cell.c.month <= month_to)
    return conditions


def cells_statement(survey_id, *, by=None, team_id=None, month_from=None, month_to=None, kinds=None):
    """The histograms of a report, summed from the report cells, in the row shape of
    `histogram_statement` (one group column). Months are 'YYYY-MM', both bounds inclusive;
    `kinds`: only these row kinds (e.g. OVERALL alone for the care index per team)."""
    cell = ReportCell.__table__
    conditions = cell_conditions(survey_id, team_id, month_from, month_to, by)
    if kinds is not None:
        conditions.append(cell.c.kind.in_(kinds))
    group = {"team": cell.c.team_id, "month": cell.c.month}.get(by)
    histogram = [cell.c.perspective, cell.c.subject_id, cell.c.answered, cell.c.score_sum]  # the index's order
    respondents = func.sum(cell.c.respondents)
    return (
        select(
            cell.c.kind, (group if group is not None else literal_column("0")).label("grp"), cell.c.perspective,
            cell.c.subject_id.label("key"), cell.c.score_sum.label("s"), cell.c.answered.label("c"),
            respondents.label("n"),
        )
        .where(*conditions)
        .group_by(cell.c.kind, *([group] if group is not None else []), *histogram)
        .having(respondents > 0)
    )


def item_counts_statement(survey_id, *, team_id=None, month_from=None, month_to=None):
    """Rows (item key, perspective, score, answers) summed from the report cells."""
    cell, item = ReportCell.__table__, Item.__table__
    conditions = [*cell_conditions(survey_id, team_id, month_from, month_to), cell.c.kind == ITEM]
    answers = func.sum(cell.c.respondents)
    return (
        select(item.c.key, cell.c.perspective, cell.c.score_sum, answers)
        .join(item, item.c.id == cell.c.subject_id)
        .where(*conditions)
        .group_by(item.c.key, cell.c.perspective, cell.c.score_sum)
        .having(answers > 0)
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


def customer_dimension_sums(survey_id, *conditions):
    """SELECT (rid, did, s, c): each published customer's sum and count of answered survey items per
    dimension, within `conditions` on the responses table (answers waiting for their batch count in no
    figure: perception/insights/publication.py). Used by the key drivers and the staff mirror."""
    r, a, i = Response.__table__, Answer.__table__, Item.__table__
    return (
        select(r.c.id.label("rid"), i.c.dimension_id.label("did"), func.sum(a.c.score).label("s"),
               func.count().label("c"))
        .select_from(
            r.join(a, a.c.response_id == r.c.id)
            .join(survey_items, and_(survey_items.c.survey_id == r.c.survey_id, survey_items.c.item_id == a.c.item_id))
            .join(i, i.c.id == a.c.item_id)
        )
        .where(r.c.survey_id == survey_id, r.c.perspective == "customer", r.c.published_at.is_not(None), *conditions)
        .group_by(r.c.id, i.c.dimension_id)
    )
