"""Mails of the closed loop: the alert to a follow-up's assignee (and, from
perception.followups.recovery_service, the re-survey link to a customer), written by the one composer
(perception.web.mail.MailWriter) and sent through the SMTP transport (perception.core.smtp).

Both are outbox rows (perception.core.outbox): opening a follow-up queues its alert in the
customer's submit transaction, which costs the submit no SMTP round trip; `deliver_followup_mail`
(part of `flask --app wsgi send-mail`) claims due rows, so several processes may run at once, and
retries temporary failures with back-off. A row's result is mirrored on what it is about: the
follow-up's `notified_at` / `notify_attempts` / `notify_error`, the re-survey's state. A reassigned
follow-up's alert that was not sent yet is cancelled and a new one queued for the new assignee; one
whose assignee may no longer see the follow-up when its turn comes (deactivated, moved to another
team, made staff) is cancelled.
An alert names no customer: it says why the rule fired and links to the follow-up page, which
shows who the customer is only when they allowed contact.
"""

import logging

from flask import current_app
from sqlalchemy import or_
from sqlalchemy.orm import joinedload, selectinload

from perception.core.extensions import db
from perception.core.models import FollowUp, FollowUpEvent, OutboxMessage, RecoveryRequest, utcnow
from perception.core.outbox import FOLLOWUP_KINDS, claim_due, release_stale_claims
from perception.core.smtp import MailConfigError
from perception.core.suppression import is_suppressed
from perception.followups.queries import customer_email, followup_url, reason_lines, recovery_link, sees_followup
from perception.web.mail import one_line
from perception.web.mail_delivery import MailReport, cancel, send_batch, send_one

log = logging.getLogger(__name__)


def alert_message(writer, followup, now=None):
    assignee = followup.assignee
    team = followup.team.name if followup.team else "no team"
    consent = followup.response.contact_consent
    # The due time (queries.due_time): without consent, the day only
    # (DESIGN section 2, "no consent, no link": no time finer than the day beside the answers).
    due = f"{followup.due_at:%d %b %Y, %H:%M} UTC" if consent else f"{followup.due_at:%d %b %Y}"
    context = {
        "assignee_name": assignee.name or assignee.email,
        "team": team,
        "survey": followup.response.survey.title,
        "reasons": reason_lines(followup),
        "due": due,
        "consent": consent,
        "link": followup_url(followup),
    }
    subject_due = f"{followup.due_at:%d %b %H:%M} UTC" if consent else f"{followup.due_at:%d %b}"
    subject = f"A customer of {team} needs a follow-up by {subject_due}"
    return writer.write(assignee.email, assignee.name, subject, "followups/mail_alert", context, now=now)


def recovery_message(writer, recovery, now=None):
    followup = recovery.follow_up
    response = followup.response
    invitation = response.invitation
    context = {
        "name": (one_line(invitation.customer_name) or None) if invitation else None,  # as the invitation mail
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
        followup, assignee = message.follow_up, message.follow_up.assignee
        if assignee is None or not assignee.active:
            return "no active assignee"
        # Moved to another team or made staff since it was given to them: the alert's scores are not
        # theirs to read any more (DESIGN section 2, "Scope").
        return None if sees_followup(assignee, followup) else "the assignee may no longer see it"
    recovery = message.recovery
    if recovery.state != "created" or now >= recovery.expires_at:
        return f"re-survey {recovery.state}"
    address = customer_email(recovery.follow_up.response)
    if not address:
        return "no address"
    return "the address is on the suppression list" if is_suppressed(address) else None


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


def _mail_for(writer, message, now):
    if message.kind == "alert":
        return alert_message(writer, message.follow_up, now)
    return recovery_message(writer, message.recovery, now)


def deliver_followup_mail(limit=500, now=None, *, follow_up_ids=None, recovery_ids=None):
    """Send the due alerts and re-survey mails of the outbox (only those of `follow_up_ids` /
    `recovery_ids` when given); returns a MailReport. Safe in several processes at once (the rows
    are claimed, perception.core.outbox). Raises MailConfigError when the SMTP server refuses our
    login or sender; the rows not sent go back to the queue."""
    now = now or utcnow()
    only = None
    if follow_up_ids is not None or recovery_ids is not None:
        only = or_(OutboxMessage.follow_up_id.in_(follow_up_ids or ()),
                   OutboxMessage.recovery_id.in_(recovery_ids or ()))
    else:
        release_stale_claims(now)
    report = MailReport()

    def deliver_one(connection, writer, message):
        reason = _skip_reason(message, now)
        if reason is not None:
            cancel(message, reason, report)
            return
        send_one(connection, message, lambda: _mail_for(writer, message, now), now, report,
                 on_outcome=lambda message, outcome, error: _record(message, outcome, now, error))

    batch = claim_due(limit, now, FOLLOWUP_KINDS, only=only, options=MAIL_NEEDS)
    return send_batch(batch, deliver_one, now, report, "follow-up mail")


def try_alert(followup_id):
    """Send one follow-up's alert now if possible (after a reassignment); a failure leaves it
    queued for the next `send-mail`. Returns True when it was sent."""
    try:
        return deliver_followup_mail(follow_up_ids=[followup_id]).sent == 1
    except MailConfigError as error:
        log.warning("follow-up alert %s not sent: %s", followup_id, error)
        return False
