"""Response counts per survey and perspective for the leaders' overview."""

from sqlalchemy import func, select

from ..extensions import db
from ..models import Response


def survey_overview(surveys):
    ids = [survey.id for survey in surveys]
    counts = {survey_id: {"customer": 0, "staff": 0, "leader": 0} for survey_id in ids}
    if ids:
        rows = db.session.execute(
            select(Response.survey_id, Response.perspective, func.count())
            .where(Response.survey_id.in_(ids))
            .group_by(Response.survey_id, Response.perspective)
        )
        for survey_id, perspective, count in rows:
            counts[survey_id][perspective] = count
    return counts
