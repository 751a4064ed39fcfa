"""A staff member's personal mirror from the database; figures by perception.insights.build_mirror.

"Their customers" are the published customer responses of the survey that name them as the
staff member who served (`responses.staff_id`, copied from the invitation when the customer
answers). Answers are published in batches of MIN_N per team, staff member served and perspective
(perception/insights/publication.py), so a mirror, too, changes only by whole batches; the
answers still waiting are counted (`waiting`), never shown. The database returns score
histograms, as for the gap report; five statements run whatever the number of responses.
"""

from sqlalchemy import func, select

from perception.core.extensions import db
from perception.core.models import (
    Answer,
    Dimension,
    Invitation,
    Item,
    PredictedAnswer,
    Response,
    StaffGuess,
    survey_items,
)
from perception.insights import DimensionSpec, build_mirror
from perception.reports.histogram_queries import customer_dimension_sums


def _structure(survey):
    rows = db.session.execute(
        select(Item.id, Item.key, Dimension.key, Dimension.name)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .join(Dimension, Dimension.id == Item.dimension_id)
        .where(survey_items.c.survey_id == survey.id)
        .order_by(Dimension.position, Dimension.id, Item.position, Item.id)
    ).all()
    members, names, of_item = {}, {}, {}
    for item_id, item_key, dimension_key, name in rows:
        members.setdefault(dimension_key, []).append(item_key)
        names[dimension_key] = name
        of_item[item_id] = dimension_key
    return [DimensionSpec(key, names[key], tuple(keys)) for key, keys in members.items()], of_item


def _own(survey, user, table, of_item):
    """{dimension key: {(sum, count): 1}} of the user's own answers (or predictions)."""
    rows = db.session.execute(
        select(table.c.item_id, table.c.score)
        .join(Response.__table__, Response.__table__.c.id == table.c.response_id)
        .where(Response.__table__.c.survey_id == survey.id, Response.__table__.c.user_id == user.id)
    ).all()
    sums = {}
    for item_id, score in rows:
        if item_id in of_item:
            total, count = sums.get(of_item[item_id], (0, 0))
            sums[of_item[item_id]] = (total + int(score), count + 1)
    return {key: {value: 1} for key, value in sums.items()}


def _customers(survey, user):
    """({dimension key: histogram}, respondents) of the customers this staff member served."""
    per_respondent = customer_dimension_sums(survey.id, Response.__table__.c.staff_id == user.id).subquery()
    rows = db.session.execute(
        select(Dimension.key, per_respondent.c.s, per_respondent.c.c, func.count())
        .join(Dimension, Dimension.id == per_respondent.c.did)
        .group_by(Dimension.key, per_respondent.c.s, per_respondent.c.c)
    ).all()
    respondents = db.session.execute(select(func.count(func.distinct(per_respondent.c.rid)))).scalar_one()
    histograms = {}
    for key, total, count, n in rows:
        histograms.setdefault(key, {})[(int(total), int(count))] = int(n)
    return histograms, int(respondents)


def staff_mirror(survey, user, min_n, *, with_own):
    """The Mirror of `user` (a staff member) in `survey`. Without `with_own` (anyone but `user`
    looking: an admin under ADMIN_SEES_MIRRORS) their own rating and predictions are not read at all:
    DESIGN section 2, "Own answers stay own"."""
    dimensions, of_item = _structure(survey)
    customers, respondents = _customers(survey, user)
    return build_mirror(
        dimensions=dimensions,
        customer_scores=customers,
        own_scores=_own(survey, user, Answer.__table__, of_item) if with_own else {},
        predicted_scores=_own(survey, user, PredictedAnswer.__table__, of_item) if with_own else {},
        respondents=respondents,
        min_n=min_n,
    )


def waiting(survey, user):
    """How many answers of customers this staff member served wait for their batch (in both of their
    publication groups together: a count per group would tell which group each new answer joined, and
    so whether that customer allowed contact)."""
    r = Response.__table__.c
    return db.session.execute(select(func.count()).where(
        r.survey_id == survey.id, r.perspective == "customer", r.staff_id == user.id, r.published_at.is_(None),
    )).scalar_one()


def own_guesses(survey, user):
    """(how many, their mean) of the blind guesses `user` gave of how the customers they served in
    `survey` felt (1-5; "I don't remember" left out; mean None without any). The staff member's own
    answers: shown to them only (DESIGN section 2, "Own answers stay own"), never beside one customer."""
    count, mean = db.session.execute(
        select(func.count(StaffGuess.score), func.avg(StaffGuess.score))
        .join(Invitation, Invitation.id == StaffGuess.invitation_id)
        .where(StaffGuess.staff_id == user.id, Invitation.survey_id == survey.id)
    ).one()
    return int(count), (float(mean) if count else None)
