"""Accounts."""

from sqlalchemy import func, select

from .extensions import db
from .models import ROLES, Team, User


class UserError(ValueError):
    pass


def find_user_by_email(email):
    email = (email or "").strip().lower()
    return db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()


def find_team(name):
    return db.session.execute(select(Team).where(Team.name == name)).scalar_one_or_none()


def get_or_create_team(name):
    team = find_team(name)
    if team is None:
        team = Team(name=name)
        db.session.add(team)
        db.session.flush()
    return team


def create_user(email, password, role, team_name=None, name=""):
    email = (email or "").strip().lower()
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if find_user_by_email(email):
        raise UserError(f"a user with email {email} already exists")
    if role == "staff" and not team_name:
        raise UserError("staff members belong to a team: give --team NAME")
    if len(password or "") < 8:
        raise UserError("the password must have at least 8 characters")
    team = get_or_create_team(team_name) if team_name else None
    user = User(email=email, name=name or email.split("@")[0], role=role, team=team)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user
