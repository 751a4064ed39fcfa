"""Accounts' reads: people and teams, one lookup each."""

from flask import current_app
from sqlalchemy import func, select

from perception.core.extensions import db
from perception.core.models import Team, User, login_hour, utcnow


def all_teams():
    """The teams every picker and filter offers: archived (and merged) teams are left out."""
    return list(db.session.execute(
        select(Team).where(Team.archived_at.is_(None)).order_by(Team.name, Team.id)).scalars())


def active_and_archived_teams():
    """(the teams pickers offer, the archived ones) in one statement, for filters that also accept an
    archived team by name."""
    teams = list(db.session.execute(select(Team).order_by(Team.name, Team.id)).scalars())
    return [team for team in teams if team.archived_at is None], [team for team in teams if team.archived_at]


def staff_members():
    return list(db.session.execute(select(User).where(User.role == "staff").order_by(User.name, User.email)).scalars())


def user_for_session(session_id, now=None):
    """The account a session or remember-me cookie names ("<id>:<session version>:<hour of login>", see
    User.get_id), or None when the value is malformed, the login is older than REMEMBER_COOKIE_DURATION
    (or from the future), the account is deactivated, or its session version has moved on since
    (logout, a new password, deactivation)."""
    try:
        user_id, version, hour = (int(part) for part in str(session_id or "").split(":"))
    except ValueError:  # also a value of another shape, such as one made before the hour was added
        return None
    age = login_hour(now or utcnow()) - hour  # -1: a login on a server whose clock is a moment ahead
    if not -1 <= age <= current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds() // 3600:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def find_user_by_email(email):
    email = (email or "").strip().lower()
    return db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()


def find_team(name):
    return db.session.execute(select(Team).where(Team.name == name)).scalar_one_or_none()
