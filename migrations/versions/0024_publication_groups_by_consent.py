"""Publication groups split by the customer's consent to be contacted (perception.reports.batch_service.
group_of). responses.answered_with_consent keeps the consent as given with the answer, which decides the
group and never changes (an erasure clears contact_consent only); responses stored before take their
contact_consent. The partial index of unpublished responses takes it too, so that a group's waiting
responses are still read from the index alone; it holds the unpublished responses only (fewer than
MIN_N per group), so rebuilding it is quick. Batches published before keep their members.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

UNPUBLISHED = sa.text('published_at IS NULL')


def _index(columns):
    op.drop_index('ix_responses_unpublished', table_name='responses')
    op.create_index('ix_responses_unpublished', 'responses', columns, unique=False,
                    sqlite_where=UNPUBLISHED, postgresql_where=UNPUBLISHED)


def upgrade():
    op.add_column('responses', sa.Column('answered_with_consent', sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
    responses = sa.table('responses', sa.column('contact_consent', sa.Boolean),
                         sa.column('answered_with_consent', sa.Boolean))
    op.execute(responses.update().where(responses.c.contact_consent.is_(True)).values(answered_with_consent=True))
    _index(['survey_id', 'perspective', 'team_id', 'staff_id', 'answered_with_consent', 'submitted_at', 'id'])


def downgrade():
    _index(['survey_id', 'perspective', 'team_id', 'staff_id', 'submitted_at', 'id'])
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('answered_with_consent')
