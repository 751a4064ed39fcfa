"""Delivering the outbox over SMTP (`flask --app wsgi send-invitations`).

One run: mark expired invitations, hand back stale claims, queue due reminders, then claim due
rows in batches (see perception.outbox) and send them over one SMTP connection. The rows of a
batch go out in groups of RECORD_EVERY: the group's invitation states are read afresh in one query
just before its mails are sent, and its results are written in one commit (one executemany per
table) once the server has answered the group's last mail. A crash therefore loses the results of
at most one group, whose rows are handed back after STALE_CLAIM (perception.outbox) and sent again.
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
import smtplib
import ssl
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from .extensions import db
from .invitations import expire_invitations, mail_link, suppress, suppression_reasons, unsubscribe_link
from .mail_compose import MailWriter, OutgoingMail
from .models import Invitation, utcnow
from .outbox import backoff, claim_due, release_stale_claims, schedule_reminders

log = logging.getLogger(__name__)

# Rows sent between two commits of their results (see the module docstring).
RECORD_EVERY = 20


class MailConfigError(RuntimeError):
    """The SMTP server refuses us (authentication, sender): no point in retrying every row."""


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class ConnectionProblem(Exception):
    """No usable connection to the SMTP server (refused, lost, greeting or TLS failed)."""


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


class SmtpConnection:
    """One SMTP session, opened on first use and reused for the whole run."""

    def __init__(self, config):
        self.config = config
        self.smtp = None

    def _connect(self):
        config = self.config
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"])
        try:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USER"]:
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        except smtplib.SMTPAuthenticationError as error:
            smtp.close()
            raise MailConfigError(
                f"the SMTP server refused the login for {config['SMTP_USER']}: {error.smtp_code}"
            ) from None
        except BaseException:
            smtp.close()
            raise
        self.smtp = smtp

    def send(self, message):
        for attempt in (1, 2):
            if self.smtp is None:
                try:
                    self._connect()
                except (smtplib.SMTPConnectError, smtplib.SMTPHeloError, smtplib.SMTPNotSupportedError,
                        smtplib.SMTPServerDisconnected, OSError) as error:
                    where = f"{self.config['SMTP_HOST']}:{self.config['SMTP_PORT']}"
                    raise ConnectionProblem(
                        f"cannot reach the SMTP server at {where}: {type(error).__name__}: {error}"[:300]
                    ) from None
            try:
                if isinstance(message, OutgoingMail):
                    self._send_bytes(message)
                else:
                    self.smtp.send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                # The server may close an idle connection between batches: reconnect once.
                self.close()
                if attempt == 2:
                    raise

    def _send_bytes(self, mail):
        options = []
        if mail.smtputf8:  # as send_message does for an address that is not ASCII
            self.smtp.ehlo_or_helo_if_needed()
            if not self.smtp.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("the recipient's address needs SMTPUTF8, the server lacks it")
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        self.smtp.sendmail(mail.sender, [mail.recipient], mail.data, mail_options=options)

    def close(self):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def _send(connection, message):
    """Send; raise TemporaryFailure or PermanentFailure with a short reason (no link in it)."""
    try:
        connection.send(message)
    except ConnectionProblem as error:
        raise TemporaryFailure(str(error)) from None
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {_text(reply)}") from None
    except smtplib.SMTPSenderRefused as error:
        raise MailConfigError(f"the SMTP server refused the sender {error.sender}: {error.smtp_code}") from None
    except smtplib.SMTPResponseException as error:
        raise (PermanentFailure if error.smtp_code >= 500 else TemporaryFailure)(
            f"{error.smtp_code} {_text(error.smtp_error)}"
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise TemporaryFailure(f"{type(error).__name__}: {error}"[:300]) from None


def send_email(message, connection=None):
    """Send one EmailMessage now, outside the invitation outbox (follow-up alerts, recovery
    links). Raises TemporaryFailure or PermanentFailure with a short reason, or MailConfigError.
    Pass an SmtpConnection to send several messages over one connection (the caller closes it)."""
    own = connection is None
    connection = connection or SmtpConnection(current_app.config)
    try:
        _send(connection, message)
    finally:
        if own:
            connection.close()


def _text(reply):
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply))[:300]


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


def _skip_reason(message, invitation, now, suppressed):
    """Why this row must not be mailed now, or None. `suppressed`: address -> reason, for the batch.
    The invitation's state must have been read afresh just before (reread_states)."""
    if invitation.state in ("answered", "unsubscribed", "bounced", "expired"):
        return invitation.state
    if invitation.is_expired(now):
        invitation.state = "expired"
        return "expired"
    if not invitation.customer_email:
        return "no address"
    reason = suppressed.get(invitation.customer_email)
    if reason is not None:
        if reason == "bounced":
            invitation.state, invitation.bounced_at = "bounced", invitation.bounced_at or now
        else:
            invitation.state, invitation.unsubscribed_at = "unsubscribed", invitation.unsubscribed_at or now
        return f"address suppressed ({reason})"
    if not invitation.survey.is_accepting(now):
        return "survey not open"
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
            email = writer.compose(invitation, message.kind, link, unsubscribe_link(invitation), now)
        except ValueError as error:  # an address the email package cannot write into a header
            raise PermanentFailure(f"invalid address: {type(error).__name__}") from None
        # Nothing is written while mails go out: on SQLite no write lock is held meanwhile.
        message.attempts += 1
        _send(connection, email)
    except PermanentFailure as error:
        message.status, message.last_error, message.claim_token = "failed", str(error), None
        invitation.state, invitation.bounced_at = "bounced", now
        suppress(invitation.customer_email, "bounced", now)
        report.bounced += 1
        log.warning("outbox %s: permanent failure, invitation %s bounced: %s", message.id, invitation.id, error)
        db.session.commit()  # the suppression INSERT holds SQLite's write lock: end it before the next send
        return
    except TemporaryFailure as error:
        message.last_error, message.claim_token = str(error), None
        if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            message.status = "failed"
            report.failed += 1
        else:
            message.status = "pending"
            message.next_attempt_at = now + backoff(message.attempts, current_app.config["MAIL_RETRY_SECONDS"])
            report.retried += 1
        log.warning("outbox %s: temporary failure (attempt %s): %s", message.id, message.attempts, error)
        db.session.commit()
        raise
    else:
        message.status, message.sent_at, message.claim_token, message.last_error = "sent", now, None, None
        invitation.sent_at = invitation.sent_at or now
        invitation.last_sent_at = now
        if invitation.state == "created":
            invitation.state = "sent"
        if message.kind == "reminder":
            invitation.reminders_sent = max(invitation.reminders_sent, message.sequence)
        report.sent += 1


def _release(messages, now, error, report):
    """Put claimed rows back after a failure that concerns the connection, not the rows."""
    for message in messages:
        message.attempts += 1
        message.status, message.claim_token, message.last_error = "pending", None, error
        message.next_attempt_at = now + backoff(message.attempts, current_app.config["MAIL_RETRY_SECONDS"])
        report.retried += 1
    db.session.commit()


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
            batch = claim_due(size, clock())
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
                        _release(batch[index + 1:], clock(), str(error), report)
                        report.errors.append(str(error))
                        return report
                except MailConfigError as error:
                    _release(batch[index:], clock(), str(error), report)
                    raise
            db.session.commit()
    except BaseException:
        _keep_results()
        raise
    finally:
        session.expire_on_commit = expire_on_commit
        connection.close()
    return report
