"""Invitations and responses: one customer link, the answers given from each perspective, and the
report cells kept from them."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.extensions import db
from perception.core.models.base import INVITATION_STATES, PERSPECTIVES, UTCDateTime, in_values, utcnow
from perception.core.models.people import Team, User
from perception.core.models.surveys import Item, Survey


class Invitation(db.Model):
    """One customer, one survey, one secret link. Only the SHA-256 of the token is stored."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(in_values("state", INVITATION_STATES), name="state"),)
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

    @property
    def team_covered(self):
        """Whether its wave still asks its team (an admin may change a wave's teams after inviting)."""
        return self.survey.covers_team(self.team_id)

    @property
    def delivery_state(self):
        """What may be shown of this one, named invitation: created, sent, bounced, unsubscribed or
        expired (its link's time is up). Never whether the customer opened or answered it: DESIGN
        section 2, "No consent, no link"; the funnel counts those. Read from the timestamps, which
        answering does not change (an answered invitation keeps `state` answered when unsubscribed)."""
        if self.bounced_at is not None or self.state == "bounced":
            return "bounced"
        if self.unsubscribed_at is not None:
            return "unsubscribed"
        if self.is_expired():
            return "expired"
        return "sent" if self.sent_at is not None else "created"


def _only_set(name, column, *columns, unique=False):
    """An index on `columns` over the rows where `column` is set."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, *columns, unique=unique, sqlite_where=where, postgresql_where=where)


class Response(db.Model):
    """One submission from one perspective."""

    __tablename__ = "responses"
    # Every index here is written by every customer submit, and on PostgreSQL again when its batch is
    # published (that UPDATE of published_at writes a new entry into each one): so few, and those over
    # a column most responses leave NULL hold only the rows that have it (migration 0019; a customer's
    # response has no user, an imported or staff one no invitation, most no staff member served). A
    # lookup by `column = value` implies `column IS NOT NULL`, so both databases use them for it.
    __table_args__ = (
        CheckConstraint(in_values("perspective", PERSPECTIVES), name="perspective"),
        CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name="nps_range"),
        _only_set("uq_responses_survey_user", "user_id", "survey_id", "user_id", unique=True),
        _only_set("uq_responses_invitation_id", "invitation_id", "invitation_id", unique=True),
        # One response per visit of an open link (perception/invitations/open_link_service.py).
        _only_set("uq_responses_open_visit", "open_visit", "open_visit", unique=True),
        # The staff mirror: the customers a staff member served.
        _only_set("ix_responses_staff_id", "staff_id", "staff_id"),
        # A survey's responses by perspective and team: drivers, exports, API, the report cells' statements.
        Index("ix_responses_report", "survey_id", "perspective", "team_id", "submitted_at"),
        # Publication in batches (perception/reports/batch_service.py): the few unpublished responses of
        # a group, in submission order.
        Index("ix_responses_unpublished", "survey_id", "perspective", "team_id", "staff_id", "answered_with_consent",
              "submitted_at", "id", sqlite_where=text("published_at IS NULL"),
              postgresql_where=text("published_at IS NULL")),
        # The importer's "already stored?" check (perception/responses/csv_import.py).
        Index("ix_responses_survey_submitted", "survey_id", "submitted_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    perspective: Mapped[str] = mapped_column(String(10))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    respondent: Mapped[str | None] = mapped_column(String(254))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    nps: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(12), default="link")
    # "May we contact you about your answers?" (customers). Without consent nobody sees who answered.
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The consent as given with the answer, which decides its publication group (perception/reports/
    # batch_service.group_of) and never changes: an erasure clears contact_consent, not this, so an answer
    # shown by name while it waited is never batched with answers given without consent.
    answered_with_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # When the response entered the figures: the submission time of the last answer of its batch
    # (perception/reports/service.py, "Publication in batches"); None while it waits for its batch.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An open-link answer: the SHA-256 of the random value its visit's session got when the link was
    # opened, unique, so the same form sent twice stores one response (migration 0027).
    open_visit: Mapped[str | None] = mapped_column(String(64))

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
    """One score. Every reader comes from the responses, by response id (the primary key's first
    column): report cells, drivers, mirror, exports, API, webhooks, follow-ups. On SQLite the table is
    its primary key (WITHOUT ROWID, migration 0019): one b-tree, clustered by response, holding the
    score, so a submit writes its answers into one or two pages and a reader finds a response's scores
    together; a rowid table would add a b-tree of rowids beside the key's index, and need a covering
    index to read scores without visiting it. No index by item: the one there was (item, response,
    score) put each answer of a submit on another page and no reader needs it any more."""

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint("score >= 1 AND score <= 5", name="score_range"),
        {"sqlite_with_rowid": False},
    )
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)

    response: Mapped[Response] = relationship(back_populates="answers")
    item: Mapped[Item] = relationship()


class PredictedAnswer(db.Model):
    """A staff member's prediction of how customers will answer an item."""

    __tablename__ = "predicted_answers"
    # WITHOUT ROWID on SQLite, as answers (and read the same way).
    __table_args__ = (CheckConstraint("score >= 1 AND score <= 5", name="score_range"), {"sqlite_with_rowid": False})
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)

    response: Mapped[Response] = relationship(back_populates="predictions")
    item: Mapped[Item] = relationship()


class ReportCell(db.Model):
    """One cell of the gap report's pre-aggregated score histograms (see perception/reports/service.py):
    how many respondents of a survey, team and UTC month, from one perspective, had score sum
    `score_sum` over `answered` items of a dimension, an item, their predictions or everything.
    `team_id` 0 means no team and `subject_id` 0 means no dimension or item: they are part of the
    key, so they cannot be NULL."""

    __tablename__ = "report_cells"
    # A by-team report over all months reads the roll-up cells of every team (month "*"): this
    # index holds them together (the dashboard's team list, kind OVERALL alone, a tenth of them),
    # and covers the report's columns so no table row is visited. `answered` before `score_sum`: the
    # gap report sums the cells per number of answered items (reports/moments_queries.py, 0018).
    __table_args__ = (
        Index("ix_report_cells_by_month", "survey_id", "month", "kind", "team_id", "perspective", "subject_id",
              "answered", "score_sum", "respondents"),
    )
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
