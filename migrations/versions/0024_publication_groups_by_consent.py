"""Publication groups split by the customer's consent to be contacted (perception.reports.batch_service.
group_of): the partial index of unpublished responses takes contact_consent, so that a group's waiting
responses are still read from the index alone. The index holds the unpublished responses only (fewer
than MIN_N per group), so rebuilding it is quick. Batches published before keep their members.

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
    _index(['survey_id', 'perspective', 'team_id', 'staff_id', 'contact_consent', 'submitted_at', 'id'])


def downgrade():
    _index(['survey_id', 'perspective', 'team_id', 'staff_id', 'submitted_at', 'id'])
