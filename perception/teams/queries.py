"""Teams' reads: the admin list with counts, and lookups by id or name."""

from dataclasses import dataclass

from sqlalchemy import func, select

from perception.core.extensions import db
from perception.core.models import FOLLOWUP_STATES, FollowUp, Invitation, Response, Team, User


@dataclass
class TeamRow:
    team: Team
    people: int
    responses: int
    invitations: int
    open_followups: int
    merged_into: str | None


def _counts(column, *conditions):
    return dict(db.session.execute(select(column, func.count()).where(*conditions).group_by(column)).all())


OPEN_FOLLOWUP_STATES = tuple(state for state in FOLLOWUP_STATES if state != "resolved")


def team_rows():
    """(active rows, archived rows), each by name: a team with its people, responses, invitations
    and open follow-ups (one grouped count per kind, whatever the number of teams)."""
    teams = list(db.session.execute(select(Team).order_by(Team.name, Team.id)).scalars())
    names = {team.id: team.name for team in teams}
    people = _counts(User.team_id)
    responses = _counts(Response.team_id)
    invitations = _counts(Invitation.team_id)
    followups = _counts(FollowUp.team_id, FollowUp.state.in_(OPEN_FOLLOWUP_STATES))
    rows = [TeamRow(team, people.get(team.id, 0), responses.get(team.id, 0), invitations.get(team.id, 0),
                    followups.get(team.id, 0), names.get(team.merged_into_id)) for team in teams]
    return [row for row in rows if not row.team.archived], [row for row in rows if row.team.archived]


def team_row(team):
    def count(column, *conditions):
        return _counts(column, column == team.id, *conditions).get(team.id, 0)

    merged_into = db.session.get(Team, team.merged_into_id) if team.merged_into_id else None
    return TeamRow(team, count(User.team_id), count(Response.team_id), count(Invitation.team_id),
                   count(FollowUp.team_id, FollowUp.state.in_(OPEN_FOLLOWUP_STATES)),
                   merged_into.name if merged_into else None)


def team_by_id(team_id):
    return db.session.get(Team, team_id)


def team_by_name(name):
    return db.session.execute(select(Team).where(Team.name == (name or "").strip())).scalar_one_or_none()


def merge_targets(team):
    """The teams `team` may be merged into: every other active team."""
    return list(db.session.execute(
        select(Team).where(Team.archived_at.is_(None), Team.id != team.id).order_by(Team.name)).scalars())
