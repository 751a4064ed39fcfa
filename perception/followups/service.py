"""Follow-ups: closing the loop with unhappy customers.

A customer response at or below the alert rule (perception.insights.loop.evaluate_alert, with
the ALERT_* settings) opens a follow-up in the same transaction as the response; the UNIQUE
constraint on follow_ups.response_id makes sure one response never opens two.

Who gets it: the first active leader of the response's team (lowest id); a team without an
active leader gives it to the first active admin; with neither it stays unassigned and every
admin sees it. The assignee is told by email: an alert row in the outbox, written by
perception.followups.mail and sent by `flask --app wsgi send-mail` (or at once after a reassignment).

Who sees it: admins see every follow-up; a leader sees those of their team and those assigned
to them. Anyone who sees a follow-up may act on it (every action is recorded with its author).

States: open -> contacted (automatically, when a contact that reached the customer or left them
a message or letter is recorded) -> resolved; a resolved follow-up can be reopened. The due time
is FOLLOWUP_DUE_HOURS after the follow-up's clock starts (queries.clock_start: when it opens, or
without the customer's consent at the end of that day); an open follow-up past it without a contact
is overdue.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, func, insert, literal, select, update

from perception.core.audit import record as audit
from perception.core.database import take_sqlite_write_lock
from perception.core.extensions import db
from perception.core.models import FollowUp, FollowUpEvent, OutboxMessage, User, new_followup_reference, utcnow
from perception.core.outbox import cancel_pending, insert_ignoring_duplicates
from perception.core.webhooks_outbox import emit
from perception.followups.queries import assignable_users, due_time, earliest_contact
from perception.followups.webhook_queries import followup_event
from perception.insights.loop import (
    AlertRule,
    encode_reasons,
    evaluate_alert,
)

COUNTING_OUTCOMES = ("reached", "message", "sent")  # a contact that reached the customer in some way
CHANNEL_LABELS = {"phone": "Phone call", "meeting": "Meeting", "letter": "Letter", "email": "Email"}
OUTCOME_LABELS = {
    "reached": "Spoke with the customer",
    "message": "Left a message",
    "no_answer": "No answer",
    "sent": "Letter or email sent",
}
STATE_LABELS = {"open": "Open", "contacted": "Contacted", "resolved": "Resolved"}
NOTE_MAX = 4000


class FollowupError(ValueError):
    """An action on a follow-up is refused; `field` names the input at fault (or None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def alert_rule(config=None):
    config = config or current_app.config
    return AlertRule(
        overall_max=config["ALERT_OVERALL_MAX"], dimension_max=config["ALERT_DIMENSION_MAX"],
        nps_max=config["ALERT_NPS_MAX"],
    )


def alert_reasons(items, scores, nps, rule=None):
    """The encoded reasons a response with `scores` (item id -> 1-5) trips the rule, or "".
    `items` are the survey's Item rows with their dimension loaded."""
    dimension_of = {item.id: item.dimension.key for item in items}
    by_dimension = {}
    for item_id, score in scores.items():
        if item_id in dimension_of and score is not None:
            by_dimension.setdefault(dimension_of[item_id], []).append(score)
    return encode_reasons(evaluate_alert(rule or alert_rule(), by_dimension, nps))


def _first_assignee(team_id):
    """A scalar subquery: the team's first active leader, else the first active admin."""
    leader = (
        select(User.id).where(User.role == "leader", User.active.is_(True), User.team_id == team_id)
        .order_by(User.id).limit(1).scalar_subquery()
    )
    admin = select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id).limit(1)
    return func.coalesce(leader, admin.scalar_subquery())


def _followup_insert(response_id, source=None):
    """The INSERT of an open follow-up of `response_id`: a bind, or the id column of `source`, a CTE of a
    larger statement, which then opens one follow-up per row of it (none when it wrote no response)."""
    f = FollowUp.__table__
    values = {
        "response_id": response_id, "reference": bindparam("f_reference"), "team_id": bindparam("f_team"),
        "state": literal("open"), "reasons": bindparam("f_reasons", type_=f.c.reasons.type),
        "opened_at": bindparam("f_opened", type_=f.c.opened_at.type),
        "due_at": bindparam("f_due", type_=f.c.due_at.type),
        "assignee_id": _first_assignee(bindparam("f_team")), "notify_attempts": literal(0),
    }
    rows = select(*values.values())
    if source is not None:
        rows = rows.select_from(source)
    return insert(f).from_select(list(values), rows).returning(f.c.id, f.c.assignee_id)


# Built once: the submit path opens a follow-up on every unhappy response.
_FOLLOWUP_INSERT = _followup_insert(bindparam("f_response"))
_OPENED_EVENT = insert(FollowUpEvent.__table__)


def opened_ctes(response_id, source=None):
    """PostgreSQL: the data-modifying WITHs that open the follow-up of `response_id` (a bind, or the id
    column of `source`, a CTE of the caller's statement, so the customer submit writes its response and
    opens its follow-up in one statement): the follow-up, its "opened" event and its alert mail. Returns
    the CTEs (opened, alert, event); `event.c.follow_up_id` is the new follow-up's id. Parameters:
    followup_values. SQLite has no such thing: there insert_followup takes three statements."""
    opened = _followup_insert(response_id, source).returning(FollowUp.__table__.c.opened_at).cte("opened")
    alert = insert(OutboxMessage.__table__).from_select(
        ["follow_up_id", "kind", "sequence", "status", "attempts", "next_attempt_at", "created_at"],
        select(opened.c.id, literal("alert"), literal(0), literal("pending"), literal(0), opened.c.opened_at,
               opened.c.opened_at),
    ).cte("alert")
    events = FollowUpEvent.__table__
    event = insert(events).from_select(
        ["follow_up_id", "at", "kind", "to_state", "assignee_id"],
        select(opened.c.id, opened.c.opened_at, literal("opened"), literal("open"), opened.c.assignee_id),
    ).returning(events.c.follow_up_id).cte("opened_event")
    return opened, alert, event


def _opened_in_one_statement():
    _opened, alert, event = opened_ctes(bindparam("f_response"))
    return select(event.c.follow_up_id).add_cte(alert)


_OPENED_WITH_EVENT_AND_ALERT = _opened_in_one_statement()


_ALERT_INSERT = insert(OutboxMessage.__table__).values(
    kind="alert", sequence=0, status="pending", attempts=0,
    follow_up_id=bindparam("follow_up_id"), next_attempt_at=bindparam("now"), created_at=bindparam("now"),
)


def followup_values(team_id, reasons, now, consent):
    """The parameters of a follow-up opened `now` (see opened_ctes): due FOLLOWUP_DUE_HOURS after its
    clock starts (queries.due_time: at once, or without the customer's `consent` at the end of the day)."""
    due = due_time(now, consent, timedelta(hours=current_app.config["FOLLOWUP_DUE_HOURS"]))
    return {"f_team": team_id, "f_reasons": reasons, "f_opened": now, "f_due": due,
            "f_reference": new_followup_reference()}


def insert_followup(response_id, team_id, reasons, now, consent, *, endpoints_active=True):
    """Add the follow-up of a response, its "opened" event and its assignee's alert mail (an outbox
    row) to the current transaction (no commit), the assignee chosen inside the INSERT, and the
    `followup.opened` webhooks (`endpoints_active`: see webhooks_outbox.emit). Returns the new
    follow-up's id."""
    followup_id = _insert_opened(response_id, team_id, reasons, now, consent)
    announce_opened(followup_id, now, endpoints_active=endpoints_active)
    return followup_id


def announce_opened(followup_id, now, *, endpoints_active=True):
    """The `followup.opened` webhooks of a follow-up just opened (in the current transaction)."""
    emit("followup.opened", lambda: followup_event(followup_id, "followup.opened", now), now=now,
         endpoints_active=endpoints_active)


def _insert_opened(response_id, team_id, reasons, now, consent):
    """The follow-up, its "opened" event and its alert mail: one statement on PostgreSQL, three on SQLite."""
    connection = db.session.connection()
    values = followup_values(team_id, reasons, now, consent) | {"f_response": response_id}
    if connection.dialect.name == "postgresql":
        return connection.execute(_OPENED_WITH_EVENT_AND_ALERT, values).scalar_one()
    followup_id, assignee_id = connection.execute(_FOLLOWUP_INSERT, values).one()
    connection.execute(
        _OPENED_EVENT,
        {"follow_up_id": followup_id, "at": now, "kind": "opened", "to_state": "open", "assignee_id": assignee_id},
    )
    connection.execute(_ALERT_INSERT, {"follow_up_id": followup_id, "now": now})
    return followup_id


def _clean_note(note, required=False, field="note"):
    note = (note or "").strip()
    if required and not note:
        raise FollowupError("Please write a short note.", field)
    if len(note) > NOTE_MAX:
        raise FollowupError(f"Please keep the note under {NOTE_MAX} characters.", field)
    return note or None


def _event(followup, actor, kind, at, **fields):
    event = FollowUpEvent(follow_up=followup, actor_id=actor.id if actor else None, kind=kind, at=at, **fields)
    db.session.add(event)
    return event


def _hold(followup):
    """Lock the follow-up's row to the end of the transaction, then read it again: two leaders acting on
    it at once act one after the other, and the second sees the first's change. Read without it, both
    resolved it: two state events, two followup.resolved webhooks (a race hunt). Call it before changing
    the follow-up: the re-read drops changes not yet written. Who may see it is the caller's check, made
    on the same row (its team does not change but by a merge, which moves the follow-up with it)."""
    take_sqlite_write_lock(db.session.connection())
    # FOR NO KEY UPDATE: the lock an UPDATE of the row takes, which lets others add its events meanwhile.
    db.session.execute(select(FollowUp).where(FollowUp.id == followup.id).with_for_update(key_share=True)
                       .execution_options(populate_existing=True)).scalar_one()  # the re-read happens as it is fetched


def _move(followup, actor, to_state, at, note=None):
    _event(followup, actor, "state", at, from_state=followup.state, to_state=to_state, note=note)
    followup.state = to_state


def record_contact(followup, actor, channel, outcome, note=None, at=None, now=None):
    """Record a contact; the first one that reached the customer moves an open follow-up to
    contacted. `at` (when it happened) defaults to now; it cannot be in the future or before
    the follow-up was opened (without the customer's consent: before the day it was opened)."""
    now = now or utcnow()
    at = at or now
    _hold(followup)
    if channel not in CHANNEL_LABELS:
        raise FollowupError("Please choose how you contacted the customer.", "channel")
    if outcome not in OUTCOME_LABELS:
        raise FollowupError("Please choose what came of it.", "outcome")
    if at > now + timedelta(minutes=5):
        raise FollowupError("The contact cannot be in the future.", "at")
    if at < earliest_contact(followup):
        raise FollowupError("The contact cannot be before the day the follow-up was opened."
                            if not followup.response.contact_consent
                            else "The contact cannot be before the follow-up was opened.", "at")
    note = _clean_note(note)
    _event(followup, actor, "contact", at, channel=channel, outcome=outcome, note=note)
    if outcome in COUNTING_OUTCOMES:
        if followup.first_contact_at is None or at < followup.first_contact_at:
            followup.first_contact_at = at
        if followup.state == "open":
            _move(followup, actor, "contacted", at)
    db.session.commit()


def resolve(followup, actor, note, now=None):
    _hold(followup)
    if followup.state == "resolved":
        raise FollowupError("This follow-up is already resolved.")
    now = now or utcnow()
    _move(followup, actor, "resolved", now, _clean_note(note, required=True))
    followup.resolved_at = now
    db.session.flush()
    emit("followup.resolved", lambda: followup_event(followup.id, "followup.resolved", now), now=now)
    db.session.commit()


def reopen(followup, actor, note, now=None):
    _hold(followup)
    if followup.state != "resolved":
        raise FollowupError("Only a resolved follow-up can be reopened.")
    now = now or utcnow()
    _move(followup, actor, "contacted" if followup.first_contact_at else "open", now, _clean_note(note, required=True))
    followup.resolved_at = None
    db.session.commit()


def reassign(followup, actor, assignee_id, note=None, now=None):
    """Give the follow-up to another leader of its team or an admin; they are told by email."""
    target = next((user for user in assignable_users(followup) if user.id == assignee_id), None)
    if target is None:
        raise FollowupError("Choose a leader of this team or an administrator.", "assignee")
    if target.id == followup.assignee_id:
        raise FollowupError(f"{target.name or target.email} already has this follow-up.", "assignee")
    give_to(followup, actor, target, _clean_note(note), now or utcnow())
    db.session.commit()


def give_to(followup, actor, target, note, now, **audited):
    """Make `target` the assignee (the caller checked they may be, and commits): the event, the audit
    entry (with `audited`) and an alert to them."""
    _event(followup, actor, "reassigned", now, assignee_id=target.id, note=note)
    audit("followup.reassigned", actor=actor, target=followup, from_assignee_id=followup.assignee_id,
          to_assignee_id=target.id, **audited)
    followup.assignee_id = target.id
    followup.notified_at, followup.notify_attempts, followup.notify_error = None, 0, None
    queue_alert(followup.id, now)


def queue_alert(followup_id, now):
    """Queue a new alert to the follow-up's (new) assignee; an earlier one not sent yet is cancelled."""
    cancel_pending(and_(OutboxMessage.follow_up_id == followup_id, OutboxMessage.kind == "alert"), "reassigned")
    alerts = db.session.execute(
        select(func.count()).where(OutboxMessage.follow_up_id == followup_id, OutboxMessage.kind == "alert")
    ).scalar_one()
    insert_ignoring_duplicates(OutboxMessage, follow_up_id=followup_id, kind="alert", sequence=alerts,
                               status="pending", attempts=0, next_attempt_at=now, created_at=now)


def add_note(followup, actor, note, now=None):
    _event(followup, actor, "note", now or utcnow(), note=_clean_note(note, required=True))
    db.session.commit()


def announce_overdue(now=None):
    """Mark every follow-up that became overdue (open, nobody contacted, past its due time) and
    queue its `followup.overdue` webhooks, once per follow-up: the UPDATE ... RETURNING takes each
    row once, so two workers at the same moment never both announce it. Returns how many."""
    now = now or utcnow()
    ids = db.session.execute(
        update(FollowUp)
        .where(FollowUp.state == "open", FollowUp.first_contact_at.is_(None), FollowUp.due_at <= now,
               FollowUp.overdue_announced_at.is_(None))
        .values(overdue_announced_at=now)
        .returning(FollowUp.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    for followup_id in ids:
        emit("followup.overdue", lambda followup_id=followup_id: followup_event(followup_id, "followup.overdue", now),
             now=now)
    db.session.commit()
    return len(ids)
