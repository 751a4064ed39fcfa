"""Webhook deliveries queued before 0025 and not yet sent, in the new names. A delivery's body is
written when its event happens (perception.core.webhooks_outbox.emit), so those bodies still named
the follow-up by its id (and linked to /leaders/followups/<id>, which no longer opens) and the answer
by the rows' keyed reference, which names its row in the exports, the API and the comments board:
a day's held answers given without consent would have carried it to the receiver at the next
midnight. The follow-up takes its reference (id, url and text); the answer loses its reference,
since the webhook's own reference needs SECRET_KEY, which a migration does not read (every body queued
by a version before this one carries the rows' reference: the webhook's own came with it). Sent and failed
deliveries are history and stay as they were; so does the downgrade.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 19:00:00

"""
import json
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

ROW_REFERENCE = re.compile(r"[0-9a-f]{64}")


def _renamed(body, references):
    """The body with the new names, or None when it names nothing old."""
    document = json.loads(body)
    data = document.get("data") or {}
    changed = False
    response = data.get("response")
    if isinstance(response, dict) and ROW_REFERENCE.fullmatch(str(response.get("id"))):
        del response["id"]
        changed = True
    follow_up = data.get("follow_up")
    if isinstance(follow_up, dict) and isinstance(follow_up.get("id"), int) and follow_up["id"] in references:
        old, new = follow_up["id"], references[follow_up["id"]]
        follow_up["id"] = new
        if isinstance(follow_up.get("url"), str):
            follow_up["url"] = re.sub(rf"/leaders/followups/{old}$", f"/leaders/followups/{new}", follow_up["url"])
        if isinstance(document.get("text"), str):
            text = document["text"].replace(f"Follow-up #{old} ", f"Follow-up #{new} ")
            document["text"] = re.sub(rf"/leaders/followups/{old}$", f"/leaders/followups/{new}", text)
        changed = True
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False) if changed else None


def upgrade():
    connection = op.get_bind()
    deliveries = sa.table('webhook_deliveries', sa.column('id', sa.Integer), sa.column('body', sa.Text),
                          sa.column('status', sa.String))
    pending = connection.execute(sa.select(deliveries.c.id, deliveries.c.body)
                                 .where(deliveries.c.status.in_(('pending', 'sending')))).all()
    if not pending:
        return
    follow_ups = sa.table('follow_ups', sa.column('id', sa.Integer), sa.column('reference', sa.String))
    references = dict(connection.execute(sa.select(follow_ups.c.id, follow_ups.c.reference)).all())
    for delivery_id, body in pending:
        renamed = _renamed(body, references)
        if renamed is not None:
            connection.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(body=renamed))


def downgrade():
    pass
