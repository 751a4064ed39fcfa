"""Key drivers from the database: the SQL aggregates give the same figures as plain Python on the raw
answers, the threshold hides what cannot be said, and the page names the dimension to fix first."""

import json
import math
import re
import statistics
from datetime import UTC, datetime

import pytest

from perception.core.extensions import db as database
from perception.core.models import Answer, Response, Survey
from perception.demo.service import seed_demo
from perception.reports.drivers_queries import driver_report
from tests.helpers import bank_items, login, make_survey, make_team, make_user

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _answers(index):
    """Deterministic, varied answers: trust items, respect items (2 each), NPS (None now and then)."""
    trust = (1 + index % 5, 1 + (index * 3) % 5)
    respect = (1 + (index * 7 + 2) % 5, 1 + (index // 2) % 5)
    nps = None if index % 9 == 4 else min(10, (trust[0] + trust[1]) + (index % 3))
    return trust, respect, nps


def _seed(n, team=None, survey=None):
    team = team or make_team()
    items = bank_items(4)  # trust x2, respect x2
    survey = survey or make_survey("wave-1", items=items)
    raw, responses = [], []
    for index in range(n):
        trust, respect, nps = _answers(index)
        scores = dict(zip([item.id for item in items], (*trust, *respect), strict=True))
        if index % 11 == 5:  # an unanswered item: the dimension score is the mean of what was answered
            scores.pop(items[3].id)
            respect = (respect[0],)
        survey_response = Response(survey=survey, perspective="customer", team=team, submitted_at=NOW, nps=nps,
                                   answers=[Answer(item_id=item_id, score=s) for item_id, s in scores.items()])
        database.session.add(survey_response)
        responses.append(survey_response)
        raw.append((statistics.fmean(trust), statistics.fmean(respect), nps, list(trust) + list(respect)))
    database.session.commit()
    # The figures are those of the published answers: each batch holds answers of one pattern (with or
    # without NPS, every item or not: perception/insights/publication.py), the rest wait.
    return survey, [row for row, response in zip(raw, responses, strict=True) if response.published_at is not None]


def test_importance_matches_plain_python_on_the_raw_answers(app, db):
    survey, raw = _seed(45)
    report = driver_report(survey, outcome="nps")
    with_nps = [row for row in raw if row[2] is not None]
    trust, respect = report.cells
    assert trust.key == "trust" and trust.n == len(with_nps)
    assert math.isclose(trust.importance, statistics.correlation([r[0] for r in with_nps], [r[2] for r in with_nps]),
                        rel_tol=1e-9)
    assert math.isclose(respect.importance,
                        statistics.correlation([r[1] for r in with_nps], [r[2] for r in with_nps]), rel_tol=1e-9)
    # performance is the gap report's customer mean over every customer (with or without NPS)
    assert math.isclose(trust.performance, statistics.fmean(r[0] for r in raw), rel_tol=1e-12)
    # beta weights from the textbook two-predictor formula
    r1y, r2y = trust.importance, respect.importance
    r12 = statistics.correlation([r[0] for r in with_nps], [r[1] for r in with_nps])
    assert math.isclose(report.weights.values["trust"], (r1y - r12 * r2y) / (1 - r12 ** 2), rel_tol=1e-9)


def test_care_outcome_correlates_each_dimension_with_the_others(app, db):
    survey, raw = _seed(40)
    report = driver_report(survey, outcome="care")
    trust = report.cells[0]
    # with two dimensions, the rest score of trust is the respondent's respect score
    assert math.isclose(trust.importance, statistics.correlation([r[0] for r in raw], [r[1] for r in raw]),
                        rel_tol=1e-9)
    assert report.weights.values == {}


def test_team_filter(app, db):
    survey, north_answers = _seed(40, team=make_team("North"))
    _, south_answers = _seed(10, team=make_team("South"), survey=survey)
    north = driver_report(survey, outcome="care", team=make_team("North"))
    south = driver_report(survey, outcome="care", team=make_team("South"))
    assert north.cells[0].n == len(north_answers) >= 30 and north.cells[0].importance is not None
    assert south.cells[0].n == len(south_answers) > 0
    assert south.hidden_reason and "at least 30 customers" in south.hidden_reason


def test_too_few_customers_hides_the_drivers_with_the_threshold(app, client, db):
    _seed(29)
    login(client, make_user("leader"))
    response = client.get("/leaders/surveys/wave-1/drivers")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Too few customers to say which dimension drives their likelihood to recommend" in page
    assert "at least 30 customers" in page
    assert 'data-chart="chart-drivers"' not in page


def test_min_n_above_30_raises_the_threshold(app, db):
    survey, _ = _seed(35)
    report = driver_report(survey, outcome="care", min_n=40)
    assert report.required_n == 40 and report.shown == ()


def test_unknown_outcome(app, client, db):
    survey, _ = _seed(3)
    with pytest.raises(ValueError, match="outcome"):
        driver_report(survey, outcome="loyalty")
    login(client, make_user("leader"))
    response = client.get("/leaders/surveys/wave-1/drivers?outcome=loyalty&team=Nowhere")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is no team with that name" in page and "Choose likelihood to recommend" in page


def test_the_demo_drivers_page_names_no_driver_the_data_do_not_support(app, client, db):
    # Issue #16: the demo's dimensions matter about equally (every interval overlaps), so the page must
    # not name any to fix first; it says so and how many more answers would help.
    seed_demo(now=NOW)
    login(client, make_user("leader"))
    survey = db.session.query(Survey).filter_by(slug="2026-q4").one()
    report = driver_report(survey, outcome="nps")
    assert report.by_weights and report.hidden_reason is None
    assert report.fix_first == () and not any(cell.stands_out for cell in report.cells)
    assert math.isclose(sum(cell.relative_weight for cell in report.cells), report.relative.r_squared, rel_tol=1e-9)
    assert report.more_answers and report.more_answers % 10 == 0
    page = client.get("/leaders/surveys/2026-q4/drivers").get_data(as_text=True)
    finding = re.search(r'<p class="finding"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert finding.startswith("No driver stands out yet") and f"About {report.more_answers} more" in finding
    assert "Fix first:" not in page
    figure = json.loads(re.search(r'data-chart="chart-drivers">(.*?)</script>', page, re.S).group(1))
    assert figure["layout"]["xaxis"]["title"]["text"].startswith("Performance")
    assert figure["layout"]["yaxis"]["title"]["text"].startswith("Importance: relative weight")
    assert not any(trace["name"].startswith("Fix first") for trace in figure["data"])
    assert "Relative weight" in page and "Show the figures as a table" in page  # the text alternative
    for team in ("Harbour Street branch", "Riverside branch", "Customer contact centre"):
        response = client.get(f"/leaders/surveys/2026-q4/drivers?team={team}&outcome=care")
        assert response.status_code == 200


def test_a_driver_that_stands_out_is_named_to_fix_first(app, client, db):
    # The seeded answers make NPS follow trust (see _answers); respect has no say in it.
    survey, _ = _seed(90)
    report = driver_report(survey, outcome="nps")
    trust, respect = report.cells
    assert report.by_weights and trust.stands_out and not respect.stands_out
    assert trust.relative_weight > respect.relative_weight
    login(client, make_user("leader"))
    page = client.get("/leaders/surveys/wave-1/drivers").get_data(as_text=True)
    finding = re.search(r'<p class="finding[^"]*"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert finding.startswith(("Fix first: Trust", "Keep it up: Trust")), finding


def test_the_number_of_statements_does_not_grow_with_the_data(app, db):
    from sqlalchemy import event

    def count(n):
        existing = db.session.query(Survey).first()
        survey, _ = _seed(n, team=make_team(f"Team {n}"), survey=existing)
        assert survey.slug  # loaded now, so the count below holds only the report's statements
        statements = []
        listener = lambda *args, **kwargs: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            driver_report(survey, outcome="nps")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    # two for the gap report (performance), one for the dimensions, one for the moments, one for the weights
    assert count(10) == count(60) == 5
