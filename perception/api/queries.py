"""Reading responses for the API, anonymously (DESIGN section 2, "Privacy: what may be published").

Only customer rows leave the app: a staff member's or leader's answers are shown to that person
only (the view refuses those perspectives). Only published responses are given (answers enter the
figures, and these rows, in batches of MIN_N: perception/insights/publication.py), and only from
a published cell: a team and UTC month of publication with at least min_n published customer
responses in the survey (the rule of the support-vs-erode board and the leaders' export,
perception.board.queries.published_cells), so a comment is given exactly where the board would
show it. Rows carry no respondent, invitation, user or staff member, and the day of publication
only (not the time); they come by day and team, and within them in an order unrelated to when they
were written (perception.core.tokens.row_reference), the same on every page. Responses without a
team belong to no cell and are never given."""

from sqlalchemy import and_, case, func, select

from perception.board.queries import published_cells
from perception.core.database import utc_day, utc_month
from perception.core.extensions import db
from perception.core.models import Answer, Item, Response, Team
from perception.core.tokens import row_reference


def _filtered(survey, team=None):
    conditions = [Response.survey_id == survey.id, Response.perspective == "customer",
                  Response.published_at.is_not(None)]
    if team is not None:
        conditions.append(Response.team_id == team.id)
    return conditions


def cell_counts(survey, team=None, channel=None):
    """[(team_id, team name or None, month of publication, published customer responses in the cell,
    those matching `channel`)]."""
    month = utc_month(Response.published_at)
    matching = func.count() if channel is None else func.sum(case((Response.channel == channel, 1), else_=0))
    return db.session.execute(
        select(Response.team_id, Team.name, month, func.count(), matching)
        .outerjoin(Team, Team.id == Response.team_id)
        .where(*_filtered(survey, team))
        .group_by(Response.team_id, Team.name, month).order_by(Team.name.asc().nulls_last(), month)
    ).all()


def response_page(survey, *, team=None, channel=None, min_n, page, per_page):
    """(total, withheld, rows): the customer rows of published cells shown over all pages, the
    cells left out ({"team", "month", "n"}: n of their responses matching the filters) and one
    page of rows, oldest day first."""
    counts = cell_counts(survey, team, channel)
    published = [(n >= min_n and team_id is not None, name, label, int(matching or 0))
                 for team_id, name, label, n, matching in counts]
    total = sum(matching for shown, _name, _label, matching in published if shown)
    withheld = [{"team": name, "month": label, "n": matching}
                for shown, name, label, matching in published if not shown and matching]
    cells = published_cells(survey, min_n)
    conditions = _filtered(survey, team)
    if channel is not None:
        conditions.append(Response.channel == channel)
    rows = db.session.execute(
        select(Response.id, Response.published_at, Team.name, Response.channel, Response.nps, Response.comment)
        .join(cells, and_(cells.c.team_id == Response.team_id, cells.c.month == utc_month(Response.published_at)))
        .join(Team, Team.id == Response.team_id)
        .where(*conditions)
        .order_by(utc_day(Response.published_at), Team.name, row_reference(Response.id))
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    answers = _scores([row.id for row in rows])
    return total, withheld, [{
        "submitted_on": row.published_at.date().isoformat(),  # the day its batch was published
        "team": row.name,
        "channel": row.channel,
        "answers": answers.get(row.id, {}),
        "nps": row.nps,
        "comment": row.comment,
    } for row in rows]


def _scores(ids):
    scores = {}
    if ids:
        for response_id, key, score in db.session.execute(
            select(Answer.response_id, Item.key, Answer.score).join(Item, Item.id == Answer.item_id)
            .where(Answer.response_id.in_(ids))
        ):
            scores.setdefault(response_id, {})[key] = score
    return scores
