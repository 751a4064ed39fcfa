"""Johnson's relative weights and the bootstrap that decides which stands out, against numpy:
the Jacobi eigendecomposition against np.linalg.eigh, the weights against a least-squares fit on
the orthogonalised predictors (np.linalg.lstsq), and the Wishart draws against their known mean."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from perception.insights import DimensionSpec, build_driver_report
from perception.insights.correlation import CrossProducts, Moments
from perception.insights.drivers import OUTCOME
from perception.insights.relative_weights import (
    cholesky,
    relative_weights,
    symmetric_eigen,
    weight_intervals,
    wishart_correlation,
)
from perception.insights.weights import johnson_weights

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 9])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_jacobi_eigendecomposition_matches_numpy_eigh(size, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(size, size))
    matrix = a @ a.T + np.diag(rng.uniform(0, 1, size))
    values, vectors = symmetric_eigen(matrix.tolist())
    expected_values, expected_vectors = np.linalg.eigh(matrix)
    assert np.allclose(values, expected_values, rtol=1e-10, atol=1e-12)
    vectors = np.array(vectors)
    for column in range(size):  # an eigenvector is defined up to its sign
        sign = np.sign(vectors[:, column] @ expected_vectors[:, column])
        assert np.allclose(sign * vectors[:, column], expected_vectors[:, column], atol=1e-9)
    assert np.allclose(vectors @ np.diag(values) @ vectors.T, matrix, atol=1e-10)


def test_a_diagonal_matrix_and_repeated_eigenvalues():
    values, vectors = symmetric_eigen([[2.0, 0.0], [0.0, 1.0]])
    assert values == [1.0, 2.0] and np.allclose(np.abs(vectors), [[0, 1], [1, 0]])
    values, _vectors = symmetric_eigen([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    assert np.allclose(values, [0.5, 0.5, 2.0])


def numpy_relative_weights(x, y):
    """Johnson (2000) step by step in numpy: standardise, Λ = R^½, regress y on Z = X Λ⁻¹ by least squares."""
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    r = np.corrcoef(x, rowvar=False)
    values, vectors = np.linalg.eigh(r)
    root = vectors @ np.diag(np.sqrt(values)) @ vectors.T
    beta, *_ = np.linalg.lstsq(z @ np.linalg.inv(root), zy, rcond=None)
    return (root ** 2) @ (beta ** 2)


@pytest.mark.parametrize("seed", range(6))
def test_relative_weights_match_numpy_and_sum_to_r_squared(seed):
    rng = np.random.default_rng(seed)
    n, k = 150 + 50 * seed, 2 + seed
    x = rng.normal(size=(n, k))
    x[:, 1] += rng.uniform(0.2, 0.9) * x[:, 0]  # correlated predictors, where betas mislead
    y = x @ rng.normal(size=k) + rng.normal(scale=1.5, size=n)
    c = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    result = relative_weights(c[:k, :k].tolist(), c[:k, k].tolist())
    assert np.allclose(result.weights, numpy_relative_weights(x, y), rtol=1e-9, atol=1e-12)
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    beta, *_ = np.linalg.lstsq(z, zy, rcond=None)
    r_squared = 1 - np.sum((zy - z @ beta) ** 2) / np.sum(zy ** 2)
    assert math.isclose(result.r_squared, r_squared, rel_tol=1e-9)
    assert math.isclose(sum(result.weights), result.r_squared, rel_tol=1e-12)
    assert all(weight >= 0 for weight in result.weights)


def test_orthogonal_predictors_get_their_squared_correlations_and_a_singular_matrix_none():
    result = relative_weights([[1.0, 0.0], [0.0, 1.0]], [0.6, 0.3])
    assert np.allclose(result.weights, [0.36, 0.09]) and math.isclose(result.r_squared, 0.45)
    assert relative_weights([[1.0, 1.0], [1.0, 1.0]], [0.5, 0.5]) is None


def test_wishart_draws_centre_on_the_population_correlations():
    population = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])
    lower = cholesky(population.tolist())
    assert np.allclose(np.array(lower) @ np.array(lower).T, population)
    rng = random.Random(5)
    draws = np.array([wishart_correlation(rng, lower, 200) for _ in range(2000)])
    assert np.allclose(draws.mean(axis=0), population, atol=0.01)
    # A sample correlation's standard deviation is about (1 - rho^2) / sqrt(n - 1).
    assert math.isclose(draws[:, 0, 1].std(), (1 - 0.25) / math.sqrt(199), rel_tol=0.1)
    assert cholesky([[1.0, 1.0], [1.0, 1.0]]) is None


def _correlations(rng, n, slopes, noise=1.0):
    x = rng.normal(size=(n, len(slopes)))
    x[:, 1] += 0.4 * x[:, 0]
    y = x @ np.array(slopes) + rng.normal(scale=noise, size=n)
    return np.corrcoef(np.column_stack([x, y]), rowvar=False).tolist()


def test_a_dominant_driver_stands_out_and_equal_ones_do_not_and_the_result_is_repeatable():
    rng = np.random.default_rng(11)
    dominant = weight_intervals(_correlations(rng, 400, [1.5, 0.3, 0.3, 0.3]), 400)
    assert [interval.stands_out for interval in dominant] == [True, False, False, False]
    equal = _correlations(rng, 60, [0.5, 0.5, 0.5, 0.5], noise=2.0)
    assert not any(interval.stands_out for interval in weight_intervals(equal, 60))
    assert weight_intervals(equal, 60) == weight_intervals(equal, 60)  # seeded: the same answers, the same page
    for interval in dominant:
        assert interval.weight[0] <= interval.weight[1] and interval.above_mean[0] <= interval.above_mean[1]


def test_johnson_weights_from_sums_match_numpy_and_drive_the_report():
    rng = np.random.default_rng(21)
    n, names = 300, ["trust", "respect", "kindness"]
    x = rng.normal(size=(n, 3))
    x[:, 1] += 0.5 * x[:, 0]
    y = 1.2 * x[:, 0] + 0.2 * x[:, 1] + 0.2 * x[:, 2] + rng.normal(size=n)
    rows = [dict(zip([*names, OUTCOME], row, strict=True)) for row in np.column_stack([x, y]).tolist()]
    cross = CrossProducts.from_rows(rows, [*names, OUTCOME])
    relative = johnson_weights(cross, names)
    assert np.allclose([relative.weights[name] for name in names], numpy_relative_weights(x, y), rtol=1e-8)
    moments = {name: Moments.from_pairs(zip(x[:, i].tolist(), y.tolist(), strict=True))
               for i, name in enumerate(names)}
    report = build_driver_report(
        dimensions=[DimensionSpec(name, name.title()) for name in names], outcome="nps", moments=moments,
        performance={"trust": 3.1, "respect": 4.0, "kindness": 3.9}, cross=cross)
    assert report.by_weights and [cell.key for cell in report.fix_first] == ["trust"]
    trust = report.cells[0]
    assert trust.stands_out and trust.weight_interval[0] < trust.relative_weight < trust.weight_interval[1]
    assert report.sentence().startswith("Fix first: Trust.")


def test_too_few_complete_answers_say_how_many_are_missing():
    rng = np.random.default_rng(7)
    names = ["trust", "respect", "kindness"]
    x = rng.normal(size=(25, 3))
    y = x.sum(axis=1) + rng.normal(size=25, scale=2)  # correlations 0.51, 0.46, 0.48: none stands out
    rows = [dict(zip([*names, OUTCOME], row, strict=True)) for row in np.column_stack([x, y]).tolist()]
    cross = CrossProducts.from_rows(rows, [*names, OUTCOME])
    assert johnson_weights(cross, names).weights == {}
    moments = {name: Moments.from_pairs(zip(x[:, i].tolist(), y.tolist(), strict=True))
               for i, name in enumerate(names)}
    report = build_driver_report(dimensions=[DimensionSpec(name, name.title()) for name in names], outcome="nps",
                                 moments=moments, performance=dict.fromkeys(names, 3.0), cross=cross, threshold=20)
    assert not report.by_weights and report.fix_first == ()
    assert report.more_answers == 10  # relative weights need 10 complete answers per dimension: 5, in tens
    assert "About 10 more customers who answer every dimension" in report.sentence()
