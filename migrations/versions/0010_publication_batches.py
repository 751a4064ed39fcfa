"""Publication in batches (no small difference, issue #13): responses.published_at. Answers enter
the figures MIN_N at a time per (survey, team, staff member served, perspective), in order of
submission; a batch is dated by its last answer. Existing responses are put in batches the same
way (MIN_N 5, the environment's default, frozen here) and the report cells are rebuilt from the
published responses, by month of publication.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 12:00:00

"""
from collections import Counter, defaultdict
from datetime import UTC

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later code): the batch size, and the kinds of report
# cell as in perception/reports/histogram_queries.py.
MIN_N = 5
DIMENSION, ITEM, PREDICTED_DIMENSION, PREDICTED_ITEM, OVERALL, RESPONSES = range(6)
ROWS = 5000


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_responses_published', ['survey_id', 'published_at'], unique=False)
        batch_op.create_index('ix_responses_unpublished',
                              ['survey_id', 'perspective', 'team_id', 'staff_id', 'submitted_at', 'id'], unique=False,
                              sqlite_where=sa.text('published_at IS NULL'),
                              postgresql_where=sa.text('published_at IS NULL'))
    connection = op.get_bind()
    _publish(connection)
    _rebuild_cells(connection)


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_unpublished', sqlite_where=sa.text('published_at IS NULL'),
                            postgresql_where=sa.text('published_at IS NULL'))
        batch_op.drop_index('ix_responses_published')
        batch_op.drop_column('published_at')
    # The cells go back to every response by month of submission (what 0006 to 0009 expect).
    _rebuild_cells(op.get_bind(), published_only=False)


def _publish(connection):
    """Form the batches of every group in submission order; a batch takes the submission time
    (as stored) of its last response."""
    rows = connection.execute(sa.text(
        "SELECT id, survey_id, perspective, COALESCE(team_id, 0), COALESCE(staff_id, 0) FROM responses"
        " ORDER BY survey_id, perspective, COALESCE(team_id, 0), COALESCE(staff_id, 0), submitted_at, id"
    )).all()
    groups = defaultdict(list)
    for response_id, *group in rows:
        groups[tuple(group)].append(response_id)
    updates = []
    for ids in groups.values():
        complete = len(ids) - len(ids) % MIN_N
        for start in range(0, complete, MIN_N):
            batch = ids[start:start + MIN_N]
            updates += [{"rid": response_id, "last": batch[-1]} for response_id in batch]
    statement = sa.text("UPDATE responses SET published_at = "
                        "(SELECT tail.submitted_at FROM responses tail WHERE tail.id = :last) WHERE id = :rid")
    for start in range(0, len(updates), ROWS):
        connection.execute(statement, updates[start:start + ROWS])


def _month(value):
    """'YYYY-MM' in UTC of a stored timestamp (SQLite hands back naive UTC text)."""
    if isinstance(value, str):
        return value[:7]
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime('%Y-%m')


def _rebuild_cells(connection, published_only=True):
    """Every cell again, from the published responses keyed by their month of publication (or,
    going down, from every response by month of submission)."""
    connection.execute(sa.text("DELETE FROM report_cells"))
    moment = "published_at" if published_only else "submitted_at"
    where = " WHERE published_at IS NOT NULL" if published_only else ""
    responses = connection.execute(sa.text(
        f"SELECT id, survey_id, COALESCE(team_id, 0), perspective, {moment} FROM responses{where} ORDER BY id"  # noqa: S608
    )).all()
    if not responses:
        return
    dimension_of = dict(connection.execute(sa.text("SELECT id, dimension_id FROM items")).all())
    in_survey = set(connection.execute(sa.text("SELECT survey_id, item_id FROM survey_items")).all())
    scores = defaultdict(lambda: ([], []))
    for table, slot in (('answers', 0), ('predicted_answers', 1)):
        for response_id, item_id, score in connection.execute(sa.text(
                f"SELECT response_id, item_id, score FROM {table}")):  # noqa: S608  (fixed table names)
            scores[response_id][slot].append((item_id, score))
    cells = Counter()
    for response_id, survey_id, team_id, perspective, moment_value in responses:
        place = (survey_id, team_id, _month(moment_value), perspective)
        cells[(*place, RESPONSES, 0, 0, 0)] += 1
        answers, predictions = scores.get(response_id, ([], []))
        answers = [(item, score) for item, score in answers if (survey_id, item) in in_survey]
        predictions = [(item, score) for item, score in predictions if (survey_id, item) in in_survey]
        _count(cells, place, answers, DIMENSION, ITEM, dimension_of, overall=True)
        if perspective == 'staff':
            _count(cells, place, predictions, PREDICTED_DIMENSION, PREDICTED_ITEM, dimension_of, overall=False)
    table = sa.table('report_cells', *(sa.column(name) for name in (
        'survey_id', 'team_id', 'month', 'perspective', 'kind', 'subject_id', 'score_sum', 'answered', 'respondents')))
    rows = [dict(zip(table.c.keys(), (*key, count), strict=True)) for key, count in sorted(cells.items())]
    for start in range(0, len(rows), ROWS):
        connection.execute(table.insert(), rows[start:start + ROWS])


def _count(cells, place, scores, dimension_kind, item_kind, dimension_of, overall):
    if not scores:
        return
    per_dimension = defaultdict(lambda: [0, 0])
    for item_id, score in scores:
        cells[(*place, item_kind, item_id, score, 1)] += 1
        totals = per_dimension[dimension_of[item_id]]
        totals[0] += score
        totals[1] += 1
    for dimension_id, (total, count) in per_dimension.items():
        cells[(*place, dimension_kind, dimension_id, total, count)] += 1
    if overall:
        cells[(*place, OVERALL, 0, sum(score for _, score in scores), len(scores))] += 1
