"""A real SMTP server on loopback for the tests (aiosmtpd), recording what it receives and able
to refuse chosen recipients with chosen replies (4xx temporary, 5xx permanent).

Use the `smtp_server` fixture (tests/conftest.py), which also points the app's SMTP settings at
it, or `running_smtp_server()` directly."""

import asyncio
import contextlib
import email
import re
import threading
import time
from dataclasses import dataclass
from email import policy

from aiosmtpd.controller import Controller


class _EphemeralPortController(Controller):
    """aiosmtpd 1.4.6 cannot start on port 0: it checks readiness by connecting to `self.port`.
    Learn the port the OS gave us first (shared/STACK.md)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    message: email.message.EmailMessage

    @property
    def to(self):
        return self.rcpt_tos[0]

    def part(self, subtype):
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_subtype() == subtype, f"no text/{subtype} part"
        return body.get_content()

    @property
    def text(self):
        return self.part("plain")

    @property
    def html(self):
        return self.part("html")

    @property
    def unsubscribe_url(self):
        """The URL of the List-Unsubscribe header (unfolded)."""
        return "".join(str(self.message["List-Unsubscribe"]).split()).strip("<>")

    def link(self):
        """The personal survey link in the plain-text part."""
        match = re.search(r"https?://\S+/s/[A-Za-z0-9_-]{20,}", self.text)
        assert match, self.text
        return match.group(0)


class _Recorder:
    def __init__(self):
        self.messages = []
        self.refusals = {}
        self.lock = threading.Lock()
        self.hold_until_sessions = 0
        self.sessions = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            replies = self.refusals.get(address.lower())
            if replies:
                reply = replies[0]
                if len(replies) > 1 or not reply.endswith("*"):
                    replies.pop(0)
                return reply.rstrip("*")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.sessions.add(id(session))
        deadline = time.monotonic() + 60
        while len(self.sessions) < self.hold_until_sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # lets the other sessions of this event loop go on
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self._recorder = _Recorder()
        self._controller = _EphemeralPortController(self._recorder, hostname="127.0.0.1", port=0)

    @property
    def port(self):
        return self._controller.port

    @property
    def messages(self):
        with self._recorder.lock:
            return list(self._recorder.messages)

    def to(self, address):
        return [message for message in self.messages if message.to == address]

    def refuse(self, address, *replies, forever=False):
        """Answer RCPT TO:<address> with `replies` in turn (e.g. "451 4.3.0 Try later"), then accept;
        with forever=True the last reply is repeated on every later try."""
        replies = list(replies)
        if forever:
            replies[-1] += "*"
        with self._recorder.lock:
            self._recorder.refusals[address.lower()] = replies

    def hold_until(self, sessions):
        """Accept no message until `sessions` SMTP connections have sent one: proves that that many
        clients were delivering at the same time."""
        self._recorder.hold_until_sessions = sessions

    @property
    def session_count(self):
        return len(self._recorder.sessions)

    def clear(self):
        with self._recorder.lock:
            self._recorder.messages.clear()

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()


@contextlib.contextmanager
def running_smtp_server(app=None):
    server = SmtpServer().start()
    try:
        if app is not None:
            app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_STARTTLS=False,
                              SMTP_USER=None, SMTP_PASSWORD=None, MAIL_FROM="Care Team <care@perception.test>")
        yield server
    finally:
        server.stop()
