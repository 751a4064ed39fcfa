"""Teams can be archived (hidden from every picker, kept in history and reports) and merged (the team
merged away stays as an archived alias of the one it went into, so a file naming it imports into the
right team); responses get an index by survey and time, which the importer's "already stored?" check
reads (a file imported again adds nothing).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 18:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_teams_merged_into_id_teams'), 'teams', ['merged_into_id'], ['id'])
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_survey_submitted', ['survey_id', 'submitted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_survey_submitted')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_teams_merged_into_id_teams'), type_='foreignkey')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('archived_at')
