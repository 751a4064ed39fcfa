"""Publication in batches (DESIGN section 2, "No small difference"; the rule is
perception/insights/publication.py): which of a write's groups complete a batch, and the update
that dates them. Counting the published answers in the report cells is perception/reports/service.py.

On PostgreSQL a transaction takes a lock per group (pg_advisory_xact_lock, in group order, before
reading its unpublished answers), so two writers never form overlapping batches; on SQLite the
transaction already holds the database's one write lock.
"""

import functools
import zlib

from flask import current_app
from sqlalchemy import Integer, String, bindparam, cast, func, or_, select, text, update
from sqlalchemy.sql.functions import aggregate_strings

from perception.core.models import Answer, PredictedAnswer, Response
from perception.insights import answer_pattern, batches_by_pattern


def group_of(survey_id, team_id, staff_id, perspective, consent):
    """The publication group of a response: (survey id, team id or None, staff member served or
    None, perspective, whether the customer allowed contact when they answered: the response's
    answered_with_consent, which an erasure leaves as it was).

    Consent splits a group because the answers of a customer who allowed contact are shown one by one
    with who they are (their timeline, their follow-up, the webhooks): in a batch of MIN_N where all
    but one had allowed it, the rows and figures of the batch less those known answers were the one
    who had not (found by the tenth session's attacker's read). Batched among themselves, the answers
    given without consent are always at least MIN_N people's."""
    return (survey_id, team_id, staff_id, perspective, bool(consent))


def _group_order(group):
    survey_id, team_id, staff_id, perspective, consent = group
    return (survey_id, team_id is not None, team_id or 0, staff_id is not None, staff_id or 0, perspective, consent)


def lock_key(group):
    """The parameters of GROUP_LOCK for `group`: two 32-bit integers naming it (a collision only makes
    two groups wait for each other)."""
    survey_id, team_id, staff_id, perspective, consent = group
    return {"lock_survey": survey_id,
            "lock_rest": zlib.crc32(f"{team_id}:{staff_id}:{perspective}:{consent:d}".encode()) - 2**31}


# PostgreSQL: a group's lock, held until the transaction ends. A writer may take it inside a statement
# of its own (the customer submit does, saving a round trip) and tell publish_dated so (`locked`).
GROUP_LOCK = func.pg_advisory_xact_lock(cast(bindparam("lock_survey"), Integer), cast(bindparam("lock_rest"), Integer))
_LOCK = select(GROUP_LOCK)
_PUBLISH = (
    update(Response.__table__)
    .where(Response.__table__.c.id == bindparam("rid"))
    .values(published_at=bindparam("stamp", type_=Response.__table__.c.published_at.type))
)


def _item_ids(table):
    """The item ids of the response's rows in `table` (answers, predictions) as one text, "3,1,2"
    (any order: `_pattern` sorts them), None for none: a scalar subquery of a select of responses."""
    rows = table.__table__.c
    return (select(aggregate_strings(cast(rows.item_id, String), ","))
            .where(rows.response_id == Response.__table__.c.id).scalar_subquery())


# What a pending response gave, beside its id and time: insights.answer_pattern from these columns.
_PATTERN_COLUMNS = (Response.__table__.c.nps.is_not(None), _item_ids(Answer), _item_ids(PredictedAnswer))


def _ids(listed):
    return [int(item_id) for item_id in listed.split(",")] if listed else []


def _pattern(recommendation, answered, predicted):
    return answer_pattern(_ids(answered), _ids(predicted), recommendation)


@functools.cache
def _pending_statement(team_known, staff_known):
    """The unpublished responses of a group in submission order, with what each answered (the
    partial index ix_responses_unpublished holds only these)."""
    r = Response.__table__.c
    return (
        select(r.id, r.submitted_at, *_PATTERN_COLUMNS)
        .where(
            r.survey_id == bindparam("survey_id"), r.perspective == bindparam("perspective"),
            r.team_id == bindparam("team_id") if team_known else r.team_id.is_(None),
            r.staff_id == bindparam("staff_id") if staff_known else r.staff_id.is_(None),
            r.answered_with_consent == bindparam("consent"), r.published_at.is_(None),
        )
        .order_by(r.submitted_at, r.id)
    )


def min_n():
    """The batch size: the app's MIN_N."""
    return current_app.config["MIN_N"]


# Many groups (an import's chunk): every lock in one statement, in the order of the arrays
# (PostgreSQL evaluates a volatile function of the select list after its ORDER BY).
_LOCKS = text("SELECT pg_advisory_xact_lock(s, r) FROM unnest(CAST(:surveys AS integer[]), CAST(:rests AS integer[])) "
              "WITH ORDINALITY AS locks (s, r, o) ORDER BY o")
_PUBLISH_MANY = text("UPDATE responses SET published_at = dated.stamp FROM unnest(CAST(:ids AS integer[]), "
                     "CAST(:stamps AS timestamptz[])) AS dated (id, stamp) WHERE responses.id = dated.id")
# PostgreSQL, from this many groups: one select of their unpublished responses instead of one per group
# (a round trip each). Not on SQLite, which has no round trip to save: there its planner answered the
# one select of many groups now from the partial index ix_responses_unpublished, now from the survey's
# whole index by submission time or by team, published rows included (so each chunk of an import read
# every row written before it: 9 of a 150,000-row import's 28 s), while one group's select names all
# four columns of its group and is answered from the partial index alone.
BULK = 8


def _pending_of_many(connection, groups):
    """{group: [(id, submitted_at, answer pattern)] in submission order} for many groups, in one select
    (of the unpublished responses of their surveys, perspectives and teams: fewer than MIN_N per group
    and pattern after every write, so little more than the groups' own)."""
    r = Response.__table__.c
    teams = {team_id for _s, team_id, _st, _p, _c in groups}
    team_condition = r.team_id.in_(sorted(teams - {None}))
    if None in teams:
        team_condition = or_(team_condition, r.team_id.is_(None))
    rows = connection.execute(
        select(r.id, r.submitted_at, *_PATTERN_COLUMNS, r.survey_id, r.team_id, r.staff_id, r.perspective,
               r.answered_with_consent).where(
            r.survey_id.in_(sorted({group[0] for group in groups})),
            r.perspective.in_(sorted({group[3] for group in groups})),
            team_condition, r.published_at.is_(None))
        .order_by(r.submitted_at, r.id)
    )
    pending = {group: [] for group in groups}
    for response_id, submitted_at, recommendation, answered, predicted, *group in rows:
        found = pending.get(group_of(*group))
        if found is not None:
            found.append((response_id, submitted_at, _pattern(recommendation, answered, predicted)))
    return pending


def _pending_of(connection, group):
    """[(id, submitted_at, answer pattern)] of one group's unpublished responses in submission order."""
    survey_id, team_id, staff_id, perspective, consent = group
    rows = connection.execute(_pending_statement(team_id is not None, staff_id is not None), {
        "survey_id": survey_id, "perspective": perspective, "team_id": team_id, "staff_id": staff_id,
        "consent": consent})
    return [(response_id, submitted_at, _pattern(*given)) for response_id, submitted_at, *given in rows]


def _submission_order(pending):
    response_id, submitted_at, _pattern = pending
    return submitted_at, response_id


def lock_groups(connection, groups):
    """Take the GROUP_LOCK of each of `groups` in group order, held to the end of the transaction
    (PostgreSQL; nothing to do on SQLite, whose writer holds the database's one lock). Returns the
    groups, locked."""
    groups = sorted(set(groups), key=_group_order)
    if connection.dialect.name != "postgresql":
        return groups
    if len(groups) >= BULK:
        keys = [lock_key(group) for group in groups]
        connection.execute(_LOCKS, {"surveys": [key["lock_survey"] for key in keys],
                                    "rests": [key["lock_rest"] for key in keys]})
    else:
        for group in groups:
            connection.execute(_LOCK, lock_key(group))
    return groups


def publish_dated(connection, groups, arriving=None, *, locked=frozenset()):
    """Publish the complete batches of `groups` (see group_of) in the connection's transaction,
    without counting them in the cells. Returns {survey id: {published response id: published_at}}.
    `locked`: groups whose GROUP_LOCK this transaction already holds (PostgreSQL).

    Per group: one select of its unpublished responses and what each answered (fewer than MIN_N of
    each answer pattern after every write through the app; one select for all when there are many),
    and only when a batch completes, an update of its MIN_N responses.

    `arriving` ({group: [(id, submitted_at, insights.answer_pattern)]}, for a bulk write): unpublished
    responses not written yet, whose ids are already given. They join their group's unpublished responses in submission
    order (then id) as if stored; the caller writes them with the dates returned (an update of a row
    just written would write it twice), only stored ones are updated here."""
    arriving = arriving or {}
    groups = sorted(set(groups) | arriving.keys(), key=_group_order)
    size = min_n()
    lock_groups(connection, [group for group in groups if group not in locked])
    if len(groups) >= BULK and connection.dialect.name == "postgresql":
        pending_by_group = _pending_of_many(connection, groups)
    else:
        pending_by_group = {group: _pending_of(connection, group) for group in groups}
    published = {}
    for group, pending in pending_by_group.items():
        if group in arriving:  # in submission order, then id: the order of the select above
            pending = sorted([*pending, *arriving[group]], key=_submission_order)
        for stamp, ids in batches_by_pattern(pending, size):
            published.setdefault(group[0], {}).update(dict.fromkeys(ids, stamp))
    written = {response_id for new in arriving.values() for response_id, _at, _given in new}
    stamps = [{"rid": response_id, "stamp": stamp}
              for dated in published.values() for response_id, stamp in dated.items() if response_id not in written]
    if connection.dialect.name == "postgresql" and len(stamps) >= BULK:
        # One statement: psycopg's executemany is still one UPDATE per row for the server.
        connection.execute(_PUBLISH_MANY, {"ids": [stamp["rid"] for stamp in stamps],
                                           "stamps": [stamp["stamp"] for stamp in stamps]})
    elif stamps:  # one executemany for every batch
        connection.execute(_PUBLISH, stamps)
    return published
