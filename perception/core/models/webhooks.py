"""Webhooks (DESIGN section 3) and the worker's record of periodic jobs.

An endpoint is another system's URL that receives the events it subscribed to; every event becomes
one delivery row per subscribed endpoint, in the transaction of the change it reports
(perception.core.webhooks_outbox.emit), and the worker sends the rows (perception.webhooks)."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.extensions import db
from perception.core.models.base import UTCDateTime, in_values, utcnow
from perception.core.models.people import User

WEBHOOK_EVENTS = ("response.received", "followup.opened", "followup.overdue", "followup.resolved")
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed")


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"
    # One of the two keys of the signature, never both (migration 0020).
    __table_args__ = (CheckConstraint("(secret IS NULL) <> (secret_nonce IS NULL)", name="one_signing_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The subscribed events, space-separated with a space at each end (" followup.opened ... "), so
    # that one LIKE finds the endpoints of an event.
    events: Mapped[str] = mapped_column(String(200))
    # The signing key is derived from `secret_nonce` under SECRET_KEY (perception.webhooks.service.
    # signing_secret), so the database and its backups alone cannot sign a request a receiver would
    # accept. `secret` holds the key itself only for endpoints added before migration 0020. Shown once
    # to the admin who adds the endpoint, never logged, never shown again.
    secret: Mapped[str | None] = mapped_column(String(100))
    secret_nonce: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()

    @property
    def event_list(self):
        return self.events.split()


class WebhookDelivery(db.Model):
    """One event for one endpoint. `delivery_id` is the body's `id` (a receiver dedupes by it);
    `body` is the JSON body without that id, so every retry sends the same bytes."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(in_values("status", DELIVERY_STATUSES), name="status"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP status, if it answered
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()


class WorkerRun(db.Model):
    """When a periodic job of `flask worker` last started, on any machine: a job with a period runs
    only when this row's UPDATE (ran_at older than the period) succeeds, so several workers run it
    once per period between them (perception.worker)."""

    __tablename__ = "worker_runs"
    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    ran_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
