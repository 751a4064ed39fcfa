"""A follow-up of a customer who did not allow contact is due FOLLOWUP_DUE_HOURS after the end of the
UTC day it opened, not after the minute it opened (perception.followups.queries.clock_start): its due
time, and with it "overdue", gave away the minute of the answer (tenth session's attacker's read).
This moves the due time of the follow-ups already stored by the same rule, keeping the number of
hours they were given; the downgrade moves them back.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 15:30:00

"""
from datetime import UTC, timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

follow_ups = sa.table('follow_ups', sa.column('id', sa.Integer), sa.column('response_id', sa.Integer),
                      sa.column('opened_at', sa.DateTime(timezone=True)), sa.column('due_at', sa.DateTime(timezone=True)))
responses = sa.table('responses', sa.column('id', sa.Integer), sa.column('contact_consent', sa.Boolean))


def _utc(moment):
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _clock_shift(opened_at):
    """From the minute a follow-up opened to the end of its UTC day, less the microsecond that shows a
    due time at a midnight as the day it ends (perception.followups.queries.due_time)."""
    opened = _utc(opened_at)
    return opened.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1, microseconds=-1) - opened


def _move_due_times(direction):
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(follow_ups.c.id, follow_ups.c.opened_at, follow_ups.c.due_at)
        .join(responses, responses.c.id == follow_ups.c.response_id)
        .where(responses.c.contact_consent.is_(False))
    ).all()
    moved = [{"row_id": row_id, "due": _utc(due) + direction * _clock_shift(opened)} for row_id, opened, due in rows]
    if moved:
        connection.execute(follow_ups.update().where(follow_ups.c.id == sa.bindparam("row_id"))
                           .values(due_at=sa.bindparam("due")), moved)


def upgrade():
    _move_due_times(1)


def downgrade():
    _move_due_times(-1)
