"""Report cells: the gap report's score histograms, kept up to date as answers are written.

Why: a report over a million answers must not read a million answers. Each respondent counts
once in a handful of cells (survey x team x UTC month x perspective x dimension or item x
(score sum, items answered)); a report sums the cells it needs (`reports_query.cells_statement`),
so its cost grows with teams and months, not with answers.

One definition: the cells are what `reports_query.histogram_statement` (the SQL that computes
the histograms from the answers) counts, and they change in the transaction that writes the
answers. How each write keeps them in step:
- the customer submit, the hottest path, counts its new response from the scores it has in hand
  (`add_new_response`, via the pure `response_cells`; tests hold it to the SQL definition);
- CSV import (and `add` in general) runs the statement restricted to the new responses;
- ORM writes (staff and leader ratings, open links, the demo, tests) are followed by a session
  hook (`track`): before a flush changes a response's answers, predictions, team, time or
  perspective, that response's cells are taken out; after the flush they are put back in;
- `rebuild` recomputes a survey's cells from its answers (`flask report-cells`, for an operator
  who changed answers by hand in SQL or bulk-loaded rows past the app).
Concurrent writers stay correct: every change is an INSERT .. ON CONFLICT DO UPDATE adding (or
taking) counts, in a fixed key order so two transactions never lock the same cells crosswise.
"""

import functools
from collections import Counter
from datetime import UTC

from sqlalchemy import Integer, bindparam, cast, delete, event, func, inspect, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from perception.core.models import Answer, PredictedAnswer, ReportCell, Response
from perception.reports.histogram_queries import (
    CELL,
    DIMENSION,
    ITEM,
    OVERALL,
    PREDICTED_DIMENSION,
    PREDICTED_ITEM,
    RESPONSES,
    histogram_statement,
)

KEY_COLUMNS = ("survey_id", "team_id", "month", "perspective", "kind", "subject_id", "score_sum", "answered")


# Attributes of a response that move it between cells (answers and predictions aside); the
# relationships too, since their foreign keys only change when the flush writes them.
PLACEMENT = ("survey_id", "survey", "team_id", "team", "submitted_at", "perspective")
CHUNK = 1000  # response ids per statement (well inside SQLite's limit on bound parameters)


def _cells_statement(dialect_name, conditions, sign):
    """INSERT .. SELECT .. ON CONFLICT adding (sign 1) or taking out (sign -1) the cells of the
    responses matching `conditions`, all of the survey bound as :survey_id. The conditions name
    the responses by id where they can: a survey id beside an id can lead the planner to scan
    the survey's responses instead of fetching one (seen on PostgreSQL with a generic plan)."""
    survey_id = cast(bindparam("survey_id"), Integer)
    histograms = histogram_statement(conditions, by=CELL).subquery()
    columns = histograms.c
    rows = (
        select(
            survey_id, columns.team_id, columns.month, columns.perspective, columns.kind, columns.key, columns.s,
            columns.c, (columns.n * sign).label("n"),
        )
        # "WHERE true" keeps SQLite from reading ON CONFLICT as the ON of a join.
        .where(literal_column("1") == 1)
        # One key order for every writer: concurrent transactions lock shared cells in the same order.
        .order_by(columns.team_id, columns.month, columns.perspective, columns.kind, columns.key, columns.s,
                  columns.c)
    )
    return _adding_respondents(_insert(dialect_name).from_select([*KEY_COLUMNS, "respondents"], rows))


def _insert(dialect_name):
    return (postgresql.insert if dialect_name == "postgresql" else sqlite.insert)(ReportCell.__table__)


def _adding_respondents(statement):
    """`statement` (an INSERT into report_cells) adding its respondents to a cell that exists."""
    return statement.on_conflict_do_update(
        index_elements=list(KEY_COLUMNS),
        set_={"respondents": ReportCell.__table__.c.respondents + statement.excluded.respondents},
    )


@functools.cache
def _one_response_statement(dialect_name, sign):
    """Built once: the submit path counts one response per request."""
    return _cells_statement(dialect_name, [Response.__table__.c.id == bindparam("response_id")], sign)


def _change(connection, survey_id, response_ids, sign):
    ids = sorted(set(response_ids))
    if len(ids) == 1:
        connection.execute(_one_response_statement(connection.dialect.name, sign),
                           {"survey_id": survey_id, "response_id": ids[0]})
    else:
        for start in range(0, len(ids), CHUNK):
            chunk = Response.__table__.c.id.in_(ids[start:start + CHUNK])
            connection.execute(_cells_statement(connection.dialect.name, [chunk], sign), {"survey_id": survey_id})
    if sign < 0:
        connection.execute(delete(ReportCell).where(ReportCell.survey_id == survey_id, ReportCell.respondents <= 0))


def add(session, survey_id, response_ids):
    """Count newly written responses of a survey in their cells, in the session's transaction
    (for writes past the ORM; ORM writes are counted by the session hook)."""
    if response_ids:
        _change(session.connection(), survey_id, response_ids, 1)


def response_cells(place, scores, dimension_of, predictions=None):
    """The cells one response adds, as histogram_statement would count it (pure Python, for the
    submit path, which has the scores in hand). `place` is (survey id, team id or None,
    submitted_at, perspective); `scores` and `predictions` map item ids of the survey to 1-5;
    `dimension_of` maps item ids to dimension ids."""
    survey_id, team_id, submitted_at, perspective = place
    month = submitted_at.astimezone(UTC).strftime("%Y-%m")
    base = (survey_id, team_id or 0, month, perspective)
    counts = Counter({(*base, RESPONSES, 0, 0, 0): 1})
    kinds = [(scores, DIMENSION, ITEM)]
    if perspective == "staff" and predictions:
        kinds.append((predictions, PREDICTED_DIMENSION, PREDICTED_ITEM))
    for answers, dimension_kind, item_kind in kinds:
        per_dimension = {}
        for item_id, score in answers.items():
            counts[(*base, item_kind, item_id, score, 1)] += 1
            total, count = per_dimension.get(dimension_of[item_id], (0, 0))
            per_dimension[dimension_of[item_id]] = (total + score, count + 1)
        for dimension_id, (total, count) in per_dimension.items():
            counts[(*base, dimension_kind, dimension_id, total, count)] += 1
        if dimension_kind == DIMENSION and answers:
            counts[(*base, OVERALL, 0, sum(answers.values()), len(answers))] += 1
    return [dict(zip((*KEY_COLUMNS, "respondents"), (*key, n), strict=True)) for key, n in sorted(counts.items())]


@functools.cache
def _values_statement(dialect_name):
    return _adding_respondents(_insert(dialect_name))


def add_new_response(connection, place, scores, dimension_of, predictions=None):
    """Count a response just written past the ORM in its cells (rows in key order: see
    _cells_statement), without reading its answers back."""
    connection.execute(_values_statement(connection.dialect.name),
                       response_cells(place, scores, dimension_of, predictions))


def rebuild(session, survey_id):
    """Recompute every cell of a survey from its answers (in the session's transaction)."""
    connection = session.connection()
    connection.execute(delete(ReportCell).where(ReportCell.survey_id == survey_id))
    whole_survey = Response.__table__.c.survey_id == cast(bindparam("survey_id"), Integer)
    connection.execute(_cells_statement(connection.dialect.name, [whole_survey], 1), {"survey_id": survey_id})


def cell_total(session, survey_id):
    """How many report cells the survey has (what a report over the whole survey sums)."""
    return session.execute(select(func.count()).where(ReportCell.survey_id == survey_id)).scalar_one()


def drift(session, survey_id):
    """{cell key: (stored respondents, respondents computed from the answers)} for every cell of
    the survey where the two differ; empty when the cells are in step with the answers."""
    histograms = histogram_statement([Response.__table__.c.survey_id == survey_id], by=CELL).subquery()
    h = histograms.c
    computed = {(row[:7]): int(row[7]) for row in session.execute(
        select(h.team_id, h.month, h.perspective, h.kind, h.key, h.s, h.c, h.n))}
    cell = ReportCell.__table__.c
    stored = {(row[:7]): int(row[7]) for row in session.execute(
        select(cell.team_id, cell.month, cell.perspective, cell.kind, cell.subject_id, cell.score_sum, cell.answered,
               cell.respondents).where(cell.survey_id == survey_id, cell.respondents != 0))}
    return {key: (stored.get(key, 0), computed.get(key, 0))
            for key in stored.keys() | computed.keys() if stored.get(key, 0) != computed.get(key, 0)}


def _moved(response):
    state = inspect(response)
    return any(state.attrs[name].history.has_changes() for name in PLACEMENT)


def _response_of(session, instance):
    if isinstance(instance, Response):
        return instance
    if instance.response is not None:
        return instance.response
    # An answer taken out of its response's list has lost the object but not the id.
    return session.get(Response, instance.response_id) if instance.response_id is not None else None


def _stored_survey(response):
    """The survey id the database holds for a response (before a pending change of it)."""
    history = inspect(response).attrs.survey_id.history
    return (history.deleted or history.unchanged or [response.survey_id])[0]


def _touched(session):
    """({survey id: ids} of stored responses whose cells change, Response objects to count after
    the flush)."""
    before, after = {}, set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(instance, Response | Answer | PredictedAnswer):
            continue
        if isinstance(instance, Response) and instance in session.dirty and not _moved(instance):
            continue  # a comment or contact change: no score moves
        response = _response_of(session, instance)
        if response is None:
            continue
        if inspect(response).has_identity:
            before.setdefault(_stored_survey(response), set()).add(response.id)
        if response not in session.deleted:
            after.add(response)
    return before, after


def _change_by_survey(connection, responses_by_survey, sign):
    for survey_id, ids in responses_by_survey.items():
        _change(connection, survey_id, ids, sign)


def _before_flush(session, _context, _instances):
    before, after = _touched(session)
    # The database still holds the old answers: take them out before the flush writes.
    _change_by_survey(session.connection(), before, -1)
    session.info.setdefault("report_cells_after", set()).update(after)


def _after_flush(session, _context):
    after = session.info.pop("report_cells_after", set())
    by_survey = {}
    for response in after:
        if inspect(response).has_identity:
            by_survey.setdefault(response.survey_id, set()).add(response.id)
    _change_by_survey(session.connection(), by_survey, 1)


def _after_rollback(session):
    session.info.pop("report_cells_after", None)


HOOKS = (("before_flush", _before_flush), ("after_flush_postexec", _after_flush), ("after_rollback", _after_rollback))


def track(sessions):
    """Keep the cells in step with ORM writes made through `sessions` (a scoped session or
    session class). Idempotent: create_app calls it for every app it builds."""
    for name, hook in HOOKS:
        if not event.contains(sessions, name, hook):
            event.listen(sessions, name, hook)
