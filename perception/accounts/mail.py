"""Mails of accounts: the invitation to a new account and the password-reset link, both a
single-use set-password link (perception.accounts.password_service), written by the one composer
(perception.web.mail.MailWriter) from templates/accounts/mail_invite.* and mail_reset.*.

Both are outbox rows (kind `account`, perception.core.outbox) queued in the transaction that makes
the link; `deliver_account_mail` (part of `flask --app wsgi send-mail`) claims due rows, so several
processes may run at once, and retries temporary failures with back-off. A row whose link no longer
works when its turn comes (used, expired, replaced, account deactivated) is cancelled, not sent."""

from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from perception.accounts.password_service import ACCOUNT_LINK_TTL, LINK_OK, link_state, link_url
from perception.core.models import AccountToken, OutboxMessage, utcnow
from perception.core.outbox import ACCOUNT_KINDS, claim_due, release_stale_claims
from perception.web.mail_delivery import MailReport, cancel, send_batch, send_one

TEMPLATES = {"invite": "accounts/mail_invite", "reset": "accounts/mail_reset"}
ROLE_NAMES = {"admin": "an admin", "leader": "a leader", "staff": "a staff member"}


def subject(link, business):
    if link.purpose == "invite":
        return f"You are invited to Perception at {business}: set your password"
    return f"Reset your Perception password at {business}"


def account_message(writer, link, now=None):
    user = link.user
    inviter = link.created_by if link.created_by_id else None
    context = {
        "name": user.name or user.email,
        "email": user.email,
        "role": ROLE_NAMES.get(user.role, user.role),
        "team": user.team.name if user.team else None,
        "inviter": (inviter.name or inviter.email) if inviter is not None else None,
        "link": link_url(link),
        "hours": int(ACCOUNT_LINK_TTL.total_seconds() // 3600),
        "expires": f"{link.expires_at:%d %b %Y, %H:%M} UTC",
        "login_url": f"{current_app.config['BASE_URL']}/login",
    }
    return writer.write(user.email, user.name, subject(link, writer.business), TEMPLATES[link.purpose], context,
                        now=now)


MAIL_NEEDS = (selectinload(OutboxMessage.account_token).options(
    joinedload(AccountToken.user), joinedload(AccountToken.created_by)),)


def deliver_account_mail(limit=500, now=None):
    """Send the due account mails of the outbox; returns a MailReport. Raises MailConfigError when the
    SMTP server refuses our login or sender; the rows not sent go back to the queue."""
    now = now or utcnow()
    release_stale_claims(now)
    report = MailReport()

    def deliver_one(connection, writer, message):
        if link_state(message.account_token, now) != LINK_OK:
            cancel(message, "the link no longer works", report)
            return
        send_one(connection, message, lambda: account_message(writer, message.account_token, now), now, report)

    return send_batch(claim_due(limit, now, ACCOUNT_KINDS, options=MAIL_NEEDS), deliver_one, now, report,
                      "account mail")
