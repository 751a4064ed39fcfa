"""Reaching customers: the mail outbox, the suppression list, API idempotency keys and open (QR) links."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.extensions import db
from perception.core.models.base import UTCDateTime, in_values, utcnow
from perception.core.models.people import AccountToken, Team, User
from perception.core.models.responses import Invitation
from perception.core.models.surveys import Survey

# invitation and reminder mails go to a customer (invitation_id); alert to a follow-up's assignee
# (follow_up_id); recovery is a customer's re-survey link (recovery_id); account is an account's
# invitation or password-reset link (account_token_id); digest a leader's periodic summary (user_id,
# sequence = the period key). Exactly one subject per row.
OUTBOX_KINDS = ("invitation", "reminder", "alert", "recovery", "account", "digest")
OUTBOX_SUBJECTS = ("invitation_id", "follow_up_id", "recovery_id", "account_token_id", "user_id")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


def one_per_subject(subject):
    """The unique index of one subject column: (subject, kind, sequence), over the rows of that subject."""
    name = f"uq_outbox_messages_{subject.removesuffix('_id')}_kind_sequence"
    where = text(f"{subject} IS NOT NULL")
    return Index(name, subject, "kind", "sequence", unique=True, sqlite_where=where, postgresql_where=where)


def one_subject():
    """SQL: exactly one of the subject columns is set (booleans are not numbers in PostgreSQL)."""
    return " + ".join(f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)" for column in OUTBOX_SUBJECTS) + " = 1"


class OutboxMessage(db.Model):
    """One email to deliver: every mail the app sends is a row here (perception.core.outbox). A
    worker claims a row (status pending -> sending, with its own claim token) before it talks to
    the SMTP server, so each row is sent by one worker only."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(in_values("kind", OUTBOX_KINDS), name="kind"),
        CheckConstraint(in_values("status", OUTBOX_STATUSES), name="status"),
        # One invitation mail and one row per reminder number, however many workers enqueue; one alert
        # per assignment (sequence counts them) and one mail per re-survey link; one digest per user and
        # period (sequence is the period key). Partial (migration 0019): a row has one subject, so it
        # enters only that subject's index, not five (the other four columns are NULL, and NULLs never
        # conflict anyway). `insert_ignoring_duplicates` names no conflict target, so every one counts.
        *(one_per_subject(subject) for subject in OUTBOX_SUBJECTS),
        CheckConstraint(one_subject(), name="one_subject"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id", ondelete="CASCADE"))
    recovery_id: Mapped[int | None] = mapped_column(ForeignKey("recovery_requests.id", ondelete="CASCADE"))
    account_token_id: Mapped[int | None] = mapped_column(ForeignKey("account_tokens.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitation: Mapped[Invitation | None] = relationship()
    follow_up: Mapped["FollowUp | None"] = relationship()  # noqa: F821  (perception.core.models.followups)
    recovery: Mapped["RecoveryRequest | None"] = relationship()  # noqa: F821
    account_token: Mapped[AccountToken | None] = relationship()
    user: Mapped[User | None] = relationship()


class MailSuppression(db.Model):
    """Addresses that must get no more survey mail (unsubscribed or bounced). Only a keyed hash of
    the normalised address is kept (HMAC under a key derived from SECRET_KEY:
    perception.core.tokens.email_hash), so erasing a customer does not resurrect their mail and a
    copy of the table cannot be checked against a list of addresses. Rows from before keep a plain
    SHA-256 (`legacy_email_hash`) until their address is suppressed again or erased."""

    __tablename__ = "mail_suppressions"
    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(db.Model):
    """An `Idempotency-Key` already used by a user: a retried call returns the same invitation."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitation: Mapped[Invitation] = relationship()


class OpenLink(db.Model):
    """A multi-use link of a survey for one team (counter, receipt, table), printed as a QR code."""

    __tablename__ = "open_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    label: Mapped[str] = mapped_column(String(120), default="")
    token_nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    survey: Mapped[Survey] = relationship()
    team: Mapped[Team] = relationship()
