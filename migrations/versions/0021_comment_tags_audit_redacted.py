"""The audit log's comment-tag entries no longer name a response by its id (ninth session): response
ids count up as answers arrive, so an admin who tagged board comments one by one and read each new
entry could put the comments back in the order they came, and so tell whose each is to whoever knows
who answered when (DESIGN section 2, "No consent, no link"). From now on an entry names the comment by
the keyed reference the board shows (perception.board.service). Entries written before lose the
comment they named (target_type "comments", no id): the reference needs SECRET_KEY, which a migration
does not read. Their time, author, dimension and effect stay. The append-only trigger is lifted for
this one UPDATE and put back as 0011 made it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 13:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

REDACT = ("UPDATE audit_events SET target_type = 'comments', target_id = NULL "
          "WHERE action IN ('comment.tagged', 'comment.untagged') AND target_type = 'responses'")


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
        op.execute(REDACT)
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(REDACT)
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END")


def downgrade():
    pass  # the ids are gone; entries written since name their comment by reference, which older code reads as text
