"""API tokens carry scopes (a space-separated list from perception.core.tokens.API_SCOPES). Tokens
made before this migration get every scope, so nothing that uses them breaks.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later code): every scope there was when tokens got scopes.
ALL_SCOPES = "invitations:write invitations:read reports:read responses:read"


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=200), nullable=True))
    op.execute(sa.text("UPDATE api_tokens SET scopes = :scopes").bindparams(scopes=ALL_SCOPES))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.String(length=200), nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('scopes')
