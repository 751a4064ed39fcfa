"""The API's audience blueprint and its policy (DESIGN section 3): everything under /api/v1.

Authentication: `Authorization: Bearer <personal API token>` (made on /account/tokens). No cookies,
so no CSRF: the blueprint is exempt. Each operation names the role (`roles_allowed`) and the token
scope (`scope_required`) it needs; a token acts within its owner's team scope (perception.api.views).
Errors are JSON {"error": ..., "field": ...} with a 4xx. The routes are perception.api.views."""

from datetime import timedelta
from functools import wraps

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from perception.core.extensions import csrf, db
from perception.core.models import ApiToken, utcnow
from perception.core.tokens import API_SCOPES, API_TOKEN_PREFIX, find_by_token
from perception.web.errors import MESSAGES
from perception.web.security import no_store

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies, so no CSRF: a call is authorised by its bearer token alone
bp.after_request(no_store)  # answers carry personal data and figures: never cached


PUBLIC_ENDPOINTS = {"api.openapi_document"}


class ApiError(Exception):
    def __init__(self, status, message, field=None, headers=None):
        super().__init__(message)
        self.status, self.message, self.field, self.headers = status, message, field, headers or {}


def error_response(status, message, field=None, headers=None):
    response = jsonify({"error": message, "field": field})
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.errorhandler(ApiError)
def api_error(error):
    return error_response(error.status, error.message, error.field, error.headers)


@bp.errorhandler(HTTPException)
def http_error(error):
    field = getattr(error, "field", None)  # security.NulCharacter names it
    message = MESSAGES.get(error.code, (None, error.description))[1] if error.code != 429 else (
        f"Too many requests: {error.description}. Please wait and try again."
    )
    return error_response(error.code or 500, error.description if field else message, field)


def _unauthorized(message):
    # RFC 6750: tell the client which scheme to use and why the token was refused.
    return ApiError(401, message, "Authorization",
                    {"WWW-Authenticate": 'Bearer realm="perception", error="invalid_token"'})


@bp.before_request
def require_token():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise ApiError(401, "An API token is needed: send the header 'Authorization: Bearer <token>'. "
                            "Make a token on your account's API tokens page.", "Authorization",
                       {"WWW-Authenticate": 'Bearer realm="perception"'})
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("The Authorization header must be 'Bearer <token>'.")
    record = authenticate(token.strip())
    if record is None:
        raise _unauthorized("This API token is not valid: it is unknown, revoked, or its account is inactive.")
    g.api_user, g.api_scopes = record.user, record.scope_set


def roles_allowed(*roles):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.api_user.role not in roles:
                raise ApiError(403, f"This needs a token of a {' or '.join(roles)} account; "
                                    f"this one belongs to a {g.api_user.role}.")
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def scope_required(scope):
    """The token must carry `scope` (perception.core.tokens.API_SCOPES): else 403 naming it."""
    if scope not in API_SCOPES:
        raise ValueError(f"unknown API scope {scope!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if scope not in g.api_scopes:
                raise ApiError(403, f"This token may not do this: it lacks the scope {scope!r}. Make a token "
                                    f"with that scope on your account's API tokens page.", "scope")
            return view(*args, **kwargs)

        wrapped.required_scope = scope
        return wrapped

    return decorator


# Recording every use would write on every call; once a minute is enough to show "last used".
LAST_USED_GRANULARITY = timedelta(minutes=1)


def authenticate(token):
    """The ApiToken of a bearer token whose account is active, or None (unknown, revoked, inactive)."""
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    record = find_by_token(ApiToken, token, max_length=200)
    if record is None or record.revoked_at is not None:
        return None
    if not record.user.active:
        return None
    now = utcnow()
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_GRANULARITY:
        record.last_used_at = now
        db.session.commit()
    return record
