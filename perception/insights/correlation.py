"""Correlations from sums: ``Moments`` (n and the sums of x, y, x², y², xy of paired observations),
Pearson's r and its Fisher interval, ``CrossProducts`` (sums of products over complete cases) and a
matrix inverse. The database sends these sums, never one row per customer (perception.reports)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["CrossProducts", "Moments", "correlation_interval", "inverse", "pearson"]

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


def inverse(matrix: list[list[float]]) -> list[list[float]] | None:
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
