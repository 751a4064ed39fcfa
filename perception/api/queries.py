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
its batch share it, and the `channel` filter gives exactly those rows (`with_shown_channel`)."""

from sqlalchemy import and_, case, func, literal, null, or_, select, tuple_

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


def with_shown_channel(survey, min_n, team=None):
    """(subquery, condition): the survey's published customer responses (of `team`) with their id,
    team_id, published_at, channel, nps and comment, and the condition under which a row may carry its
    channel (the rest carry none). Window functions over the rows themselves, in one pass: a join of
    every row with a table of shown channels was read once per row (seconds for 20,000 rows).

    Rows are partitioned by team and publication instant, which is their batch (the date of its last
    answer; batches published at the same instant in a team count as one): a partition never changes
    once published, so whether a row shows its channel never changes either, and no two answers of the
    API at two times differ in it by fewer than whole batches. In a partition, a channel taken by fewer
    than min_n rows is withheld, and with it as many of the partition's other channels, fewest rows
    first (then by name), as it takes for the withheld rows to number min_n: no shown channel, and not
    the withheld rest, is fewer than min_n people (a batch of min_n mixing channels shows none).
    Withheld channels form a prefix of that order, so a row's channel is shown exactly when every
    channel of its partition has min_n rows, or its own has and the channels before it in that order
    add up to min_n or more."""
    r = Response.__table__.c
    batch = (r.team_id, r.published_at)
    grouped = select(r.id, r.team_id, r.published_at, r.channel, r.nps, r.comment,
                     func.count().over(partition_by=(*batch, r.channel)).label("n"),
                     func.count().over(partition_by=(r.team_id, utc_month(r.published_at))).label("cell_n")) \
        .where(*_filtered(survey, team)).subquery("channel_groups")
    g = grouped.c
    batch = (g.team_id, g.published_at)
    ranked = select(
        g.id, g.team_id, g.published_at, g.channel, g.nps, g.comment, g.n, g.cell_n,
        func.count().over(partition_by=batch).label("batch_n"),
        func.min(g.n).over(partition_by=batch).label("smallest"),
        # The rows of the channels up to this one in (rows, name) order (peers: the channel's own rows).
        (func.count().over(partition_by=batch, order_by=(g.n, g.channel)) - g.n).label("before"),
    ).subquery("ranked_channels")
    k = ranked.c
    shown = and_(k.team_id.is_not(None), k.batch_n >= min_n,
                 or_(k.smallest >= min_n, and_(k.n >= min_n, k.before >= min_n)))
    return ranked, shown


def _in_published_cell(rows, min_n):
    """The rows of with_shown_channel that may be given at all: in a team and UTC month of at least
    min_n published customer responses (board.queries.published_cells, as a window: joined as a table,
    it was read once per row)."""
    return and_(rows.c.team_id.is_not(None), rows.c.cell_n >= min_n)


def cell_counts(survey, min_n, team=None, channel=None):
    """[(team_id, team name or None, month of publication, published customer responses in the cell,
    those matching `channel`, how many of those carry it (with_shown_channel; None without `channel`))]."""
    if channel is None:
        month = utc_month(Response.published_at)
        statement = select(Response.team_id, Team.name, month, func.count(), func.count(), null()) \
            .outerjoin(Team, Team.id == Response.team_id).where(*_filtered(survey, team))
        key = (Response.team_id, Team.name, month)
    else:
        rows, shown = with_shown_channel(survey, min_n, team)
        month, matching = utc_month(rows.c.published_at), rows.c.channel == channel
        statement = select(rows.c.team_id, Team.name, month, func.count(), func.sum(case((matching, 1), else_=0)),
                           func.sum(case((and_(matching, shown), 1), else_=0))) \
            .select_from(rows).outerjoin(Team, Team.id == rows.c.team_id)
        key = (rows.c.team_id, Team.name, month)
    return db.session.execute(statement.group_by(*key).order_by(Team.name.asc().nulls_last(), month)).all()


def response_page(survey, *, team=None, channel=None, min_n, page, per_page, after=None):
    """(total, withheld, last, rows): the customer rows of published cells shown over all pages, the
    cells with rows left out ({"team", "month", "n"}: n of their responses matching the filters not
    given), the sort key of the page's last row when more follow, and one page of rows, oldest day first. A
    row's channel is None where it is withheld; with `channel`, only rows carrying it are given.
    `after` (a sort key) gives the rows after it instead of page `page`: rows are sorted by day, team
    and keyed reference, so a batch published meanwhile slots in anywhere in its day; counted by
    offset, the pages after it repeated rows and skipped others (an attacker's read), and after a key
    every row stored before the first page comes once."""
    total, withheld = 0, []
    for team_id, name, label, n, matching, carrying in cell_counts(survey, min_n, team, channel):
        published = n >= min_n and team_id is not None
        given = (carrying if channel is not None else matching) if published else 0
        total += given
        if matching > given:
            withheld.append({"team": name, "month": label, "n": int(matching - given)})
    rows, shown = with_shown_channel(survey, min_n, team)
    k = rows.c
    conditions = [k.channel == channel, shown] if channel is not None else []
    order = (utc_day(k.published_at), Team.name, row_reference(k.id))
    if after is not None:
        conditions.append(tuple_(*order) > tuple_(*(literal(part) for part in after)))
    page_rows = db.session.execute(
        select(k.id, k.published_at, Team.name, case((shown, k.channel), else_=null()).label("channel"), k.nps,
               k.comment, *(part.label(f"sort_{index}") for index, part in enumerate(order)))
        .select_from(rows)
        .join(Team, Team.id == k.team_id)
        .where(_in_published_cell(rows, min_n), *conditions)
        .order_by(*order)
        .limit(per_page + 1).offset(0 if after is not None else (page - 1) * per_page)
    ).all()
    more, page_rows = len(page_rows) > per_page, page_rows[:per_page]
    last = (page_rows[-1].sort_0, page_rows[-1].sort_1, page_rows[-1].sort_2) if more else None
    answers = _scores([row.id for row in page_rows])
    return int(total), withheld, last, [{
        "submitted_on": row.published_at.date().isoformat(),  # the day its batch was published
        "team": row.name,
        "channel": row.channel,
        "answers": answers.get(row.id, {}),
        "nps": row.nps,
        "comment": row.comment,
    } for row in page_rows]


def _scores(ids):
    scores = {}
    if ids:
        for response_id, key, score in db.session.execute(
            select(Answer.response_id, Item.key, Answer.score).join(Item, Item.id == Answer.item_id)
            .where(Answer.response_id.in_(ids))
        ):
            scores.setdefault(response_id, {})[key] = score
    return scores
