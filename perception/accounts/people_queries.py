"""Reads of the admins' people pages: the accounts with their status, filtered; one account's links."""

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select

from perception.core.extensions import db
from perception.core.models import AccountToken, Team, User, utcnow

STATUSES = {"active": "Active", "invited": "Invited, no password yet", "inactive": "Deactivated"}
PAGE_LIMIT = 500


@dataclass
class Person:
    user: User
    status: str  # a key of STATUSES

    @property
    def status_text(self):
        return STATUSES[self.status]


def _waiting():
    """SQL: invited and no password set through a link yet."""
    invited = exists().where(AccountToken.user_id == User.id, AccountToken.purpose == "invite")
    used = exists().where(AccountToken.user_id == User.id, AccountToken.used_at.is_not(None))
    return invited & ~used


def _person(user, waiting):
    return Person(user, "inactive" if not user.active else ("invited" if waiting else "active"))


def people(search="", role=None, team_id=None, status=None, limit=PAGE_LIMIT):
    """(persons, total) of the accounts matching the filters, by name; at most `limit` persons.
    `search` matches part of the name or the email; `team_id` 0 means "no team"."""
    waiting = _waiting()
    conditions = []
    if search:
        pattern = "%" + search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(func.lower(User.email).like(pattern, escape="\\"),
                              func.lower(User.name).like(pattern, escape="\\")))
    if role:
        conditions.append(User.role == role)
    if team_id == 0:
        conditions.append(User.team_id.is_(None))
    elif team_id:
        conditions.append(User.team_id == team_id)
    if status == "inactive":
        conditions.append(User.active.is_(False))
    elif status == "invited":
        conditions.extend([User.active.is_(True), waiting])
    elif status == "active":
        conditions.extend([User.active.is_(True), ~waiting])
    total = db.session.execute(select(func.count()).select_from(User).where(*conditions)).scalar_one()
    rows = db.session.execute(
        select(User, waiting.label("waiting")).where(*conditions).order_by(func.lower(User.name), User.email)
        .limit(limit)
    ).all()
    return [_person(user, flag) for user, flag in rows], total


def person(user_id):
    """The Person of one account, or None."""
    row = db.session.execute(select(User, _waiting()).where(User.id == user_id)).first()
    return None if row is None else _person(*row)


def newest_link(user):
    """The account's newest set-password link (invitation or reset) and whether it still works, or (None, False)."""
    link = db.session.execute(
        select(AccountToken).where(AccountToken.user_id == user.id)
        .order_by(AccountToken.created_at.desc(), AccountToken.id.desc()).limit(1)
    ).scalar_one_or_none()
    if link is None:
        return None, False
    return link, link.used_at is None and link.expires_at > utcnow() and user.active


def team_by_id(team_id):
    """The team a picker's value names: None for "" (no team); a value naming no team is None too,
    which the caller reports."""
    try:
        return db.session.get(Team, int(team_id)) if team_id else None
    except (TypeError, ValueError):
        return None
