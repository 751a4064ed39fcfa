"""Logging in and ending sessions.

A login does the same work whether or not the address has an account: the password is checked
against the account's hash, or against dummy_password_hash(), made the same way, when there is no
account, so the time a refusal takes does not tell who has an account. Ending an account's sessions
raises its session version (perception.core.models.people.User.get_id): every session and
remember-me cookie made before stops working at once.

Every attempt is in the audit log: login.success with the account, login.failure with the keyed hash
of the address tried (perception.core.tokens.email_hash, never the address) and the account when
there is one; a wrong password given again by a logged-in account (confirm_password) too."""

import functools
import secrets

from werkzeug.security import check_password_hash

from perception.accounts.queries import find_user_by_email
from perception.core.audit import record
from perception.core.extensions import db
from perception.core.models.people import hash_password
from perception.core.tokens import email_hash, normalise_email


@functools.cache
def dummy_password_hash():
    """A hash of a random password nobody knows, made like every account's hash (same method and
    cost); made once per process, on the first login, not at import."""
    return hash_password(secrets.token_urlsafe(32))


def authenticate(email, password):
    """The active account with this email and password, or None. Always checks one password hash."""
    user = find_user_by_email(email)
    matches = check_password_hash(user.password_hash if user is not None else dummy_password_hash(), password or "")
    if user is None or not matches or not user.active:
        record("login.failure", target=user, email_hash=email_hash(email) if normalise_email(email) else None)
        db.session.commit()
        return None
    record("login.success", actor=user, target=user)
    db.session.commit()
    return user


def confirm_password(user, password, where):
    """Whether `password` is the logged-in `user`'s own (asked again before something that outlives the
    session, such as an API token); a wrong one is in the audit log like a failed login, with `where`."""
    if user.check_password(password or ""):
        return True
    record("login.failure", actor=user, target=user, where=where)
    db.session.commit()
    return False


def end_sessions(user):
    """Log the account out everywhere: every session and remember-me cookie it has stops working."""
    user.end_sessions()
    db.session.commit()
