"""Reading surveys: the one lookup by slug, the surveys a user may rate, a wave's items, and the
response counts of the leaders' overview."""


from flask import abort
from sqlalchemy import func, select

from perception.accounts.scope import sees_survey, team_condition
from perception.core.extensions import db
from perception.core.models import Dimension, Item, Response, Survey, survey_items


def survey_overview(surveys, user):
    """Response counts per survey and perspective, within `user`'s team scope."""
    ids = [survey.id for survey in surveys]
    counts = {survey_id: {"customer": 0, "staff": 0, "leader": 0} for survey_id in ids}
    if ids:
        rows = db.session.execute(
            select(Response.survey_id, Response.perspective, func.count())
            .where(Response.survey_id.in_(ids), team_condition(user, Response.team_id))
            .group_by(Response.survey_id, Response.perspective)
        )
        for survey_id, perspective, count in rows:
            counts[survey_id][perspective] = count
    return counts


def wave_items(survey):
    """[(Item, Dimension), ...] of the survey in display order, in one query."""
    return db.session.execute(
        select(Item, Dimension)
        .join(Dimension, Dimension.id == Item.dimension_id)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .where(survey_items.c.survey_id == survey.id)
        .order_by(Dimension.position, Dimension.id, Item.position, Item.id)
    ).all()


def survey_by_slug(slug):
    """The one lookup of a survey (a wave) by its slug: the survey, or None."""
    return db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one_or_none()


def known_slugs(limit=20):
    return db.session.execute(select(Survey.slug).order_by(Survey.slug).limit(limit)).scalars().all()


def survey_by_slug_or_404(slug):
    survey = survey_by_slug(slug)
    if survey is None:
        abort(404)
    return survey


def visible_survey_or_404(slug, user):
    """The wave if `user` may see it (perception.accounts.scope.sees_survey), else 404: a team's
    leader learns nothing of the waves of other teams, not even that they exist."""
    survey = survey_by_slug(slug)
    if survey is None or not sees_survey(user, survey):
        abort(404)
    return survey


def surveys_for(user, statuses=("open",)):
    """Surveys a user may see and rate: staff and a team's leaders only those covering their team."""
    surveys = db.session.execute(
        select(Survey).where(Survey.status.in_(statuses)).order_by(Survey.created_at.desc(), Survey.id.desc())
    ).scalars()
    return [survey for survey in surveys if sees_survey(user, survey)]
