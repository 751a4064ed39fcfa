"""Reading API input strictly: unknown fields, wrong types and bad values are refused with the
name of the field at fault, so a client's mistake is found on the first call, not in the data."""

import base64
import binascii
import hashlib
import json
import re
from datetime import datetime

from flask import request

from perception.core.models import parse_utc
from perception.web.api import ApiError
from perception.web.i18n import LANGUAGES

IDEMPOTENCY_KEY_MAX = 255


# name -> (JSON types accepted, required, max length)
INVITATION_FIELDS = {
    "survey": ((str,), True, 80),
    "team": ((str,), True, 120),
    "email": ((str, type(None)), False, 254),
    "name": ((str, type(None)), False, 120),
    "staff_email": ((str, type(None)), False, 254),
    "interaction_at": ((str, type(None)), False, 40),
    "language": ((str, type(None)), False, 16),
    "deliver": ((str,), False, 5),
}
DELIVERY = ("email", "none")
TYPE_NAMES = {str: "a string", type(None): "null"}


def json_body():
    """The request's JSON object, or ApiError (400 malformed, 415 not JSON, 422 not an object)."""
    if not request.is_json:
        raise ApiError(415, "Send the body as JSON with 'Content-Type: application/json'.", "Content-Type")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"The body is not valid JSON: {error}", "body") from None
    except RecursionError:  # e.g. "[" * 200000: nested deeper than any real request
        raise ApiError(400, "The body is not valid JSON: it is nested too deeply.", "body") from None
    if not isinstance(body, dict):
        raise ApiError(422, "The body must be a JSON object.", "body")
    return body


def invitation_input(body):
    """Checked fields of POST /invitations with defaults applied."""
    for name in body:
        if name not in INVITATION_FIELDS:
            raise ApiError(422, f"Unknown field {name!r}; the fields are {', '.join(INVITATION_FIELDS)}.", name)
    values = {}
    for name, (types, required, max_length) in INVITATION_FIELDS.items():
        value = body.get(name)
        if name not in body or value is None:
            if required:
                raise ApiError(422, f"{name} is required.", name)
            values[name] = None
            continue
        if not isinstance(value, types):
            expected = " or ".join(TYPE_NAMES[kind] for kind in types)
            raise ApiError(422, f"{name} must be {expected}, not {type(value).__name__}.", name)
        value = value.strip()
        if len(value) > max_length:
            raise ApiError(422, f"{name} must be at most {max_length} characters.", name)
        if required and not value:
            raise ApiError(422, f"{name} must not be empty.", name)
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL text cannot hold it
            raise ApiError(422, f"{name} must not contain the NUL character.", name)
        if not _encodable(value):  # JSON's "\ud800": a lone surrogate, which no database stores
            raise ApiError(422, f"{name} must be text without lone surrogates (such as \\ud800).", name)
        values[name] = value or None
    values["deliver"] = values["deliver"] or "email"
    if values["deliver"] not in DELIVERY:
        raise ApiError(422, "deliver must be 'email' (we send the invitation) or 'none' (you get the link).",
                       "deliver")
    if values["language"] is not None and values["language"] not in LANGUAGES:
        # Only the languages the mails and customer pages exist in (perception.web.i18n); "fr" would
        # be stored and then silently mailed in English.
        raise ApiError(422, f"language must be one of {', '.join(LANGUAGES)} (or null: the browser's choice), "
                            f"not {values['language']!r}.", "language")
    if values["interaction_at"] is not None:
        values["interaction_at"] = parse_time(values["interaction_at"], "interaction_at")
    return values


def _encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_time(value, field):
    try:
        return parse_utc(value)
    except ValueError:
        raise ApiError(422, f"{field} must be an ISO 8601 time such as 2026-03-14T15:30:00+01:00.", field) from None


def request_fingerprint(values):
    """Identifies a request's meaning, to tell a retry from a different call with the same key."""
    canonical = {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in values.items()}
    if canonical.get("email"):
        canonical["email"] = canonical["email"].lower()
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def idempotency_key():
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isascii() or not key.isprintable():
        raise ApiError(422, f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters.",
                       "Idempotency-Key")
    return key


def query_args(allowed):
    """The query string, refusing parameters not in `allowed` and repeated ones."""
    for name in request.args:
        if name not in allowed:
            raise ApiError(400, f"Unknown query parameter {name!r}; allowed: {', '.join(allowed) or 'none'}.", name)
        if len(request.args.getlist(name)) > 1:
            raise ApiError(400, f"Give {name} once.", name)
    return {name: request.args.get(name) for name in allowed}


def int_arg(value, field, default, minimum, maximum):
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, f"{field} must be a whole number.", field) from None
    if not minimum <= number <= maximum:
        raise ApiError(400, f"{field} must be between {minimum} and {maximum}.", field)
    return number


CURSOR_MAX = 1000  # base64 of the day, a team name (at most 120 characters of UTF-8) and 64 hex digits
CURSOR_PARTS = re.compile(r"\d{4}-\d{2}-\d{2}\Z"), re.compile(r"[0-9a-f]{64}\Z")


def cursor_of(key):
    """The opaque `next` of a page of rows: the sort key (day, team, keyed reference) of its last row."""
    text = json.dumps(list(key), separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor_arg(value, field="after"):
    """The sort key a `next` cursor holds, or None without one; anything else is a 400 naming `field`."""
    if value is None:
        return None
    try:
        if len(value) > CURSOR_MAX:  # a next is never longer
            raise ValueError(field)
        day, team, reference = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        valid = (isinstance(day, str) and isinstance(team, str) and isinstance(reference, str)
                 and CURSOR_PARTS[0].match(day) and CURSOR_PARTS[1].match(reference) and len(team) <= 200
                 and "\x00" not in team)
        if valid:
            team.encode("utf-8")  # a lone surrogate cannot be bound: UnicodeEncodeError, a ValueError
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, RecursionError):  # nested [[[...: a review
        valid = False
    if not valid:
        raise ApiError(400, f"{field} must be the next value of an earlier page, as given.", field)
    return day, team, reference
