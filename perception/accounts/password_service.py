"""Set-password links of accounts: an invitation's (`invite`) and a password reset's (`reset`).

The token design is the customer links' (perception.core.tokens): 256 bits derived under
SECRET_KEY from a random nonce (so the mail worker can write the link; the link itself is never
stored), only its SHA-256 looked up, compared in constant time; a link works once and for
ACCOUNT_LINK_TTL. A new link of an account voids its earlier unused ones (only the newest mail
works), and so does setting a password; deactivating an account voids them all.

"Forgot your password?" (request_password_reset) answers the same whatever the address: it queues a
mail only for an active account, and for any other address does comparable work (a token derived
and hashed, the same statements, one audit row keyed by the address's keyed hash, never the
address), so neither the answer nor its time tells who has an account."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from perception.accounts.queries import find_user_by_email
from perception.core.audit import record
from perception.core.database import session_id
from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import AccountToken, OutboxMessage, utcnow
from perception.core.outbox import cancel_pending
from perception.core.tokens import derive_token, email_hash, find_by_token, hash_token, new_nonce

ACCOUNT_LINK_TTL = timedelta(hours=72)
LINK_PURPOSE = "account"  # what the link tokens are derived for (never a customer link's purpose)
PASSWORD_MIN = 8
PASSWORD_MAX = 200

LINK_OK, LINK_USED, LINK_EXPIRED, LINK_UNKNOWN = "ok", "used", "expired", "unknown"


class PasswordError(FieldError):
    default_field = "password"


def check_password_rule(password):
    """The one password rule (the web form, `create-user`): 8 to 200 characters."""
    if len(password or "") < PASSWORD_MIN:
        raise PasswordError(f"The password must have at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise PasswordError(f"The password may have at most {PASSWORD_MAX} characters.")


def link_token(link):
    return derive_token(link.token_nonce, purpose=LINK_PURPOSE)


def link_url(link):
    return f"{current_app.config['BASE_URL']}/set-password/{link_token(link)}"


def void_links(user_id, now):
    """End every unused link of the account and cancel their mails not sent yet (the caller commits)."""
    unused = select(AccountToken.id).where(AccountToken.user_id == user_id, AccountToken.used_at.is_(None),
                                           AccountToken.expires_at > now)
    cancel_pending(OutboxMessage.account_token_id.in_(unused.scalar_subquery()), "a newer link replaced it")
    db.session.execute(
        update(AccountToken).where(AccountToken.id.in_(unused.scalar_subquery())).values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def issue_link(user, purpose, actor=None, now=None):
    """A new link of `purpose` for `user`, its mail queued in the outbox; earlier unused links are
    voided. The caller records the audit event and commits."""
    now = now or utcnow()
    void_links(user.id, now)
    nonce = new_nonce()
    link = AccountToken(user_id=user.id, purpose=purpose, token_nonce=nonce,
                        token_hash=hash_token(derive_token(nonce, purpose=LINK_PURPOSE)),
                        created_by_id=getattr(actor, "id", None), created_at=now, expires_at=now + ACCOUNT_LINK_TTL)
    db.session.add(link)
    db.session.flush()
    db.session.add(OutboxMessage(account_token_id=link.id, kind="account", sequence=0, status="pending", attempts=0,
                                 next_attempt_at=now, created_at=now))
    return link


def link_state(link, now=None):
    """LINK_OK, or why the link no longer works (an account deactivated since counts as expired)."""
    if link is None:
        return LINK_UNKNOWN
    if link.used_at is not None:
        return LINK_USED
    if (now or utcnow()) >= link.expires_at or not link.user.active:
        return LINK_EXPIRED
    return LINK_OK


def open_link(token, now=None):
    """(state, link) of the token in a set-password URL."""
    link = find_by_token(AccountToken, token)
    return link_state(link, now), link


def link_by_id(link_id):
    """The set-password link a session names; an id of another shape (2**70: only a forged session holds
    one) finds nothing instead of overflowing the driver (a review)."""
    return db.session.get(AccountToken, link_id) if session_id(link_id) else None


def set_password_with_link(link, password, now=None):
    """Set the account's password through a working link and use the link up; returns the user.
    Raises PasswordError for a password that breaks the rule, ValueError for a link that no longer works."""
    now = now or utcnow()
    if link_state(link, now) != LINK_OK:
        raise ValueError("this link no longer works")
    check_password_rule(password)
    # Used up atomically: of two simultaneous submits of one link, exactly one sets the password.
    used = db.session.execute(
        update(AccountToken).where(AccountToken.id == link.id, AccountToken.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        db.session.rollback()
        raise ValueError("this link no longer works")
    link.used_at = now
    user = link.user
    user.set_password(password)  # ends the account's other sessions (User._end_sessions_on_change)
    void_links(user.id, now)
    record("user.password_set", actor=user, target=user, purpose=link.purpose)
    db.session.commit()
    return user


def request_password_reset(email, actor=None, now=None):
    """Queue a reset link for an active account with this address; for any other address queue
    nothing but do comparable work (see the module's text). Returns nothing either way."""
    now = now or utcnow()
    user = find_user_by_email(email)
    if user is not None and user.active:
        issue_link(user, "reset", actor=actor, now=now)
        record("user.password_reset_requested", actor=actor, target=user)
    else:
        void_links(0, now)  # the same statements as for an account, matching nothing
        hash_token(derive_token(new_nonce(), purpose=LINK_PURPOSE))
        # An empty address (from a caller that did not validate it) has no hash: never an error.
        keyed = email_hash(email) if (email or "").strip() else None
        record("user.password_reset_requested", actor=actor, email_hash=keyed)
    db.session.commit()

