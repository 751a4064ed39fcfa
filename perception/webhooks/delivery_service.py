"""Sending webhook deliveries (a job of `flask worker`).

Each due delivery is claimed by one worker (perception.core.webhooks_outbox.claim_due) and POSTed
with its JSON body and the `Perception-Signature` header. A 2xx answer delivers it. Anything else (a
non-2xx status, a redirect, a timeout after WEBHOOK_TIMEOUT seconds, a refused connection) is
retried with exponential back-off (WEBHOOK_RETRY_SECONDS, doubling, at most 6 h apart) until
WEBHOOK_MAX_ATTEMPTS tries, then the delivery is `failed`. Status, attempts, the receiver's HTTP
status and the last error are kept per delivery for the admin page. Log lines name the delivery
and endpoint ids, never the URL (it may be a secret) or the body."""

import http.client
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from flask import current_app

from perception.core.extensions import db
from perception.core.models import utcnow
from perception.core.outbox import backoff
from perception.core.webhooks_outbox import claim_due, envelope, release_stale_claims, sign
from perception.webhooks.service import url_problem

log = logging.getLogger(__name__)
USER_AGENT = "Perception-Webhooks/1"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx (a POST must not turn into a GET elsewhere)."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass
class WebhookReport:
    delivered: int = 0
    retry: int = 0
    failed: int = 0

    def summary(self):
        return f"delivered {self.delivered}, retry later {self.retry}, failed {self.failed}"


def post(url, raw_body, signature, timeout):
    """POST one body; returns (HTTP status or None, error text or None). `url` passed url_problem
    (https, or http to a loopback address outside production): no file: or other scheme."""
    request = urllib.request.Request(url, data=raw_body, method="POST", headers={  # noqa: S310  # nosec B310
        "Content-Type": "application/json", "User-Agent": USER_AGENT, "Perception-Signature": signature})
    try:
        with OPENER.open(request, timeout=timeout) as response:
            response.read(4096)
            return response.status, None
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, f"HTTP {error.code}"
    except urllib.error.URLError as error:
        return None, f"{type(error.reason).__name__}: {error.reason}"
    except (OSError, http.client.HTTPException, ValueError) as error:  # timeouts are OSErrors
        return None, f"{type(error).__name__}: {error}"


def attempt(delivery, now, config):
    """Send one claimed delivery and record the outcome on it (the caller commits)."""
    endpoint = delivery.endpoint
    delivery.attempts += 1
    problem = url_problem(endpoint.url, config["PERCEPTION_ENV"] == "production")
    if not endpoint.active or problem:
        status, error = None, "endpoint paused" if not endpoint.active else problem
        delivery.attempts = max(delivery.attempts, config["WEBHOOK_MAX_ATTEMPTS"])
    else:
        raw = envelope(delivery)
        status, error = post(endpoint.url, raw, sign(endpoint.secret, int(now.timestamp()), raw),
                             config["WEBHOOK_TIMEOUT"])
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
    return delivery.status


def deliver_due_webhooks(now=None, limit=None):
    """Send every due delivery (at most `limit`); returns a WebhookReport. `now` fixes the clock
    (tests step through back-off with it); otherwise each try reads the time. Safe in several
    processes at once: each delivery is claimed by one of them."""
    config = current_app.config
    clock = (lambda: now) if now is not None else utcnow
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
                outcome = attempt(delivery, clock(), config)
                db.session.commit()
                report.delivered += outcome == "delivered"
                report.failed += outcome == "failed"
                report.retry += outcome == "pending"
    finally:
        session.expire_on_commit = expire_on_commit
    return report
