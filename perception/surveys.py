"""Finding surveys for a user."""

from flask import abort
from sqlalchemy import select

from .extensions import db
from .models import Survey


def survey_by_slug_or_404(slug):
    survey = db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one_or_none()
    if survey is None:
        abort(404)
    return survey


def surveys_for(user, statuses=("open",)):
    """Surveys a user may rate: staff only those covering their team."""
    surveys = db.session.execute(
        select(Survey).where(Survey.status.in_(statuses)).order_by(Survey.created_at.desc(), Survey.id.desc())
    ).scalars()
    if user.role == "staff":
        return [survey for survey in surveys if survey.covers_team(user.team_id)]
    return list(surveys)
