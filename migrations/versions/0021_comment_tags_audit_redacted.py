"""The audit log's comment-tag entries no longer name a response by its id (ninth session): response
ids count up as answers arrive, so an admin who tagged board comments one by one and read each new
entry could put the comments back in the order they came, and so tell whose each is to whoever knows
who answered when (DESIGN section 2, "No consent, no link"). From now on an entry names the comment by
the keyed reference the board shows (perception.board.service). Entries written before lose the
comment they named (target_type "comments", no id): the reference needs SECRET_KEY, which a migration
does not read. Their id, time, author, action and details stay.

The log refuses an UPDATE (0011's trigger), so the entries are taken out and put back redacted, with
their own ids, in the migration's one transaction; the trigger is not touched (lifting it would not
be undone on SQLite if the migration failed half way: SQLite runs DDL outside the transaction).

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

FOUND = ("SELECT count(*) FROM audit_events "
         "WHERE action IN ('comment.tagged', 'comment.untagged') AND target_type = 'responses'")


def upgrade():
    if op.get_bind().exec_driver_sql(FOUND).scalar() == 0:
        return
    op.execute("CREATE TEMPORARY TABLE redacted_tags AS SELECT id, at, actor_id, action, details FROM audit_events "
               "WHERE action IN ('comment.tagged', 'comment.untagged') AND target_type = 'responses'")
    op.execute("DELETE FROM audit_events WHERE id IN (SELECT id FROM redacted_tags)")
    op.execute("INSERT INTO audit_events (id, at, actor_id, action, target_type, target_id, details) "
               "SELECT id, at, actor_id, action, 'comments', NULL, details FROM redacted_tags")
    op.execute("DROP TABLE redacted_tags")


def downgrade():
    pass  # the ids are gone; entries written since name their comment by reference, which older code reads as text
