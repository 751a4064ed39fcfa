"""People (issue #15): single-use set-password links of accounts (invitations and password resets),
account_tokens, and their mails in the one outbox (kind 'account', subject account_token_id).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 18:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later code).
SUBJECTS = ('invitation_id', 'follow_up_id', 'recovery_id')
KINDS = ('invitation', 'reminder', 'alert', 'recovery')


def _one_subject(subjects):
    return " + ".join(f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)" for column in subjects) + " = 1"


def _kinds(kinds):
    return f"kind IN ({', '.join(repr(kind) for kind in kinds)})"


def upgrade():
    op.create_table(
        'account_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=10), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('token_nonce', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name=op.f('ck_account_tokens_purpose')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_account_tokens_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash')),
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_token_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_account_token_id_account_tokens'), 'account_tokens',
                                    ['account_token_id'], ['id'], ondelete='CASCADE')
        batch_op.create_unique_constraint(op.f('uq_outbox_messages_account_token_kind_sequence'),
                                          ['account_token_id', 'kind', 'sequence'])
        batch_op.drop_constraint(op.f('ck_outbox_messages_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_kind'), _kinds(KINDS + ('account',)))
        batch_op.drop_constraint(op.f('ck_outbox_messages_one_subject'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_one_subject'),
                                         _one_subject(SUBJECTS + ('account_token_id',)))


def downgrade():
    # Account mails leave the outbox with their links.
    op.execute("DELETE FROM outbox_messages WHERE account_token_id IS NOT NULL")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_messages_one_subject'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_one_subject'), _one_subject(SUBJECTS))
        batch_op.drop_constraint(op.f('ck_outbox_messages_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_messages_kind'), _kinds(KINDS))
        batch_op.drop_constraint(op.f('uq_outbox_messages_account_token_kind_sequence'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_account_token_id_account_tokens'), type_='foreignkey')
        batch_op.drop_column('account_token_id')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tokens_user_id'))
    op.drop_table('account_tokens')
