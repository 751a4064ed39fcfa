"""The alert rule and the closing-the-loop figures (perception.insights.loop), on hand-made data."""

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from perception.insights.loop import (
    AlertReason,
    AlertRule,
    FollowupTimes,
    care_score,
    care_trend,
    decode_reasons,
    encode_reasons,
    evaluate_alert,
    followup_figures,
    recovery_figures,
)

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)

RULE = AlertRule(overall_max=2.5, dimension_max=2, nps_max=6)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def hours(count):
    return timedelta(hours=count)


def test_a_content_customer_raises_no_alert():
    assert evaluate_alert(RULE, {"trust": [4, 5], "respect": [3]}, nps=9) == ()


def test_overall_mean_at_the_threshold_alerts_and_just_above_does_not():
    # 2, 3 -> 2.5 exactly: "at or below" alerts.
    assert evaluate_alert(RULE, {"trust": [2, 3]}, nps=None) == (AlertReason("overall", 2.5),)
    # 2, 3, 3 -> 2.667: above the overall rule, and no dimension at or below 2.
    assert evaluate_alert(RULE, {"trust": [2, 3], "respect": [3]}, nps=None) == ()


def test_a_decimal_threshold_is_compared_exactly():
    # 23/10 is not representable in binary; 2, 2, 3, 2, 3, 2, 3, 3, 2, 1 has mean exactly 2.3.
    scores = [2, 2, 3, 2, 3, 2, 3, 3, 2, 1]
    assert sum(scores) / len(scores) == pytest.approx(2.3)
    reasons = evaluate_alert(AlertRule(overall_max=2.3, dimension_max=-1, nps_max=-1), {"a": scores})
    assert [reason.kind for reason in reasons] == ["overall"]


def test_one_low_dimension_alerts_even_when_the_overall_mean_is_fine():
    reasons = evaluate_alert(RULE, {"trust": [5, 5], "respect": [2, 2], "kindness": [1, 3], "attentiveness": [5]})
    assert reasons == (AlertReason("dimension", 2.0, "kindness"), AlertReason("dimension", 2.0, "respect"))


def test_recommendation_at_or_below_six_alerts_and_seven_does_not():
    assert evaluate_alert(RULE, {"trust": [4]}, nps=6) == (AlertReason("nps", 6.0),)
    assert evaluate_alert(RULE, {"trust": [4]}, nps=7) == ()
    assert evaluate_alert(RULE, {"trust": [4]}, nps=0) == (AlertReason("nps", 0.0),)


def test_every_reason_is_listed_worst_dimension_first():
    reasons = evaluate_alert(RULE, {"trust": [2], "respect": [1], "kindness": [3]}, nps=2)
    assert [(r.kind, r.key) for r in reasons] == [("overall", None), ("dimension", "respect"),
                                                  ("dimension", "trust"), ("nps", None)]


def test_negative_bounds_switch_parts_of_the_rule_off():
    off = AlertRule(overall_max=-1, dimension_max=-1, nps_max=-1)
    assert evaluate_alert(off, {"trust": [1, 1]}, nps=0) == ()


def test_no_answers_no_overall_alert():
    assert evaluate_alert(RULE, {}, nps=None) == ()
    assert evaluate_alert(RULE, {"trust": []}, nps=None) == ()


def test_reasons_survive_the_round_trip_through_text():
    reasons = evaluate_alert(RULE, {"trust": [1, 2], "respect": [1]}, nps=3)
    text = encode_reasons(reasons)
    assert text == "overall=1.33333;dimension:respect=1;dimension:trust=1.5;nps=3"
    assert [(r.kind, r.key) for r in decode_reasons(text)] == [(r.kind, r.key) for r in reasons]
    assert decode_reasons("") == ()


def test_a_contact_before_the_clock_started_counts_no_time():
    """Without consent a follow-up's clock starts at the end of its day (perception.followups.queries.
    clock_start), so a contact the same day comes before it: 0 hours, not a negative time."""
    records = [FollowupTimes(T0, T0 + hours(48), T0 - hours(5), "contacted"),
               FollowupTimes(T0, T0 + hours(48), T0 + hours(4), "contacted")]
    assert followup_figures(records, T0 + hours(120)).median_hours_to_contact == 2.0


def test_followup_figures_share_in_time_and_median():
    now = T0 + hours(100)
    records = [
        FollowupTimes(T0, T0 + hours(48), T0 + hours(2), "contacted"),    # in time, 2 h
        FollowupTimes(T0, T0 + hours(48), T0 + hours(50), "resolved"),    # late, 50 h
        FollowupTimes(T0, T0 + hours(48), None, "open"),                  # overdue: settled, not in time
        FollowupTimes(T0 + hours(90), T0 + hours(138), None, "open"),     # not due yet: not settled
        FollowupTimes(T0, T0 + hours(48), T0 + hours(10), "resolved"),    # in time, 10 h
    ]
    figures = followup_figures(records, now)
    assert (figures.total, figures.open, figures.contacted, figures.resolved) == (5, 2, 1, 2)
    assert figures.overdue == 1
    assert figures.settled == 4 and figures.contacted_in_time == 2
    assert figures.share_in_time == 0.5
    assert figures.median_hours_to_contact == 10.0


def test_contact_exactly_at_the_due_time_is_in_time_and_resolution_without_contact_is_not():
    records = [
        FollowupTimes(T0, T0 + hours(48), T0 + hours(48), "contacted"),
        FollowupTimes(T0, T0 + hours(48), None, "resolved"),
    ]
    figures = followup_figures(records, T0 + hours(1))
    assert figures.settled == 2 and figures.contacted_in_time == 1 and figures.overdue == 0
    assert figures.median_hours_to_contact == 48.0


def test_no_followups_no_figures():
    figures = followup_figures([], T0)
    assert figures.total == 0 and figures.share_in_time is None and figures.median_hours_to_contact is None


def test_care_score_is_the_mean_and_the_index_rescales_it():
    assert care_score([1, 1]) == (1.0, 0.0)
    assert care_score([5]) == (5.0, 100.0)
    assert care_score([2, 3]) == (2.5, 37.5)
    assert care_score([]) is None


def test_care_trend_orders_points_and_names_the_direction():
    trend = care_trend([(T0 + hours(5), [4, 4]), (T0, [2, 2]), (T0 + hours(1), [])])
    assert [point[0] for point in trend.points] == [T0, T0 + hours(5)]
    assert trend.change == 50.0 and trend.direction == "improving"
    assert care_trend([(T0, [4]), (T0 + hours(1), [4, 4, 4, 4, 4, 5])]).direction == "steady"  # +4.2 points
    assert care_trend([(T0, [5]), (T0 + hours(1), [4])]).direction == "declining"  # -25 points
    single = care_trend([(T0, [3])])
    assert single.change is None and single.direction is None and len(single.points) == 1


def test_recovery_figures_compare_before_and_after_per_group():
    figures = recovery_figures([
        ("respect", Fraction(3, 2), 4),   # up
        ("respect", 2, 2),                # same
        ("trust", 1, 3),                  # up
    ])
    assert [f.key for f in figures] == ["respect", "trust"]
    respect = figures[0]
    assert respect.n == 2 and respect.before == 1.75 and respect.after == 3.0
    assert respect.change == 1.25 and respect.improved == 0.5
    assert figures[1].change == 2.0 and figures[1].improved == 1.0
    assert recovery_figures([]) == []
