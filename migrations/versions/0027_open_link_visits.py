"""An open-link answer names the visit it was given in (responses.open_visit: the SHA-256 of a random
value the browser's session got when the link was opened), unique: the same form sent twice (a double
click without JavaScript, a phone resending after a dropped connection) stored two responses, and two
follow-ups when low (an attacker's read). Answers stored before have none.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 21:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('responses', sa.Column('open_visit', sa.String(length=64), nullable=True))
    where = sa.text('open_visit IS NOT NULL')
    op.create_index('uq_responses_open_visit', 'responses', ['open_visit'], unique=True,
                    sqlite_where=where, postgresql_where=where)


def downgrade():
    op.drop_index('uq_responses_open_visit', table_name='responses')
    with op.batch_alter_table('responses') as batch_op:
        batch_op.drop_column('open_visit')
