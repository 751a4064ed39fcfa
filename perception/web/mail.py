"""Writing every email (the one composer): a plain-text and an HTML part from Jinja templates
(templates/<feature>/mail_*.txt|html) in one layout (templates/web/mail_layout.html). Each feature's
mail.py says what its mails say (perception.invitations.mail, perception.followups.mail); HTML
templates autoescape, so every name is escaped there.

A delivery run writes thousands of these, so `MailWriter` writes the MIME bytes itself: the email
package's header objects cost more than everything else a mail needs together. The templates and
the sender are looked up once per run. A header value that is not printable ASCII becomes RFC 2047
encoded words, and every value is one line (no header injection); a body part is 7bit when it is
ASCII with short lines, quoted-printable otherwise (so no server needs 8BITMIME).
tests/web/test_mail_compose.py reads the mails back with the email package."""

import binascii
import re
import secrets
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from flask import current_app

from perception.core.models import utcnow
from perception.core.smtp import OutgoingMail
from perception.web.forms import without_control_characters

_SPACE = re.compile(r"\s+")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
CRLF = "\r\n"


def one_line(text, limit=120):
    """Header-safe text: no line breaks (no header injection), no control characters, trimmed. Also
    what a customer's name is stored as (perception.invitations.service.create_invitation)."""
    # White space first: a vertical tab, form feed or NEL between two words is a space, not nothing.
    return without_control_characters(_SPACE.sub(" ", text or "")).strip()[:limit]


def mail_templates(name, language, extension):
    names = []
    if language:
        names.append(f"{name}.{language.lower()}.{extension}")
        if "-" in language:
            names.append(f"{name}.{language.split('-')[0].lower()}.{extension}")
    names.append(f"{name}.{extension}")
    return names




def _printable(value):
    return _PRINTABLE_ASCII.fullmatch(value) is not None


def header_line(name, value):
    """`Name: value` plus CRLF; `value` is one line. Folded when long, RFC 2047 words unless printable ASCII."""
    if _printable(value):
        if len(name) + len(value) <= 76:
            return f"{name}: {value}{CRLF}"
        encoded = Header(value, 'us-ascii', header_name=name).encode(linesep=CRLF)
    else:
        encoded = Header(value, 'utf-8', header_name=name).encode(linesep=CRLF)
    # When the first word does not fit beside the name, the email package folds before it, so the
    # header would start with a line break (readers that do not unfold show an empty subject line).
    # A first line may be longer than 78 characters (the hard limit is 998; values here are <= 200).
    if encoded.startswith(CRLF):
        encoded = encoded[len(CRLF):].lstrip(" \t")
    return f"{name}: {encoded}{CRLF}"


def _toheader_line(name, address):
    if not name:
        mailbox = address
    elif _printable(name):
        mailbox = formataddr((name, address))  # quoted when it holds specials such as < or ,
    else:
        mailbox = f"{Header(name, 'utf-8', header_name='To').encode(linesep=CRLF)} <{address}>"
    return f"To: {mailbox}{CRLF}"


def _part(subtype, text):
    """A text part: headers, blank line, the text ending in a line break (as set_content writes it)."""
    # Every line ends in CRLF, a lone CR included: a bare CR in DATA is forbidden (RFC 5321 section
    # 2.3.8), and relays that take it for a line end read "<CR>.<CR><LF>" as the end of the message
    # and what follows as commands of our session (SMTP smuggling). Quoted-printable keeps it as is.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    lines = text.split("\n")
    if text.isascii() and max(map(len, lines)) <= 78:
        encoding, body = "7bit", CRLF.join(lines)
    else:
        encoding = "quoted-printable"
        body = binascii.b2a_qp(CRLF.join(lines).encode(), istext=True).decode("ascii")
    return f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}{body}'


class MailWriter:
    """Writes the mails of one run (inside an app context): templates and sender are looked up once."""

    def __init__(self):
        config = current_app.config
        self.business = one_line(config["BUSINESS_NAME"])
        sender = EmailMessage(policy=SMTP)
        sender["From"] = config["MAIL_FROM"]  # parsed, checked and encoded once, by the email package
        self.from_header = sender["From"].fold(policy=SMTP)
        mailbox = sender["From"].addresses[0] if sender["From"].addresses else None
        self.sender = mailbox.addr_spec if mailbox else ""
        self.domain = (mailbox.domain if mailbox else "") or "localhost"
        self._templates = {}

    def _render(self, template, language, extension, context):
        """Straight from the Jinja environment: mails are written outside any request (by the
        worker), so the request-bound context processors must not run. A translated mail is its
        own template file (<template>.<lang>.<ext>); HTML templates autoescape."""
        key = (template, language, extension)
        if key not in self._templates:
            self._templates[key] = current_app.jinja_env.select_template(mail_templates(template, language, extension))
        return self._templates[key].render(context)

    def write(self, address, name, subject, template, context, *, language=None, headers=(), now=None):
        """The one composer: every mail (invitations, reminders, follow-up alerts, re-surveys) is an
        OutgoingMail written here from templates/<template>.txt|html (e.g.
        "followups/mail_alert") with the business's name in
        its context. `headers` are extra header lines (already ending in CRLF). Raises ValueError for
        an address the email package could not write into a header."""
        Address(addr_spec=address)  # ValueError when the address cannot be written
        context = {"business_name": self.business, **context}
        parts = [_part("plain", self._render(template, language, "txt", context)),
                 _part("html", self._render(template, language, "html", context))]
        boundary = f"=_{secrets.token_hex(16)}"  # "=_" never occurs in quoted-printable text, 128 random bits
        head = [
            header_line("Subject", one_line(subject, 200)),
            self.from_header,
            _toheader_line(one_line(name) or None, address),
            f"Date: {format_datetime(now or utcnow())}{CRLF}",
            f"Message-ID: {make_msgid(domain=self.domain)}{CRLF}",
            *headers,
            f"Auto-Submitted: auto-generated{CRLF}",
            f"MIME-Version: 1.0{CRLF}",
            f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}',
        ]
        if language:
            head.append(header_line("Content-Language", one_line(language)))
        # The line break before a boundary belongs to the boundary (RFC 2046), not to the text.
        body = "".join(f"--{boundary}{CRLF}{part}{CRLF}" for part in parts) + f"--{boundary}--{CRLF}"
        message = "".join(head) + CRLF + body
        return OutgoingMail(self.sender, address, message.encode("utf-8"), smtputf8=not address.isascii())
