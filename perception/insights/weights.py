"""Weights of the dimensions in explaining the outcome, over the customers who answered every
dimension and the outcome (complete cases, given as ``CrossProducts``):

* ``standardised_weights``: beta weights of the multiple regression, shown only when the
  dimensions can be told apart (at least ``WEIGHTS_PER_DIMENSION`` complete cases per dimension,
  no variance inflation factor above ``MAX_VIF``).
* ``johnson_weights``: Johnson's relative weights (each dimension's share of R², see
  ``relative_weights``) with the bootstrap intervals that decide which dimension stands out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .correlation import CrossProducts, inverse
from .relative_weights import WeightInterval, relative_weights, weight_intervals

__all__ = ["MAX_VIF", "OUTCOME", "WEIGHTS_PER_DIMENSION", "RelativeImportance", "Weights", "johnson_weights",
           "standardised_weights"]

MAX_VIF = 10.0
WEIGHTS_PER_DIMENSION = 10
OUTCOME = "outcome"  # the name of the outcome variable in CrossProducts


@dataclass(frozen=True)
class Weights:
    """Standardised regression weights, or why there are none (``values`` empty, ``note`` set)."""

    values: Mapping[str, float] = field(default_factory=dict)
    r_squared: float | None = None
    max_vif: float | None = None
    n: int = 0
    note: str | None = None


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
    inverted = inverse(r_xx)  # type: ignore[arg-type]
    vifs = [inverted[i][i] for i in range(k)] if inverted is not None else []
    if inverted is None or max(vifs) > MAX_VIF:
        return Weights(n=cross.n, max_vif=max(vifs) if vifs else None,
                       note="The dimensions move together too closely to separate their weights; "
                            "read the correlations instead.")
    betas = [sum(inverted[i][j] * r_xy[j] for j in range(k)) for i in range(k)]  # type: ignore[operator]
    r_squared = sum(b * r for b, r in zip(betas, r_xy, strict=True))  # type: ignore[operator]
    return Weights(values=dict(zip(predictors, betas, strict=True)), r_squared=r_squared, max_vif=max(vifs),
                   n=cross.n)




@dataclass(frozen=True)
class RelativeImportance:
    """Johnson's relative weights per dimension with their bootstrap intervals, or why there are none."""

    weights: Mapping[str, float] = field(default_factory=dict)
    intervals: Mapping[str, WeightInterval] = field(default_factory=dict)
    r_squared: float | None = None
    n: int = 0
    needed: int = 0
    note: str | None = None


def johnson_weights(cross: CrossProducts, predictors: Sequence[str], outcome: str = OUTCOME,
                    minimum: int = 0) -> RelativeImportance:
    """Relative weights of ``predictors`` for ``outcome`` over the complete cases, with the
    intervals that decide which stand out (perception.insights.relative_weights). They need the
    same number of complete cases as the beta weights (and at least ``minimum``: the drivers'
    threshold), but no VIF limit: splitting R² among correlated dimensions is what they are for."""
    k = len(predictors)
    needed = max(WEIGHTS_PER_DIMENSION * k, k + 2, minimum)
    if k < 2 or cross.n < needed:
        return RelativeImportance(n=cross.n, needed=needed, note=(
            f"Relative weights need at least {needed} customers who answered every dimension and the "
            f"outcome ({cross.n} so far)."))
    names = [*predictors, outcome]
    matrix = [[1.0 if a == b else cross.correlation(a, b) for b in names] for a in names]
    if any(value is None for row in matrix for value in row):
        return RelativeImportance(n=cross.n, needed=needed,
                                  note="Relative weights cannot be computed: a dimension or the outcome does not vary.")
    result = relative_weights([row[:k] for row in matrix[:k]], [row[k] for row in matrix[:k]])  # type: ignore[misc]
    intervals = weight_intervals(matrix, cross.n) if result is not None else None  # type: ignore[arg-type]
    if result is None or intervals is None:
        return RelativeImportance(n=cross.n, needed=needed, note=(
            "Relative weights cannot be computed: some dimensions are exact combinations of others."))
    return RelativeImportance(weights=dict(zip(predictors, result.weights, strict=True)),
                              intervals=dict(zip(predictors, intervals, strict=True)),
                              r_squared=result.r_squared, n=cross.n, needed=needed)
