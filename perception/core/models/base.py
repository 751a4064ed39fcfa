"""What every model shares: the time type (aware UTC on both databases), the fixed vocabularies, and small helpers."""

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    select,
)
from sqlalchemy.types import TypeDecorator

from perception.core.extensions import db

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


def in_values(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def get_by(model, **filters):
    return db.session.execute(select(model).filter_by(**filters)).scalar_one_or_none()
