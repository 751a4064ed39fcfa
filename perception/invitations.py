"""Creating invitations: one customer, one survey, one secret link."""

from datetime import timedelta

from flask import current_app

from .extensions import db
from .models import Invitation, utcnow
from .security import new_token


def survey_link(token):
    """Links are always built from BASE_URL, never from the request's Host header."""
    return f"{current_app.config['BASE_URL']}/s/{token}"


def create_invitation(survey, team, email=None, name=None, staff=None, interaction_at=None, now=None):
    """Return (invitation, token). Only the token's hash is stored; the token is for the link."""
    now = now or utcnow()
    token, token_hash = new_token()
    invitation = Invitation(
        survey=survey,
        team=team,
        staff=staff,
        customer_email=(email or "").strip().lower() or None,
        customer_name=name,
        token_hash=token_hash,
        interaction_at=interaction_at,
        created_at=now,
        expires_at=now + timedelta(days=current_app.config["INVITATION_TTL_DAYS"]),
    )
    db.session.add(invitation)
    return invitation, token
