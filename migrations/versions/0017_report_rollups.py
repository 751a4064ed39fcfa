"""Roll-up report cells (issue #17, chain scale): beside each survey x team x month cell, the same
histograms summed over every team (team_id -1), over every month (month '*') and over both, so a
report of the whole chain reads a few cells whatever the number of teams. Filled here from the cells
already stored; kept by perception/reports/service.py from then on. An index over (survey, month,
team) serves the by-team report over all months.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 18:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later code): perception/reports/histogram_queries.py.
ALL_TEAMS, ALL_MONTHS = -1, '*'
KEY = 'perspective, kind, subject_id, score_sum, answered'


def upgrade():
    connection = op.get_bind()
    base = f"FROM report_cells WHERE team_id <> {ALL_TEAMS} AND month <> '{ALL_MONTHS}'"
    for team, month, grouping in ((str(ALL_TEAMS), 'month', 'month'), ('team_id', f"'{ALL_MONTHS}'", 'team_id'),
                                  (str(ALL_TEAMS), f"'{ALL_MONTHS}'", None)):
        group_by = ', '.join(filter(None, ['survey_id', grouping, KEY]))
        connection.execute(sa.text(
            f"INSERT INTO report_cells (survey_id, team_id, month, {KEY}, respondents) "  # noqa: S608 (constants)
            f"SELECT survey_id, {team}, {month}, {KEY}, SUM(respondents) {base} GROUP BY {group_by}"))
    with op.batch_alter_table('report_cells', schema=None) as batch_op:
        batch_op.create_index('ix_report_cells_by_month', ['survey_id', 'month', 'kind', 'team_id', 'perspective',
                                                           'subject_id', 'score_sum', 'answered', 'respondents'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('report_cells', schema=None) as batch_op:
        batch_op.drop_index('ix_report_cells_by_month')
    op.execute(sa.text(f"DELETE FROM report_cells WHERE team_id = {ALL_TEAMS} OR month = '{ALL_MONTHS}'"))  # noqa: S608
