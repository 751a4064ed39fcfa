"""Plain look-ups for the leaders' pages: counts and labels, no statistics.

`answer_counts` feeds the diverging Likert bars, which need how many answers each point of
the scale got. It reads the same report cells with the same filters as
`perception.reports.gap_report` (team, inclusive UTC months of `submitted_at`, only items of the
survey), so its counts add up to the report's item `n`; whether a row may be shown is still
decided by the report's anonymity rule.
"""

from sqlalchemy import select

from ..extensions import db
from ..models import Dimension, Item, Team, survey_items
from ..reports import parse_month
from ..reports_query import item_counts_statement


def answer_counts(survey, *, team=None, month_from=None, month_to=None):
    """{(item key, perspective): {score: answers}} for the survey's items, in one query over the
    report cells (perception/report_cells.py)."""
    for value, field in ((month_from, "from"), (month_to, "to")):
        if value:
            parse_month(value, field)
    rows = db.session.execute(item_counts_statement(
        survey.id, team_id=team.id if team is not None else None, month_from=month_from or None,
        month_to=month_to or None,
    ))
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
