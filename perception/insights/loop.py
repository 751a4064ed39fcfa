"""Closing the loop: the alert rule, follow-up figures, a customer's care-score trend and recovery.
Pure Python, like the rest of ``perception.insights``.

* ``evaluate_alert``: which parts of one customer response are at or below the alert rule.
* ``followup_figures``: share of follow-ups contacted within their due time, median time to
  first contact, counts per state and overdue.
* ``care_score`` / ``care_trend``: one response's care score (mean of its answered items,
  1-5, and the care index 0-100 of DESIGN section 2) and the trend over a customer's responses.
* ``recovery_figures``: score before versus after the re-survey, per group.

Comparisons with thresholds are exact (``Fraction``), so a mean of exactly 2.5 is "at" a 2.5
rule whatever binary rounding would say.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import lru_cache

__all__ = [
    "AlertReason",
    "AlertRule",
    "CareTrend",
    "FollowupFigures",
    "FollowupTimes",
    "RecoveryFigures",
    "care_score",
    "care_trend",
    "decode_reasons",
    "encode_reasons",
    "evaluate_alert",
    "followup_figures",
    "recovery_figures",
]

TREND_STEP = 5.0  # care-index points between first and last response that count as a change


@lru_cache(maxsize=256, typed=True)  # a few rule bounds; every customer submit compares against them
def _exact(value: float | int) -> Fraction:
    """The decimal a person wrote (2.3 is 23/10, not the nearest binary fraction)."""
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _mean(scores: Sequence[int]) -> Fraction:
    return Fraction(sum(scores), len(scores))


# --------------------------------------------------------------------------- the alert rule

@dataclass(frozen=True)
class AlertRule:
    """A response alerts when its overall mean <= overall_max, or any dimension's mean
    <= dimension_max, or its recommendation (0-10) <= nps_max. A negative bound switches
    that part off."""

    overall_max: float = 2.5
    dimension_max: float = 2.0
    nps_max: int = 6


@dataclass(frozen=True)
class AlertReason:
    kind: str  # "overall", "dimension" or "nps"
    value: float
    key: str | None = None  # the dimension key for kind "dimension"


def evaluate_alert(
    rule: AlertRule, scores_by_dimension: Mapping[str, Sequence[int]], nps: int | None = None
) -> tuple[AlertReason, ...]:
    """The reasons one response trips the rule (empty: no follow-up).

    ``scores_by_dimension`` maps a dimension key to the response's answered scores (1-5) of
    that dimension's items; unanswered items are simply absent."""
    reasons = []
    answered = [score for scores in scores_by_dimension.values() for score in scores]
    if answered and _mean(answered) <= _exact(rule.overall_max):
        reasons.append(AlertReason("overall", float(_mean(answered))))
    for key in sorted(scores_by_dimension, key=lambda k: (float(_mean_or_inf(scores_by_dimension[k])), k)):
        scores = scores_by_dimension[key]
        if scores and _mean(scores) <= _exact(rule.dimension_max):
            reasons.append(AlertReason("dimension", float(_mean(scores)), key))
    if nps is not None and nps <= rule.nps_max:
        reasons.append(AlertReason("nps", float(nps)))
    return tuple(reasons)


def _mean_or_inf(scores: Sequence[int]) -> Fraction | float:
    return _mean(scores) if scores else float("inf")


def encode_reasons(reasons: Iterable[AlertReason]) -> str:
    """A compact text for the database: ``overall=2.25;dimension:respect=1.5;nps=3``."""
    parts = []
    for reason in reasons:
        name = f"dimension:{reason.key}" if reason.kind == "dimension" else reason.kind
        parts.append(f"{name}={reason.value:g}")
    return ";".join(parts)


def decode_reasons(text: str) -> tuple[AlertReason, ...]:
    reasons = []
    for part in (text or "").split(";"):
        name, _, value = part.partition("=")
        if not name or not value:
            continue
        kind, _, key = name.partition(":")
        reasons.append(AlertReason(kind, float(value), key or None))
    return tuple(reasons)


# --------------------------------------------------------------------------- follow-up figures

@dataclass(frozen=True)
class FollowupTimes:
    opened_at: datetime  # when its clock started
    due_at: datetime
    first_contact_at: datetime | None
    state: str  # "open", "contacted" or "resolved"


@dataclass(frozen=True)
class FollowupFigures:
    total: int
    open: int
    contacted: int
    resolved: int
    overdue: int
    # Follow-ups whose timeliness is settled: contacted, resolved, or past their due time.
    settled: int
    contacted_in_time: int
    share_in_time: float | None  # contacted_in_time / settled; None when nothing is settled
    median_hours_to_contact: float | None  # over the follow-ups with a first contact


def is_overdue(times: FollowupTimes, now: datetime) -> bool:
    """Not contacted, not resolved, and past its due time."""
    return times.first_contact_at is None and times.state != "resolved" and times.due_at <= now


def followup_figures(records: Iterable[FollowupTimes], now: datetime) -> FollowupFigures:
    """Figures of a set of follow-ups (e.g. one team's) at the moment ``now``.

    A follow-up counts as contacted in time when its first contact came no later than its due
    time. The share is taken over the settled follow-ups only: one still open and not yet due
    may still be contacted in time, so it counts neither way."""
    records = list(records)
    states = {"open": 0, "contacted": 0, "resolved": 0}
    settled = in_time = overdue = 0
    hours = []
    for record in records:
        states[record.state] = states.get(record.state, 0) + 1
        if is_overdue(record, now):
            overdue += 1
        contact = record.first_contact_at
        if contact is not None:
            # A contact before the clock started (the same day, for a customer who did not allow
            # contact: perception.followups.queries.clock_start) took no time on that clock.
            hours.append(max(0.0, (contact - record.opened_at).total_seconds() / 3600))
        if contact is not None or record.state == "resolved" or record.due_at <= now:
            settled += 1
            if contact is not None and contact <= record.due_at:
                in_time += 1
    return FollowupFigures(
        total=len(records), open=states["open"], contacted=states["contacted"], resolved=states["resolved"],
        overdue=overdue, settled=settled, contacted_in_time=in_time,
        share_in_time=in_time / settled if settled else None,
        median_hours_to_contact=float(statistics.median(hours)) if hours else None,
    )


# --------------------------------------------------------------------------- care score and trend

def care_score(scores: Sequence[int]) -> tuple[float, float] | None:
    """(mean 1-5, care index 0-100) of one response's answered items; None when none answered."""
    if not scores:
        return None
    mean = _mean(scores)
    return float(mean), float((mean - 1) / 4 * 100)


@dataclass(frozen=True)
class CareTrend:
    points: tuple[tuple[datetime, float, float], ...]  # (when, mean 1-5, care index 0-100), oldest first
    change: float | None  # care index of the last point minus the first; None with fewer than 2
    direction: str | None  # "improving", "declining", "steady"; None with fewer than 2 points


def care_trend(responses: Iterable[tuple[datetime, Sequence[int]]], step: float = TREND_STEP) -> CareTrend:
    """The care score of each response (those with at least one answered item), oldest first,
    and whether it moved by at least ``step`` index points from the first to the last."""
    points = []
    for when, scores in sorted(responses, key=lambda pair: pair[0]):
        score = care_score(scores)
        if score is not None:
            points.append((when, *score))
    if len(points) < 2:
        return CareTrend(tuple(points), None, None)
    change = points[-1][2] - points[0][2]
    direction = "improving" if change >= step else "declining" if change <= -step else "steady"
    return CareTrend(tuple(points), change, direction)


# --------------------------------------------------------------------------- recovery

@dataclass(frozen=True)
class RecoveryFigures:
    key: str
    n: int
    before: float | None  # mean score before (the original response), 1-5
    after: float | None  # mean score in the re-survey, 1-5
    change: float | None  # after - before
    improved: float | None  # share of customers whose score went up


def recovery_figures(pairs: Iterable[tuple[str, float, int]]) -> list[RecoveryFigures]:
    """Per group key (a dimension or a team), from (key, score before, score after) pairs,
    ordered by key."""
    groups: dict[str, list[tuple[Fraction, int]]] = {}
    for key, before, after in pairs:
        groups.setdefault(key, []).append((_exact(before), after))
    figures = []
    for key in sorted(groups):
        rows = groups[key]
        before = sum((row[0] for row in rows), Fraction(0)) / len(rows)
        after = Fraction(sum(row[1] for row in rows), len(rows))
        figures.append(RecoveryFigures(
            key=key, n=len(rows), before=float(before), after=float(after), change=float(after - before),
            improved=sum(1 for row in rows if row[1] > row[0]) / len(rows),
        ))
    return figures
