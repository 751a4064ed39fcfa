"""Plain look-ups for the leaders' pages: counts and labels, no statistics.

`answer_counts` feeds the diverging Likert bars, which need how many answers each point of
the scale got. It uses the same filters as `perception.reports.gap_report` (team, inclusive
UTC months of `submitted_at`, only items of the survey), so its counts add up to the report's
item `n`; whether a row may be shown is still decided by the report's anonymity rule.
"""

from datetime import UTC, datetime

from sqlalchemy import and_, func, select

from ..extensions import db
from ..models import Answer, Dimension, Item, Response, Team, survey_items
from ..reports import parse_month


def month_bounds(month_from=None, month_to=None):
    """[start, end) datetimes in UTC for inclusive 'YYYY-MM' months; None where open."""
    start = end = None
    if month_from:
        year, month = parse_month(month_from, "from")
        start = datetime(year, month, 1, tzinfo=UTC)
    if month_to:
        year, month = parse_month(month_to, "to")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        end = datetime(year, month, 1, tzinfo=UTC)
    return start, end


def answer_counts(survey, *, team=None, month_from=None, month_to=None):
    """{(item key, perspective): {score: answers}} for the survey's items, in one query."""
    start, end = month_bounds(month_from, month_to)
    conditions = [Response.survey_id == survey.id]
    if team is not None:
        conditions.append(Response.team_id == team.id)
    if start is not None:
        conditions.append(Response.submitted_at >= start)
    if end is not None:
        conditions.append(Response.submitted_at < end)
    rows = db.session.execute(
        select(Item.key, Response.perspective, Answer.score, func.count())
        .select_from(Response)
        .join(Answer, Answer.response_id == Response.id)
        .join(survey_items, and_(survey_items.c.survey_id == Response.survey_id,
                                 survey_items.c.item_id == Answer.item_id))
        .join(Item, Item.id == Answer.item_id)
        .where(*conditions)
        .group_by(Item.key, Response.perspective, Answer.score)
    )
    counts = {}
    for item_key, perspective, score, answers in rows:
        counts.setdefault((item_key, perspective), {})[int(score)] = int(answers)
    return counts


def item_wordings(survey):
    """{item key: customer wording} of the survey's items, in one query."""
    rows = db.session.execute(
        select(Item.key, Item.customer_text)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .where(survey_items.c.survey_id == survey.id)
    )
    return dict(rows.all())


def all_teams():
    return list(db.session.execute(select(Team).order_by(Team.name, Team.id)).scalars())


def wave_items(survey):
    """[(Item, Dimension), ...] of the survey in display order, in one query."""
    return db.session.execute(
        select(Item, Dimension)
        .join(Dimension, Dimension.id == Item.dimension_id)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .where(survey_items.c.survey_id == survey.id)
        .order_by(Dimension.position, Dimension.id, Item.position, Item.id)
    ).all()
