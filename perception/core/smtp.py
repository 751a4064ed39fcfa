"""The SMTP transport: one connection to the mail server, reused for a batch, that sends a written
mail and sorts failures into temporary (retry later) and permanent ones. Knows nothing of what a
mail says: perception.web.mail writes mails, each feature's mail.py decides what to send."""

import re
import smtplib
import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class OutgoingMail:
    """A written mail: envelope sender and recipient, and the message itself (bytes, CRLF lines)."""

    sender: str
    recipient: str
    data: bytes
    smtputf8: bool = False  # the recipient's address is not ASCII: the server must offer SMTPUTF8


class MailConfigError(RuntimeError):
    """The SMTP server refuses us (authentication, sender): no point in retrying every row."""


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class ConnectionProblem(Exception):
    """No usable connection to the SMTP server (refused, lost, greeting or TLS failed)."""


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
                self._send_bytes(message)
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


def send_on(connection, message):
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


# An address as servers quote it in a reply ("550 5.1.1 <ada@example.org>: Recipient address rejected").
ADDRESS_IN_REPLY = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")


def _text(reply):
    """The server's reply, short, with any address in it blanked: the reason is stored with the mail
    and written to the log, where no customer's address belongs (a robustness review)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return ADDRESS_IN_REPLY.sub("[address]", text)[:300]
