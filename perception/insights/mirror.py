"""A staff member's personal mirror: their own rating and prediction beside their customers.

Per dimension: the staff member's own self-rating (mean of their answered items in it), their
prediction of customers' answers, and the customers who were served by them (``describe``:
n, mean, sd, 95 % interval, top box).  ``self - customers`` and ``prediction - customers``
(``calibration``) follow DESIGN section 2's sign: the other side minus the customers.

Anonymity: customer figures appear only when at least ``min_n`` customers answered about
this staff member (and, per dimension, when that dimension has ``min_n`` respondents);
otherwise the mirror says how many more customers are needed.  The staff member's own
answers are always theirs to see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .inputs import DimensionSpec, ScoreCounts
from .stats import PerspectiveStats, calibration, check_min_n, describe, summarise

__all__ = ["Mirror", "MirrorRow", "build_mirror"]


@dataclass(frozen=True)
class MirrorRow:
    key: str
    name: str
    own: float | None
    predicted: float | None
    customers: PerspectiveStats
    own_minus_customers: float | None
    predicted_minus_customers: float | None


@dataclass(frozen=True)
class Mirror:
    respondents: int
    min_n: int
    rows: tuple[MirrorRow, ...]

    @property
    def shown(self) -> bool:
        return self.respondents >= self.min_n

    @property
    def needed(self) -> int:
        """How many more customers must answer before the customers' side appears."""
        return max(0, self.min_n - self.respondents)

    @property
    def has_own_rating(self) -> bool:
        return any(row.own is not None for row in self.rows)


def build_mirror(
    *,
    dimensions: Sequence[DimensionSpec],
    customer_scores: Mapping[str, ScoreCounts],
    own_scores: Mapping[str, ScoreCounts],
    predicted_scores: Mapping[str, ScoreCounts],
    respondents: int,
    min_n: int = 5,
) -> Mirror:
    """The mirror of one staff member in one survey.

    ``customer_scores[dimension]``: histogram of the scores of the customers they served;
    ``own_scores`` / ``predicted_scores``: the staff member's own histogram per dimension (one
    respondent); ``respondents``: customers who answered any item about this staff member.
    """
    check_min_n(min_n)
    rows = []
    for spec in dimensions:
        own = summarise(own_scores.get(spec.key))
        predicted = summarise(predicted_scores.get(spec.key))
        customers = describe(customer_scores.get(spec.key), min_n=min_n)
        if respondents < min_n and not customers.suppressed:
            customers = _hide(customers)  # too few customers overall: no dimension is shown
        own_mean = float(own.mean) if own.mean is not None else None
        predicted_mean = float(predicted.mean) if predicted.mean is not None else None
        visible = not customers.suppressed
        rows.append(MirrorRow(
            key=spec.key,
            name=spec.name,
            own=own_mean,
            predicted=predicted_mean,
            customers=customers,
            own_minus_customers=calibration(own_scores.get(spec.key), customer_scores.get(spec.key))
            if visible else None,
            predicted_minus_customers=calibration(predicted_scores.get(spec.key), customer_scores.get(spec.key))
            if visible else None,
        ))
    return Mirror(respondents=respondents, min_n=min_n, rows=tuple(rows))


def _hide(stats: PerspectiveStats) -> PerspectiveStats:
    return PerspectiveStats(n=stats.n, mean=None, sd=None, ci=None, top_box=None, suppressed=True)
