"""Accounts' reads: people and teams, one lookup each."""

from sqlalchemy import func, select

from perception.core.extensions import db
from perception.core.models import Team, User


def all_teams():
    return list(db.session.execute(select(Team).order_by(Team.name, Team.id)).scalars())


def staff_members():
    return list(db.session.execute(select(User).where(User.role == "staff").order_by(User.name, User.email)).scalars())


def user_by_id(user_id):
    """The account with this id (as the session stores it, a string), or None."""
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def find_user_by_email(email):
    email = (email or "").strip().lower()
    return db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()


def find_team(name):
    return db.session.execute(select(Team).where(Team.name == name)).scalar_one_or_none()
