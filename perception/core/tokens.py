"""Tokens and hashing: every secret link and API token is made, hashed and looked up here.

A token has at least 128 bits from `secrets` (or is derived under SECRET_KEY from such a nonce); only
its SHA-256 is stored, and a stored hash is compared in constant time. `find_by_token` is the one
lookup of a row by its token (customer links, open links, re-survey links, API tokens)."""

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode

from flask import current_app
from sqlalchemy import literal, select

from perception.core.database import keyed_sha256
from perception.core.extensions import db

TOKEN_BYTES = 24  # 192 bits from `secrets`
API_TOKEN_PREFIX = "pcp_"  # noqa: S105  (a public marker, not a secret)

# What an API token may do (chosen when it is made; its owner's role and team scope still apply).
API_SCOPES = {
    "invitations:write": "Invite customers (POST /invitations).",
    "invitations:read": "Read invitations and the funnel (GET /invitations/{id}, /surveys/{slug}/funnel).",
    "reports:read": "Read the gap report (GET /surveys/{slug}/gap).",
    "responses:read": "Read anonymous responses (GET /surveys/{slug}/responses).",
}


def link_key():
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"perception invitation links v1", hashlib.sha256).digest()


def row_key():
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"perception row references v1", hashlib.sha256).hexdigest()


def row_reference(column):
    """SQL: a stable reference of the row whose id is `column` that says nothing of the id (64 hex
    digits, keyed with SECRET_KEY). Ids count up as answers arrive, so an order by id, or an id on a
    page, tells when an answer came relative to others; ordered by this, the rows of a day are in an
    order unrelated to when they were written (DESIGN section 2, "No consent, no link")."""
    return keyed_sha256(literal(row_key()), column)


def row_reference_of(row_id):
    """`row_reference` of one id, worked out here."""
    return hashlib.sha256(f"{row_key()}{int(row_id)}".encode()).hexdigest()


def webhook_reference_of(row_id):
    """How a webhook body names an answer: the same in every event of that answer, and keyed apart
    from `row_reference`, so a receiver can tie no body to a row of the exports, the API or the
    comments board (which are ordered and named by `row_reference`)."""
    return hmac.new(row_key().encode(), f"webhook:{int(row_id)}".encode(), hashlib.sha256).hexdigest()


def derive_token(nonce, purpose="invitation"):
    """The link token for `nonce`: 256 bits, URL-safe, reproducible only with SECRET_KEY."""
    digest = hmac.new(link_key(), f"{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_nonce():
    return secrets.token_urlsafe(24)


def normalise_email(email):
    return (email or "").strip().lower() or None


def suppression_key():
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"perception mail suppression v1", hashlib.sha256).digest()


def email_hash(email):
    """The key of an address on the suppression list: HMAC-SHA256 under a key derived from
    SECRET_KEY, so a copy of the list cannot be checked against a list of addresses."""
    return hmac.new(suppression_key(), normalise_email(email).encode(), hashlib.sha256).hexdigest()


def legacy_email_hash(email):
    """The plain SHA-256 the suppression list kept before (#13). Such rows are still honoured, and
    replaced by the keyed hash when their address is suppressed again or erased."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def email_hashes(email):
    """(keyed, legacy) hashes of an address: what a suppression-list lookup must try."""
    return email_hash(email), legacy_email_hash(email)


def new_token():
    """Return (token for the link, hash to store). The token itself is never stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(stored_hash, token):
    return hmac.compare_digest(stored_hash, hash_token(token))


def find_by_token(model, token, max_length=100):
    """The row of `model` whose `token_hash` is the hash of `token`, or None. The database finds the
    row by its indexed hash; the hash is then compared again in constant time. Longer strings than
    any token we make are refused before hashing."""
    if not token or len(token) > max_length:
        return None
    token_hash = hash_token(token)
    row = db.session.execute(select(model).where(model.token_hash == token_hash)).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, token_hash):
        return None
    return row
