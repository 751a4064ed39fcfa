"""Closing the loop: follow-ups and their history, recovery re-surveys, staff guesses per
interaction, erasure audit lines, and the customer's contact consent (and optional phone) on
responses.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:53:33.908929

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('erasure_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('subject_hash', sa.String(length=64), nullable=False),
    sa.Column('invitations', sa.Integer(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('follow_ups', sa.Integer(), nullable=False),
    sa.Column('fields_cleared', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_records'))
    )
    with op.batch_alter_table('erasure_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_records_subject_hash'), ['subject_hash'], unique=False)

    op.create_table('staff_guesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score IS NULL OR (score >= 1 AND score <= 5)', name=op.f('ck_staff_guesses_score_range')),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_staff_guesses_invitation_id_invitations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_staff_guesses_staff_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_guesses')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_staff_guesses_invitation_id'))
    )
    with op.batch_alter_table('staff_guesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_guesses_staff_id'), ['staff_id'], unique=False)

    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('reasons', sa.String(length=500), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_contact_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notify_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('notify_error', sa.String(length=300), nullable=True),
    sa.CheckConstraint("state IN ('open', 'contacted', 'resolved')", name=op.f('ck_follow_ups_state')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_follow_ups_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_follow_ups_response_id_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_follow_ups_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
    sa.UniqueConstraint('response_id', name=op.f('uq_follow_ups_response_id'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_follow_ups_team_state', ['team_id', 'state', 'due_at'], unique=False)

    op.create_table('follow_up_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('from_state', sa.String(length=10), nullable=True),
    sa.Column('to_state', sa.String(length=10), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("channel IS NULL OR channel IN ('phone', 'meeting', 'letter', 'email')", name=op.f('ck_follow_up_events_channel')),
    sa.CheckConstraint("kind IN ('opened', 'contact', 'state', 'reassigned', 'note', 'recovery_sent', 'recovery_answered')", name=op.f('ck_follow_up_events_kind')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('reached', 'message', 'no_answer', 'sent')", name=op.f('ck_follow_up_events_outcome')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_follow_up_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_follow_up_events_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_follow_up_events_follow_up_id_follow_ups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_events'))
    )
    with op.batch_alter_table('follow_up_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_events_follow_up_id'), ['follow_up_id'], unique=False)

    op.create_table('recovery_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_nonce', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('nps', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('created', 'sent', 'answered', 'expired')", name=op.f('ck_recovery_requests_state')),
    sa.CheckConstraint('nps IS NULL OR (nps >= 0 AND nps <= 10)', name=op.f('ck_recovery_requests_nps_range')),
    sa.CheckConstraint('score IS NULL OR (score >= 1 AND score <= 5)', name=op.f('ck_recovery_requests_score_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_recovery_requests_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_recovery_requests_follow_up_id_follow_ups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_recovery_requests_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_requests')),
    sa.UniqueConstraint('follow_up_id', name=op.f('uq_recovery_requests_follow_up_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_recovery_requests_token_hash'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_consent', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=True))



def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_consent')

    op.drop_table('recovery_requests')
    with op.batch_alter_table('follow_up_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_events_follow_up_id'))

    op.drop_table('follow_up_events')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_team_state')
        batch_op.drop_index(batch_op.f('ix_follow_ups_assignee_id'))

    op.drop_table('follow_ups')
    with op.batch_alter_table('staff_guesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_guesses_staff_id'))

    op.drop_table('staff_guesses')
    with op.batch_alter_table('erasure_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_records_subject_hash'))

    op.drop_table('erasure_records')
