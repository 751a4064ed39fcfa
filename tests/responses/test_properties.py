"""Property tests (hypothesis) through the real app and database: the CSV importer and the customer
form take any input without a traceback or a 500, and write all or nothing; NUL characters (which
PostgreSQL text cannot hold) are refused up front everywhere."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from perception.accounts.service import create_api_token
from perception.core.models import Response
from tests.helpers import csrf_token, login, make_invitation, make_survey, make_team, make_user, open_link
from tests.reports_support import items_by_key, write_csv

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HOSTILE = ["", " ", "'; DROP TABLE responses; --", "<script>alert(1)</script>", "=1+2", "\x00", "\r\n", "é漢🙂",
           "a" * 300]
text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
score = st.one_of(st.sampled_from(["", "1", "2", "3", "4", "5", "0", "6", "-1", "3.5", " 4 ", "x"]), text)


def responses_stored(db):
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(Response)).scalar()


# --- the CSV importer (`flask import-responses`) ---------------------------------------------------
HEADER = ["perspective", "respondent", "team", "submitted_at", "trust_believed", "trust_reliable",
          "predicted:trust_believed", "comment", "nps"]
row = st.tuples(
    st.one_of(st.sampled_from(["customer", "staff", "leader", "Customer", "boss"]), text),
    text, text,
    st.one_of(st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-02 09:30", "2026-13-01", "yesterday", ""]), text),
    score, score, score, text,
    st.one_of(st.sampled_from(["", "0", "10", "11", "-1", "7"]), text),
).map(list)


@pytest.fixture
def import_survey(db):
    return make_survey("imp", items=items_by_key(db, ["trust_believed", "trust_reliable"]))


@SETTINGS
@given(rows=st.lists(row, min_size=1, max_size=6))
def test_the_importer_writes_every_row_or_none_and_never_crashes(import_survey, runner, db, tmp_path, rows):
    before = responses_stored(db)
    path = write_csv(tmp_path / "random.csv", HEADER, rows)
    result = runner.invoke(args=["import-responses", path, "--survey", "imp", "--create-teams"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2), result.output
    added = responses_stored(db) - before
    if result.exit_code == 0:  # rows an earlier example stored are skipped: importing again adds nothing
        assert f"Imported {added} responses" in result.stdout, result.stdout
    else:
        assert added == 0 and "Nothing was imported" in result.stderr, result.stderr


EXAMPLES = itertools.count()


@SETTINGS
@given(valid=st.lists(st.sampled_from(["1", "2", "3", "4", "5"]), min_size=3, max_size=3),
       broken=st.integers(0, 2), bad=score.filter(lambda value: value.strip() not in {"1", "2", "3", "4", "5"}))
def test_a_file_with_one_bad_score_writes_nothing(import_survey, runner, db, tmp_path, valid, broken, bad):
    example = next(EXAMPLES)  # respondents of their own: an earlier example's rows would be skipped as stored
    rows = [["customer", f"c{example}-{index}", "North", "2026-03-01T10:00:00Z", value, value, "", "", ""]
            for index, value in enumerate(valid)]
    rows[broken][4] = bad
    before = responses_stored(db)
    # CRLF line ends: the csv writer then quotes a lone "\r" in a cell (with "\n" it would not).
    path = write_csv(tmp_path / "bad.csv", HEADER, rows, line_ending="\r\n")
    result = runner.invoke(args=["import-responses", path, "--survey", "imp", "--create-teams"])
    if bad.strip() == "":  # an empty score is an unanswered item: the file is valid
        assert result.exit_code == 0 and responses_stored(db) - before == 3, result.output
    else:
        assert result.exit_code == 2 and responses_stored(db) == before, result.output


# --- the customer form -------------------------------------------------------------------------
@pytest.fixture
def form_survey(db):
    return make_survey("wave-1", items=items_by_key(db, ["trust_believed", "trust_reliable"]))


def _number_in(value, low, high):
    try:  # the form coerces with int(): " 4 " and "+4" are a 4
        return low <= int(value) <= high
    except ValueError:
        return False


def _valid(answers, extra):
    scores_ok = all(_number_in(value, 1, 5) for value in answers.values())
    # Optional fields: blank (whitespace too) means not answered.
    nps_ok = extra.get("nps", "").strip() == "" or _number_in(extra["nps"], 0, 10)
    consent_ok = extra.get("contact_consent", "").strip() == "" or extra["contact_consent"] in {"yes", "no"}
    return scores_ok and nps_ok and consent_ok and len(extra.get("comment", "")) <= 5000


@SETTINGS
@given(answers=st.fixed_dictionaries({"item_trust_believed": score, "item_trust_reliable": score}),
       extra=st.dictionaries(st.sampled_from(["nps", "comment", "contact_consent", "contact_phone", "junk",
                                              "item_unknown"]), text, max_size=4))
def test_any_customer_form_is_stored_only_when_valid_and_never_500s(app, db, form_survey, answers, extra):
    client = app.test_client()
    _, token = make_invitation(form_survey, make_team())
    assert open_link(client, token).status_code == 303
    before = responses_stored(db)
    response = client.post("/s/answer", data={"csrf_token": csrf_token(client, "/s/answer"), **answers, **extra})
    stored = responses_stored(db) - before
    assert response.status_code in (303, 400), response.status_code
    assert stored == (1 if response.status_code == 303 else 0)
    if stored:
        assert all(_number_in(value, 1, 5) for value in answers.values())
    if not _valid(answers, extra):
        assert stored == 0, (answers, extra)


# --- NUL characters, which PostgreSQL text cannot hold -------------------------------------------
@pytest.mark.parametrize("where", ["path", "query", "form", "api-query", "api-json"])
def test_nul_characters_are_refused_up_front(app, client, db, where):
    make_survey("wave-1")
    team = make_team()
    leader = make_user("leader", team=team)
    api = {"Authorization": f"Bearer {create_api_token(leader, 'nul')[1]}"}
    login(client, leader)
    if where == "path":
        response = client.get("/leaders/surveys/wave%00/dashboard")
    elif where == "query":
        response = client.get("/leaders/surveys/wave-1/dashboard?team=x%00")
    elif where == "form":
        response = client.post("/account/tokens", data={"csrf_token": csrf_token(client, "/account/tokens"),
                                                        "name": "till\x00"})
    elif where == "api-query":
        response = client.get("/api/v1/surveys/wave-1/responses?team=x%00", headers=api)
    else:
        response = client.post("/api/v1/invitations", headers=api,
                               json={"survey": "wave-1", "team": team.name, "name": "A\x00", "deliver": "none"})
    assert response.status_code in (400, 404, 422), response.status_code
    if where.startswith("api"):
        assert set(response.get_json()) == {"error", "field"}
    assert responses_stored(db) == 0
