"""Reading invitations: the links shown to leaders and put in mails, the suppression list, and the
funnel of a survey per team (invited, sent, opened, answered, bounced, unsubscribed, expired).

The funnel counts invitations, not
answers, so no anonymity threshold applies; responses through open links (which have no
invitation) are counted beside it, per channel."""

import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import case, func, select

from perception.accounts.scope import scoped_teams, team_condition
from perception.core.extensions import db
from perception.core.models import Invitation, Response, Team, User
from perception.core.tokens import derive_token, hash_token, new_nonce

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


def recent_invitations(survey, user, limit=50):
    """The newest invitations of `survey` within `user`'s team scope."""
    return list(db.session.execute(
        select(Invitation).where(Invitation.survey_id == survey.id, team_condition(user, Invitation.team_id))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(limit)
    ).scalars())


def invitation_by_id(invitation_id):
    return db.session.get(Invitation, invitation_id)


def survey_teams(survey, user=None):
    """The teams a survey covers (every team when its scope is empty), within `user`'s team scope."""
    if survey.teams:  # archived teams are offered in no picker
        teams = [team for team in survey.teams if not team.archived]
    else:
        teams = list(db.session.execute(select(Team).where(Team.archived_at.is_(None)).order_by(Team.name)).scalars())
    return teams if user is None else scoped_teams(user, teams)


def staff_of(teams):
    ids = [team.id for team in teams]
    return list(db.session.execute(
        select(User).where(User.role == "staff", User.active.is_(True), User.team_id.in_(ids))
        .order_by(User.name)
    ).scalars())


def survey_link(token):
    """Links are always built from BASE_URL, never from the request's Host header."""
    return f"{current_app.config['BASE_URL']}/s/{token}"


def invitation_link(invitation):
    """The invitation's link, rebuilt from its nonce; None if it cannot be (see `mail_link`)."""
    if invitation.token_nonce:
        token = derive_token(invitation.token_nonce)
        if hmac.compare_digest(hash_token(token), invitation.token_hash):
            return survey_link(token)
    return None


def mail_link(invitation):
    """The invitation's link for a mail. Rebuilt from the nonce; if it no longer matches the
    stored hash (SECRET_KEY rotated, or an invitation from before nonces), a fresh token is
    issued: the old link could not have been mailed by us anyway."""
    link = invitation_link(invitation)
    if link is not None:
        return link
    invitation.token_nonce = new_nonce()
    token = derive_token(invitation.token_nonce)
    invitation.token_hash = hash_token(token)
    return survey_link(token)




def existing_invitation(survey, email):
    if not email:
        return None
    return db.session.execute(
        select(Invitation).where(Invitation.survey_id == survey.id, Invitation.customer_email == email)
        .order_by(Invitation.id).limit(1)
    ).scalar_one_or_none()


def _unsubscribe_serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="perception-unsubscribe")


def unsubscribe_link(invitation):
    return f"{current_app.config['BASE_URL']}/s/unsubscribe/{_unsubscribe_serializer().dumps(invitation.id)}"


def invitation_for_unsubscribe(token):
    try:
        invitation_id = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(Invitation, invitation_id) if isinstance(invitation_id, int) else None


