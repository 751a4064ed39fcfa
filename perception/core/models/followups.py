"""Closing the loop: follow-ups and their history, re-survey requests, staff guesses, erasure records
and comment tags."""

import secrets
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.extensions import db
from perception.core.models.base import UTCDateTime, in_values, utcnow
from perception.core.models.people import Team, User
from perception.core.models.responses import Invitation, Response
from perception.core.models.surveys import Dimension, Item

FOLLOWUP_STATES = ("open", "contacted", "resolved")


FOLLOWUP_EVENT_KINDS = ("opened", "contact", "state", "reassigned", "note", "recovery_sent", "recovery_answered")


CONTACT_CHANNELS = ("phone", "meeting", "letter", "email")


CONTACT_OUTCOMES = ("reached", "message", "no_answer", "sent")


RECOVERY_STATES = ("created", "sent", "answered", "expired")

# How pages, mails and webhooks name a follow-up: ids count up across the business as follow-ups open,
# so two of a team's own numbers told its leader how many low answers every other team had between them
# (and a day's numbers, the order of its low answers; an attacker's read). 12 characters, the first a
# letter, of an alphabet without look-alikes (0/o, 1/l/i): about 59 bits.
REFERENCE_LETTERS = "abcdefghjkmnpqrstuvwxyz"
REFERENCE_ALPHABET = REFERENCE_LETTERS + "23456789"
REFERENCE_LENGTH = 12


def new_followup_reference():
    return secrets.choice(REFERENCE_LETTERS) + "".join(
        secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH - 1))


class FollowUp(db.Model):
    """A customer response at or below the alert rule, to be acted on (perception.followups).
    One per response (UNIQUE), however often the rule is evaluated."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint(in_values("state", FOLLOWUP_STATES), name="state"),
        Index("ix_follow_ups_team_state", "team_id", "state", "due_at"),
        # The worker's sweep of stranded follow-ups (perception/followups/handover_service.py), every minute.
        Index("ix_follow_ups_open_by_assignee", "assignee_id", sqlite_where=text("state != 'resolved'"),
              postgresql_where=text("state != 'resolved'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), unique=True, default=new_followup_reference)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="open")
    # Why the rule fired, e.g. "overall=2.25;dimension:respect=1.5;nps=3" (no personal data).
    reasons: Mapped[str] = mapped_column(String(500), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The assignee's alert mail: pending while notified_at is null (send-followup-alerts).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notify_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    notify_error: Mapped[str | None] = mapped_column(String(300))
    # When the worker found it overdue and announced it (webhook followup.overdue): once each.
    overdue_announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    response: Mapped[Response] = relationship()
    team: Mapped[Team | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    events: Mapped[list["FollowUpEvent"]] = relationship(
        back_populates="follow_up", cascade="all, delete-orphan", order_by=lambda: (FollowUpEvent.at, FollowUpEvent.id)
    )


class FollowUpEvent(db.Model):
    """One line of a follow-up's history: opened, a contact, a state change, a reassignment..."""

    __tablename__ = "follow_up_events"
    __table_args__ = (
        CheckConstraint(in_values("kind", FOLLOWUP_EVENT_KINDS), name="kind"),
        CheckConstraint("channel IS NULL OR " + in_values("channel", CONTACT_CHANNELS), name="channel"),
        CheckConstraint("outcome IS NULL OR " + in_values("outcome", CONTACT_OUTCOMES), name="outcome"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    from_state: Mapped[str | None] = mapped_column(String(10))
    to_state: Mapped[str | None] = mapped_column(String(10))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    follow_up: Mapped[FollowUp] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class RecoveryRequest(db.Model):
    """The two-question re-survey after a resolved follow-up: one link (token rules as for
    invitations: only the hash stored, one answer, an expiry), the item of the dimension that
    hurt most asked again, and the recommendation question."""

    __tablename__ = "recovery_requests"
    __table_args__ = (
        CheckConstraint(in_values("state", RECOVERY_STATES), name="state"),
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_range"),
        CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name="nps_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id", ondelete="CASCADE"), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_nonce: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="created")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)

    follow_up: Mapped[FollowUp] = relationship()
    item: Mapped[Item] = relationship()


class StaffGuess(db.Model):
    """A staff member's guess, asked once per interaction that names them, of how that customer
    felt (1-5, or null for "I don't remember"). Linked to the customer's answer by the invitation."""

    __tablename__ = "staff_guesses"
    __table_args__ = (CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_range"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitation: Mapped[Invitation] = relationship()


class ErasureRecord(db.Model):
    """The audit line of an erasure: who, when, how much; never the address itself, only a keyed
    hash of it (so a repeated request can be recognised by whoever holds SECRET_KEY)."""

    __tablename__ = "erasure_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(300))
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    invitations: Mapped[int] = mapped_column(Integer, default=0)
    responses: Mapped[int] = mapped_column(Integer, default=0)
    follow_ups: Mapped[int] = mapped_column(Integer, default=0)
    fields_cleared: Mapped[int] = mapped_column(Integer, default=0)


TAG_EFFECTS = ("supports", "erodes")


class CommentTag(db.Model):
    """A person's reading of a customer comment: it supports or erodes the relationship, on one
    dimension of care. A comment can carry several tags, one per dimension."""

    __tablename__ = "comment_tags"
    __table_args__ = (
        CheckConstraint(in_values("effect", TAG_EFFECTS), name="effect"),
        UniqueConstraint("response_id", "dimension_id", name="uq_comment_tags_response_dimension"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimensions.id"), index=True)
    effect: Mapped[str] = mapped_column(String(10))
    tagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Whether the person took the word-list suggestion as it was (to see how useful it is).
    suggested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    response: Mapped[Response] = relationship()
    dimension: Mapped[Dimension] = relationship()
    tagged_by: Mapped[User | None] = relationship()
