"""People: teams, accounts (staff, leaders, admins), their personal API tokens and their set-password links."""

from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from perception.core.extensions import db
from perception.core.models.base import ROLES, UTCDateTime, in_values, utcnow

# invite: the link of a new account's invitation; reset: "Forgot your password?" and `users reset-password`.
ACCOUNT_TOKEN_PURPOSES = ("invite", "reset")


def hash_password(password):
    """The one way a password is hashed (werkzeug's scrypt, PASSWORD_HASH_METHOD); the login's check
    for an unknown address runs against a hash made here too, so it costs the same."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


class Team(db.Model):
    """A location, branch or department. An archived team is hidden from every picker and filter but
    kept in history and reports; a team merged into another is archived with `merged_into_id` set,
    and its name stays as an alias of that team (perception/teams/service.py)."""

    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))

    @property
    def archived(self):
        return self.archived_at is not None

    def __repr__(self):
        return f"<Team {self.name}>"


# How often a leader or admin gets the digest email (perception.followups.digest_service).
DIGEST_FREQUENCIES = ("weekly", "daily", "off")


def login_hour(moment):
    return int(moment.timestamp()) // 3600


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(in_values("role", ROLES), name="role"),
                      CheckConstraint(in_values("digest_frequency", DIGEST_FREQUENCIES), name="digest_frequency"))
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session and remember-me cookie (see get_id); raising it ends them all at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    digest_frequency: Mapped[str] = mapped_column(String(8), default="weekly", server_default="weekly")

    team: Mapped[Team | None] = relationship()

    def get_id(self):
        """What the session and the remember-me cookie carry: "<id>:<session version>:<hour>", the hour
        (since 1970, UTC) being that of the login, when Flask-Login asks. The user loader refuses a
        version that is not the account's current one, and a login older than REMEMBER_COOKIE_DURATION:
        the cookie itself holds no time, so a copy of it worked for ever (an attacker's read)."""
        return f"{self.id}:{self.session_version or 0}:{login_hour(utcnow())}"

    # UserMixin compares get_id(), which now reads the clock: two calls either side of an hour would
    # make an account unequal to itself (a review). Accounts are the same account by id.
    def __eq__(self, other):
        return isinstance(other, User) and self.id is not None and self.id == other.id

    def __ne__(self, other):
        return not self == other

    __hash__ = object.__hash__

    def end_sessions(self):
        """Every session and remember-me cookie of this account stops working (the caller commits)."""
        self.session_version = (self.session_version or 0) + 1

    @validates("password_hash", "active")
    def _end_sessions_on_change(self, key, value):
        # A new password or a deactivation ends the account's sessions, whichever code makes it.
        old = getattr(self, key)
        if old is not None and value != old and (key == "password_hash" or not value):
            self.end_sessions()
        return value

    def set_password(self, password):
        self.password_hash = hash_password(password)

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


class ApiToken(db.Model):
    """A personal API token. Only its SHA-256 is stored; it acts with its owner's role and team scope,
    and only within its own scopes."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Space-separated, from perception.core.tokens.API_SCOPES (migration 0009 gave older tokens all).
    scopes: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()

    @property
    def scope_set(self):
        return frozenset(self.scopes.split())


class AccountToken(db.Model):
    """A single-use set-password link of an account (an invitation or a password reset), made like a
    customer link (perception.core.tokens): the token is derived under SECRET_KEY from a random
    nonce, so the mail worker can write it into the mail; only its SHA-256 is looked up; it works
    once (`used_at`) and until `expires_at` (perception.accounts.password_service)."""

    __tablename__ = "account_tokens"
    __table_args__ = (CheckConstraint(in_values("purpose", ACCOUNT_TOKEN_PURPOSES), name="purpose"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_nonce: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
