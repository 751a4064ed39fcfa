"""Key drivers: which dimensions of care move customers' outcome, and how well each performs.

For each dimension D of a survey (and team), over the customers who answered D and have the
outcome:

* ``importance`` = Pearson correlation between a customer's score on D (mean of their answered
  items in D) and the outcome, with its 95 % interval (Fisher z) and ``n``.
* Outcomes: ``nps`` (likelihood to recommend, 0-10) and ``care`` (the customer's mean over all
  answered mirrored items *outside* D: a dimension is never correlated with itself, which would
  make every dimension look important).
* ``weight`` (``nps`` only) = standardised regression weight (beta) of D when the outcome is
  regressed on every dimension at once, over the customers who answered every dimension and
  the outcome.  Shown only when the dimensions can be told apart: at least 10 such customers
  per dimension, and no variance inflation factor above ``MAX_VIF`` (otherwise dimensions move
  together so closely that their separate weights are noise; correlations are still shown).
* ``relative_weight`` (``nps`` only) = Johnson's relative weight of D over the same customers: its
  share of the R² of that regression (the weights sum to R²), meaningful however closely the
  dimensions move together (perception.insights.relative_weights), with a 95 % bootstrap interval.
* ``performance`` = the customers' mean on D from the gap report (``None`` when suppressed).

Small samples: importance is hidden (``None``, with a reason) for a dimension with fewer than
``max(min_n, DRIVER_MIN_N)`` customers (DRIVER_MIN_N = 30: below that, a correlation's 95 %
interval is wider than +/- 0.35 even for a strong relation, too wide to rank dimensions).

**Which driver stands out** (``stands_out``), so that no page names a driver the data do not
support:

* With relative weights: D stands out when the 95 % bootstrap interval of (D's weight − the mean
  weight) lies above zero (``WeightInterval.stands_out``).
* The recommendation outcome without them (too few complete answers): none stands out.
* The ``care`` outcome (no regression: each dimension has its own rest score): when the lower end
  of D's correlation interval, Bonferroni-widened to 1 − 0.05/k, is above the mean correlation of
  the other dimensions shown.

Quadrants, split at the mean performance of the dimensions shown: ``fix_first`` (stands out,
scores lower), ``strength`` (stands out, scores higher), ``watch`` (no clear lead, scores lower),
``maintain`` (no clear lead, scores higher). The matrix places a dimension at its relative weight
when the report has them (``DriverReport.by_weights``), else at its correlation, with a dashed line
at the mean of either.

When nothing stands out, ``more_answers`` estimates how many more answers would let the leading
dimension stand out if its lead stayed as it is and its interval narrowed as 1/√n: n·(h/d)² − n
for a lead d over the mean and an interval reaching h below it (Fisher: 3 + (z_k/(z − z̄))² − n),
rounded up to tens; while relative weights lack complete answers, the missing ones.

Input is aggregated: ``Moments`` (sums of x, y, x^2, y^2, xy per dimension) and
``CrossProducts`` (sums of products per pair of variables over complete cases), so the
database never has to send one row per customer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

from .correlation import CrossProducts, Moments, correlation_interval, pearson
from .inputs import DimensionSpec
from .weights import (
    MAX_VIF,
    OUTCOME,
    WEIGHTS_PER_DIMENSION,
    RelativeImportance,
    Weights,
    johnson_weights,
    standardised_weights,
)

__all__ = [
    "DRIVER_MIN_N",
    "MAX_VIF",
    "OUTCOME",
    "OUTCOMES",
    "QUADRANTS",
    "CrossProducts",
    "DriverCell",
    "DriverReport",
    "Moments",
    "RelativeImportance",
    "WEIGHTS_PER_DIMENSION",
    "Weights",
    "build_driver_report",
    "correlation_interval",
    "johnson_weights",
    "pearson",
    "standardised_weights",
]

DRIVER_MIN_N = 30
OUTCOMES = {"nps": "likelihood to recommend", "care": "overall care score"}
# Fix first and Keep it up hold only dimensions whose importance stands out (see the docstring).
QUADRANTS = {
    "fix_first": "Fix first",
    "strength": "Keep it up",
    "watch": "Watch",
    "maintain": "Maintain",
}


@dataclass(frozen=True)
class DriverCell:
    """One dimension: importance (r) with interval and n, weights, performance, whether its
    importance stands out, and its quadrant."""

    key: str
    name: str
    n: int
    importance: float | None
    interval: tuple[float, float] | None
    weight: float | None
    performance: float | None
    quadrant: str | None
    note: str | None = None
    relative_weight: float | None = None
    weight_interval: tuple[float, float] | None = None
    stands_out: bool = False

    def placed_at(self, by_weights: bool) -> float | None:
        """The importance the matrix places it at: the relative weight when the report has them."""
        return self.relative_weight if by_weights else self.importance


@dataclass(frozen=True)
class DriverReport:
    outcome: str
    outcome_label: str
    required_n: int
    cells: tuple[DriverCell, ...]
    weights: Weights
    split_importance: float | None
    split_performance: float | None
    hidden_reason: str | None
    relative: RelativeImportance = field(default_factory=RelativeImportance)
    more_answers: int | None = None  # the estimate of how many more answers would let a driver stand out

    @property
    def by_weights(self) -> bool:
        """Whether importance is read from the relative weights (else from the correlations)."""
        return bool(self.relative.weights)

    @property
    def respondents(self) -> int:
        return max((cell.n for cell in self.cells), default=0)

    @property
    def shown(self) -> tuple[DriverCell, ...]:
        return tuple(cell for cell in self.cells if cell.importance is not None)

    def in_quadrant(self, quadrant: str) -> tuple[DriverCell, ...]:
        """Cells of a quadrant, the most important (then lowest scoring) first."""
        cells = [cell for cell in self.cells if cell.quadrant == quadrant]
        return tuple(sorted(cells, key=lambda cell: (-(cell.placed_at(self.by_weights) or 0.0),
                                                     cell.performance or 0.0)))

    @property
    def fix_first(self) -> tuple[DriverCell, ...]:
        return self.in_quadrant("fix_first")

    def sentence(self) -> str:
        """The finding in plain words."""
        if self.hidden_reason:
            return self.hidden_reason
        if self.split_importance is None:
            return "Too few dimensions have enough answers to compare them."
        first, strengths = self.fix_first, self.in_quadrant("strength")
        if first:
            names = _listed([cell.name for cell in first])
            one = len(first) == 1
            return (f"Fix first: {names}. {'It moves' if one else 'They move'} customers' {self.outcome_label} "
                    f"clearly more than the other dimensions, and customers rate {'it' if one else 'them'} lower "
                    f"than most.")
        if strengths:
            return (f"Keep it up: {_listed([cell.name for cell in strengths])} clearly "
                    f"{'moves' if len(strengths) == 1 else 'move'} customers' {self.outcome_label} more than the "
                    f"other dimensions, and customers rate {'it' if len(strengths) == 1 else 'them'} well.")
        sentence = (f"No driver stands out yet: no dimension moves customers' {self.outcome_label} clearly more "
                    f"than the others, so none is named to fix first.")
        if self.more_answers:
            who = ("customers who answer every dimension and the recommendation question" if self.outcome == "nps"
                   else "customers' answers")
            so_far = self.relative.n if self.by_weights else self.respondents
            if self.more_answers > 10 * max(so_far, 1):
                sentence += (f" The dimensions seem to matter about equally: telling them apart would take about "
                             f"{self.more_answers} more {who} (an estimate).")
            else:
                sentence += (f" About {self.more_answers} more {who} would help tell the dimensions apart, if the "
                             f"differences seen so far hold (an estimate).")
        return sentence


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _round_up(value: float) -> int:
    return max(10, int(math.ceil(value / 10.0)) * 10)


def _fisher_rule(rows: list) -> tuple[dict[str, bool], int | None]:
    """Without relative weights (the ``care`` outcome): a dimension stands out when the lower end of
    its correlation's interval (Fisher z) is above the mean correlation of the other dimensions shown.
    The interval is Bonferroni-widened to 1 − 0.05/k for k dimensions (each is tested, and the
    others' mean is taken as known). Returns the flags and, when none stands out, the estimated
    number of further answers for the leader to (z − z_others > z_k / √(n − 3) gives
    n = 3 + (z_k / (z − z_others))²)."""
    shown = [(spec.key, n, r) for spec, n, r, _ in rows if r is not None]
    flags: dict[str, bool] = {}
    if len(shown) < 2:
        return flags, None
    confidence = 1 - 0.05 / len(shown)
    critical = NormalDist().inv_cdf(0.5 + confidence / 2)
    leads = []
    for key, n, r in shown:
        others = sum(other for k, _, other in shown if k != key) / (len(shown) - 1)
        interval = correlation_interval(r, n, confidence)
        flags[key] = interval is not None and interval[0] > others
        if abs(r) < 1.0 and abs(others) < 1.0 and r > others:
            leads.append((math.atanh(r) - math.atanh(others), n))
    if any(flags.values()) or not leads:
        return flags, None
    lead, n = max(leads)
    return flags, _round_up(max(0.0, 3 + (critical / lead) ** 2 - n))


def _weights_estimate(relative: RelativeImportance) -> int | None:
    """When no relative weight stands out: for the dimension closest to it (the largest weight above
    the mean), the answers at which its interval would clear the mean, if its lead stays and the
    interval narrows as 1/√n: n · (half-width / lead)²."""
    best = None
    mean = sum(relative.weights.values()) / len(relative.weights)
    for key, weight in relative.weights.items():
        lead = weight - mean
        half = lead - relative.intervals[key].above_mean[0]
        if lead > 0 and half > 0 and (best is None or half / lead < best):
            best = half / lead
    if best is None:
        return None
    return _round_up(relative.n * best * best - relative.n)


def _quadrant(stands_out: bool, performance: float, split_p: float) -> str:
    if stands_out:
        return "fix_first" if performance < split_p else "strength"
    return "watch" if performance < split_p else "maintain"


def build_driver_report(
    *,
    dimensions: Sequence[DimensionSpec],
    outcome: str,
    moments: Mapping[str, Moments],
    performance: Mapping[str, float | None],
    cross: CrossProducts | None = None,
    min_n: int = 5,
    threshold: int = DRIVER_MIN_N,
) -> DriverReport:
    """The key-driver report of one population (see the module docstring).

    ``moments[dimension key]``: (dimension score, outcome) pairs; ``performance[key]``: the
    customers' mean (None when suppressed); ``cross``: complete cases for the weights (x =
    dimension keys, ``"outcome"``), used for the ``nps`` outcome only.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    required = max(min_n, threshold)
    label = OUTCOMES[outcome]
    keys = [spec.key for spec in dimensions]
    weights = Weights(note="Weights are given for likelihood to recommend only: the overall care score is "
                           "made of the dimensions themselves.")
    relative = RelativeImportance(note=weights.note)
    if outcome == "nps":
        if cross is None:
            weights = Weights(note="No complete answers to weigh yet.")
            relative = RelativeImportance(note=weights.note)
        else:
            weights, relative = standardised_weights(cross, keys), johnson_weights(cross, keys, minimum=required)
    rows = []
    for spec in dimensions:
        m = moments.get(spec.key, Moments())
        importance, note = None, None
        if m.n < required:
            note = f"fewer than {required} customers ({m.n})"
        else:
            importance = pearson(m)
            if importance is None:
                note = "every customer gave the same score"
        rows.append((spec, m.n, importance, note))
    by_weights = bool(relative.weights)
    if by_weights:
        shown = {spec.key for spec, _, importance, _ in rows if importance is not None}
        flags = {key: key in shown and interval.stands_out for key, interval in relative.intervals.items()}
        more = None if any(flags.values()) else _weights_estimate(relative)
    elif outcome == "nps":
        # The recommendation outcome names a driver only from the relative weights: until they can be
        # computed nothing stands out, and at least the missing complete answers are needed.
        flags = {}
        more = _round_up(relative.needed - relative.n) if relative.needed > relative.n else None
    else:
        flags, more = _fisher_rule(rows)
    placed_at = {spec.key: (relative.weights.get(spec.key) if by_weights else importance)
                 for spec, _, importance, _ in rows if importance is not None}
    placed = [(value, performance.get(key)) for key, value in placed_at.items()
              if value is not None and performance.get(key) is not None]
    split_i = split_p = None
    if len(placed) >= 2:
        split_i = sum(i for i, _ in placed) / len(placed)
        split_p = sum(p for _, p in placed) / len(placed)  # type: ignore[misc]
    cells = []
    for spec, n, importance, note in rows:
        perf = performance.get(spec.key)
        quadrant = None
        if importance is not None and perf is not None and split_p is not None:
            quadrant = _quadrant(flags.get(spec.key, False), perf, split_p)
        interval = relative.intervals.get(spec.key)
        cells.append(DriverCell(
            key=spec.key, name=spec.name, n=n, importance=importance,
            interval=correlation_interval(importance, n), weight=weights.values.get(spec.key) if importance is not None
            else None, performance=perf, quadrant=quadrant, note=note,
            relative_weight=relative.weights.get(spec.key) if importance is not None else None,
            weight_interval=interval.weight if interval is not None and importance is not None else None,
            stands_out=flags.get(spec.key, False),
        ))
    hidden = None
    if not any(cell.importance is not None for cell in cells):
        most = max((cell.n for cell in cells), default=0)
        hidden = (f"Too few customers to say which dimension drives their {label}: key drivers need at least "
                  f"{required} customers who answered a dimension and gave the outcome ({most} so far).")
        more = None
    return DriverReport(outcome=outcome, outcome_label=label, required_n=required, cells=tuple(cells),
                        weights=weights, split_importance=split_i, split_performance=split_p, hidden_reason=hidden,
                        relative=relative, more_answers=more)
