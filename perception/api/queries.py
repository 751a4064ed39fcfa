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
team belong to no cell and are never given.

A row's channel is its own, not its batch's, so it could single out a few of a cell's rows (the one
customer who scanned the counter's QR code in a month). It is given only where at least min_n of the
cell's rows share it, and the `channel` filter gives exactly those rows (`shown_channels`)."""

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


def shown_channels(survey, min_n):
    """Subquery of (team_id, month, channel): where a published cell's rows may carry their channel.

    In a cell (team, UTC month of publication) of at least min_n published customer responses, a
    channel taken by fewer than min_n of them is withheld, and with it as many of the cell's other
    channels, fewest responses first (then by name), as it takes for the withheld rows to number
    min_n: no shown channel, and not the withheld rest, is then fewer than min_n people. Withheld
    channels form a prefix of that order, so a channel is withheld exactly when the cell has a
    channel under min_n and this one is under min_n or the ones before it add up to under min_n."""
    r = Response.__table__
    month = utc_month(r.c.published_at)
    counts = (
        select(r.c.team_id, month.label("month"), r.c.channel, func.count().label("n"))
        .where(*_filtered(survey), r.c.team_id.is_not(None))
        .group_by(r.c.team_id, month, r.c.channel)
        .subquery("channel_counts")
    )
    c = counts.c
    cell = (c.team_id, c.month)
    ranked = select(
        c.team_id, c.month, c.channel, c.n,
        func.sum(c.n).over(partition_by=cell).label("cell_n"),
        func.sum(case((c.n < min_n, 1), else_=0)).over(partition_by=cell).label("small"),
        func.coalesce(func.sum(c.n).over(partition_by=cell, order_by=(c.n, c.channel), rows=(None, -1)), 0)
        .label("before"),
    ).subquery("ranked_channels")
    k = ranked.c
    return (
        select(k.team_id, k.month, k.channel)
        .where(k.cell_n >= min_n, (k.small == 0) | ((k.n >= min_n) & (k.before >= min_n)))
        .subquery("shown_channels")
    )


def cell_counts(survey, min_n, team=None, channel=None):
    """[(team_id, team name or None, month of publication, published customer responses in the cell,
    those matching `channel`, whether those are given)]. Without `channel` every row of a cell of
    min_n is given; with it, the cell's rows of that channel where it is shown (shown_channels)."""
    month = utc_month(Response.published_at)
    if channel is None:
        matching, given = func.count(), func.count() >= min_n
        joined = Response.__table__.outerjoin(Team, Team.id == Response.team_id)
    else:
        shown = shown_channels(survey, min_n)
        matching = func.sum(case((Response.channel == channel, 1), else_=0))
        given = func.count(shown.c.channel) > 0
        joined = Response.__table__.outerjoin(Team, Team.id == Response.team_id).outerjoin(shown, and_(
            shown.c.team_id == Response.team_id, shown.c.month == month, shown.c.channel == channel))
    return db.session.execute(
        select(Response.team_id, Team.name, month, func.count(), matching, given)
        .select_from(joined)
        .where(*_filtered(survey, team))
        .group_by(Response.team_id, Team.name, month).order_by(Team.name.asc().nulls_last(), month)
    ).all()


def response_page(survey, *, team=None, channel=None, min_n, page, per_page):
    """(total, withheld, rows): the customer rows of published cells shown over all pages, the
    cells left out ({"team", "month", "n"}: n of their responses matching the filters) and one
    page of rows, oldest day first. A row's channel is None where its cell withholds it."""
    counts = cell_counts(survey, min_n, team, channel)
    published = [(bool(given) and team_id is not None, name, label, int(matching or 0))
                 for team_id, name, label, _n, matching, given in counts]
    total = sum(matching for shown, _name, _label, matching in published if shown)
    withheld = [{"team": name, "month": label, "n": matching}
                for shown, name, label, matching in published if not shown and matching]
    cells, shown = published_cells(survey, min_n), shown_channels(survey, min_n)
    month = utc_month(Response.published_at)
    conditions = _filtered(survey, team)
    if channel is not None:
        conditions += [Response.channel == channel, shown.c.channel.is_not(None)]
    rows = db.session.execute(
        select(Response.id, Response.published_at, Team.name, shown.c.channel, Response.nps, Response.comment)
        .join(cells, and_(cells.c.team_id == Response.team_id, cells.c.month == month))
        .outerjoin(shown, and_(shown.c.team_id == Response.team_id, shown.c.month == month,
                               shown.c.channel == Response.channel))
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
