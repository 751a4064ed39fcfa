"""Mails of the closed loop: the alert to a follow-up's assignee (and, from
perception.followups.recovery_service, the re-survey link to a customer), written by the one composer
(perception.web.mail.MailWriter) and sent through the SMTP transport (perception.core.smtp).

Both are outbox rows (perception.core.outbox): opening a follow-up queues its alert in the
customer's submit transaction, which costs the submit no SMTP round trip; `deliver_followup_mail`
(part of `flask --app wsgi send-mail`) claims due rows, so several processes may run at once, and
retries temporary failures with back-off. A row's result is mirrored on what it is about: the
follow-up's `notified_at` / `notify_attempts` / `notify_error`, the re-survey's state. A reassigned
follow-up's alert that was not sent yet is cancelled and a new one queued for the new assignee.
An alert names no customer: it says why the rule fired and links to the follow-up page, which
shows who the customer is only when they allowed contact.
"""

import logging
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import or_
from sqlalchemy.orm import joinedload, selectinload

from perception.core.extensions import db
from perception.core.models import FollowUp, FollowUpEvent, OutboxMessage, RecoveryRequest, utcnow
from perception.core.outbox import (
    FOLLOWUP_KINDS,
    claim_due,
    mark_failed,
    mark_sent,
    release,
    release_stale_claims,
    retry_later,
)
from perception.core.smtp import MailConfigError, PermanentFailure, SmtpConnection, TemporaryFailure, send_on
from perception.followups.queries import customer_email, reason_lines, recovery_link
from perception.web.mail import MailWriter

log = logging.getLogger(__name__)


def followup_url(followup):
    return f"{current_app.config['BASE_URL']}/leaders/followups/{followup.id}"


def alert_message(writer, followup, now=None):
    assignee = followup.assignee
    team = followup.team.name if followup.team else "no team"
    context = {
        "assignee_name": assignee.name or assignee.email,
        "team": team,
        "survey": followup.response.survey.title,
        "reasons": reason_lines(followup),
        "due": f"{followup.due_at:%d %b %Y, %H:%M} UTC",
        "consent": followup.response.contact_consent,
        "link": followup_url(followup),
    }
    subject = f"A customer of {team} needs a follow-up by {followup.due_at:%d %b %H:%M} UTC"
    return writer.write(assignee.email, assignee.name, subject, "followups/mail_alert", context, now=now)


@dataclass
class AlertReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list = field(default_factory=list)
    last_error: str | None = None  # the last failure's reason, for a page to show

    def summary(self):
        return f"sent {self.sent}, retry later {self.retry}, failed {self.failed}"


def recovery_message(writer, recovery, now=None):
    followup = recovery.follow_up
    response = followup.response
    invitation = response.invitation
    context = {
        "name": invitation.customer_name if invitation else None,
        "team": followup.team.name if followup.team else None,
        "link": recovery_link(recovery),
        "expires_on": f"{recovery.expires_at.day} {recovery.expires_at:%B %Y}",
    }
    return writer.write(customer_email(response), context["name"], "Did we put things right?",
                        "followups/mail_recovery", context, now=now)


# What the mails of a batch need, in a few queries.
MAIL_NEEDS = (
    selectinload(OutboxMessage.follow_up).options(
        joinedload(FollowUp.assignee), joinedload(FollowUp.team), joinedload(FollowUp.response)),
    selectinload(OutboxMessage.recovery).options(
        joinedload(RecoveryRequest.follow_up).options(joinedload(FollowUp.team), joinedload(FollowUp.response))),
)


def _skip_reason(message, now):
    if message.kind == "alert":
        followup = message.follow_up
        return None if followup.assignee is not None and followup.assignee.active else "no active assignee"
    recovery = message.recovery
    if recovery.state != "created" or now >= recovery.expires_at:
        return f"re-survey {recovery.state}"
    return None if customer_email(recovery.follow_up.response) else "no address"


def _record(message, outcome, now, error=None):
    """Mirror a row's result on what it is about: the follow-up's alert fields, the re-survey's state."""
    if message.kind == "alert":
        followup = message.follow_up
        if outcome == "sent":
            followup.notified_at, followup.notify_error = now, None
        else:
            max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
            followup.notify_attempts = max_attempts if outcome == "failed" else followup.notify_attempts + 1
            followup.notify_error = str(error)[:300]
    elif outcome == "sent":
        recovery = message.recovery
        recovery.state, recovery.sent_at = "sent", now
        db.session.add(FollowUpEvent(follow_up_id=recovery.follow_up_id, at=now, actor_id=recovery.created_by_id,
                                     kind="recovery_sent"))


def _deliver_one(connection, writer, message, now, report):
    reason = _skip_reason(message, now)
    if reason is not None:
        message.status, message.last_error, message.claim_token = "cancelled", reason, None
        report.cancelled += 1
        return
    message.attempts += 1
    try:
        try:
            if message.kind == "alert":
                mail = alert_message(writer, message.follow_up, now)
            else:
                mail = recovery_message(writer, message.recovery, now)
        except ValueError as error:  # an address no header can hold
            raise PermanentFailure(f"invalid address: {type(error).__name__}") from None
        send_on(connection, mail)
    except PermanentFailure as error:
        mark_failed(message, error)
        _record(message, "failed", now, error)
        report.failed += 1
        report.errors.append(f"{message.kind} {message.id}: {error}")
        report.last_error = str(error)
    except TemporaryFailure as error:
        outcome = retry_later(message, error, now, current_app.config)
        _record(message, outcome, now, error)
        report.failed += outcome == "failed"
        report.retry += outcome != "failed"
        report.errors.append(f"{message.kind} {message.id}: {error}")
        report.last_error = str(error)
    else:
        mark_sent(message, now)
        _record(message, "sent", now)
        report.sent += 1
    finally:
        db.session.commit()


def deliver_followup_mail(limit=500, now=None, *, follow_up_ids=None, recovery_ids=None):
    """Send the due alerts and re-survey mails of the outbox (only those of `follow_up_ids` /
    `recovery_ids` when given); returns an AlertReport. Safe in several processes at once (the rows
    are claimed, perception.core.outbox). Raises MailConfigError when the SMTP server refuses our
    login or sender; the rows not sent go back to the queue."""
    now = now or utcnow()
    only = None
    if follow_up_ids is not None or recovery_ids is not None:
        only = or_(OutboxMessage.follow_up_id.in_(follow_up_ids or ()),
                   OutboxMessage.recovery_id.in_(recovery_ids or ()))
    else:
        release_stale_claims(now)
    report = AlertReport()
    batch = claim_due(limit, now, FOLLOWUP_KINDS, only=only, options=MAIL_NEEDS)
    connection = SmtpConnection(current_app.config)
    writer = MailWriter()
    try:
        for index, message in enumerate(batch):
            try:
                _deliver_one(connection, writer, message, now, report)
            except MailConfigError as error:
                release(batch[index:], now, error)
                raise
            if connection.smtp is None and message.status == "pending":
                release(batch[index + 1:], now, message.last_error)  # the server is unreachable: later
                report.retry += len(batch) - index - 1
                break
    finally:
        connection.close()
    for line in report.errors:
        log.warning("follow-up mail: %s", line)
    return report


def try_alert(followup_id):
    """Send one follow-up's alert now if possible (after a reassignment); a failure leaves it
    queued for the next `send-mail`. Returns True when it was sent."""
    try:
        return deliver_followup_mail(follow_up_ids=[followup_id]).sent == 1
    except MailConfigError as error:
        log.warning("follow-up alert %s not sent: %s", followup_id, error)
        return False
