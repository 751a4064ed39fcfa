"""The audit log: an append-only record of who did what and when. It holds ids and keyed hashes,
never a customer's address or name (issue #15)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from perception.core.extensions import db
from perception.core.models.base import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The account that acted (accounts are deactivated, never deleted); null for the command line,
    # the worker or an anonymous visitor.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    # What was acted on, as a table name and an id (a string, so a slug or a key fits too).
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    def __repr__(self):
        return f"<AuditEvent {self.action} {self.target_type}:{self.target_id}>"
