"""Key drivers on data with a known answer: correlations, Fisher intervals, beta weights, quadrants."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from perception.insights import DimensionSpec
from perception.insights.drivers import (
    DRIVER_MIN_N,
    OUTCOME,
    CrossProducts,
    Moments,
    build_driver_report,
    correlation_interval,
    pearson,
    standardised_weights,
)

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)


def close(a, b, tol=1e-9):
    assert a is not None
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# ----------------------------------------------------------------------------- pearson


def test_pearson_of_exact_lines_is_plus_or_minus_one():
    xs = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert close(pearson(Moments.from_pairs((x, 2 * x + 1) for x in xs)), 1.0)
    assert close(pearson(Moments.from_pairs((x, 10 - x) for x in xs)), -1.0)


def test_pearson_hand_worked():
    # x = 1, 2, 3, 4; y = 2, 1, 4, 3. Centred: x - 2.5 = -1.5 -0.5 0.5 1.5; y - 2.5 = -0.5 -1.5 1.5 0.5.
    # Sxy = 0.75 + 0.75 + 0.75 + 0.75 = 3; Sxx = Syy = 5; r = 3 / 5 = 0.6.
    assert close(pearson(Moments.from_pairs(zip([1, 2, 3, 4], [2, 1, 4, 3], strict=True))), 0.6)


def test_pearson_matches_the_standard_library():
    xs = [3.5, 4.0, 2.0, 5.0, 1.5, 3.0, 4.5, 2.5]
    ys = [7, 8, 3, 10, 2, 6, 9, 6]
    assert close(pearson(Moments.from_pairs(zip(xs, ys, strict=True))), statistics.correlation(xs, ys))


def test_pearson_is_none_without_spread_or_data():
    assert pearson(Moments.from_pairs([(3.0, 1.0), (3.0, 5.0), (3.0, 9.0)])) is None
    assert pearson(Moments.from_pairs([(1.0, 7.0), (2.0, 7.0), (3.0, 7.0)])) is None
    assert pearson(Moments.from_pairs([(1.0, 1.0), (2.0, 2.0)])) is None
    assert pearson(Moments()) is None


def test_fisher_interval_hand_worked():
    # r = 0.5, n = 28: z = atanh(0.5) = 0.549306; half = 1.959964 / 5 = 0.391993.
    low, high = correlation_interval(0.5, 28)
    assert close(low, math.tanh(0.5493061443340549 - 0.3919928), 1e-6)
    assert close(high, math.tanh(0.5493061443340549 + 0.3919928), 1e-6)
    assert correlation_interval(0.5, 3) is None
    assert correlation_interval(1.0, 50) == (1.0, 1.0)


# ----------------------------------------------------------------------------- weights


def _cross(rows, names):
    return CrossProducts.from_rows([dict(zip(names, row, strict=True)) for row in rows], names)


def test_weights_with_uncorrelated_predictors_are_their_correlations():
    # x1 and x2 are orthogonal with equal spread; y = 2 x1 + x2 exactly.
    # beta = (2, 1) / sqrt(5); R^2 = 1.
    base = [(1, 1), (1, -1), (-1, 1), (-1, -1)] * 10
    cross = _cross([(a, b, 2 * a + b) for a, b in base], ["x1", "x2", OUTCOME])
    weights = standardised_weights(cross, ["x1", "x2"])
    assert weights.note is None
    assert close(weights.values["x1"], 2 / math.sqrt(5))
    assert close(weights.values["x2"], 1 / math.sqrt(5))
    assert close(weights.r_squared, 1.0)
    assert close(weights.max_vif, 1.0)


def test_weights_match_least_squares_on_standardised_data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 3))
    x[:, 1] += 0.5 * x[:, 0]  # correlated predictors
    y = 0.8 * x[:, 0] - 0.3 * x[:, 1] + 0.2 * x[:, 2] + rng.normal(scale=0.7, size=200)
    names = ["a", "b", "c", OUTCOME]
    weights = standardised_weights(_cross(np.column_stack([x, y]).tolist(), names), ["a", "b", "c"])
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    expected, *_ = np.linalg.lstsq(z, zy, rcond=None)
    for name, value in zip("abc", expected, strict=True):
        assert close(weights.values[name], float(value), 1e-8)


def test_two_predictor_textbook_formula():
    # beta1 = (r1y - r12 r2y) / (1 - r12^2)
    rng = np.random.default_rng(3)
    x1 = rng.normal(size=120)
    x2 = 0.6 * x1 + rng.normal(size=120)
    y = x1 + x2 + rng.normal(size=120)
    cross = _cross(list(zip(x1, x2, y, strict=True)), ["x1", "x2", OUTCOME])
    r1y, r2y, r12 = (statistics.correlation(list(a), list(b)) for a, b in ((x1, y), (x2, y), (x1, x2)))
    weights = standardised_weights(cross, ["x1", "x2"])
    assert close(weights.values["x1"], (r1y - r12 * r2y) / (1 - r12**2), 1e-9)
    assert close(weights.values["x2"], (r2y - r12 * r1y) / (1 - r12**2), 1e-9)


def test_collinear_predictors_give_no_weights_but_a_reason():
    rows = [(v, v, v + (i % 3)) for i, v in enumerate([1.0, 2.0, 3.0, 4.0, 5.0] * 10)]
    weights = standardised_weights(_cross(rows, ["x1", "x2", OUTCOME]), ["x1", "x2"])
    assert weights.values == {}
    assert "move together too closely" in weights.note


def test_weights_need_ten_complete_customers_per_dimension():
    base = [(1, 1), (1, -1), (-1, 1), (-1, -1)] * 4 + [(1, 1), (-1, -1), (1, -1)]  # 19 rows
    weights = standardised_weights(_cross([(a, b, a + b) for a, b in base], ["x1", "x2", OUTCOME]), ["x1", "x2"])
    assert weights.values == {} and "at least 20" in weights.note


# ----------------------------------------------------------------------------- the report

DIMENSIONS = [DimensionSpec("trust", "Trust"), DimensionSpec("respect", "Respect"),
              DimensionSpec("kindness", "Kindness"), DimensionSpec("attentiveness", "Attentiveness")]


def _moments(r, n):
    """n pairs with a correlation of exactly r: y = r x + sqrt(1 - r^2) e, with x and e orthogonal."""
    xs = [1.0, -1.0, 1.0, -1.0] * (n // 4)
    es = [1.0, 1.0, -1.0, -1.0] * (n // 4)
    return Moments.from_pairs((x, r * x + math.sqrt(1 - r * r) * e) for x, e in zip(xs, es, strict=True))


def test_report_names_the_fix_first_dimension_only_when_it_stands_out():
    # The care outcome has no relative weights, so the correlations decide: a dimension stands out when
    # the lower end of its Fisher interval (Bonferroni: 1 - 0.05/4) is above the mean correlation of the others.
    moments = {"trust": _moments(0.4, 400), "respect": _moments(0.3, 400), "kindness": _moments(0.2, 400),
               "attentiveness": _moments(0.6, 400)}
    performance = {"trust": 4.1, "respect": 4.0, "kindness": 3.1, "attentiveness": 2.9}
    report = build_driver_report(dimensions=DIMENSIONS, outcome="care", moments=moments, performance=performance)
    cells = {cell.key: cell for cell in report.cells}
    assert close(cells["trust"].importance, 0.4) and cells["trust"].n == 400
    # attentiveness: z = atanh(0.6) - 2.498 / sqrt(397) -> r = 0.514 > (0.4 + 0.3 + 0.2) / 3 = 0.3;
    # trust: atanh(0.4) - 0.125 -> r = 0.290 < (0.3 + 0.2 + 0.6) / 3 = 0.367.
    assert [key for key, cell in cells.items() if cell.stands_out] == ["attentiveness"]
    assert close(report.split_importance, 0.375) and close(report.split_performance, 3.525)
    assert {k: c.quadrant for k, c in cells.items()} == {
        "trust": "maintain", "respect": "maintain", "kindness": "watch", "attentiveness": "fix_first"}
    assert [cell.key for cell in report.fix_first] == ["attentiveness"]
    assert report.sentence().startswith("Fix first: Attentiveness.")
    assert "overall care score" in report.sentence()
    assert report.hidden_reason is None and report.more_answers is None
    # The recommendation outcome names a driver only from relative weights, which need complete answers.
    nps = build_driver_report(dimensions=DIMENSIONS, outcome="nps", moments=moments, performance=performance)
    assert nps.fix_first == () and not any(cell.stands_out for cell in nps.cells)


def test_when_nothing_stands_out_the_report_says_so_and_estimates_the_answers_needed():
    rs = {"trust": 0.62, "respect": 0.58, "kindness": 0.60, "attentiveness": 0.56}
    report = build_driver_report(dimensions=DIMENSIONS, outcome="care",
                                 moments={key: _moments(r, 40) for key, r in rs.items()},
                                 performance={"trust": 3.0, "respect": 4.0, "kindness": 3.5, "attentiveness": 3.2})
    assert not any(cell.stands_out for cell in report.cells) and report.fix_first == ()
    assert {cell.quadrant for cell in report.cells} <= {"watch", "maintain"}
    # The leader is trust: 3 + (z / (atanh(0.62) - atanh(0.58)))^2 answers in all (z for 1 - 0.05/4),
    # rounded up to tens.
    lead = math.atanh(0.62) - math.atanh((0.58 + 0.60 + 0.56) / 3)
    z = statistics.NormalDist().inv_cdf(1 - 0.025 / 4)
    assert report.more_answers == math.ceil((3 + (z / lead) ** 2 - 40) / 10) * 10
    assert report.sentence().startswith("No driver stands out yet")
    assert f"{report.more_answers} more customers' answers" in report.sentence()


def test_report_hides_dimensions_below_the_threshold_and_says_which():
    moments = {"trust": _moments(0.7, 28), "respect": _moments(0.3, 40)}
    report = build_driver_report(dimensions=DIMENSIONS[:2], outcome="care", moments=moments,
                                 performance={"trust": 3.0, "respect": 4.0})
    trust, respect = report.cells
    assert trust.importance is None and trust.note == "fewer than 30 customers (28)"
    assert respect.importance is not None
    assert respect.quadrant is None  # one dimension alone has nothing to be compared with
    assert report.split_importance is None


def test_report_is_hidden_entirely_when_no_dimension_has_enough_customers():
    moments = {key: _moments(0.5, 28) for key in ("trust", "respect")}
    report = build_driver_report(dimensions=DIMENSIONS[:2], outcome="nps", moments=moments,
                                 performance={"trust": 3.0, "respect": 4.0})
    assert report.shown == ()
    assert report.hidden_reason.startswith("Too few customers")
    assert f"at least {DRIVER_MIN_N} customers" in report.hidden_reason and "(28 so far)" in report.hidden_reason
    assert report.sentence() == report.hidden_reason


def test_threshold_is_at_least_min_n():
    moments = {key: _moments(0.5, 40) for key in ("trust", "respect")}
    report = build_driver_report(dimensions=DIMENSIONS[:2], outcome="nps", moments=moments,
                                 performance={"trust": 3.0, "respect": 4.0}, min_n=50)
    assert report.required_n == 50 and report.shown == ()
    exactly = build_driver_report(dimensions=DIMENSIONS[:2], outcome="nps", moments=moments,
                                  performance={"trust": 3.0, "respect": 4.0}, threshold=40)
    assert len(exactly.shown) == 2


def test_suppressed_performance_keeps_the_importance_but_no_quadrant():
    moments = {key: _moments(0.5, 40) for key in ("trust", "respect", "kindness")}
    report = build_driver_report(dimensions=DIMENSIONS[:3], outcome="nps", moments=moments,
                                 performance={"trust": 3.0, "respect": 4.0, "kindness": None})
    assert [cell.quadrant is None for cell in report.cells] == [False, False, True]


def test_weights_only_for_recommendation():
    moments = {key: _moments(0.5, 40) for key in ("trust", "respect")}
    report = build_driver_report(dimensions=DIMENSIONS[:2], outcome="care", moments=moments,
                                 performance={"trust": 3.0, "respect": 4.0})
    assert report.weights.values == {} and "likelihood to recommend only" in report.weights.note
    assert all(cell.weight is None for cell in report.cells)


def test_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        build_driver_report(dimensions=DIMENSIONS, outcome="loyalty", moments={}, performance={})
