"""What every model shares: the time type (aware UTC on both databases), the fixed vocabularies, and small helpers."""

from datetime import UTC, datetime, timedelta

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


def start_of_utc_day(moment):
    """The UTC midnight that starts the day of the aware datetime `moment`."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def next_utc_midnight(moment):
    """The first UTC midnight after the aware datetime `moment`."""
    return start_of_utc_day(moment) + timedelta(days=1)


def parse_utc(text):
    """An aware UTC datetime from ISO 8601 text (no offset: UTC). ValueError for unreadable text, and
    for a moment that UTC cannot hold: near year 1 or 9999 an offset can carry it out of range
    ("0001-01-01T00:00:00+23:59"), which would otherwise fail deep in a write."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range in UTC") from None


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
