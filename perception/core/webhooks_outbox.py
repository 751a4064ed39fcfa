"""The webhook outbox (DESIGN section 3): `emit` turns an event into one delivery row per active
endpoint subscribed to it, inside the caller's transaction, so an event exists exactly when the
change it reports is committed; `claim_due` hands due rows to one worker each, as the mail outbox
does (perception.core.outbox): `FOR UPDATE SKIP LOCKED` on PostgreSQL, one claim `UPDATE` on
SQLite. perception.webhooks.delivery_service sends the claimed rows.

The stored `body` is the JSON body without its `id`; `envelope` adds the delivery's id in front, the
same bytes at every retry. `sign` is the `Perception-Signature` header a receiver checks."""

import functools
import hashlib
import hmac
import json
import secrets
from datetime import timedelta

from sqlalchemy import case, exists, insert, select
from sqlalchemy.orm import joinedload

from perception.core.extensions import db
from perception.core.models import WebhookDelivery, WebhookEndpoint, utcnow
from perception.core.outbox import claim_rows, release_rows_claimed_before

STALE_CLAIM = timedelta(minutes=5)  # far above the HTTP timeout: a claim this old lost its worker


def subscribed(event_type):
    """SQL: the active endpoints that take `event_type` (events are stored space-padded)."""
    return WebhookEndpoint.active.is_(True), WebhookEndpoint.events.like(f"% {event_type} %")


@functools.cache
def _subscribers(event_type):
    """Built once per event type, run past the ORM: the customer submit emits on every request."""
    return select(WebhookEndpoint.__table__.c.id).where(*subscribed(event_type))


def any_endpoint_active():
    """SQL, a boolean column: is any endpoint active? The customer submit folds it into the read of
    its link (one statement it makes anyway) and hands the answer to `emit` as `endpoints_active`,
    sparing emit's SELECT per event when nobody listens (most businesses register no webhook)."""
    return exists().where(WebhookEndpoint.__table__.c.active.is_(True))


def emit(event_type, data, text="", *, now=None, created_at=None, not_before=None, endpoints_active=True):
    """Queue `event_type` for every active endpoint subscribed to it, in the current transaction
    (no commit). `data` is the event's dict, or a function returning `(data, text, created_at)`,
    called only when some endpoint listens (so an event nobody subscribed to costs one small SELECT).
    `created_at` is the body's time as a string (callers give only the day when the customer did not
    agree to be contacted); None means `now`. `not_before` holds the deliveries until then (a
    `response.received` without consent waits for the next UTC midnight). `endpoints_active` False
    says the caller read `any_endpoint_active()` false in this request: nothing to queue, no SELECT.
    Returns how many deliveries were queued."""
    if not endpoints_active:
        return 0
    endpoint_ids = db.session.connection().execute(_subscribers(event_type)).scalars().all()
    if not endpoint_ids:
        return 0
    now = now or utcnow()
    if callable(data):
        data, text, created_at = data()
    body = event_body(event_type, created_at or iso(now), data, text)
    event = secrets.token_hex(12)
    db.session.execute(insert(WebhookDelivery), [
        {"delivery_id": f"evt_{event}_{endpoint_id}", "endpoint_id": endpoint_id, "event_type": event_type,
         "body": body, "status": "pending", "attempts": 0, "next_attempt_at": max(now, not_before or now),
         "created_at": now}
        for endpoint_id in endpoint_ids
    ])
    return len(endpoint_ids)


def event_body(event_type, created_at, data, text):
    """The stored body of an event (without its `id`: `envelope` adds it)."""
    return json.dumps({"type": event_type, "created_at": created_at, "data": data, "text": text},
                      separators=(",", ":"), ensure_ascii=False)


def iso(moment):
    """An aware UTC datetime as `2026-12-06T18:40:00Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(delivery):
    """The raw body POSTed for `delivery`: {"id": ..., "type", "created_at", "data", "text"}."""
    return ('{"id":' + json.dumps(delivery.delivery_id) + "," + delivery.body[1:]).encode("utf-8")


def sign(secret, timestamp, raw_body):
    """The `Perception-Signature` header value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def claim_due(limit, now):
    """Claim up to `limit` due deliveries for this worker; returns them (status `sending`) with
    their endpoints loaded. Several workers at once take disjoint rows. Deliveries due at the same
    moment go out in the order they were queued (an answer's `response.received` before its
    `followup.opened`), except those held or retried: those go out in the order of their random
    `delivery_id`, since the held `response.received` of a day's answers given without consent all
    fall due at the next midnight, and in id order the k-th would be the day's k-th answer."""
    deliveries = WebhookDelivery.__table__.c
    held = case((deliveries.next_attempt_at > deliveries.created_at, deliveries.delivery_id), else_="")
    return claim_rows(WebhookDelivery, (), limit, now, (joinedload(WebhookDelivery.endpoint),),
                      tiebreak=(held, deliveries.id))


def release_stale_claims(now):
    """Hand back deliveries whose worker died while sending them (they go out again: at least once)."""
    return release_rows_claimed_before(WebhookDelivery, now - STALE_CLAIM)
