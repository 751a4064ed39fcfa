"""Delivering the invitation and reminder mails of the outbox over SMTP (part of `flask --app wsgi send-mail`).

One run: mark expired invitations, hand back stale claims, queue due reminders, then claim due
rows in batches (see perception.core.outbox) and send them over one SMTP connection. The rows of a
batch go out in groups of RECORD_EVERY: the group's invitation states are read afresh in one query
just before its mails are sent, and its results are written in one commit (one executemany per
table) once the server has answered the group's last mail. A crash therefore loses the results of
at most one group, whose rows are handed back after STALE_CLAIM (perception.core.outbox) and sent again.
A bounce, a temporary failure or a re-issued link is committed at once.

- Accepted: the row is `sent`; the invitation becomes `sent` (if it was `created`).
- Temporary failure (4xx reply, connection refused or lost, timeout): the row goes back to
  `pending` with exponential back-off; after MAIL_MAX_ATTEMPTS tries it is `failed`.
- Permanent failure (5xx for the recipient or the message): the row is `failed`, the
  invitation `bounced`, and the address goes on the suppression list.
- Rows whose invitation was answered, unsubscribed, bounced or expired meanwhile are
  `cancelled` without a mail. Links and tokens are never logged.
"""

import logging
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import case, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from perception.core.extensions import db
from perception.core.models import Invitation, OutboxMessage, Survey, utcnow
from perception.core.outbox import (
    CUSTOMER_KINDS,
    claim_due,
    mark_failed,
    mark_sent,
    release,
    release_stale_claims,
    retry_later,
    schedule_reminders,
)
from perception.core.smtp import MailConfigError, PermanentFailure, SmtpConnection, TemporaryFailure, send_on
from perception.core.suppression import suppression_reasons
from perception.insights.effort import phone_minutes
from perception.invitations.queries import mail_link, unsubscribe_link
from perception.invitations.service import expire_invitations, suppress
from perception.web.mail import CRLF, MailWriter, header_line, one_line

log = logging.getLogger(__name__)


# The invitation and reminder mail, in the languages we ship (templates/invitations/mail_invitation[.<lang>].txt|html).
INVITATION_TEMPLATE = "invitations/mail_invitation"
SUBJECTS = {
    "en": ("How did we treat you at {team}?", "Reminder: how did we treat you at {team}?"),
    "de": ("Wie haben wir Sie bei {team} behandelt?", "Erinnerung: Wie haben wir Sie bei {team} behandelt?"),
}


def mail_language(language):
    code = (language or "en").split("-")[0].lower()
    return code if code in SUBJECTS else "en"


def format_day(when, language="en"):
    if mail_language(language) == "de":
        return f"{when:%d.%m.%Y}"
    return f"{when.day} {when:%B %Y}"


def visit_date(invitation):
    return format_day(invitation.interaction_at or invitation.created_at, invitation.language)


def invitation_mail(writer, invitation, kind, link, unsubscribe_url, now=None):
    """The invitation or reminder mail for `invitation` (`kind` is "invitation" or "reminder")."""
    language = invitation.language
    context = {
        "kind": kind,
        "name": one_line(invitation.customer_name) or None,
        "team": invitation.team.name,
        "staff_name": one_line(invitation.staff.name) if invitation.staff else None,
        "visit_date": visit_date(invitation),
        "link": link,
        "unsubscribe_url": unsubscribe_url,
        "expires_on": format_day(invitation.expires_at, language) if invitation.expires_at else None,
        "item_count": len(invitation.survey.items),
        "minutes": phone_minutes(len(invitation.survey.items), recommend=invitation.survey.ask_nps),
        "language": language or "en",
    }
    first, reminder = SUBJECTS[mail_language(language)]
    subject = (first if kind == "invitation" else reminder).format(team=one_line(invitation.team.name))
    # RFC 2369 and RFC 8058: mail programs show an "Unsubscribe" button that POSTs to the URL.
    unsubscribe = [header_line("List-Unsubscribe", f"<{one_line(unsubscribe_url, 2000)}>"),
                   f"List-Unsubscribe-Post: List-Unsubscribe=One-Click{CRLF}"]
    return writer.write(invitation.customer_email, context["name"], subject, INVITATION_TEMPLATE, context,
                        language=language, headers=unsubscribe, now=now)


# Rows sent between two commits of their results (see the module docstring).
RECORD_EVERY = 20
# Everything an invitation or reminder mail needs, loaded in a few queries for the whole batch.
MAIL_NEEDS = (selectinload(OutboxMessage.invitation).options(
    joinedload(Invitation.team), joinedload(Invitation.staff), joinedload(Invitation.survey).selectinload(Survey.items),
),)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    bounced: int = 0
    failed: int = 0
    cancelled: int = 0
    reminders_queued: int = 0
    expired: int = 0
    errors: list = field(default_factory=list)

    @property
    def handled(self):
        return self.sent + self.retried + self.bounced + self.failed + self.cancelled

    def summary(self):
        return (f"sent {self.sent}, retry later {self.retried}, bounced {self.bounced}, failed {self.failed}, "
                f"cancelled {self.cancelled}; reminders queued {self.reminders_queued}, "
                f"invitations expired {self.expired}")


FRESH = ("state", "expires_at", "customer_email")


def reread_states(messages):
    """The customer may have answered or unsubscribed since the batch was loaded: read the
    invitations' state afresh, in one query for `messages`, without marking anything changed."""
    invitations = {message.invitation.id: message.invitation for message in messages}
    rows = db.session.execute(
        select(Invitation.id, *(getattr(Invitation, name) for name in FRESH)).where(Invitation.id.in_(invitations))
    )
    for invitation_id, *values in rows:
        for name, value in zip(FRESH, values, strict=True):
            set_committed_value(invitations[invitation_id], name, value)


def _move_state(invitation, to_state, from_states=("created", "sent", "opened")):
    """Give the invitation `to_state` if its row, as the group's commit finds it, is in `from_states`. The
    state in memory was read before the group's mails went out; a customer who answered or unsubscribed
    meanwhile had it written back to "sent", which lost the answer from the funnel and queued a reminder
    to them (a race hunt). The CASE is worked out by the database at the commit, on the row as it is."""
    invitation.state = case((Invitation.state.in_(from_states), to_state), else_=Invitation.state)


def _skip_reason(message, invitation, now, suppressed):
    """Why this row must not be mailed now, or None. `suppressed`: address -> reason, for the batch.
    The invitation's state must have been read afresh just before (reread_states)."""
    if invitation.state in ("answered", "unsubscribed", "bounced", "expired"):
        return invitation.state
    if invitation.is_expired(now):
        _move_state(invitation, "expired")
        return "expired"
    if not invitation.customer_email:
        return "no address"
    reason = suppressed.get(invitation.customer_email)
    if reason is not None:
        if reason == "bounced":
            _move_state(invitation, "bounced")
            invitation.bounced_at = invitation.bounced_at or now
        else:
            _move_state(invitation, "unsubscribed")
            invitation.unsubscribed_at = invitation.unsubscribed_at or now
        return f"address suppressed ({reason})"
    if not invitation.survey.is_accepting(now):
        return "survey not open"
    if not invitation.team_covered:  # an admin changed the wave's teams since: its link is closed
        return "team no longer in the wave"
    if message.kind == "reminder" and invitation.state not in ("sent", "opened"):
        return "not sent yet"
    return None


def deliver_message(connection, message, now, report, suppressed, writer):
    """Send one claimed row and record the result. The caller commits it with its group's (after
    reread_states for the group); a bounce, a temporary failure or a re-issued link is committed
    here at once."""
    invitation = message.invitation
    reason = _skip_reason(message, invitation, now, suppressed)
    if reason is not None:
        message.status, message.last_error, message.claim_token = "cancelled", reason, None
        report.cancelled += 1
        return
    try:
        nonce = invitation.token_nonce
        link = mail_link(invitation)
        if invitation.token_nonce != nonce:  # a link re-issued by mail_link: store it before it leaves
            db.session.commit()
        try:
            email = invitation_mail(writer, invitation, message.kind, link, unsubscribe_link(invitation), now)
        except ValueError as error:  # an address the email package cannot write into a header
            raise PermanentFailure(f"invalid address: {type(error).__name__}") from None
        # Nothing is written while mails go out: on SQLite no write lock is held meanwhile.
        message.attempts += 1
        send_on(connection, email)
    except PermanentFailure as error:
        mark_failed(message, error)
        _move_state(invitation, "bounced")
        invitation.bounced_at = now
        suppress(invitation.customer_email, "bounced", now)
        report.bounced += 1
        log.warning("outbox %s: permanent failure, invitation %s bounced: %s", message.id, invitation.id, error)
        db.session.commit()  # the suppression INSERT holds SQLite's write lock: end it before the next send
        return
    except TemporaryFailure as error:
        if retry_later(message, error, now, current_app.config) == "failed":
            report.failed += 1
        else:
            report.retried += 1
        log.warning("outbox %s: temporary failure (attempt %s): %s", message.id, message.attempts, error)
        db.session.commit()
        raise
    else:
        mark_sent(message, now)
        invitation.sent_at = invitation.sent_at or now
        invitation.last_sent_at = now
        _move_state(invitation, "sent", ("created",))
        if message.kind == "reminder":
            invitation.reminders_sent = max(invitation.reminders_sent, message.sequence)
        report.sent += 1


def _keep_results():
    """Interrupted (Ctrl-C, a bug): still write down what the server already accepted, so those
    rows are not sent again once their claim goes stale."""
    try:
        db.session.commit()
    except Exception:  # the session itself failed: nothing more can be saved
        db.session.rollback()


def deliver_due(limit=None, clock=utcnow):
    """Deliver due invitation and reminder mails; returns a DeliveryReport.
    `clock` gives the current time (tests pass a fixed one to step through back-off)."""
    config = current_app.config
    report = DeliveryReport()
    now = clock()
    report.expired = expire_invitations(now)
    release_stale_claims(now)
    report.reminders_queued = schedule_reminders(now, config["REMINDER_AFTER_DAYS"], config["MAX_REMINDERS"])
    connection = SmtpConnection(config)
    writer = MailWriter()
    # The batch is loaded once with everything a mail needs; committing a group's results must not
    # make the session reload it all (the state that matters is re-read per group: reread_states).
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        while limit is None or report.handled < limit:
            size = config["MAIL_BATCH_SIZE"]
            if limit is not None:
                size = min(size, limit - report.handled)
            batch = claim_due(size, clock(), CUSTOMER_KINDS, options=MAIL_NEEDS)
            if not batch:
                break
            suppressed = suppression_reasons([message.invitation.customer_email for message in batch])
            for index, message in enumerate(batch):
                if index % RECORD_EVERY == 0:
                    db.session.commit()  # the previous group's results
                    reread_states(batch[index:index + RECORD_EVERY])
                try:
                    deliver_message(connection, message, clock(), report, suppressed, writer)
                except TemporaryFailure as error:
                    if connection.smtp is None:
                        # No connection at all: the server is down; leave the rest for later.
                        release(batch[index + 1:], clock(), error)
                        report.retried += len(batch) - index - 1
                        report.errors.append(str(error))
                        return report
                except MailConfigError as error:
                    release(batch[index:], clock(), error)
                    report.retried += len(batch) - index
                    raise
            db.session.commit()
    except BaseException:
        _keep_results()
        raise
    finally:
        session.expire_on_commit = expire_on_commit
        connection.close()
    return report
