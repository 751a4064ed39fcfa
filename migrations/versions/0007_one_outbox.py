"""One outbox for every mail: follow-up alerts and re-survey links become outbox rows beside
invitations and reminders (claimed, retried and recorded the same way). Pending alerts move in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 16:40:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later code).
MAX_ATTEMPTS = 8
ONE_SUBJECT = ("(CASE WHEN invitation_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN follow_up_id IS NULL THEN 0 ELSE 1 END)"
               " + (CASE WHEN recovery_id IS NULL THEN 0 ELSE 1 END) = 1")


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('invitation_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('follow_up_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recovery_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_follow_up_id_follow_ups'), 'follow_ups',
                                    ['follow_up_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_recovery_id_recovery_requests'), 'recovery_requests',
                                    ['recovery_id'], ['id'], ondelete='CASCADE')
        batch_op.create_unique_constraint(op.f('uq_outbox_messages_follow_up_kind_sequence'), ['follow_up_id', 'kind', 'sequence'])
        batch_op.create_unique_constraint(op.f('uq_outbox_messages_recovery_kind_sequence'), ['recovery_id', 'kind', 'sequence'])
        batch_op.drop_constraint(op.f('ck_outbox_messages_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_kind'), "kind IN ('invitation', 'reminder', 'alert', 'recovery')")
        batch_op.create_check_constraint(op.f('ck_outbox_messages_one_subject'), ONE_SUBJECT)
    # Alerts still waiting in their follow-up row (notified_at null) become outbox rows.
    now = datetime.now(UTC)
    connection = op.get_bind()
    pending = connection.execute(sa.text(
        "SELECT id, notify_attempts FROM follow_ups WHERE notified_at IS NULL AND assignee_id IS NOT NULL"
    )).all()
    outbox = sa.table('outbox_messages', sa.column('follow_up_id'), sa.column('kind'), sa.column('sequence'),
                      sa.column('status'), sa.column('attempts'), sa.column('next_attempt_at'),
                      sa.column('created_at'))
    rows = [{'follow_up_id': followup_id, 'kind': 'alert', 'sequence': 0,
             'status': 'pending' if attempts < MAX_ATTEMPTS else 'failed', 'attempts': attempts,
             'next_attempt_at': now, 'created_at': now} for followup_id, attempts in pending]
    if rows:
        op.bulk_insert(outbox, rows)


def downgrade():
    # Alerts and re-survey mails leave the outbox; an alert not sent yet stays pending in its follow-up row.
    op.execute("DELETE FROM outbox_messages WHERE invitation_id IS NULL")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_messages_one_subject'), type_='check')
        batch_op.drop_constraint(op.f('ck_outbox_messages_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_kind'), "kind IN ('invitation', 'reminder')")
        batch_op.drop_constraint(op.f('uq_outbox_messages_recovery_kind_sequence'), type_='unique')
        batch_op.drop_constraint(op.f('uq_outbox_messages_follow_up_kind_sequence'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_recovery_id_recovery_requests'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_follow_up_id_follow_ups'), type_='foreignkey')
        batch_op.drop_column('recovery_id')
        batch_op.drop_column('follow_up_id')
        batch_op.alter_column('invitation_id', existing_type=sa.Integer(), nullable=False)
