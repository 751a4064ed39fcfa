"""The digest email (issue #16): a per-user setting (users.digest_frequency: weekly, daily or off;
weekly for everyone to start with) and outbox rows of kind 'digest' whose subject is a user
(outbox_messages.user_id), one per user and period (UNIQUE (user_id, kind, sequence); the
sequence holds the period key).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later code).
SUBJECTS = ('invitation_id', 'follow_up_id', 'recovery_id', 'account_token_id')


def _one_subject(columns):
    return " + ".join(f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)" for column in columns) + " = 1"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_frequency', sa.String(length=8), server_default='weekly',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_users_digest_frequency'),
                                         "digest_frequency IN ('weekly', 'daily', 'off')")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_user_id_users'), 'users',
                                    ['user_id'], ['id'], ondelete='CASCADE')
        batch_op.create_unique_constraint(op.f('uq_outbox_messages_user_kind_sequence'),
                                          ['user_id', 'kind', 'sequence'])
        batch_op.drop_constraint(op.f('ck_outbox_messages_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_kind'),
                                         "kind IN ('invitation', 'reminder', 'alert', 'recovery', 'account', 'digest')")
        batch_op.drop_constraint(op.f('ck_outbox_messages_one_subject'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_one_subject'), _one_subject((*SUBJECTS, 'user_id')))


def downgrade():
    op.execute("DELETE FROM outbox_messages WHERE kind = 'digest'")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_messages_one_subject'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_one_subject'), _one_subject(SUBJECTS))
        batch_op.drop_constraint(op.f('ck_outbox_messages_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_kind'),
                                         "kind IN ('invitation', 'reminder', 'alert', 'recovery', 'account')")
        batch_op.drop_constraint(op.f('uq_outbox_messages_user_kind_sequence'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_user_id_users'), type_='foreignkey')
        batch_op.drop_column('user_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_digest_frequency'), type_='check')
        batch_op.drop_column('digest_frequency')
