"""The outbox: every mail the app sends is a row of `outbox_messages` first (invitations and
reminders to customers, alerts to a follow-up's assignee, re-survey links, account invitations and
password resets, leaders' digests), and is sent by `flask --app wsgi send-mail` (perception.invitations.mail,
perception.followups.mail, perception.followups.digest_mail and perception.accounts.mail write the mails
of their kinds). This module queues reminders and claims due rows so that several processes can run at
once and each row is handled by exactly one of them.

A claim moves rows from `pending` to `sending` and stamps them with a claim token of its own:
- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` picks rows no other transaction holds, and the
  UPDATE in the same transaction claims them; concurrent workers take disjoint batches.
- SQLite: one `UPDATE ... WHERE id IN (SELECT ... LIMIT n) AND status = 'pending'` statement.
  SQLite runs one writer at a time, so the statement is atomic; the rows a worker got are the
  ones carrying its claim token.
A worker that dies between claiming and recording the result leaves rows in `sending`; they are
handed back after `STALE_CLAIM` (the only case where a mail could go out twice: the SMTP server
accepted it but the worker died before writing that down, which concerns at most the group of
`perception.invitations.mail.RECORD_EVERY` rows whose results were not committed yet).
A result is written only to a row that still carries the claim of the worker writing it
(`keep_own_claims`, on every flush): a row handed back, or cancelled by an erasure, meanwhile belongs
to someone else, and the late result must not overwrite theirs. The same holds for webhook deliveries
(perception.core.webhooks_outbox claims them with `claim_rows`).
"""

import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import get_history

from perception.core.database import take_sqlite_write_lock
from perception.core.extensions import db
from perception.core.models import Invitation, OutboxMessage, Survey, WebhookDelivery, covers_team_clause

log = logging.getLogger(__name__)

CUSTOMER_KINDS = ("invitation", "reminder")  # perception.invitations.mail
FOLLOWUP_KINDS = ("alert", "recovery")  # perception.followups.mail
ACCOUNT_KINDS = ("account",)  # perception.accounts.mail: invitation and password-reset links of accounts
DIGEST_KINDS = ("digest",)  # perception.followups.digest_mail

STALE_CLAIM = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=6)


def insert_ignoring_duplicates(model, **values):
    """INSERT that quietly does nothing when a UNIQUE/PRIMARY KEY already holds the row; returns 1 or 0."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing()
    # Count the rows through RETURNING: drivers disagree on rowcount here (psycopg gives -1).
    returned = db.session.execute(statement.returning(*model.__table__.primary_key.columns)).all()
    return len(returned)


def claim_due(limit, now, kinds, *, only=None, options=()):
    """Claim up to `limit` due rows of `kinds` (and of the SQL condition `only`) for this worker;
    returns them (status `sending`), loaded with `options` (what the mails need, in a few queries)."""
    conditions = [OutboxMessage.kind.in_(kinds), *(() if only is None else (only,))]
    return claim_rows(OutboxMessage, conditions, limit, now, options)


def claim_rows(model, conditions, limit, now, options=(), tiebreak=None):
    """Claim up to `limit` pending rows of an outbox table (`model` has status, next_attempt_at,
    claim_token and claimed_at) that are due at `now` and meet `conditions`; returns them, loaded
    with `options`, in the order claimed: by due time, then the columns of `tiebreak` (the id by
    default). Several processes at once take disjoint rows."""
    order = (model.next_attempt_at, *(tiebreak or (model.id,)))
    claim = secrets.token_hex(16)
    # Start from a fresh transaction: on SQLite the claim's UPDATE then takes the write lock first
    # thing, instead of upgrading an older read snapshot (which fails at once under WAL).
    db.session.commit()
    due = (
        select(model.id)
        .where(model.status == "pending", model.next_attempt_at <= now, *conditions)
        .order_by(*order)
        .limit(limit)
    )
    claimed = {"status": "sending", "claim_token": claim, "claimed_at": now}
    if db.session.get_bind().dialect.name == "postgresql":
        ids = db.session.execute(due.with_for_update(skip_locked=True)).scalars().all()
        if ids:
            db.session.execute(update(model).where(model.id.in_(ids)).values(**claimed))
    else:
        db.session.execute(
            update(model)
            .where(model.id.in_(due.scalar_subquery()), model.status == "pending")
            .values(**claimed)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    # populate_existing: a row this session already holds (tried earlier in the same call, due again)
    # takes the claimed state; SQLite's UPDATE above leaves objects in memory as they were (a review).
    rows = list(db.session.execute(
        select(model).where(model.claim_token == claim).order_by(*order).options(*options)
        .execution_options(populate_existing=True)
    ).scalars())
    claims = db.session.info.setdefault(CLAIMS_KEY, {})
    claims.update(((model, row.id), claim) for row in rows)
    return rows


CLAIMED_MODELS = (OutboxMessage, WebhookDelivery)  # the tables `claim_rows` hands out
# session.info key: {(model, row id): the claim this session's worker took the row with}. Kept apart from
# the row's own claim_token, which a commit's reload replaces with whatever the row holds by then.
CLAIMS_KEY = "outbox_claims"


def _claim_given_up(session, row):
    """The claim a change of `row` gives up (every result clears it): the one this session claimed the
    row with, else the one it held in memory; None when the change is not a result."""
    history = get_history(row, "claim_token")
    if not history.added:
        return None
    claimed = session.info.get(CLAIMS_KEY, {}).pop((type(row), row.id), None)
    return claimed or next((token for token in history.deleted if token is not None), None)


def still_claimed(row, *also):
    """Whether `row`, claimed by this session (claim_rows), still carries that claim, read afresh just
    before it is sent, with the attributes named in `also` (a webhook's body: an erasure may have
    rewritten it meanwhile). A row taken back by another worker, or cancelled, is not to be sent: the
    other worker sends it."""
    db.session.refresh(row, ["claim_token", *also])
    return row.claim_token is not None and row.claim_token == db.session.info.get(CLAIMS_KEY, {}).get(
        (type(row), row.id))


def keep_own_claims(session, _context, _instances):
    """before_flush: the result of a claimed row is written only if the row still carries the claim
    it was sent under. A worker slower than STALE_CLAIM (or one whose row an erasure cancelled) finds
    the row handed back and perhaps claimed and sent by another worker: its late result would
    overwrite theirs, so it is dropped here (the row's other changes are not written either). The rows
    stay locked until the commit, so no release can come between this check and the write."""
    results = {}
    for row in session.dirty:
        if isinstance(row, CLAIMED_MODELS):
            token = _claim_given_up(session, row)
            if token is not None:
                results.setdefault(type(row), {})[row.id] = (row, token)
    if not results:
        return
    connection = session.connection()
    take_sqlite_write_lock(connection)
    for model, rows in results.items():
        held = dict(connection.execute(
            select(model.id, model.claim_token).where(model.id.in_(rows)).with_for_update(key_share=True)
        ).all())
        for row_id, (row, token) in rows.items():
            if held.get(row_id) != token:
                log.warning("%s %s: claim lost to another worker, result not written", model.__tablename__, row_id)
                session.expire(row)  # forgets the result in memory: the row is read afresh when next used


def guard_claims(sessions):
    """Check claims on every flush of `sessions` (keep_own_claims). Idempotent: create_app calls it
    for every app it builds."""
    if not event.contains(sessions, "before_flush", keep_own_claims):
        event.listen(sessions, "before_flush", keep_own_claims)


def release_stale_claims(now):
    """Hand back rows whose worker died mid-batch."""
    return release_rows_claimed_before(OutboxMessage, now - STALE_CLAIM)


def release_rows_claimed_before(model, moment):
    """Hand back the rows of an outbox table (as `claim_rows` takes) claimed before `moment`: their
    worker died while sending them, so they go out again (at least once). Returns how many."""
    result = db.session.execute(
        update(model)
        .where(model.status == "sending", model.claimed_at < moment)
        .values(status="pending", claim_token=None, claimed_at=None)
    )
    db.session.commit()
    return result.rowcount


def schedule_reminders(now, after_days, max_reminders):
    """Queue the next reminder for every mailed invitation still unanswered `after_days` after
    its last mail. Never for answered, unsubscribed, bounced or expired invitations (their state
    says so), nor after the survey closes. Concurrent workers cannot queue a reminder twice: the
    outbox's unique index (invitation, kind, sequence) keeps one."""
    if max_reminders <= 0:
        return 0
    rows = db.session.execute(
        select(Invitation.id, Invitation.reminders_sent)
        .join(Survey, Survey.id == Invitation.survey_id)
        .where(
            Invitation.channel == "email",
            Invitation.state.in_(("sent", "opened")),
            Invitation.customer_email.is_not(None),
            Invitation.reminders_sent < max_reminders,
            Invitation.last_sent_at <= now - timedelta(days=after_days),
            or_(Invitation.expires_at.is_(None), Invitation.expires_at > now),
            Survey.status == "open",
            or_(Survey.closes_at.is_(None), Survey.closes_at > now),
            covers_team_clause(Survey.id, Invitation.team_id),  # its link is closed otherwise
        )
    ).all()
    queued = 0
    for invitation_id, reminders_sent in rows:
        queued += insert_ignoring_duplicates(
            OutboxMessage, invitation_id=invitation_id, kind="reminder", sequence=reminders_sent + 1,
            status="pending", attempts=0, next_attempt_at=now, created_at=now,
        )
    db.session.commit()
    return queued


def backoff(attempts, base_seconds):
    """Delay before the next try after `attempts` temporary failures: base, 2x, 4x ... capped."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def retry_later(message, error, now, config):
    """After a temporary failure of a claimed row (its attempt already counted): back to `pending`
    with back-off, or `failed` after MAIL_MAX_ATTEMPTS. Returns the new status."""
    message.last_error, message.claim_token = str(error)[:500], None
    if message.attempts >= config["MAIL_MAX_ATTEMPTS"]:
        message.status = "failed"
    else:
        message.status = "pending"
        message.next_attempt_at = now + backoff(message.attempts, config["MAIL_RETRY_SECONDS"])
    return message.status


def release(messages, now, error):
    """Put claimed rows back after a failure that concerns the connection, not the rows (each try
    counts, with back-off)."""
    for message in messages:
        message.attempts += 1
        message.status, message.claim_token, message.last_error = "pending", None, str(error)[:500]
        message.next_attempt_at = now + backoff(message.attempts, current_app.config["MAIL_RETRY_SECONDS"])
    db.session.commit()


def mark_sent(message, now):
    message.status, message.sent_at, message.claim_token, message.last_error = "sent", now, None, None


def mark_failed(message, error):
    message.status, message.last_error, message.claim_token = "failed", str(error)[:500], None


def cancel_pending(condition, reason):
    """Cancel the pending rows matching `condition` (a row that must not go out any more)."""
    return db.session.execute(
        update(OutboxMessage).where(OutboxMessage.status == "pending", condition)
        .values(status="cancelled", last_error=reason)
    ).rowcount


def outbox_counts():
    rows = db.session.execute(
        select(OutboxMessage.status, db.func.count()).group_by(OutboxMessage.status)
    ).all()
    return dict(rows)
