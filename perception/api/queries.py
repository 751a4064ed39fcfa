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
customer who scanned the counter's QR code in a month). It is given only where at least min_n rows of
its batch share it, and the `channel` filter gives exactly those rows (`shown_channels`)."""

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
    """Subquery of (team_id, published_at, channel): the published batches' rows that may carry their
    channel (the rest carry none).

    Rows are partitioned by team and publication instant, which is their batch (the date of its last
    answer; batches published at the same instant in a team count as one): a partition never changes
    once published, so whether a row shows its channel never changes either, and no two answers of the
    API at two times differ in it by fewer than whole batches. In a partition, a channel taken by fewer
    than min_n rows is withheld, and with it as many of the partition's other channels, fewest rows
    first (then by name), as it takes for the withheld rows to number min_n: no shown channel, and not
    the withheld rest, is fewer than min_n people (a batch of min_n mixing channels shows none).
    Withheld channels form a prefix of that order, so a channel is withheld exactly when the partition
    has a channel under min_n and this one is under min_n or the ones before it add up to under min_n."""
    r = Response.__table__
    counts = (
        select(r.c.team_id, r.c.published_at, r.c.channel, func.count().label("n"))
        .where(*_filtered(survey), r.c.team_id.is_not(None))
        .group_by(r.c.team_id, r.c.published_at, r.c.channel)
        .subquery("channel_counts")
    )
    c = counts.c
    batch = (c.team_id, c.published_at)
    ranked = select(
        c.team_id, c.published_at, c.channel, c.n,
        func.sum(c.n).over(partition_by=batch).label("batch_n"),
        func.sum(case((c.n < min_n, 1), else_=0)).over(partition_by=batch).label("small"),
        func.coalesce(func.sum(c.n).over(partition_by=batch, order_by=(c.n, c.channel), rows=(None, -1)), 0)
        .label("before"),
    ).subquery("ranked_channels")
    k = ranked.c
    return (
        select(k.team_id, k.published_at, k.channel)
        .where(k.batch_n >= min_n, (k.small == 0) | ((k.n >= min_n) & (k.before >= min_n)))
        .subquery("shown_channels")
    )


def _shown(shown):
    """The join condition of a response row with its entry in shown_channels (none: channel withheld)."""
    return and_(shown.c.team_id == Response.team_id, shown.c.published_at == Response.published_at,
                shown.c.channel == Response.channel)


def cell_counts(survey, min_n, team=None, channel=None):
    """[(team_id, team name or None, month of publication, published customer responses in the cell,
    those matching `channel`, how many of those carry it (shown_channels; None without `channel`))]."""
    month = utc_month(Response.published_at)
    joined = Response.__table__.outerjoin(Team, Team.id == Response.team_id)
    matching, shown_count = func.count(), None
    if channel is not None:
        shown = shown_channels(survey, min_n)
        joined = joined.outerjoin(shown, and_(_shown(shown), Response.channel == channel))
        matching, shown_count = func.sum(case((Response.channel == channel, 1), else_=0)), func.count(shown.c.channel)
    return db.session.execute(
        select(Response.team_id, Team.name, month, func.count(), matching, shown_count)
        .select_from(joined)
        .where(*_filtered(survey, team))
        .group_by(Response.team_id, Team.name, month).order_by(Team.name.asc().nulls_last(), month)
    ).all()


def response_page(survey, *, team=None, channel=None, min_n, page, per_page):
    """(total, withheld, rows): the customer rows of published cells shown over all pages, the
    cells with rows left out ({"team", "month", "n"}: n of their responses matching the filters not
    given) and one page of rows, oldest day first. A row's channel is None where it is withheld; with
    `channel`, only rows carrying it are given."""
    total, withheld = 0, []
    for team_id, name, label, n, matching, carrying in cell_counts(survey, min_n, team, channel):
        published = n >= min_n and team_id is not None
        given = (carrying if channel is not None else matching) if published else 0
        total += given
        if matching > given:
            withheld.append({"team": name, "month": label, "n": int(matching - given)})
    cells, shown = published_cells(survey, min_n), shown_channels(survey, min_n)
    conditions = _filtered(survey, team)
    if channel is not None:
        conditions += [Response.channel == channel, shown.c.channel.is_not(None)]
    rows = db.session.execute(
        select(Response.id, Response.published_at, Team.name, shown.c.channel, Response.nps, Response.comment)
        .join(cells, and_(cells.c.team_id == Response.team_id, cells.c.month == utc_month(Response.published_at)))
        .outerjoin(shown, _shown(shown))
        .join(Team, Team.id == Response.team_id)
        .where(*conditions)
        .order_by(utc_day(Response.published_at), Team.name, row_reference(Response.id))
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    answers = _scores([row.id for row in rows])
    return int(total), withheld, [{
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
