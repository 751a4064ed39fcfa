"""The care gap across waves (issue #16): `flask trend --json`, GET /api/v1/trend and the leaders'
trend page share one function; every wave's figures are its `gap --json` with the same filters, and
each team's series is that team's group of `gap --by team --json`."""

import json

import pytest
from scipy import stats

from perception.accounts.service import create_api_token
from perception.reports.trend_queries import trend_report
from tests.helpers import bank_items, login, make_responses, make_survey, make_team, make_user
from tests.openapi_check import Api, OpenApiChecker
from tests.reports_support import gap_json
from tests.trend_support import HARBOUR, RIVERSIDE, two_waves


@pytest.fixture
def waves(app, db):
    return two_waves()


def _trend(runner, *args):
    result = runner.invoke(args=["trend", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _assert_waves_equal_gap(runner, waves, *team_args):
    for wave in waves:
        gap = gap_json(runner, "--survey", wave["survey"], *team_args)
        for key in ("dimensions", "care_index", "respondents"):
            assert wave[key] == gap[key], (wave["survey"], team_args, key)


def test_every_figure_of_trend_json_is_the_waves_gap_json(waves, runner):
    document = _trend(runner)
    assert [wave["survey"] for wave in document["waves"]] == ["2026-q3", "2026-q4"]
    _assert_waves_equal_gap(runner, document["waves"])
    assert [entry["team"] for entry in document["teams"]] == [HARBOUR, RIVERSIDE]
    # Each team's series is its group of the wave's report by team (complementary suppression kept).
    by_team = {wave["survey"]: gap_json(runner, "--survey", wave["survey"], "--by", "team")
               for wave in document["waves"]}
    for entry in document["teams"]:
        for wave in entry["waves"]:
            [group] = [group for group in by_team[wave["survey"]]["groups"] if group["team"] == entry["team"]]
            for key in ("dimensions", "care_index", "respondents"):
                assert wave[key] == group[key], (wave["survey"], entry["team"], key)
    harbour = _trend(runner, "--team", HARBOUR)
    assert harbour["teams"] == [] and harbour["filters"]["team"] == HARBOUR
    _assert_waves_equal_gap(runner, harbour["waves"], "--team", HARBOUR)
    assert harbour["tests"] < document["tests"]
    assert runner.invoke(args=["trend", "--team", "Nowhere"]).exit_code == 2


def test_changes_match_scipy_and_are_adjusted_over_the_page(waves, runner):
    document = _trend(runner, "--team", HARBOUR)
    first, second = document["waves"]
    assert first["change"] is None
    change = second["change"]
    assert change["since"] == "2026-q3"
    trust = change["dimensions"][0]
    before, after = [2, 3, 2, 3, 2, 3, 2, 3, 3, 2], [4, 5, 4, 4, 5, 4, 4, 4, 5, 3]
    welch = stats.ttest_ind(after, before, equal_var=False)
    assert trust["customer_mean"]["p"] == pytest.approx(welch.pvalue, rel=1e-9)
    assert trust["customer_mean"]["ci"] == pytest.approx(list(welch.confidence_interval(0.95)), rel=1e-9)
    gaps = {wave["survey"]: wave["dimensions"][0]["gap"]["value"] for wave in document["waves"]}
    assert trust["gap"]["value"] == pytest.approx(gaps["2026-q4"] - gaps["2026-q3"], rel=1e-12)
    p_values = [test["p"] for d in change["dimensions"] for test in (d["customer_mean"], d["gap"])]
    expected = stats.false_discovery_control(p_values, method="bh")
    adjusted = [test["p_adjusted"] for d in change["dimensions"] for test in (d["customer_mean"], d["gap"])]
    assert adjusted == pytest.approx(list(expected), rel=1e-12)
    assert document["tests"] == len(p_values)
    assert document["sentence"].startswith(f"{HARBOUR}: ")
    assert "since 2026-q3" in document["sentence"] and "95% CI" in document["sentence"]


def test_a_withheld_side_gives_null_changes(waves, runner):
    riverside = _trend(runner, "--team", RIVERSIDE)
    second = riverside["waves"][1]
    assert second["respondents"]["customer"] == 0  # the 3 answers wait for their batch
    assert all(cell["customer"]["mean"] is None for cell in second["dimensions"])
    for dimension in second["change"]["dimensions"]:
        assert dimension["customer_mean"] == {"value": None, "ci": None, "p": None, "p_adjusted": None}
        assert dimension["gap"]["value"] is None and dimension["top_box_gap"] is None
    assert second["change"]["care_index"]["customer"] is None
    assert "No change" in riverside["sentence"] or "Too few" in riverside["sentence"]


def test_the_api_answers_what_the_cli_prints_within_the_tokens_scope(waves, client, runner, db):
    checker = OpenApiChecker(client.get("/api/v1/openapi.json").get_json())
    admin = Api(client, checker, create_api_token(make_user("admin", email="boss@example.com"), "t")[1])
    answer = admin.get("/api/v1/trend")
    assert answer.status_code == 200 and answer.get_json() == _trend(runner)
    assert admin.get(f"/api/v1/trend?team={HARBOUR}").get_json() == _trend(runner, "--team", HARBOUR)
    assert admin.get("/api/v1/trend?team=Nowhere").get_json()["field"] == "team"
    assert admin.get("/api/v1/trend?tema=x").get_json()["field"] == "tema"

    team_leader = make_user("leader", team=make_team(RIVERSIDE), email="river@example.com")
    scoped = Api(client, checker, create_api_token(team_leader, "t")[1])
    own = scoped.get("/api/v1/trend")
    assert own.status_code == 200 and own.get_json() == _trend(runner, "--team", RIVERSIDE)
    other = scoped.get(f"/api/v1/trend?team={HARBOUR}")
    assert other.status_code == 400 and other.get_json()["field"] == "team"

    narrow = create_api_token(make_user("leader", email="till@example.com"), "till", scopes=["invitations:write"])[1]
    refused = Api(client, checker, narrow).get("/api/v1/trend")
    assert refused.status_code == 403 and refused.get_json()["field"] == "scope"
    staff = Api(client, checker, create_api_token(make_user("staff", email="s@example.com"), "t")[1])
    assert staff.get("/api/v1/trend").status_code == 403


def test_the_page_shows_charts_tables_and_the_sentence_within_scope(waves, client, db):
    login(client, make_user("leader", team=make_team(HARBOUR), email="harbour@example.com"))
    page = client.get("/leaders/trend")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count('type="application/json"') >= 2 and "plotly" in text
    assert "<table" in text and "2026-q3" in text and "2026-q4" in text
    assert "Harbour Street branch: the gap on" in text or "Harbour Street branch: customers" in text
    assert RIVERSIDE not in text
    assert client.get(f"/leaders/trend?team={RIVERSIDE}").status_code == 400


def test_before_any_wave_and_with_a_prefix(app, db, client, runner):
    empty = _trend(runner)
    assert empty["waves"] == [] and empty["sentence"].startswith("No wave has been opened yet")
    login(client, make_user("leader", email="new@example.com"))
    page = client.get("/leaders/trend")
    assert page.status_code == 200 and "No wave has been opened yet." in page.get_data(as_text=True)
    two_waves()
    assert [wave["survey"] for wave in _trend(runner, "--survey-prefix", "2026-q4")["waves"]] == ["2026-q4"]
    assert _trend(runner, "--survey-prefix", "2026-q4")["waves"][0]["change"] is None


def test_a_small_team_cannot_be_read_off_the_whole_business_minus_another_team(app, db):
    items = bank_items()
    first = items[0]
    second = next(item for item in items if item.dimension_id != first.dimension_id)
    small, large = make_team("A"), make_team("B")
    survey = make_survey("w1", items=[first, second])
    make_responses(survey, 5, team=small, scores={first: 3, second: 1})
    # Answers of another pattern wait for a batch of their own (perception/insights/publication.py).
    make_responses(survey, 2, team=small, scores={first: 3})
    make_responses(survey, 10, team=large, scores={first: 5, second: 5})
    document = trend_report(min_n=8)  # batches of 5: a team of one batch is small for this report

    def customers(wave):
        [cell] = [cell for cell in wave["dimensions"] if cell["key"] == second.dimension.key]
        return cell["customer"]

    whole = customers(document["waves"][0])
    assert (whole["n"], whole["suppressed"]) == (15, False)
    teams = {entry["team"]: customers(entry["waves"][0]) for entry in document["teams"]}
    assert teams["A"]["suppressed"] and teams["A"]["mean"] is None
    # B alone would be publishable, but whole minus B is A's 5 answers: B is withheld as well.
    assert teams["B"]["suppressed"] and teams["B"]["mean"] is None and teams["B"]["n"] == 10
