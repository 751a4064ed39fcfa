"""Reading responses for the API, anonymously: published responses only, no respondent, invitation,
user or staff member, the day of publication only (not the time), and no group (team) with fewer
than min_n respondents."""

from sqlalchemy import func, select

from perception.core.extensions import db
from perception.core.models import Answer, Item, PredictedAnswer, Response, Team


def _filtered(survey, perspective, team=None, channel=None):
    # Published responses only: answers enter the figures, and these rows, in batches of MIN_N
    # (perception/insights/publication.py).
    conditions = [Response.survey_id == survey.id, Response.perspective == perspective,
                  Response.published_at.is_not(None)]
    if team is not None:
        conditions.append(Response.team_id == team.id)
    if channel is not None:
        conditions.append(Response.channel == channel)
    return conditions


def team_counts(survey, perspective, team=None, channel=None):
    """[(team_id, team name or None, n)] for the filtered responses."""
    return db.session.execute(
        select(Response.team_id, Team.name, func.count())
        .outerjoin(Team, Team.id == Response.team_id)
        .where(*_filtered(survey, perspective, team, channel))
        .group_by(Response.team_id, Team.name).order_by(Team.name)
    ).all()


def response_page(survey, perspective, *, team=None, channel=None, min_n, page, per_page):
    """One page of anonymous responses and the groups left out for anonymity."""
    counts = team_counts(survey, perspective, team, channel)
    shown = [team_id for team_id, _name, n in counts if n >= min_n]
    suppressed = [{"team": name, "n": n} for team_id, name, n in counts if n < min_n]
    total = sum(n for team_id, _name, n in counts if n >= min_n)
    conditions = _filtered(survey, perspective, team, channel)
    visible = Response.team_id.in_([team_id for team_id in shown if team_id is not None])
    if None in shown:
        visible = visible | Response.team_id.is_(None)
    rows = db.session.execute(
        select(Response.id, Response.published_at, Team.name, Response.channel, Response.nps, Response.comment)
        .outerjoin(Team, Team.id == Response.team_id)
        .where(*conditions, visible)
        .order_by(Response.published_at, Response.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    ids = [row.id for row in rows]
    answers = _scores(Answer, ids)
    predictions = _scores(PredictedAnswer, ids) if perspective == "staff" else {}
    responses = []
    for row in rows:
        entry = {
            "submitted_on": row.published_at.date().isoformat(),  # the day its batch was published
            "team": row.name,
            "channel": row.channel,
            "answers": answers.get(row.id, {}),
            "nps": row.nps,
            "comment": row.comment,
        }
        if perspective == "staff":
            entry["predicted"] = predictions.get(row.id, {})
        responses.append(entry)
    return total, suppressed, responses


def _scores(model, ids):
    scores = {}
    if ids:
        for response_id, key, score in db.session.execute(
            select(model.response_id, Item.key, model.score).join(Item, Item.id == model.item_id)
            .where(model.response_id.in_(ids))
        ):
            scores.setdefault(response_id, {})[key] = score
    return scores
