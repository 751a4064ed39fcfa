"""Key drivers of a survey from the database: aggregates in SQL, every figure in perception.insights.

The database never sends one row per customer. Three statements return sums:

1. per dimension, over customers who answered it and gave a recommendation score (NPS):
   n, Σx, Σy, Σx², Σy², Σxy with x = the customer's dimension score, y = their NPS;
2. the same with y = the customer's mean over their answered items outside the dimension;
3. per pair of dimensions, over customers who answered every dimension and gave an NPS: the
   sums of products that the beta weights need (k² rows for k dimensions).

A customer's dimension score is the mean of their answered items in it, as in the gap report.
Sums are taken over values shifted to the middle of their scales (x − 3, NPS − 5), which keeps
floating-point sums of squares accurate; correlations and weights do not change under a shift.
Performance is the customers' mean from `perception.reports.gap_report` (same team filter).
In all, five statements run (two for the gap report), whatever the number of responses.
"""

from sqlalchemy import Float, cast, func, select

from perception.core.extensions import db
from perception.core.models import Dimension, Item, Response, survey_items
from perception.insights import OUTCOMES, CrossProducts, DimensionSpec, Moments, build_driver_report
from perception.insights.drivers import OUTCOME
from perception.reports.histogram_queries import customer_dimension_sums
from perception.reports.queries import gap_report

SCALE_MIDDLE = 3.0
NPS_MIDDLE = 5.0


def _dimensions(survey_id):
    """[(dimension id, DimensionSpec)] of the survey in display order."""
    rows = db.session.execute(
        select(Dimension.id, Dimension.key, Dimension.name)
        .join(Item, Item.dimension_id == Dimension.id)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .where(survey_items.c.survey_id == survey_id)
        .group_by(Dimension.id, Dimension.key, Dimension.name, Dimension.position)
        .order_by(Dimension.position, Dimension.id)
    ).all()
    return [(dimension_id, DimensionSpec(key=key, name=name)) for dimension_id, key, name in rows]


def _per_dimension(survey_id, team_id):
    """CTE: (rid, did, s, c) per published customer and dimension (customer_dimension_sums)."""
    conditions = () if team_id is None else (Response.__table__.c.team_id == team_id,)
    return customer_dimension_sums(survey_id, *conditions).cte("per_dimension")


def _score(per_dimension):
    return cast(per_dimension.c.s, Float) / per_dimension.c.c - SCALE_MIDDLE


def _moment_columns(x, y):
    return [func.count().label("n"), func.sum(x), func.sum(y), func.sum(x * x), func.sum(y * y), func.sum(x * y)]


def _moments(rows):
    return {did: Moments(int(n), *(float(value or 0.0) for value in sums)) for did, n, *sums in rows}


def nps_moments(per_dimension):
    r = Response.__table__
    x, y = _score(per_dimension), cast(r.c.nps, Float) - NPS_MIDDLE
    statement = (
        select(per_dimension.c.did, *_moment_columns(x, y))
        .join(r, r.c.id == per_dimension.c.rid)
        .where(r.c.nps.is_not(None))
        .group_by(per_dimension.c.did)
    )
    return _moments(db.session.execute(statement).all())


def care_moments(per_dimension):
    """y = the customer's mean over answered items outside the dimension (never the dimension itself)."""
    totals = (
        select(per_dimension.c.rid, func.sum(per_dimension.c.s).label("total"),
               func.sum(per_dimension.c.c).label("answered"))
        .group_by(per_dimension.c.rid)
        .subquery()
    )
    x = _score(per_dimension)
    rest = cast(totals.c.total - per_dimension.c.s, Float) / (totals.c.answered - per_dimension.c.c) - SCALE_MIDDLE
    statement = (
        select(per_dimension.c.did, *_moment_columns(x, rest))
        .join(totals, totals.c.rid == per_dimension.c.rid)
        .where(totals.c.answered > per_dimension.c.c)
        .group_by(per_dimension.c.did)
    )
    return _moments(db.session.execute(statement).all())


def nps_cross_products(per_dimension, dimensions):
    """CrossProducts over customers who answered every dimension of the survey and gave an NPS."""
    r = Response.__table__
    complete = (
        select(per_dimension.c.rid)
        .group_by(per_dimension.c.rid)
        .having(func.count() == len(dimensions))
        .subquery()
    )
    first, second = per_dimension.alias("first"), per_dimension.alias("second")
    x1, x2 = _score(first), _score(second)
    y = cast(r.c.nps, Float) - NPS_MIDDLE
    statement = (
        select(first.c.did, second.c.did, func.count(), func.sum(x1), func.sum(x1 * x2), func.sum(x1 * y),
               func.sum(y), func.sum(y * y))
        .select_from(first.join(second, second.c.rid == first.c.rid)
                     .join(complete, complete.c.rid == first.c.rid)
                     .join(r, r.c.id == first.c.rid))
        .where(r.c.nps.is_not(None))
        .group_by(first.c.did, second.c.did)
    )
    keys = {dimension_id: spec.key for dimension_id, spec in dimensions}
    n, sums, products = 0, {}, {}
    for did_a, did_b, count, sum_a, sum_ab, sum_ay, sum_y, sum_yy in db.session.execute(statement):
        a, b = keys[did_a], keys[did_b]
        n = int(count)
        sums[a], sums[OUTCOME] = float(sum_a), float(sum_y)
        products[(a, b)] = float(sum_ab)
        products[(a, OUTCOME)] = float(sum_ay)
        products[(OUTCOME, OUTCOME)] = float(sum_yy)
    if n == 0:
        return CrossProducts(0, dict.fromkeys([spec.key for _, spec in dimensions] + [OUTCOME], 0.0), {})
    return CrossProducts(n, sums, products)


def driver_report(survey, *, outcome="nps", team=None, min_n=None):
    """The key-driver report of `survey` (optionally one Team) for `outcome` ("nps" or "care").

    Raises ValueError for an unknown outcome (perception.reports.ReportError for a bad min_n).
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    report = gap_report(survey, team=team, min_n=min_n)
    performance = {cell.key: cell.customer.mean for cell in report.dimensions}
    dimensions = _dimensions(survey.id)
    keys = {dimension_id: spec.key for dimension_id, spec in dimensions}
    per_dimension = _per_dimension(survey.id, team.id if team is not None else None)
    raw = nps_moments(per_dimension) if outcome == "nps" else care_moments(per_dimension)
    cross = nps_cross_products(per_dimension, dimensions) if outcome == "nps" and dimensions else None
    return build_driver_report(
        dimensions=[spec for _, spec in dimensions],
        outcome=outcome,
        moments={keys[did]: moments for did, moments in raw.items() if did in keys},
        performance=performance,
        cross=cross,
        min_n=report.min_n,
    )
