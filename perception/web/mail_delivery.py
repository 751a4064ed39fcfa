"""Sending a claimed batch of outbox mails, the same way for every kind that is written when it is
sent (follow-up alerts and re-surveys, account links, digests): one SMTP connection per batch, one
attempt per row with its outcome recorded and committed at once, and the rest of the batch handed
back to the queue when the server is unreachable or refuses our login (perception.core.outbox)."""

import logging
from dataclasses import dataclass, field

from flask import current_app

from perception.core.extensions import db
from perception.core.outbox import mark_failed, mark_sent, release, retry_later, still_claimed
from perception.core.smtp import MailConfigError, PermanentFailure, SmtpConnection, TemporaryFailure, send_on
from perception.web.mail import MailWriter

log = logging.getLogger(__name__)


@dataclass
class MailReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list = field(default_factory=list)
    last_error: str | None = None  # the last failure's reason, for a page to show

    def counts(self):
        return {"sent": self.sent, "retry later": self.retry, "failed": self.failed, "cancelled": self.cancelled}

    def summary(self):
        return ", ".join(f"{label} {count}" for label, count in self.counts().items())


def cancel(message, reason, report):
    """A row whose mail no longer makes sense when its turn comes (a used link, a closed follow-up)."""
    message.status, message.last_error, message.claim_token = "cancelled", reason, None
    report.cancelled += 1
    db.session.commit()


def send_one(connection, message, write, now, report, on_outcome=None):
    """One attempt at one claimed row: `write()` gives its OutgoingMail; `on_outcome(message, outcome,
    error)` mirrors the result on what the mail is about, in the same transaction."""
    message.attempts += 1
    outcome, error = "sent", None
    try:
        try:
            try:
                mail = write()
            except ValueError as invalid:  # an address no header can hold
                raise PermanentFailure(f"invalid address: {type(invalid).__name__}") from None
            send_on(connection, mail)
        except PermanentFailure as failure:
            outcome, error = "failed", failure
            mark_failed(message, failure)
        except TemporaryFailure as failure:
            outcome, error = retry_later(message, failure, now, current_app.config), failure
        else:
            mark_sent(message, now)
        if error is None:
            report.sent += 1
        else:
            report.failed += outcome == "failed"
            report.retry += outcome != "failed"
            report.errors.append(f"{message.kind} {message.id}: {error}")
            report.last_error = str(error)
        if on_outcome is not None:
            on_outcome(message, outcome, error)
    finally:
        db.session.commit()  # the attempt counts even when the server refuses our login (MailConfigError)


def send_batch(batch, deliver_one, now, report, label):
    """Send a claimed batch with `deliver_one(connection, writer, message)`. Raises MailConfigError when
    the SMTP server refuses our login or sender; the rows not sent go back to the queue."""
    if not batch:
        return report
    connection = SmtpConnection(current_app.config)
    writer = MailWriter()
    try:
        for index, message in enumerate(batch):
            # A batch slower than STALE_CLAIM may have its tail taken back and sent by another worker.
            if not still_claimed(message):
                continue
            try:
                deliver_one(connection, writer, message)
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
        log.warning("%s: %s", label, line)
    return report
