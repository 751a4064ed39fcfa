"""Reading the support-vs-erode board: the comments a page may show for tagging, and the board of
the most frequent moments.

Anonymity: a customer comment is shown (to tag it, or as an example on the board), and its
tags are counted, only when it is published (it entered the figures with its batch: see
perception/insights/publication.py) and its team and month (UTC, of `published_at`) have at
least `min_n` published customer responses in the survey. Staff see and tag only their own team's comments. Comments
without a team belong to no team/month group and are never shown.

No time finer than the month (DESIGN section 2, "No consent, no link"): comments are listed, and
chosen as examples, newest month first and within a month in an order unrelated to when each came;
a page names a comment by its `reference` (perception.core.tokens.row_reference), never by its
response's id, since ids count up as answers arrive.

The word-list suggestion (`perception.insights.suggest_tags`) is only a suggestion: a person
chooses the effect and the dimension; `suggested` records whether they kept it as it was.
"""

from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from perception.core.database import utc_month
from perception.core.extensions import db
from perception.core.models import CommentTag, Dimension, Item, Response, Team, survey_items
from perception.core.tokens import row_reference
from perception.insights import Moment, Suggestion, rank_moments, suggest_tags

EXAMPLES_PER_MOMENT = 3
PAGE_SIZE = 20


def survey_dimensions(survey):
    """[(key, name)] of the survey's dimensions in display order."""
    rows = db.session.execute(
        select(Dimension.key, Dimension.name)
        .join(Item, Item.dimension_id == Dimension.id)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .where(survey_items.c.survey_id == survey.id)
        .group_by(Dimension.id, Dimension.key, Dimension.name, Dimension.position)
        .order_by(Dimension.position, Dimension.id)
    ).all()
    return [(key, name) for key, name in rows]


def published_cells(survey, min_n):
    """Subquery of the (team_id, month) groups with at least min_n customer responses: the cells
    whose customer rows and comments may be shown (the board, the API's rows, the leaders' export)."""
    r = Response.__table__
    month = utc_month(r.c.published_at)
    return (
        select(r.c.team_id.label("team_id"), month.label("month"))
        .where(r.c.survey_id == survey.id, r.c.perspective == "customer", r.c.team_id.is_not(None),
               r.c.published_at.is_not(None))
        .group_by(r.c.team_id, month)
        .having(func.count() >= min_n)
        .subquery("eligible")
    )


def _visible_comments(survey, min_n, team_id=None, month=None):
    """(conditions, joined from-clause) of customer comments that may be shown."""
    r = Response.__table__
    eligible = published_cells(survey, min_n)
    joined = r.join(eligible, and_(eligible.c.team_id == r.c.team_id,
                                   eligible.c.month == utc_month(r.c.published_at)))
    conditions = [r.c.survey_id == survey.id, r.c.perspective == "customer", r.c.comment.is_not(None),
                  r.c.comment != "", r.c.published_at.is_not(None)]
    if team_id is not None:
        conditions.append(r.c.team_id == team_id)
    if month is not None:
        conditions.append(eligible.c.month == month)
    return conditions, joined


def eligible_months(survey, min_n, team_id=None):
    """'YYYY-MM' months (newest first) in which some (or the given) team may show comments."""
    eligible = published_cells(survey, min_n)
    statement = select(eligible.c.month).distinct().order_by(eligible.c.month.desc())
    if team_id is not None:
        statement = statement.where(eligible.c.team_id == team_id)
    return list(db.session.execute(statement).scalars())


def _unlinked_order(r):
    """Newest month first, then in an order unrelated to when each answer came."""
    return utc_month(r.c.published_at).desc(), row_reference(r.c.id)


@dataclass
class CommentRow:
    response_id: int
    reference: str  # what a page names the comment by (not its response's id)
    team: str
    month: str
    comment: str
    tags: list = field(default_factory=list)  # [(effect, dimension key, dimension name)]
    suggestions: tuple[Suggestion, ...] = ()


def comments_to_tag(survey, min_n, *, team_id=None, month=None, untagged_only=True, page=1, dimension_keys=()):
    """(rows, total) of visible comments, newest month first, PAGE_SIZE per page, with tags and suggestions."""
    r = Response.__table__
    conditions, joined = _visible_comments(survey, min_n, team_id, month)
    if untagged_only:
        tagged = select(CommentTag.response_id).where(CommentTag.response_id == r.c.id).exists()
        conditions.append(~tagged)
    total = db.session.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
    rows = db.session.execute(
        select(r.c.id, row_reference(r.c.id), Team.name, utc_month(r.c.published_at), r.c.comment)
        .select_from(joined.join(Team, Team.id == r.c.team_id))
        .where(*conditions)
        .order_by(*_unlinked_order(r))
        .limit(PAGE_SIZE)
        .offset(PAGE_SIZE * (max(1, page) - 1))
    ).all()
    comments = [CommentRow(rid, reference, team, month_label, text, suggestions=suggest_tags(text, dimension_keys))
                for rid, reference, team, month_label, text in rows]
    by_id = {row.response_id: row for row in comments}
    if by_id:
        tags = db.session.execute(
            select(CommentTag.response_id, CommentTag.effect, Dimension.key, Dimension.name)
            .join(Dimension, Dimension.id == CommentTag.dimension_id)
            .where(CommentTag.response_id.in_(list(by_id)))
            .order_by(Dimension.position)
        ).all()
        for rid, effect, key, name in tags:
            by_id[rid].tags.append((effect, key, name))
    return comments, total


def taggable_response(survey, reference, min_n, team_id=None):
    """The Response whose comment has this `reference` (CommentRow.reference) if it is visible to this
    person (staff: team_id of their team), else None."""
    r = Response.__table__
    conditions, joined = _visible_comments(survey, min_n, team_id)
    found = db.session.execute(
        select(r.c.id).select_from(joined).where(*conditions, row_reference(r.c.id) == reference)
    ).scalar_one_or_none()
    return db.session.get(Response, found) if found is not None else None


@dataclass(frozen=True)
class Board:
    eroding: list
    supporting: list
    names: dict
    tagged_comments: int
    visible_comments: int


def board(survey, min_n, *, team_id=None, month=None, limit=5):
    """The most frequent eroding and supporting moments (tag counts per dimension) with examples.

    Runs four statements (counts, examples via ROW_NUMBER, two totals), whatever the data size.
    """
    r = Response.__table__
    conditions, joined = _visible_comments(survey, min_n, team_id, month)
    tagged = joined.join(CommentTag, CommentTag.response_id == r.c.id).join(
        Dimension, Dimension.id == CommentTag.dimension_id)
    counts = db.session.execute(
        select(CommentTag.effect, Dimension.key, Dimension.name, func.count())
        .select_from(tagged).where(*conditions)
        .group_by(CommentTag.effect, Dimension.key, Dimension.name)
    ).all()
    rank = func.row_number().over(partition_by=(CommentTag.effect, Dimension.key),
                                  order_by=_unlinked_order(r)).label("rank")
    ranked = (
        select(CommentTag.effect.label("effect"), Dimension.key.label("key"), r.c.comment.label("comment"), rank)
        .select_from(tagged).where(*conditions)
        .subquery()
    )
    examples = {}
    for effect, key, comment in db.session.execute(
        select(ranked.c.effect, ranked.c.key, ranked.c.comment).where(ranked.c.rank <= EXAMPLES_PER_MOMENT)
        .order_by(ranked.c.effect, ranked.c.key, ranked.c.rank)
    ):
        examples.setdefault((effect, key), []).append(comment)
    tagged_comments = db.session.execute(
        select(func.count(func.distinct(CommentTag.response_id))).select_from(tagged).where(*conditions)
    ).scalar_one()
    visible = db.session.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
    moments = [Moment(effect, key, int(n), tuple(examples.get((effect, key), ()))) for effect, key, _name, n in counts]
    return Board(
        eroding=rank_moments(moments, "erodes", limit),
        supporting=rank_moments(moments, "supports", limit),
        names={key: name for _effect, key, name, _n in counts},
        tagged_comments=int(tagged_comments),
        visible_comments=int(visible),
    )
