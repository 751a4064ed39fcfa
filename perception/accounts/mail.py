"""Mails of accounts: the invitation to a new account and the password-reset link, both a
single-use set-password link (perception.accounts.password_service), written by the one composer
(perception.web.mail.MailWriter) from templates/accounts/mail_invite.* and mail_reset.*.

Both are outbox rows (kind `account`, perception.core.outbox) queued in the transaction that makes
the link; `deliver_account_mail` (part of `flask --app wsgi send-mail`) claims due rows, so several
processes may run at once, and retries temporary failures with back-off. A row whose link no longer
works when its turn comes (used, expired, replaced, account deactivated) is cancelled, not sent."""

import logging
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from perception.accounts.password_service import ACCOUNT_LINK_TTL, LINK_OK, link_state, link_url
from perception.core.extensions import db
from perception.core.models import AccountToken, OutboxMessage, utcnow
from perception.core.outbox import (
    ACCOUNT_KINDS,
    claim_due,
    mark_failed,
    mark_sent,
    release,
    release_stale_claims,
    retry_later,
)
from perception.core.smtp import MailConfigError, PermanentFailure, SmtpConnection, TemporaryFailure, send_on
from perception.web.mail import MailWriter

log = logging.getLogger(__name__)

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


@dataclass
class AccountMailReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list = field(default_factory=list)

    def summary(self):
        return f"sent {self.sent}, retry later {self.retry}, failed {self.failed}, cancelled {self.cancelled}"


MAIL_NEEDS = (selectinload(OutboxMessage.account_token).options(
    joinedload(AccountToken.user), joinedload(AccountToken.created_by)),)


def _deliver_one(connection, writer, message, now, report):
    if link_state(message.account_token, now) != LINK_OK:
        message.status, message.last_error, message.claim_token = "cancelled", "the link no longer works", None
        report.cancelled += 1
        db.session.commit()
        return
    message.attempts += 1
    try:
        try:
            mail = account_message(writer, message.account_token, now)
        except ValueError as error:  # an address no header can hold
            raise PermanentFailure(f"invalid address: {type(error).__name__}") from None
        send_on(connection, mail)
    except PermanentFailure as error:
        mark_failed(message, error)
        report.failed += 1
        report.errors.append(f"account mail {message.id}: {error}")
    except TemporaryFailure as error:
        outcome = retry_later(message, error, now, current_app.config)
        report.failed += outcome == "failed"
        report.retry += outcome != "failed"
        report.errors.append(f"account mail {message.id}: {error}")
    else:
        mark_sent(message, now)
        report.sent += 1
    finally:
        db.session.commit()


def deliver_account_mail(limit=500, now=None):
    """Send the due account mails of the outbox; returns an AccountMailReport. Raises MailConfigError
    when the SMTP server refuses our login or sender; the rows not sent go back to the queue."""
    now = now or utcnow()
    release_stale_claims(now)
    report = AccountMailReport()
    batch = claim_due(limit, now, ACCOUNT_KINDS, options=MAIL_NEEDS)
    if not batch:
        return report
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
        log.warning("account mail: %s", line)
    return report
