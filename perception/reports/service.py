"""Report cells: the gap report's score histograms of the published answers, kept up to date as
answers are written; and the publication of answers in batches.

Why cells: a report over a million answers must not read a million answers. Each published
respondent counts once in a handful of cells (survey x team x UTC month of publication x
perspective x dimension or item x (score sum, items answered)); a report sums the cells it needs
(`histogram_queries.cells_statement`), so its cost grows with teams and months, not with answers.
The same statement keeps roll-ups beside them (team ALL_TEAMS, month ALL_MONTHS, and both), so a
report of the whole chain, by month, or of one team over all months reads a few cells whatever the
number of teams, and a by-team report reads one cell set per team, not one per team and month.

Why batches (DESIGN section 2, "No small difference"; the rule is perception/insights/publication.py):
an answer enters the figures only with a whole batch of MIN_N answers of its group (survey, team,
staff member served, perspective, consent to contact: batch_service.group_of), dated by the batch's
last answer (`published_at`). `publish` forms the complete batches of the groups a write touched, in
the same transaction, and counts them in the cells; an answer waiting for its batch is in no cell
and no figure.

One definition: the cells are what `histogram_queries.histogram_statement` (the SQL that computes
the histograms from the published answers, by month of publication) counts, and they change in
the transaction that writes the answers:
- the customer submit (the hottest path) and CSV import write past the ORM and call `publish`
  for the groups they wrote to (one small select per group when no batch completes);
- ORM writes (staff and leader ratings, open links, the demo, tests) are followed by a session
  hook (`track`): before a flush changes a published response's answers, predictions, team, time,
  perspective or publication, its cells are taken out; after the flush they are put back in, and
  the groups of the responses written are published;
- `rebuild` publishes what rows loaded past the app complete and recomputes a survey's cells
  (`flask report-cells`).
Concurrent writers stay correct: every change of a cell is an INSERT .. ON CONFLICT DO UPDATE
adding (or taking) counts, in a fixed key order so two transactions never lock the same cells
crosswise; on PostgreSQL a transaction takes a lock per group (pg_advisory_xact_lock, in group
order, before reading its unpublished answers), so two submits never form overlapping batches.
On SQLite the transaction already holds the database's one write lock.
"""

import functools

from sqlalchemy import Integer, bindparam, cast, delete, event, func, inspect, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite

from perception.core.models import Answer, PredictedAnswer, ReportCell, Response
from perception.reports.batch_service import group_of, lock_groups, publish_dated
from perception.reports.histogram_queries import CELL, histogram_statement, rolled_up

KEY_COLUMNS = ("survey_id", "team_id", "month", "perspective", "kind", "subject_id", "score_sum", "answered")


# Attributes of a response that move it between cells (answers and predictions aside); the
# relationships too, since their foreign keys only change when the flush writes them.
PLACEMENT = ("survey_id", "survey", "team_id", "team", "staff_id", "staff", "submitted_at", "perspective",
             "published_at")
CHUNK = 1000  # response ids per statement (well inside SQLite's limit on bound parameters)


def _cells_statement(dialect_name, conditions, sign):
    """INSERT .. SELECT .. ON CONFLICT adding (sign 1) or taking out (sign -1) the cells of the
    responses matching `conditions`, all of the survey bound as :survey_id. The conditions name
    the responses by id where they can: a survey id beside an id can lead the planner to scan
    the survey's responses instead of fetching one (seen on PostgreSQL with a generic plan)."""
    survey_id = cast(bindparam("survey_id"), Integer)
    # Each team-and-month cell and its roll-ups (every team, every month, both) in one statement.
    histograms = rolled_up(histogram_statement(conditions, by=CELL).cte("histograms")).subquery()
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


@functools.cache
def _many_responses_statement(dialect_name, sign):
    """Built once too: a submit that completes a batch counts MIN_N responses (building this
    statement anew cost more than running it)."""
    ids = Response.__table__.c.id.in_(bindparam("response_ids", expanding=True))
    return _cells_statement(dialect_name, [ids], sign)


def _change(connection, survey_id, response_ids, sign):
    ids = sorted(set(response_ids))
    if len(ids) == 1:
        connection.execute(_one_response_statement(connection.dialect.name, sign),
                           {"survey_id": survey_id, "response_id": ids[0]})
    else:
        statement = _many_responses_statement(connection.dialect.name, sign)
        for start in range(0, len(ids), CHUNK):
            connection.execute(statement, {"survey_id": survey_id, "response_ids": ids[start:start + CHUNK]})
    if sign < 0:
        connection.execute(delete(ReportCell).where(ReportCell.survey_id == survey_id, ReportCell.respondents <= 0))


def add(session, survey_id, response_ids):
    """Count newly written responses of a survey in their cells, in the session's transaction
    (for writes past the ORM; ORM writes are counted by the session hook)."""
    if response_ids:
        _change(session.connection(), survey_id, response_ids, 1)


def publish(connection, groups, *, count_cells=True, locked=frozenset()):
    """Publish the complete batches of `groups` (see batch_service.publish_dated, and its `locked`) and count
    them in the report cells. Returns {survey id: [published response ids]}."""
    published = {survey_id: list(dated)
                 for survey_id, dated in publish_dated(connection, groups, locked=locked).items()}
    if count_cells:
        _change_by_survey(connection, published, 1)
    return published


def publish_survey(session, survey_id, *, count_cells=True):
    """Publish the complete batches of every group of a survey (rows loaded past the app)."""
    r = Response.__table__.c
    connection = session.connection()
    groups = connection.execute(
        select(r.team_id, r.staff_id, r.perspective, r.answered_with_consent).distinct().where(
            r.survey_id == survey_id, r.published_at.is_(None))
    ).all()
    return publish(connection, [group_of(survey_id, *group) for group in groups], count_cells=count_cells)


def rebuild(session, survey_id):
    """Publish what rows loaded past the app complete, then recompute every cell of a survey from
    its published answers (in the session's transaction)."""
    publish_survey(session, survey_id, count_cells=False)
    connection = session.connection()
    connection.execute(delete(ReportCell).where(ReportCell.survey_id == survey_id))
    whole_survey = Response.__table__.c.survey_id == cast(bindparam("survey_id"), Integer)
    connection.execute(_cells_statement(connection.dialect.name, [whole_survey], 1), {"survey_id": survey_id})


def merge_team(connection, from_id, into_id):
    """Move every answer of team `from_id` to team `into_id`, the cells with them, and publish the
    batches the two teams' waiting answers now complete together (a team merge; the caller commits).
    Published answers keep their batch and date, so each figure changes by whole batches only."""
    cell, r = ReportCell.__table__.c, Response.__table__.c
    # A customer's submit that completes a batch holds its group's lock and then counts the batch in
    # its team's cells; this merge writes those cells and then takes the locks of the groups it
    # publishes. Taken in that order both ways round, each could wait for the other (a deadlock, and a
    # customer's answer refused): so the locks of every group of both teams with answers waiting (the
    # groups a submit can complete a batch in, MIN_N >= 2), and of what they become, come first,
    # before any cell is touched.
    pending_groups = connection.execute(select(r.survey_id, r.team_id, r.staff_id, r.perspective,
                                               r.answered_with_consent).distinct().where(
        r.team_id.in_((from_id, into_id)), r.published_at.is_(None))).all()
    locked = lock_groups(connection, [group for survey_id, team_id, staff_id, perspective, consent in pending_groups
                                      for group in (group_of(survey_id, team_id, staff_id, perspective, consent),
                                                    group_of(survey_id, into_id, staff_id, perspective, consent))])
    moved = select(cell.survey_id, literal_column(str(int(into_id))), *(cell[name] for name in KEY_COLUMNS[2:]),
                   cell.respondents).where(cell.team_id == from_id).order_by(*(cell[name] for name in KEY_COLUMNS))
    connection.execute(_adding_respondents(_insert(connection.dialect.name).from_select(
        [*KEY_COLUMNS, "respondents"], moved)))
    connection.execute(delete(ReportCell).where(ReportCell.team_id == from_id))
    connection.execute(update(Response.__table__).where(r.team_id == from_id).values(team_id=into_id))
    waiting = connection.execute(select(r.survey_id, r.staff_id, r.perspective, r.answered_with_consent)
                                 .distinct().where(r.team_id == into_id, r.published_at.is_(None))).all()
    return publish(connection, [group_of(survey_id, into_id, staff_id, perspective, consent)
                                for survey_id, staff_id, perspective, consent in waiting], locked=frozenset(locked))


def cell_total(session, survey_id):
    """How many report cells the survey has (what a report over the whole survey sums)."""
    return session.execute(select(func.count()).where(ReportCell.survey_id == survey_id)).scalar_one()


def drift(session, survey_id):
    """{cell key: (stored respondents, respondents computed from the answers)} for every cell of
    the survey where the two differ; empty when the cells are in step with the answers."""
    histograms = rolled_up(histogram_statement([Response.__table__.c.survey_id == survey_id], by=CELL)
                           .cte("histograms")).subquery()
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
    by_survey, groups = {}, set()
    for response in after:
        if inspect(response).has_identity:
            by_survey.setdefault(response.survey_id, set()).add(response.id)
            groups.add(group_of(response.survey_id, response.team_id, response.staff_id, response.perspective,
                                response.answered_with_consent))
    # Published responses that moved go back into their cells; then new batches are published.
    _change_by_survey(session.connection(), by_survey, 1)
    publish(session.connection(), groups)


def _after_rollback(session):
    session.info.pop("report_cells_after", None)


HOOKS = (("before_flush", _before_flush), ("after_flush_postexec", _after_flush), ("after_rollback", _after_rollback))


def track(sessions):
    """Keep the cells in step with ORM writes made through `sessions` (a scoped session or
    session class). Idempotent: create_app calls it for every app it builds."""
    for name, hook in HOOKS:
        if not event.contains(sessions, name, hook):
            event.listen(sessions, name, hook)
