"""The invitation funnel of a survey, per team: invited, sent, opened, answered, bounced,
unsubscribed, expired, and the response rate (answered / sent). Counts of invitations, not
answers, so no anonymity threshold applies; responses through open links (which have no
invitation) are counted beside it, per channel."""

from sqlalchemy import case, func, select

from .extensions import db
from .models import Invitation, Response, Team, User

STAGES = ("invited", "sent", "opened", "answered", "bounced", "unsubscribed", "expired")


def _rate(row):
    row["response_rate"] = row["answered"] / row["sent"] if row["sent"] else None
    return row


def _empty():
    return dict.fromkeys(STAGES, 0)


def survey_funnel(survey, team=None):
    """{"survey", "team", "total": {...}, "teams": [{"team": name, ...}], "responses_by_channel": {...}}"""
    counts = (
        func.count(),
        func.count(Invitation.sent_at),
        func.count(Invitation.opened_at),
        func.count(Invitation.answered_at),
        func.count(case((Invitation.state == "bounced", 1))),
        func.count(Invitation.unsubscribed_at),
        func.count(case((Invitation.state == "expired", 1))),
    )
    query = (
        select(Team.name, *counts).join(Team, Team.id == Invitation.team_id)
        .where(Invitation.survey_id == survey.id).group_by(Team.name).order_by(Team.name)
    )
    channels = (
        select(Response.channel, func.count()).where(Response.survey_id == survey.id,
                                                     Response.perspective == "customer")
        .group_by(Response.channel).order_by(Response.channel)
    )
    if team is not None:
        query = query.where(Invitation.team_id == team.id)
        channels = channels.where(Response.team_id == team.id)
    teams, total = [], _empty()
    for name, *values in db.session.execute(query):
        row = dict(zip(STAGES, values, strict=True))
        for stage in STAGES:
            total[stage] += row[stage]
        teams.append({"team": name, **_rate(row)})
    return {
        "survey": survey.slug,
        "team": team.name if team is not None else None,
        "total": _rate(total),
        "teams": teams,
        "responses_by_channel": dict(db.session.execute(channels).all()),
    }


def recent_invitations(survey, limit=50):
    return list(db.session.execute(
        select(Invitation).where(Invitation.survey_id == survey.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(limit)
    ).scalars())


def survey_teams(survey):
    """The teams a survey covers (every team when its scope is empty)."""
    return survey.teams or list(db.session.execute(select(Team).order_by(Team.name)).scalars())


def staff_of(teams):
    ids = [team.id for team in teams]
    return list(db.session.execute(
        select(User).where(User.role == "staff", User.active.is_(True), User.team_id.in_(ids))
        .order_by(User.name)
    ).scalars())
