"""Johnson's relative weights (Johnson 2000, after Johnson 1966) and a test of which weight stands out.

Relative weights split a regression's R² among correlated predictors, where beta weights cannot
(a predictor that moves with another one can get a tiny or negative beta while it matters):

* ``R = V diag(λ) Vᵀ`` is the eigendecomposition of the predictors' correlation matrix, and
  ``Λ = R^½ = V diag(√λ) Vᵀ`` its symmetric square root. The predictors are ``X = Z Λ`` with
  ``Z`` orthogonal (``ZᵀZ/n = I``): the orthogonal variables closest to ``X`` in least squares.
* Regressing the outcome on ``Z`` gives ``β = Λ⁻¹ r_xy`` (``r_xy``: the predictors'
  correlations with the outcome), and since ``Λ_jk`` relates ``Z_k`` to ``X_j``, predictor j's
  weight is ``ε_j = Σ_k Λ_jk² β_k²``. The weights are ≥ 0 and sum to ``R² = Σ β_k²``.

The eigendecomposition is cyclic Jacobi rotation (``symmetric_eigen``; the package is standard
library only), checked against numpy's ``eigh`` in tests/insights/test_relative_weights.py.

**Which weight stands out** (``weight_intervals``). A weight is *significantly above the others*
when the 95 % interval of its difference from the mean weight lies above zero. The interval comes
from a parametric bootstrap: the correlation matrix of the predictors and the outcome is drawn
``DRAWS`` times from the Wishart distribution of a sample correlation matrix of ``n`` normal
observations with the observed correlations (Bartlett's decomposition, ``wishart_correlation``),
the weights are computed for each draw, and the 2.5 % and 97.5 % points of each weight and of each
difference (weight − mean weight) are read off. It needs only the correlations, which the database
sends as sums (one row per customer never leaves it). The draws come from a ``random.Random``
seeded with ``SEED``, so the same answers always give the same intervals.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import quantiles

__all__ = [
    "DRAWS",
    "SEED",
    "RelativeWeights",
    "WeightInterval",
    "cholesky",
    "relative_weights",
    "symmetric_eigen",
    "weight_intervals",
    "wishart_correlation",
]

DRAWS = 400
SEED = 1966
_SINGULAR = 1e-10
Matrix = list[list[float]]


def symmetric_eigen(matrix: Sequence[Sequence[float]], tolerance: float = 1e-13,
                    max_sweeps: int = 60) -> tuple[list[float], Matrix]:
    """(eigenvalues ascending, eigenvectors as the columns of a matrix) of a symmetric matrix, by
    cyclic Jacobi rotations; like numpy.linalg.eigh, up to the sign of each eigenvector."""
    size = len(matrix)
    a = [[float(value) for value in row] for row in matrix]
    v = [[1.0 if i == j else 0.0 for j in range(size)] for i in range(size)]
    scale = sum(a[i][i] ** 2 for i in range(size)) or 1.0
    for _sweep in range(max_sweeps):
        off = sum(a[p][q] ** 2 for p in range(size) for q in range(p + 1, size))
        if off <= tolerance * tolerance * scale:
            break
        for p in range(size - 1):
            for q in range(p + 1, size):
                apq = a[p][q]
                if apq == 0.0:
                    continue
                theta = (a[q][q] - a[p][p]) / (2.0 * apq)
                t = math.copysign(1.0, theta) / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for k in range(size):
                    if k != p and k != q:
                        akp, akq = a[k][p], a[k][q]
                        a[k][p] = a[p][k] = c * akp - s * akq
                        a[k][q] = a[q][k] = s * akp + c * akq
                a[p][p] -= t * apq
                a[q][q] += t * apq
                a[p][q] = a[q][p] = 0.0
                for row in v:
                    vkp, vkq = row[p], row[q]
                    row[p] = c * vkp - s * vkq
                    row[q] = s * vkp + c * vkq
    order = sorted(range(size), key=lambda i: a[i][i])
    return [a[i][i] for i in order], [[row[i] for i in order] for row in v]


@dataclass(frozen=True)
class RelativeWeights:
    """Each predictor's share of R² (in the predictors' order), and R² itself."""

    weights: tuple[float, ...]
    r_squared: float


def relative_weights(r_xx: Sequence[Sequence[float]], r_xy: Sequence[float]) -> RelativeWeights | None:
    """Johnson's relative weights from the predictors' correlation matrix and their correlations
    with the outcome; None when the predictors' matrix is singular (a predictor is an exact
    combination of others)."""
    size = len(r_xy)
    values, vectors = symmetric_eigen(r_xx)
    if not values or values[0] <= _SINGULAR:
        return None
    roots = [math.sqrt(value) for value in values]
    # β = Λ⁻¹ r_xy = V diag(1/√λ) Vᵀ r_xy; Λ = V diag(√λ) Vᵀ.
    projected = [sum(vectors[j][m] * r_xy[j] for j in range(size)) / roots[m] for m in range(size)]
    squared_betas = [sum(vectors[k][m] * projected[m] for m in range(size)) ** 2 for k in range(size)]
    scaled = [[vectors[i][m] * roots[m] for m in range(size)] for i in range(size)]
    weights = tuple(
        sum(sum(x * y for x, y in zip(scaled[j], vectors[k], strict=True)) ** 2 * squared_betas[k]
            for k in range(size))
        for j in range(size))
    return RelativeWeights(weights, sum(squared_betas))


def cholesky(matrix: Sequence[Sequence[float]]) -> Matrix | None:
    """Lower-triangular L with L Lᵀ = matrix; None when the matrix is not positive definite."""
    size = len(matrix)
    lower = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1):
            total = matrix[i][j] - sum(lower[i][k] * lower[j][k] for k in range(j))
            if i == j:
                if total <= _SINGULAR:
                    return None
                lower[i][i] = math.sqrt(total)
            else:
                lower[i][j] = total / lower[j][j]
    return lower


def wishart_correlation(rng: random.Random, lower: Matrix, n: int) -> Matrix:
    """The correlation matrix of one simulated sample of ``n`` normal observations whose population
    correlation matrix is ``lower · lowerᵀ``: its scatter matrix is Wishart(n − 1), drawn by
    Bartlett's decomposition (A lower triangular, A_ii = √χ²(n − 1 − i), A_ij ~ N(0, 1) below)."""
    size = len(lower)
    bartlett = [[rng.gauss(0.0, 1.0) if j < i else 0.0 for j in range(size)] for i in range(size)]
    for i in range(size):
        bartlett[i][i] = math.sqrt(rng.gammavariate((n - 1 - i) / 2.0, 2.0))
    factor = [[sum(lower[i][k] * bartlett[k][j] for k in range(j, i + 1)) for j in range(size)]
              for i in range(size)]
    scatter = [[sum(factor[i][k] * factor[j][k] for k in range(min(i, j) + 1)) for j in range(size)]
               for i in range(size)]
    return [[scatter[i][j] / math.sqrt(scatter[i][i] * scatter[j][j]) for j in range(size)] for i in range(size)]


@dataclass(frozen=True)
class WeightInterval:
    """95 % bootstrap intervals of one predictor's weight and of its difference from the mean weight."""

    weight: tuple[float, float]
    above_mean: tuple[float, float]

    @property
    def stands_out(self) -> bool:
        return self.above_mean[0] > 0.0


def _interval(values: list[float]) -> tuple[float, float]:
    points = quantiles(values, n=40, method="inclusive")  # cut points every 2.5 %
    return points[0], points[-1]


def weight_intervals(correlation: Sequence[Sequence[float]], n: int, *, draws: int = DRAWS,
                     seed: int = SEED) -> list[WeightInterval] | None:
    """Bootstrap intervals (see the module docstring) for each predictor; ``correlation`` is the
    full matrix of the predictors followed by the outcome (last row and column). None when the
    matrix is not positive definite or ``n`` is too small for the Wishart draw."""
    size = len(correlation) - 1
    lower = cholesky(correlation)
    if lower is None or n <= size + 2:
        return None
    rng = random.Random(seed)  # noqa: S311  (a reproducible simulation, not a secret)
    samples: list[list[float]] = [[] for _ in range(size)]
    differences: list[list[float]] = [[] for _ in range(size)]
    for _ in range(draws):
        drawn = wishart_correlation(rng, lower, n)
        result = relative_weights([row[:size] for row in drawn[:size]], [row[size] for row in drawn[:size]])
        if result is None:
            continue
        mean = sum(result.weights) / size
        for j, weight in enumerate(result.weights):
            samples[j].append(weight)
            differences[j].append(weight - mean)
    if len(samples[0]) < draws // 2:
        return None
    return [WeightInterval(_interval(samples[j]), _interval(differences[j])) for j in range(size)]
