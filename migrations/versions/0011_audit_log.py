"""The audit log (issue #15): audit_events, append-only. An UPDATE is refused by a trigger on both
databases; rows are only added.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target_type', sa.String(length=32), nullable=True),
        sa.Column('target_id', sa.String(length=64), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_events_actor_id', ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_action', ['action'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_events_no_update ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
    op.drop_table('audit_events')
