"""perception.reports.gap_report: the query module used by the CLI, the dashboard and the API."""

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from bench.common import counted_statements
from perception.core.models import Answer, Response, Survey
from perception.reports.queries import ReportError, gap_report
from tests.helpers import make_survey, make_team
from tests.reports_support import items_by_key

KEYS = ["trust_believed", "trust_reliable", "respect_dignity"]


def add_responses(db, survey, count, *, team=None, at=None, perspective="customer", seed=1):
    rng = random.Random(seed)
    items = survey.items
    for _ in range(count):
        db.session.add(Response(
            survey_id=survey.id, perspective=perspective, team=team, channel="import",
            submitted_at=at or datetime(2026, rng.randint(1, 6), rng.randint(1, 28), tzinfo=UTC),
            answers=[Answer(item_id=item.id, score=rng.randint(1, 5)) for item in items],
        ))
    db.session.commit()


@pytest.fixture
def survey(db):
    return make_survey("rep", items=items_by_key(db, KEYS))


def fresh(db, survey):
    """The survey as a caller holds it: loaded, attributes available."""
    db.session.expire_all()
    loaded = db.session.execute(select(Survey).where(Survey.id == survey.id)).scalar_one()
    assert loaded.slug
    return loaded


@pytest.mark.parametrize(("by", "expected"), [(None, 2), ("month", 2), ("team", 3)])
def test_statement_count_is_small_and_constant(db, survey, by, expected):
    teams = [make_team(name) for name in ("A", "B", "C")]
    counts, total = [], 0
    for round_ in range(2):
        for team in teams:
            add_responses(db, survey, 5 + 40 * round_, team=team, seed=round_)
            total += 5 + 40 * round_
        add_responses(db, survey, 3 + 20 * round_, perspective="staff", team=teams[0], seed=round_)
        loaded = fresh(db, survey)
        with counted_statements(db.engine) as statements:
            report = gap_report(loaded, by=by, month_from="2026-01")
        counts.append(len(statements))
        assert report.to_dict()["dimensions"][0]["customer"]["n"] == total
    assert counts == [expected, expected]


def test_only_items_of_the_survey_count(db, survey):
    add_responses(db, survey, 6)
    before = gap_report(fresh(db, survey), min_n=1).to_dict()
    outsider = items_by_key(db, ["kindness_warm"])[0]
    for response in db.session.execute(select(Response)).scalars():
        db.session.add(Answer(response_id=response.id, item_id=outsider.id, score=1))
    db.session.commit()
    after = gap_report(fresh(db, survey), min_n=1).to_dict()
    assert after == before
    assert [item["key"] for item in after["items"]] == KEYS


def test_months_are_utc_whatever_the_session_time_zone(db, survey):
    # Whole batches of 5 (answers are published MIN_N at a time, dated by their last answer).
    add_responses(db, survey, 5, at=datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC))
    add_responses(db, survey, 10, at=datetime(2026, 4, 1, 0, 0, 0, tzinfo=UTC))
    add_responses(db, survey, 5, at=datetime(2026, 6, 1, 0, 0, 0, tzinfo=UTC))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET TIME ZONE 'Pacific/Auckland'"))  # +13:00 on these dates
    loaded = fresh(db, survey) if db.engine.dialect.name != "postgresql" else survey
    report = gap_report(loaded, by="month", min_n=1).to_dict()
    months = {group["month"]: group["dimensions"][0]["customer"]["n"] for group in report["groups"]}
    assert months == {"2026-03": 5, "2026-04": 10, "2026-05": 0, "2026-06": 5}
    only_april = gap_report(loaded, month_from="2026-04", month_to="2026-04", min_n=1).to_dict()
    assert only_april["dimensions"][0]["customer"]["n"] == 10
    db.session.rollback()


def test_team_groups_follow_the_scope_plus_teams_with_data(db):
    north, south, idle, outside = (make_team(name) for name in ("North", "South", "Idle", "Outside"))
    survey = make_survey("scoped", items=items_by_key(db, KEYS), teams=[north, south])
    add_responses(db, survey, 5, team=north)
    add_responses(db, survey, 5, team=outside)  # e.g. imported for a team outside the scope
    add_responses(db, survey, 5, team=None, perspective="leader")
    report = gap_report(fresh(db, survey), by="team").to_dict()
    assert [group["team"] for group in report["groups"]] == ["North", "Outside", "South"]
    assert "Idle" not in [group["team"] for group in report["groups"]]
    assert report["groups"][2]["dimensions"][0]["customer"] == {
        "n": 0, "mean": None, "sd": None, "ci": None, "top_box": None, "suppressed": True}
    assert report["dimensions"][0]["leader"]["n"] == 5  # team-less leaders: whole survey only
    assert all(group["dimensions"][0]["leader"]["n"] == 0 for group in report["groups"])
    # With a team filter, only that team is listed.
    filtered = gap_report(fresh(db, survey), team=north, by="team").to_dict()
    assert [group["team"] for group in filtered["groups"]] == ["North"]
    assert filtered["filters"] == {"team": "North", "by": "team", "from": None, "to": None}
    assert idle.id  # exists, outside the scope, no data


def test_min_n_defaults_to_the_setting(app, db, survey):
    assert gap_report(fresh(db, survey)).to_dict()["min_n"] == 5
    app.config["MIN_N"] = 2
    add_responses(db, survey, 3)  # published in batches of the setting too: one batch of 2, 1 waits
    report = gap_report(fresh(db, survey)).to_dict()
    assert report["min_n"] == 2 and report["dimensions"][0]["customer"]["suppressed"] is False
    assert report["dimensions"][0]["customer"]["n"] == 2
    assert gap_report(fresh(db, survey), min_n=5).to_dict()["dimensions"][0]["customer"]["suppressed"] is True


def test_empty_survey_reports_zeroes(db, survey):
    report = gap_report(fresh(db, survey), by="month").to_dict()
    assert report["groups"] == []
    assert report["dimensions"][0]["customer"]["n"] == 0
    assert report["care_index"] == {"customer": None, "staff": None, "leader": None}
    assert report["indifference_rate"] is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"by": "week"}, "by"),
        ({"month_from": "2026-3"}, "from"),
        ({"month_to": "2026-00"}, "to"),
        ({"month_from": "2026-04", "month_to": "2026-03"}, "from"),
        ({"min_n": 0}, "min_n"),
        ({"min_n": True}, "min_n"),
    ],
)
def test_invalid_arguments_raise_report_error(db, survey, kwargs, field):
    with pytest.raises(ReportError) as caught:
        gap_report(survey, **kwargs)
    assert caught.value.field == field
