"""A staff member's mirror: own rating, prediction and customers, with the min_n rule."""

import math

import pytest

from perception.insights import DimensionSpec, build_mirror, histogram

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)

DIMENSIONS = [DimensionSpec("trust", "Trust", ("t1", "t2")), DimensionSpec("respect", "Respect", ("r1",))]


def test_mirror_hand_worked():
    customers = {"trust": histogram([[3, 4], [2, 2], [4, 4], [5, 3], [1, 2]]),  # 3.5, 2, 4, 4, 1.5 -> 3.0
                 "respect": histogram([[4], [4], [3], [5], [4]])}  # mean 4.0
    mirror = build_mirror(dimensions=DIMENSIONS, customer_scores=customers,
                          own_scores={"trust": histogram([[5, 4]]), "respect": histogram([[5]])},
                          predicted_scores={"trust": histogram([[4, 4]])}, respondents=5, min_n=5)
    assert mirror.shown and mirror.needed == 0 and mirror.has_own_rating
    trust, respect = mirror.rows
    assert trust.own == 4.5 and trust.predicted == 4.0
    assert trust.customers.n == 5 and trust.customers.mean == 3.0
    assert math.isclose(trust.own_minus_customers, 1.5) and math.isclose(trust.predicted_minus_customers, 1.0)
    assert trust.customers.top_box == 0.4
    assert respect.own == 5.0 and respect.predicted is None and respect.predicted_minus_customers is None
    assert respect.own_minus_customers == 1.0


def test_too_few_customers_hides_every_customer_figure_and_says_how_many_more():
    customers = {"trust": histogram([[3, 4], [2, 2], [4, 4]])}
    mirror = build_mirror(dimensions=DIMENSIONS, customer_scores=customers, own_scores={"trust": histogram([[5, 5]])},
                          predicted_scores={}, respondents=3, min_n=5)
    assert not mirror.shown and mirror.needed == 2
    trust = mirror.rows[0]
    assert trust.own == 5.0  # your own answers stay visible to you
    assert trust.customers.suppressed and trust.customers.n == 3 and trust.customers.mean is None
    assert trust.own_minus_customers is None


def test_a_dimension_with_too_few_answers_is_hidden_even_when_the_total_is_enough():
    customers = {"trust": histogram([[3, 4]] * 6), "respect": histogram([[4]] * 2)}
    mirror = build_mirror(dimensions=DIMENSIONS, customer_scores=customers, own_scores={}, predicted_scores={},
                          respondents=6, min_n=5)
    assert mirror.shown and not mirror.has_own_rating
    assert not mirror.rows[0].customers.suppressed
    assert mirror.rows[1].customers.suppressed and mirror.rows[1].own_minus_customers is None
