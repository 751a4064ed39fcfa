"""Reading the audit log: one page of events under filters (action, actor, date range, target), and
every matching event, streamed, for the CSV download.

The actor is shown by the account's email: accounts are staff, never customers. Details hold ids and
keyed hashes only (perception.core.audit.record refuses anything like an address)."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from perception.core.csv_cells import neutralise
from perception.core.extensions import db
from perception.core.models import AuditEvent, User

PER_PAGE = 50
BATCH = 500
CSV_COLUMNS = ("at", "action", "actor", "actor_id", "target_type", "target_id", "details")
NO_ACCOUNT = "command line or worker"


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    actor: str | None = None  # part of the acting account's email, any case
    day_from: date | None = None
    day_to: date | None = None  # inclusive
    target_type: str | None = None
    target_id: str | None = None


def _conditions(filters):
    conditions = []
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.actor:
        accounts = select(User.id).where(func.lower(User.email).contains(filters.actor.strip().lower(),
                                                                          autoescape=True))
        conditions.append(AuditEvent.actor_id.in_(accounts))
    if filters.day_from:
        conditions.append(AuditEvent.at >= datetime.combine(filters.day_from, time.min, UTC))
    if filters.day_to and filters.day_to < date.max:  # the day after the last day of the calendar overflows
        conditions.append(AuditEvent.at < datetime.combine(filters.day_to + timedelta(days=1), time.min, UTC))
    if filters.target_type:
        conditions.append(AuditEvent.target_type == filters.target_type)
    if filters.target_id:
        conditions.append(AuditEvent.target_id == filters.target_id.strip())
    return conditions


def _events(filters):
    return (select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.actor_id)
            .where(*_conditions(filters)).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))


def event_page(filters, page=1, per_page=PER_PAGE):
    """(total, [(AuditEvent, actor email or None)]) of one page, newest first."""
    total = db.session.execute(select(func.count(AuditEvent.id)).where(*_conditions(filters))).scalar_one()
    rows = db.session.execute(_events(filters).limit(per_page).offset((page - 1) * per_page)).all()
    return total, [tuple(row) for row in rows]


def target_types():
    """The kinds of target the log holds, for the filter's choices."""
    return list(db.session.execute(
        select(AuditEvent.target_type).where(AuditEvent.target_type.is_not(None)).distinct()
        .order_by(AuditEvent.target_type)
    ).scalars())


def details_text(details):
    return json.dumps(details or {}, sort_keys=True, ensure_ascii=False)


def csv_rows(filters):
    """The header, then one row per matching event, newest first; read in batches (constant memory).
    Every text cell is neutralised: an action or an id never starts with a formula character, but a
    detail (a token's scopes, a wave's slug) or an email could."""
    yield CSV_COLUMNS
    result = db.session.execute(_events(filters).execution_options(yield_per=BATCH))
    for event, email in result:
        yield (event.at.astimezone(UTC).isoformat(), neutralise(event.action), neutralise(email or NO_ACCOUNT),
               event.actor_id if event.actor_id is not None else "", neutralise(event.target_type),
               neutralise(event.target_id), neutralise(details_text(event.details)))
