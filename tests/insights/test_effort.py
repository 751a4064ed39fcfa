"""The phone-time estimate (perception/insights/effort.py): its basis and its rounding."""

import pytest

from perception.insights.effort import PHONE_FACTOR, phone_minutes, phone_seconds

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)


def test_basis_desktop_seconds_times_the_phone_factor():
    # 10 s for the page, 5 s per statement, 5 s for the 0-10 question, 20 s for the comment box.
    assert phone_seconds(16) == pytest.approx((10 + 16 * 5 + 5 + 20) * PHONE_FACTOR) == pytest.approx(161)
    assert phone_seconds(16, recommend=False, comment=False) == pytest.approx((10 + 80) * 1.4)
    assert phone_seconds(2) - phone_seconds(1) == pytest.approx(7)  # a statement takes 7 s on a phone


@pytest.mark.parametrize(("statements", "recommend", "minutes"), [
    (0, True, 1),    # never less than a minute
    (1, False, 1),   # 49 s
    (2, False, 1),   # 56 s
    (3, False, 2),   # 63 s: rounded up, so the page never promises less than it asks
    (5, True, 2),    # 84 s
    (16, True, 3),   # the whole built-in bank: 161 s
    (16, False, 3),
    (30, True, 5),   # 259 s
])
def test_rounded_up_to_whole_minutes(statements, recommend, minutes):
    assert phone_minutes(statements, recommend=recommend) == minutes


def test_exact_minutes_are_not_rounded_up_by_floating_point():
    # 53 statements: (10 + 265 + 5 + 20) s * 1.4 = 420 s: 7 minutes, whatever the last bit of the float.
    assert phone_seconds(53) == pytest.approx(420)
    assert phone_minutes(53) == 7


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        phone_seconds(-1)
