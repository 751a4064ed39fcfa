"""The audit log's one write of its own: a download of the log is itself an export on record."""

from perception.core.audit import record
from perception.core.extensions import db


def record_log_download(actor, filters):
    """Record who downloaded the log and with which filters. The free-text filters (an account's
    email, a target id) are named, not copied: an email is never put in the log's details."""
    used = [name for name in ("actor", "target_id") if getattr(filters, name)]
    chosen = {"filter_action": filters.action, "target_type": filters.target_type,
              "from": filters.day_from.isoformat() if filters.day_from else None,
              "to": filters.day_to.isoformat() if filters.day_to else None}
    record("export.downloaded", actor=actor, kind="audit-log", text_filters=used,
           **{name: value for name, value in chosen.items() if value})
    db.session.commit()
