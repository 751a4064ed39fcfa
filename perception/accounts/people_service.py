"""Managing accounts (the admins' people pages and the `users` commands): invite by email, change
role and team, deactivate and re-activate, send a new set-password link. Every change records its
audit event in its own transaction.

An invited account gets a random password nobody knows (hashed like every password, so a login
attempt costs the same as for any account) until its owner sets one through the invitation link.
Deactivating ends the account's sessions and remember-me cookies at once (User.session_version),
revokes its API tokens (re-activating does not bring them back: the person makes new ones), voids
its unused links and cancels their mails not sent yet. Nobody deactivates or demotes themselves, and
the last active admin stays one, so the business never locks itself out, even when two admins
demote or deactivate each other at the same moment (see _lock_active_admins)."""

import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update

from perception.accounts.password_service import issue_link, void_links
from perception.accounts.queries import find_team, find_user_by_email
from perception.accounts.signals import scope_changed
from perception.core.audit import record
from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import ROLES, ApiToken, User, utcnow
from perception.core.models.people import hash_password


class PeopleError(FieldError):
    """A change refused, with the form field it concerns."""


def checked_email(email):
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise PeopleError(f"{email!r} is not a valid email address.", "email") from None


def checked_role(role):
    if role not in ROLES:
        raise PeopleError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.", "role")
    return role


def team_named(name):
    """The team called `name` (None for no name); an unknown name is an error, never a new team."""
    if not name:
        return None
    team = find_team(name.strip())
    if team is None:
        raise PeopleError(f"There is no team called {name!r}.", "team")
    return team


def _check_team_for_role(role, team):
    if role == "staff" and team is None:
        raise PeopleError("Staff members belong to a team: please choose one.", "team")


def invite_user(email, role, team=None, actor=None, name=""):
    """Make an account and queue its invitation mail (a single-use set-password link, 72 hours)."""
    email = checked_email(email)
    role = checked_role(role)
    _check_team_for_role(role, team)
    existing = find_user_by_email(email)
    if existing is not None:
        hint = " (deactivated: activate it instead)" if not existing.active else ""
        raise PeopleError(f"{email} already has an account{hint}.", "email")
    user = User(email=email, name=(name or "").strip()[:120] or email.split("@")[0], role=role, team=team,
                password_hash=hash_password(secrets.token_urlsafe(32)))
    db.session.add(user)
    db.session.flush()
    issue_link(user, "invite", actor=actor)
    record("user.invited", actor=actor, target=user, role=role, team_id=getattr(team, "id", None))
    db.session.commit()
    return user


def resend_invitation(user, actor=None):
    """A new invitation link for an account whose owner has not set a password yet (the old one stops working)."""
    if not user.active:
        raise PeopleError(f"{user.email} is deactivated: activate the account first.")
    issue_link(user, "invite", actor=actor)
    record("user.invited", actor=actor, target=user, role=user.role, team_id=user.team_id, again=True)
    db.session.commit()


def send_password_reset(user, actor=None):
    """Queue a password-reset link for an active account (an admin's or an operator's request)."""
    if not user.active:
        raise PeopleError(f"{user.email} is deactivated: activate the account first.")
    issue_link(user, "reset", actor=actor)
    record("user.password_reset_requested", actor=actor, target=user)
    db.session.commit()


def _lock_active_admins():
    """Serialise changes that could remove the last active admin. PostgreSQL: lock the active
    admins' rows until commit, so a second such change waits here until the first is committed and
    then counts what that one left. SQLite compiles no FOR UPDATE: there the change's own write takes
    the database's single write lock, and _refuse_if_no_admin_left counts after it."""
    # In id order, so two such changes take the row locks in the same order (no deadlock).
    db.session.execute(
        select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id).with_for_update()
    ).all()


def _guard_admin_change(user, actor, what):
    """Before changing `user`'s role or deactivating it: refuse a change of one's own account, and
    take the admins' lock if `user` is an active admin. Returns whether it is (then the caller calls
    _refuse_if_no_admin_left after making the change)."""
    if actor is not None and actor.id == user.id:
        raise PeopleError(f"You cannot {what} your own account: ask another admin.")
    if user.role == "admin" and user.active:
        _lock_active_admins()
        return True
    return False


def _refuse_if_no_admin_left(what):
    """Count the active admins after the change is written (never before: two changes counting at
    once would each see the other admin), and undo the change if none is left."""
    db.session.flush()  # on SQLite this write takes the write lock: every earlier change is committed
    left = db.session.execute(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    ).scalar_one()
    if left == 0:
        db.session.rollback()
        raise PeopleError(f"This is the last active admin: make another admin before you {what} it.")


def update_user(user, role, team, actor=None):
    """Change the account's role and team together (the people page's form); records what changed."""
    role = checked_role(role)
    _check_team_for_role(role, team)
    new_team_id = getattr(team, "id", None)
    scope_changes = role != user.role or new_team_id != user.team_id  # read before a flush hides them
    was_admin = False
    if role != user.role:
        was_admin = _guard_admin_change(user, actor, "change the role of")
        record("user.role_changed", actor=actor, target=user, old=user.role, new=role)
        user.role = role
    if new_team_id != user.team_id:
        record("user.team_changed", actor=actor, target=user, old_team_id=user.team_id, new_team_id=new_team_id)
        user.team = team
    if was_admin:
        _refuse_if_no_admin_left("change the role of")
    if scope_changes:
        db.session.flush()
        scope_changed.send(user, actor=actor, now=utcnow())
    db.session.commit()


def revoke_api_tokens(user, now):
    """Revoke every API token of the account not revoked yet; returns how many (the caller commits)."""
    return db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def deactivate_user(user, actor=None):
    """The account stops working at once: sessions, remember-me cookies, unused links; its API tokens
    are revoked, so re-activating the account does not bring them back."""
    if not user.active:
        return False
    was_admin = _guard_admin_change(user, actor, "deactivate")
    now = utcnow()
    user.active = False  # raises the session version (User._end_sessions_on_change)
    void_links(user.id, now)
    revoked = revoke_api_tokens(user, now)
    record("user.deactivated", actor=actor, target=user, api_tokens_revoked=revoked)
    if was_admin:
        _refuse_if_no_admin_left("deactivate")
    db.session.flush()
    scope_changed.send(user, actor=actor, now=now)
    db.session.commit()
    return True


def activate_user(user, actor=None):
    if user.active:
        return False
    user.active = True
    record("user.activated", actor=actor, target=user)
    db.session.commit()
    return True


def user_by_email(email):
    user = find_user_by_email(email)
    if user is None:
        raise PeopleError(f"There is no account with the email {(email or '').strip()!r}.", "email")
    return user
