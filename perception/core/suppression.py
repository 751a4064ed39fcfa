"""The suppression list read: addresses that asked for no more survey mail or whose mail bounced.
Every mail to a customer honours it: invitations and reminders (perception.invitations), and the
re-survey after a follow-up (perception.followups), which sits below invitations and so reads it here."""

from sqlalchemy import select

from perception.core.extensions import db
from perception.core.models import MailSuppression
from perception.core.tokens import email_hashes


def is_suppressed(email):
    return email is not None and bool(suppression_reasons([email]))


def suppression_reasons(emails):
    """{address: reason} for those of `emails` on the suppression list, in one query. The list keeps
    keyed hashes (perception.core.tokens.email_hash); rows from before keep a plain SHA-256 and are
    still honoured (`email_hashes` gives both)."""
    hashes = {value: email for email in emails if email for value in email_hashes(email)}
    if not hashes:
        return {}
    rows = db.session.execute(
        select(MailSuppression.email_hash, MailSuppression.reason).where(MailSuppression.email_hash.in_(hashes))
    )
    return {hashes[value]: reason for value, reason in rows}
