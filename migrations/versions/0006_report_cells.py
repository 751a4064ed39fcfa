"""Report cells: pre-aggregated score histograms of the gap report (perception/report_cells.py),
filled from the answers already stored.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 23:10:00

"""
from collections import Counter, defaultdict
from datetime import UTC

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Kinds of cell, as in perception/reports_query.py (frozen here: a migration must not follow later code).
DIMENSION, ITEM, PREDICTED_DIMENSION, PREDICTED_ITEM, OVERALL, RESPONSES = range(6)
BATCH = 5000


def upgrade():
    op.create_table('report_cells',
    sa.Column('survey_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('team_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('perspective', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('subject_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('score_sum', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('answered', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('survey_id', 'team_id', 'month', 'perspective', 'kind', 'subject_id', 'score_sum', 'answered', name=op.f('pk_report_cells'))
    )
    _fill(op.get_bind())


def downgrade():
    op.drop_table('report_cells')


def _month(value):
    """'YYYY-MM' in UTC of a stored submitted_at (SQLite hands back naive UTC text)."""
    if isinstance(value, str):
        return value[:7]
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime('%Y-%m')


def _fill(connection):
    """Count every stored response in its cells, one response at a time in id order."""
    responses = connection.execute(sa.text(
        "SELECT id, survey_id, COALESCE(team_id, 0), perspective, submitted_at FROM responses ORDER BY id"
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
    for response_id, survey_id, team_id, perspective, submitted_at in responses:
        place = (survey_id, team_id, _month(submitted_at), perspective)
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
    for start in range(0, len(rows), BATCH):
        connection.execute(table.insert(), rows[start:start + BATCH])


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

