"""Writing and delivering the digest email (part of `flask --app wsgi send-mail`): the queued outbox
rows of kind "digest" (perception.followups.digest_service queues them) are claimed like every other
mail (perception.core.outbox), written by the one composer (perception.web.mail.MailWriter) from
templates/followups/mail_digest.txt|html with the figures of the moment, and sent over SMTP.

A row whose user was deactivated, lost the leader role or switched the digest off meanwhile is
cancelled without a mail. Temporary failures are retried with back-off, permanent ones fail the row.
"""

from sqlalchemy.orm import joinedload

from perception.core.models import OutboxMessage, utcnow
from perception.core.outbox import DIGEST_KINDS, claim_due
from perception.followups.digest_service import DIGEST_ROLES, build_digest, digest_period_start
from perception.web.mail_delivery import MailReport, cancel, send_batch, send_one

DIGEST_TEMPLATE = "followups/mail_digest"
FREQUENCY_WORDS = {"weekly": "week", "daily": "day"}


def percent(share):
    return "no invitations mailed yet" if share is None else f"{share * 100:.0f}%"


def digest_subject(digest, frequency):
    period = "weekly" if frequency == "weekly" else "daily"
    count = digest.overdue_followups
    overdue = f", {count} overdue follow-up{'s' if count != 1 else ''}" if count else ""
    return f"Your {period} care gap digest: {digest.scope}{overdue}"


def digest_message(writer, user, digest, now=None):
    """The digest mail of `user` (a plain-text and an HTML part)."""
    latest = digest.latest
    context = {
        "name": user.name or user.email,
        "scope": digest.scope,
        "period": FREQUENCY_WORDS.get(user.digest_frequency, "week"),
        "since": f"{digest.since:%d %b %Y}",
        "new_until": f"{digest.new_until:%d %b %Y}",
        "wave": latest,
        "response_rate": percent(latest["response_rate"]) if latest else None,
        "care_index": (None if latest is None or latest["care_index"]["customer"] is None
                       else f"{latest['care_index']['customer']:.0f}"),
        "gap_sentence": digest.gap_sentence,
        "change_sentence": digest.change_sentence,
        "trend_sentence": digest.trend_sentence,
        "new_followups": digest.new_followups,
        "overdue_followups": digest.overdue_followups,
        "links": digest.links,
    }
    return writer.write(user.email, user.name, digest_subject(digest, user.digest_frequency), DIGEST_TEMPLATE,
                        context, now=now)


def _skip_reason(user):
    if user is None or not user.active:
        return "account inactive"
    if user.role not in DIGEST_ROLES:
        return "no longer a leader"
    if user.digest_frequency == "off":
        return "digest switched off"
    return None


def deliver_digests(limit=500, now=None):
    """Send the due digests of the outbox; returns a MailReport. Safe in several processes at once
    (rows are claimed). Raises MailConfigError when the SMTP server refuses our login or sender; the
    rows not sent go back to the queue."""
    now = now or utcnow()
    report = MailReport()

    def write(writer, message):
        digest = build_digest(message.user, digest_period_start(message), now, until=message.created_at)
        return digest_message(writer, message.user, digest, now)

    def deliver_one(connection, writer, message):
        reason = _skip_reason(message.user)
        if reason is not None:
            cancel(message, reason, report)
            return
        send_one(connection, message, lambda: write(writer, message), now, report)

    batch = claim_due(limit, now, DIGEST_KINDS, options=(joinedload(OutboxMessage.user),))
    return send_batch(batch, deliver_one, now, report, "digest mail")
