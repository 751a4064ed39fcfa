"""Mails of the closed loop: the alert to a follow-up's assignee (and, from
perception.followups.recovery_service, the re-survey link to a customer), written by the one composer
(perception.web.mail.MailWriter) and sent through the SMTP transport (perception.core.smtp).

Alerts are queued in the follow-up row itself (`notified_at` is null while one is pending), so
opening a follow-up costs the customer's submit no SMTP round trip. `deliver_alerts` sends the
pending ones; it is safe in several processes at once: a row is claimed by a conditional UPDATE
(notified_at from null to now) before its mail is written, and handed back on failure.
An alert names no customer: it says why the rule fired and links to the follow-up page, which
shows who the customer is only when they allowed contact.
"""

import logging
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select, update

from perception.core.extensions import db
from perception.core.models import FollowUp, utcnow
from perception.core.smtp import MailConfigError, PermanentFailure, SmtpConnection, TemporaryFailure, send_email
from perception.followups.queries import reason_lines
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
    return writer.write(assignee.email, assignee.name, subject, "followup_alert", context, now=now)


@dataclass
class AlertReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)


def _pending(only_ids, max_attempts, limit):
    query = select(FollowUp.id).where(
        FollowUp.notified_at.is_(None), FollowUp.assignee_id.is_not(None), FollowUp.notify_attempts < max_attempts
    )
    if only_ids is not None:
        query = query.where(FollowUp.id.in_(only_ids))
    return list(db.session.execute(query.order_by(FollowUp.id).limit(limit)).scalars())


def _claim(followup_id, now):
    claimed = db.session.execute(
        update(FollowUp).where(FollowUp.id == followup_id, FollowUp.notified_at.is_(None)).values(notified_at=now)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _hand_back(followup, error, give_up, max_attempts):
    followup.notified_at = None
    followup.notify_attempts = max_attempts if give_up else followup.notify_attempts + 1
    followup.notify_error = str(error)[:300]
    db.session.commit()


def deliver_alerts(only_ids=None, limit=500, now=None):
    """Send the pending alerts (of `only_ids`, or all); returns an AlertReport.
    Raises MailConfigError when the SMTP server refuses our login or sender."""
    now = now or utcnow()
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    report = AlertReport()
    connection = SmtpConnection(current_app.config)
    writer = MailWriter()
    try:
        for followup_id in _pending(only_ids, max_attempts, limit):
            if not _claim(followup_id, now):
                continue  # another process took it
            followup = db.session.get(FollowUp, followup_id)
            try:
                send_email(alert_message(writer, followup, now), connection)
            except (PermanentFailure, ValueError) as error:  # ValueError: an address no header can hold
                _hand_back(followup, error, True, max_attempts)
                report.failed += 1
                report.errors.append(f"follow-up {followup_id}: {error}")
            except TemporaryFailure as error:
                _hand_back(followup, error, False, max_attempts)
                report.retry += 1
                report.errors.append(f"follow-up {followup_id}: {error}")
                if connection.smtp is None:
                    break  # the server is unreachable: leave the rest for the next run
            except MailConfigError as error:
                _hand_back(followup, error, False, max_attempts)
                raise
            else:
                followup.notify_error = None
                db.session.commit()
                report.sent += 1
    finally:
        connection.close()
    for line in report.errors:
        log.warning("follow-up alert: %s", line)
    return report


def try_alert(followup_id):
    """Send one follow-up's alert now if possible (after a reassignment); a failure leaves it
    pending for `send-followup-alerts`. Returns True when it was sent."""
    try:
        return deliver_alerts(only_ids=[followup_id]).sent == 1
    except MailConfigError as error:
        log.warning("follow-up alert %s not sent: %s", followup_id, error)
        return False
