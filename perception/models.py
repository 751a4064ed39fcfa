"""SQLAlchemy models. Rules that protect the data live in the database as well as in Python:
score ranges are CHECKs, one customer response per invitation and one staff/leader response
per user and survey are UNIQUE constraints."""

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

ROLES = ("admin", "leader", "staff")
PERSPECTIVES = ("customer", "staff", "leader")
SURVEY_STATUSES = ("draft", "open", "closed")
INVITATION_STATES = ("created", "sent", "opened", "answered", "expired", "bounced", "unsubscribed")


def utcnow():
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Team(db.Model):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self):
        return f"<Team {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team | None] = relationship()

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self):
        return self.active

    @property
    def perspective(self):
        """The survey perspective a user answers from; admins answer as leaders."""
        return "staff" if self.role == "staff" else "leader"

    def __repr__(self):
        return f"<User {self.email} {self.role}>"


class Dimension(db.Model):
    __tablename__ = "dimensions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list["Item"]] = relationship(back_populates="dimension", order_by="Item.position")


class Item(db.Model):
    """A mirrored pair: one construct, one wording per perspective."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimensions.id"), index=True)
    customer_text: Mapped[str] = mapped_column(Text)
    staff_text: Mapped[str] = mapped_column(Text)
    leader_text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    dimension: Mapped[Dimension] = relationship(back_populates="items")

    def text_for(self, perspective):
        return {"customer": self.customer_text, "staff": self.staff_text, "leader": self.leader_text}[perspective]


survey_items = Table(
    "survey_items",
    db.metadata,
    Column("survey_id", ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("items.id"), primary_key=True),
)

survey_teams = Table(
    "survey_teams",
    db.metadata,
    Column("survey_id", ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id"), primary_key=True),
)


class Survey(db.Model):
    """A wave. An empty team scope means every team."""

    __tablename__ = "surveys"
    __table_args__ = (CheckConstraint(_in("status", SURVEY_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ask_nps: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[Item]] = relationship(secondary=survey_items, order_by=(Item.dimension_id, Item.position))
    teams: Mapped[list[Team]] = relationship(secondary=survey_teams, order_by=Team.name)

    def is_accepting(self, now=None):
        now = now or utcnow()
        if self.status != "open":
            return False
        if self.opens_at and now < self.opens_at:
            return False
        return not (self.closes_at and now >= self.closes_at)

    def covers_team(self, team_id):
        return not self.teams or any(team.id == team_id for team in self.teams)


class Invitation(db.Model):
    """One customer, one survey, one secret link. Only the SHA-256 of the token is stored."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(_in("state", INVITATION_STATES), name="state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    customer_email: Mapped[str | None] = mapped_column(String(254), index=True)
    customer_name: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(12), default="created")
    interaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reaching customers (migration 0003). The link token is rebuilt from `token_nonce` with a
    # server-side key (perception.invitations.link_token), so reminders carry the same link.
    token_nonce: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(12), default="link", server_default="link")
    language: Mapped[str | None] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    survey: Mapped[Survey] = relationship()
    team: Mapped[Team] = relationship()
    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id])

    def is_expired(self, now=None):
        return self.expires_at is not None and (now or utcnow()) >= self.expires_at


class Response(db.Model):
    """One submission from one perspective."""

    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint(_in("perspective", PERSPECTIVES), name="perspective"),
        CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name="nps_range"),
        UniqueConstraint("survey_id", "user_id", name="uq_responses_survey_user"),
        Index("ix_responses_report", "survey_id", "perspective", "team_id", "submitted_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    perspective: Mapped[str] = mapped_column(String(10))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    respondent: Mapped[str | None] = mapped_column(String(254))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    nps: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(12), default="link")
    # "May we contact you about your answers?" (customers). Without consent nobody sees who answered.
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    contact_phone: Mapped[str | None] = mapped_column(String(40))

    survey: Mapped[Survey] = relationship()
    team: Mapped[Team | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id])
    invitation: Mapped[Invitation | None] = relationship()
    answers: Mapped[list["Answer"]] = relationship(back_populates="response", cascade="all, delete-orphan")
    predictions: Mapped[list["PredictedAnswer"]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Answer(db.Model):
    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint("score >= 1 AND score <= 5", name="score_range"),
        # Covers the gap queries: item -> (response, score) without touching the table.
        Index("ix_answers_item_response_score", "item_id", "response_id", "score"),
    )
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)

    response: Mapped[Response] = relationship(back_populates="answers")
    item: Mapped[Item] = relationship()


class PredictedAnswer(db.Model):
    """A staff member's prediction of how customers will answer an item."""

    __tablename__ = "predicted_answers"
    __table_args__ = (CheckConstraint("score >= 1 AND score <= 5", name="score_range"),)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)

    response: Mapped[Response] = relationship(back_populates="predictions")
    item: Mapped[Item] = relationship()


class ReportCell(db.Model):
    """One cell of the gap report's pre-aggregated score histograms (see perception/report_cells.py):
    how many respondents of a survey, team and UTC month, from one perspective, had score sum
    `score_sum` over `answered` items of a dimension, an item, their predictions or everything.
    `team_id` 0 means no team and `subject_id` 0 means no dimension or item: they are part of the
    key, so they cannot be NULL."""

    __tablename__ = "report_cells"
    # No foreign keys: the cells are derived data written on the hottest path (a key check per cell
    # costs a third of the write on PostgreSQL); a survey with responses cannot be deleted.
    survey_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    perspective: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    score_sum: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    answered: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    respondents: Mapped[int] = mapped_column(Integer)


def get_by(model, **filters):
    return db.session.execute(select(model).filter_by(**filters)).scalar_one_or_none()


# --- Reaching customers: outbox, suppression list, API tokens, idempotency, open links --------

OUTBOX_KINDS = ("invitation", "reminder")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class OutboxMessage(db.Model):
    """One email to deliver. A worker claims a row (status pending -> sending, with its own
    claim token) before it talks to the SMTP server, so each row is sent by one worker only."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(_in("kind", OUTBOX_KINDS), name="kind"),
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        # One invitation mail and one row per reminder number, however many workers enqueue.
        UniqueConstraint("invitation_id", "kind", "sequence", name="uq_outbox_messages_invitation_kind_sequence"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
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

    invitation: Mapped[Invitation] = relationship()


class MailSuppression(db.Model):
    """Addresses that must get no more survey mail (unsubscribed or bounced). Only a SHA-256 of
    the normalised address is kept, so erasing a customer does not resurrect their mail."""

    __tablename__ = "mail_suppressions"
    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):
    """A personal API token. Only its SHA-256 is stored; it acts with its owner's role."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


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


# --- Closing the loop: follow-ups, their history, re-surveys, staff guesses, erasures ---------

FOLLOWUP_STATES = ("open", "contacted", "resolved")
FOLLOWUP_EVENT_KINDS = ("opened", "contact", "state", "reassigned", "note", "recovery_sent", "recovery_answered")
CONTACT_CHANNELS = ("phone", "meeting", "letter", "email")
CONTACT_OUTCOMES = ("reached", "message", "no_answer", "sent")
RECOVERY_STATES = ("created", "sent", "answered", "expired")


class FollowUp(db.Model):
    """A customer response at or below the alert rule, to be acted on (perception.followups).
    One per response (UNIQUE), however often the rule is evaluated."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint(_in("state", FOLLOWUP_STATES), name="state"),
        Index("ix_follow_ups_team_state", "team_id", "state", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
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
        CheckConstraint(_in("kind", FOLLOWUP_EVENT_KINDS), name="kind"),
        CheckConstraint("channel IS NULL OR " + _in("channel", CONTACT_CHANNELS), name="channel"),
        CheckConstraint("outcome IS NULL OR " + _in("outcome", CONTACT_OUTCOMES), name="outcome"),
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
        CheckConstraint(_in("state", RECOVERY_STATES), name="state"),
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


# --- Support vs erode board: people tag customer comments (perception.tags) -------------------

TAG_EFFECTS = ("supports", "erodes")


class CommentTag(db.Model):
    """A person's reading of a customer comment: it supports or erodes the relationship, on one
    dimension of care. A comment can carry several tags, one per dimension."""

    __tablename__ = "comment_tags"
    __table_args__ = (
        CheckConstraint(_in("effect", TAG_EFFECTS), name="effect"),
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
