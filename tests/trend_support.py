"""Two waves and two teams for the trend and digest tests (tests/reports/test_trend.py,
tests/followups/test_digest.py)."""

from datetime import timedelta

from perception.core.models import utcnow
from tests.helpers import bank_items, make_responses, make_survey, make_team

HARBOUR, RIVERSIDE = "Harbour Street branch", "Riverside branch"


def _answers(survey, team, perspective, scores_list):
    """One response per score list entry: every item of the survey answered with that score."""
    for score in scores_list:
        make_responses(survey, 1, perspective=perspective, team=team, scores=score)


def two_waves():
    """Two waves, two teams. Harbour: customers move from about 2.5 to 4.2, staff stay at 4.6 (the
    gap narrows). Riverside: published in the first wave, only 3 customers (waiting for their
    batch, so withheld) in the second."""
    harbour, riverside = make_team(HARBOUR), make_team(RIVERSIDE)
    items = bank_items(4)
    now = utcnow()
    first = make_survey("2026-q3", items=items, opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=60),
                        status="closed")
    second = make_survey("2026-q4", items=items, opens_at=now - timedelta(days=20))
    _answers(first, harbour, "customer", [2, 3, 2, 3, 2, 3, 2, 3, 3, 2])
    _answers(first, harbour, "staff", [5, 4, 5, 5, 4])
    _answers(first, riverside, "customer", [4, 4, 3, 5, 4])
    _answers(first, riverside, "staff", [4, 5, 4, 4, 5])
    _answers(second, harbour, "customer", [4, 5, 4, 4, 5, 4, 4, 4, 5, 3])
    _answers(second, harbour, "staff", [5, 4, 5, 5, 4])
    _answers(second, riverside, "customer", [2, 2, 3])
    return first, second
