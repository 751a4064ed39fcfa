"""Sending webhook deliveries (a job of `flask worker`).

Each due delivery is claimed by one worker (perception.core.webhooks_outbox.claim_due) and POSTed
with its JSON body and the `Perception-Signature` header. A 2xx answer delivers it. Anything else (a
non-2xx status, a redirect, a timeout after WEBHOOK_TIMEOUT seconds, a refused connection) is
retried with exponential back-off (WEBHOOK_RETRY_SECONDS, doubling, at most 6 h apart) until
WEBHOOK_MAX_ATTEMPTS tries, then the delivery is `failed`. Status, attempts, the receiver's HTTP
status and the last error are kept per delivery for the admin page. Log lines name the delivery
and endpoint ids, never the URL (it may be a secret) or the body.

The last error is a category ("connection refused", "TLS error", "timeout", "HTTP 503" ...), never
the exception's text, which would help whoever reads the page map a network. In production the host
is resolved and every address checked at each send (perception.webhooks.service.checked_addresses),
and the connection goes to a checked address, so a DNS answer that changes after the check cannot
reach a private one. WEBHOOK_TIMEOUT bounds the whole delivery, not each read: a watchdog shuts the
socket down at the deadline, so a receiver that dribbles bytes cannot hold the worker (the host's DNS
lookup itself is left to the resolver's own timeout)."""

import http.client
import logging
import socket
import ssl
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from perception.core.extensions import db
from perception.core.models import utcnow
from perception.core.outbox import backoff, still_claimed
from perception.core.webhooks_outbox import claim_due, envelope, release_stale_claims, sign
from perception.webhooks.service import PrivateAddress, checked_addresses, default_port, signing_secret, url_problem

log = logging.getLogger(__name__)
USER_AGENT = "Perception-Webhooks/1"
TLS = ssl.create_default_context()  # certificates and host names verified


class Watchdog:
    """The total deadline of one delivery: at `seconds` it shuts the watched socket down, which ends
    any read or write in progress (a per-read timeout would let a receiver dribble forever)."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.expired = False
        self.sock = None
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True
        self.timer.start()

    def remaining(self):
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    def watch(self, sock):
        with self.lock:
            self.sock = sock
            if self.expired:
                self.shut()

    def expire(self):
        with self.lock:
            self.expired = True
            if self.sock is not None:
                self.shut()

    def shut(self):
        # The plain socket call, also for a TLS socket: it only wakes the reader, whose TLS state stays its own.
        with suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def cancel(self):
        self.timer.cancel()


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one of the addresses checked beforehand: the host is never looked up
    again (the Host header and TLS still use its name)."""

    def __init__(self, host, port, addresses, watchdog, tls=None):
        super().__init__(host, port)
        self.addresses, self.watchdog, self.tls = addresses, watchdog, tls
        if tls is not None:
            self.default_port = 443

    def connect(self):
        sock = None
        for family, sockaddr in self.addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            self.watchdog.watch(sock)
            try:
                sock.settimeout(self.watchdog.remaining())
                sock.connect(sockaddr)
                break
            except OSError:
                sock.close()
                if (family, sockaddr) == self.addresses[-1]:
                    raise
        self.sock = sock  # from here on close() closes it, whatever fails next
        if self.tls is not None:
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
            self.watchdog.watch(self.sock)
            self.sock.do_handshake()


def error_category(error):
    """What went wrong, as a word for the delivery log: never the exception's own text."""
    categories = (
        (PrivateAddress, "address not allowed"), (socket.gaierror, "host not found"), (TimeoutError, "timeout"),
        (ssl.SSLError, "TLS error"), (ConnectionRefusedError, "connection refused"),
        (http.client.HTTPException, "invalid HTTP answer"), (ConnectionError, "connection lost"),
        (OSError, "network error"),
    )
    return next((name for kind, name in categories if isinstance(error, kind)), "invalid URL")


@dataclass
class WebhookReport:
    delivered: int = 0
    retry: int = 0
    failed: int = 0

    def summary(self):
        return f"delivered {self.delivered}, retry later {self.retry}, failed {self.failed}"


def post(url, raw_body, signature, timeout, production=False):
    """POST one body within `timeout` seconds in all; returns (HTTP status or None, error category or
    None). `url` passed url_problem (https, or http to a loopback address outside production); in
    production every address of its host must be public. A redirect is an answer like any non-2xx
    (a POST must not turn into a GET elsewhere)."""
    parts = urlsplit(url)
    watchdog = Watchdog(timeout)
    connection = None
    try:
        addresses = checked_addresses(parts.hostname, default_port(parts), production)
        connection = PinnedConnection(parts.hostname, default_port(parts), addresses, watchdog,
                                      TLS if parts.scheme == "https" else None)
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=raw_body,
                           headers={"Content-Type": "application/json", "User-Agent": USER_AGENT,
                                    "Perception-Signature": signature})
        response = connection.getresponse()
        response.read(4096)
        status = response.status
    except (OSError, http.client.HTTPException, ValueError, UnicodeError) as error:  # timeouts are OSErrors
        return None, "timeout" if watchdog.expired else error_category(error)
    finally:
        watchdog.cancel()
        if connection is not None:
            connection.close()
    if watchdog.expired:  # an answer cut short by the deadline may parse as complete: it is not
        return None, "timeout"
    return status, None if 200 <= status < 300 else f"HTTP {status}"


def attempt(delivery, now, config):
    """Send one claimed delivery and record the outcome on it (the caller commits)."""
    endpoint = delivery.endpoint
    delivery.attempts += 1
    production = config["PERCEPTION_ENV"] == "production"
    if not endpoint.active or url_problem(endpoint.url, production, resolve=False):
        status, error = None, "endpoint paused" if not endpoint.active else "URL not allowed"
        delivery.attempts = max(delivery.attempts, config["WEBHOOK_MAX_ATTEMPTS"])
    else:
        raw = envelope(delivery)
        status, error = post(endpoint.url, raw, sign(signing_secret(endpoint), int(now.timestamp()), raw),
                             config["WEBHOOK_TIMEOUT"], production)
    delivery.last_status, delivery.claim_token = status, None
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.sent_at, delivery.last_error = "delivered", now, None
    elif delivery.attempts >= config["WEBHOOK_MAX_ATTEMPTS"]:
        delivery.status, delivery.last_error = "failed", error[:500]
    else:
        delivery.status, delivery.last_error = "pending", error[:500]
        delivery.next_attempt_at = now + backoff(delivery.attempts, config["WEBHOOK_RETRY_SECONDS"])
    if delivery.status != "delivered":
        log.warning("webhook delivery %s to endpoint %s, attempt %s: %s", delivery.delivery_id,
                    delivery.endpoint_id, delivery.attempts, error)


def deliver_due_webhooks(limit=None, clock=utcnow):
    """Send every due delivery (at most `limit`); returns a WebhookReport. `clock` gives the current
    time, read at each claim and each try (the signature's `t` is the time of the send); tests pass a
    fixed one to step through back-off. Safe in several processes at once: each delivery is claimed by
    one of them."""
    config = current_app.config
    release_stale_claims(clock())
    report = WebhookReport()
    session = db.session()
    # Results are committed one by one; the claimed batch need not be reloaded after each commit.
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        while limit is None or report.delivered + report.retry + report.failed < limit:
            batch = claim_due(config["WEBHOOK_BATCH_SIZE"], clock())
            if not batch:
                break
            for delivery in batch:
                if not still_claimed(delivery, "body"):  # taken back by another worker, or cancelled
                    continue
                attempt(delivery, clock(), config)
                db.session.commit()
                # Read after the commit: a result dropped because another worker took the row back
                # (perception.core.outbox.keep_own_claims) is counted as nothing.
                outcome = delivery.status
                report.delivered += outcome == "delivered"
                report.failed += outcome == "failed"
                report.retry += outcome == "pending"
    finally:
        session.expire_on_commit = expire_on_commit
    return report
