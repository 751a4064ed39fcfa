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
* ``performance`` = the customers' mean on D from the gap report (``None`` when suppressed).

Small samples: importance is hidden (``None``, with a reason) for a dimension with fewer than
``max(min_n, DRIVER_MIN_N)`` customers (DRIVER_MIN_N = 30: below that, a correlation's 95 %
interval is wider than +/- 0.35 even for a strong relation, too wide to rank dimensions).

Quadrants (importance x performance), split at the mean importance and the mean performance of
the dimensions shown: ``fix_first`` (more important, lower scoring), ``strength`` (more
important, higher scoring), ``watch`` (less important, lower scoring), ``maintain`` (less
important, higher scoring).

Input is aggregated: ``Moments`` (sums of x, y, x^2, y^2, xy per dimension) and
``CrossProducts`` (sums of products per pair of variables over complete cases), so the
database never has to send one row per customer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

from .inputs import DimensionSpec

__all__ = [
    "DRIVER_MIN_N",
    "MAX_VIF",
    "OUTCOMES",
    "QUADRANTS",
    "CrossProducts",
    "DriverCell",
    "DriverReport",
    "Moments",
    "Weights",
    "build_driver_report",
    "correlation_interval",
    "pearson",
    "standardised_weights",
]

DRIVER_MIN_N = 30
MAX_VIF = 10.0
WEIGHTS_PER_DIMENSION = 10
OUTCOMES = {"nps": "likelihood to recommend", "care": "overall care score"}
QUADRANTS = {
    "fix_first": "Fix first",
    "strength": "Keep it up",
    "watch": "Lower priority",
    "maintain": "Do not overinvest",
}
OUTCOME = "outcome"  # the name of the outcome variable in CrossProducts
_RELATIVE_ZERO = 1e-12


@dataclass(frozen=True)
class Moments:
    """Sufficient statistics of paired observations (x, y): n and the sums of x, y, x², y², xy."""

    n: int = 0
    sum_x: float = 0.0
    sum_y: float = 0.0
    sum_xx: float = 0.0
    sum_yy: float = 0.0
    sum_xy: float = 0.0

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[float, float]]) -> Moments:
        n, sx, sy, sxx, syy, sxy = 0, 0.0, 0.0, 0.0, 0.0, 0.0
        for x, y in pairs:
            n += 1
            sx, sy, sxx, syy, sxy = sx + x, sy + y, sxx + x * x, syy + y * y, sxy + x * y
        return cls(n, sx, sy, sxx, syy, sxy)


def _centred(n: int, sum_a: float, sum_b: float, sum_ab: float) -> float:
    return sum_ab - sum_a * sum_b / n


def _no_spread(centred: float, raw: float) -> bool:
    """A centred sum of squares that is zero up to rounding: everyone gave the same score."""
    return centred <= _RELATIVE_ZERO * max(1.0, abs(raw))


def pearson(moments: Moments) -> float | None:
    """Pearson's r, or None when n < 3 or either variable does not vary."""
    m = moments
    if m.n < 3:
        return None
    sxx = _centred(m.n, m.sum_x, m.sum_x, m.sum_xx)
    syy = _centred(m.n, m.sum_y, m.sum_y, m.sum_yy)
    if _no_spread(sxx, m.sum_xx) or _no_spread(syy, m.sum_yy):
        return None
    r = _centred(m.n, m.sum_x, m.sum_y, m.sum_xy) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def correlation_interval(r: float | None, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The interval of a correlation by Fisher's z transform; None when n < 4."""
    if r is None or n < 4:
        return None
    if abs(r) >= 1.0:
        return (r, r)
    z = math.atanh(r)
    half = NormalDist().inv_cdf(0.5 + confidence / 2) / math.sqrt(n - 3)
    return (math.tanh(z - half), math.tanh(z + half))


@dataclass(frozen=True)
class CrossProducts:
    """Sums over complete cases: ``n``, Σv per variable and Σ a·b per pair (either order)."""

    n: int
    sums: Mapping[str, float]
    products: Mapping[tuple[str, str], float]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, float]], variables: Sequence[str]) -> CrossProducts:
        n, sums, products = 0, dict.fromkeys(variables, 0.0), {}
        for row in rows:
            n += 1
            for a in variables:
                sums[a] += row[a]
                for b in variables:
                    products[(a, b)] = products.get((a, b), 0.0) + row[a] * row[b]
        return cls(n, sums, products)

    def product(self, a: str, b: str) -> float:
        return self.products[(a, b)] if (a, b) in self.products else self.products[(b, a)]

    def correlation(self, a: str, b: str) -> float | None:
        return pearson(Moments(self.n, self.sums[a], self.sums[b], self.product(a, a), self.product(b, b),
                               self.product(a, b)))


@dataclass(frozen=True)
class Weights:
    """Standardised regression weights, or why there are none (``values`` empty, ``note`` set)."""

    values: Mapping[str, float] = field(default_factory=dict)
    r_squared: float | None = None
    max_vif: float | None = None
    n: int = 0
    note: str | None = None


def _inverse(matrix: list[list[float]]) -> list[list[float]] | None:
    """Gauss-Jordan inverse with partial pivoting; None when (numerically) singular."""
    size = len(matrix)
    work = [row[:] + [1.0 if i == j else 0.0 for j in range(size)] for i, row in enumerate(matrix)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda row: abs(work[row][column]))
        if abs(work[pivot][column]) < 1e-10:
            return None
        work[column], work[pivot] = work[pivot], work[column]
        scale = work[column][column]
        work[column] = [value / scale for value in work[column]]
        for row in range(size):
            if row != column and work[row][column] != 0.0:
                factor = work[row][column]
                work[row] = [a - factor * b for a, b in zip(work[row], work[column], strict=True)]
    return [row[size:] for row in work]


def standardised_weights(cross: CrossProducts, predictors: Sequence[str], outcome: str = OUTCOME) -> Weights:
    """Beta weights of ``outcome`` regressed on ``predictors`` (correlation-matrix solution).

    Empty with a note when there are too few complete cases (fewer than 10 per predictor, or
    fewer than ``len(predictors) + 2``), a variable does not vary, or the predictors are too
    collinear (a variance inflation factor above MAX_VIF, or a singular matrix).
    """
    k = len(predictors)
    needed = max(WEIGHTS_PER_DIMENSION * k, k + 2)
    if k == 0 or cross.n < needed:
        return Weights(n=cross.n, note=f"Weights need at least {needed} customers who answered every dimension "
                                       f"and the outcome ({cross.n} so far).")
    r_xy = [cross.correlation(name, outcome) for name in predictors]
    r_xx = [[1.0 if a == b else cross.correlation(a, b) for b in predictors] for a in predictors]
    if any(value is None for value in r_xy) or any(value is None for row in r_xx for value in row):
        return Weights(n=cross.n, note="Weights cannot be computed: a dimension or the outcome does not vary.")
    inverse = _inverse(r_xx)  # type: ignore[arg-type]
    vifs = [inverse[i][i] for i in range(k)] if inverse is not None else []
    if inverse is None or max(vifs) > MAX_VIF:
        return Weights(n=cross.n, max_vif=max(vifs) if vifs else None,
                       note="The dimensions move together too closely to separate their weights; "
                            "read the correlations instead.")
    betas = [sum(inverse[i][j] * r_xy[j] for j in range(k)) for i in range(k)]  # type: ignore[operator]
    r_squared = sum(b * r for b, r in zip(betas, r_xy, strict=True))  # type: ignore[operator]
    return Weights(values=dict(zip(predictors, betas, strict=True)), r_squared=r_squared, max_vif=max(vifs),
                   n=cross.n)


@dataclass(frozen=True)
class DriverCell:
    """One dimension: importance (r) with interval and n, weight, performance and quadrant."""

    key: str
    name: str
    n: int
    importance: float | None
    interval: tuple[float, float] | None
    weight: float | None
    performance: float | None
    quadrant: str | None
    note: str | None = None


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

    @property
    def respondents(self) -> int:
        return max((cell.n for cell in self.cells), default=0)

    @property
    def shown(self) -> tuple[DriverCell, ...]:
        return tuple(cell for cell in self.cells if cell.importance is not None)

    def in_quadrant(self, quadrant: str) -> tuple[DriverCell, ...]:
        """Cells of a quadrant, the most important (then lowest scoring) first."""
        cells = [cell for cell in self.cells if cell.quadrant == quadrant]
        return tuple(sorted(cells, key=lambda cell: (-(cell.importance or 0.0), cell.performance or 0.0)))

    @property
    def fix_first(self) -> tuple[DriverCell, ...]:
        return self.in_quadrant("fix_first")

    def sentence(self) -> str:
        """The finding in plain words."""
        if self.hidden_reason:
            return self.hidden_reason
        if self.split_importance is None:
            return "Too few dimensions have enough answers to compare them."
        first = self.fix_first
        if not first:
            return ("No dimension is both more important and lower scoring than average right now: "
                    "keep up the dimensions that matter most.")
        names = [cell.name for cell in first]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return (f"Fix first: {listed}. {'It moves' if len(names) == 1 else 'They move'} customers' "
                f"{self.outcome_label} more than most dimensions, and customers rate "
                f"{'it' if len(names) == 1 else 'them'} lower than most.")


def _quadrant(importance: float, performance: float, split_i: float, split_p: float) -> str:
    if importance >= split_i:
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
    weights = Weights(note="Weights are given for likelihood to recommend only: the overall care score is "
                           "made of the dimensions themselves.")
    if outcome == "nps":
        weights = Weights(note="No complete answers to weigh yet.") if cross is None else standardised_weights(
            cross, [spec.key for spec in dimensions])
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
    placed = [(spec.key, i, performance.get(spec.key)) for spec, _, i, _ in rows
              if i is not None and performance.get(spec.key) is not None]
    split_i = split_p = None
    if len(placed) >= 2:
        split_i = sum(i for _, i, _ in placed) / len(placed)
        split_p = sum(p for _, _, p in placed) / len(placed)  # type: ignore[misc]
    cells = []
    for spec, n, importance, note in rows:
        perf = performance.get(spec.key)
        quadrant = None
        if importance is not None and perf is not None and split_i is not None and split_p is not None:
            quadrant = _quadrant(importance, perf, split_i, split_p)
        cells.append(DriverCell(
            key=spec.key, name=spec.name, n=n, importance=importance,
            interval=correlation_interval(importance, n), weight=weights.values.get(spec.key) if importance is not None
            else None, performance=perf, quadrant=quadrant, note=note,
        ))
    hidden = None
    if not any(cell.importance is not None for cell in cells):
        most = max((cell.n for cell in cells), default=0)
        hidden = (f"Too few customers to say which dimension drives their {label}: key drivers need at least "
                  f"{required} customers who answered a dimension and gave the outcome ({most} so far).")
    return DriverReport(outcome=outcome, outcome_label=label, required_n=required, cells=tuple(cells),
                        weights=weights, split_importance=split_i, split_performance=split_p, hidden_reason=hidden)
