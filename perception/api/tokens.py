"""Personal API tokens: created and revoked by their owner in the web UI, shown once, stored as a
SHA-256 hash. A token acts with its owner's current role; a revoked token or a deactivated
account stops working at once."""

import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken, utcnow
from ..security import hash_token

TOKEN_PREFIX = "pcp_"  # noqa: S105  (a public marker, not a secret)
# Recording every use would write on every call; once a minute is enough to show "last used".
LAST_USED_GRANULARITY = timedelta(minutes=1)


class TokenError(ValueError):
    pass


def create_api_token(user, name):
    """Return (record, token). The token is shown to the user once and never stored."""
    name = (name or "").strip()
    if not name:
        raise TokenError("Please give the token a name, e.g. the system that will use it.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits
    record = ApiToken(user_id=user.id, name=name[:80], token_hash=hash_token(token), prefix=token[:10])
    db.session.add(record)
    db.session.commit()
    return record, token


def tokens_of(user):
    return list(db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.revoked_at.is_not(None),
                                                                    ApiToken.created_at.desc())
    ).scalars())


def revoke_api_token(user, token_id):
    """Revoke one of the user's own tokens; False if there is no such token of theirs."""
    record = db.session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        return False
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        db.session.commit()
    return True


def authenticate(token):
    """The active user a bearer token belongs to, or None (unknown, revoked, inactive)."""
    if not token or len(token) > 200 or not token.startswith(TOKEN_PREFIX):
        return None
    token_hash = hash_token(token)
    record = db.session.execute(select(ApiToken).where(ApiToken.token_hash == token_hash)).scalar_one_or_none()
    if record is None or not hmac.compare_digest(record.token_hash, token_hash) or record.revoked_at is not None:
        return None
    if not record.user.active:
        return None
    now = utcnow()
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_GRANULARITY:
        record.last_used_at = now
        db.session.commit()
    return record.user
