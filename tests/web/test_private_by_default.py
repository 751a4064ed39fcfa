"""Small privacy defaults (issue #13, item 9 and remember-me): pages and API answers with personal data
are never cached, a database error's message lists no bound values, "keep me logged in" lasts 30
days, and a JSON body nested too deeply is a 400, not a 500."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from perception.accounts.service import create_api_token
from perception.core.models import Team
from tests.helpers import PASSWORD, login, make_survey, make_team, make_user, post_form


def test_leader_staff_and_api_answers_are_not_cached(client, db):
    survey = make_survey("wave-1")
    leader = make_user("leader", team=make_team())
    login(client, leader)
    for path in ("/leaders/", f"/leaders/surveys/{survey.slug}/dashboard", f"/leaders/surveys/{survey.slug}/gap.csv"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    post_form(client, "/logout", {}, form_url="/leaders/")
    login(client, make_user("staff", team=make_team("Riverside branch")))
    assert client.get("/staff/").headers["Cache-Control"] == "no-store"
    token = create_api_token(leader, "tests")[1]
    answer = client.get(f"/api/v1/surveys/{survey.slug}/gap", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    refused = client.get("/api/v1/surveys", headers={"Authorization": "Bearer pcp_unknown"})
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"


def test_a_database_error_lists_no_bound_value(db):
    # SQLAlchemy's message (what a log line shows) leaves the values out. PostgreSQL's own DETAIL line
    # may still quote a conflicting key; that part is the database's, not a parameter list.
    db.session.execute(insert(Team).values(name="anna@example.com's team"))
    with pytest.raises(IntegrityError) as raised:
        db.session.execute(insert(Team).values(name="anna@example.com's team"))
    db.session.rollback()
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(raised.value)
    assert "[parameters:" not in str(raised.value)


def test_keep_me_logged_in_lasts_thirty_days(client, db):
    user = make_user("leader", team=make_team())
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("remember_token="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    left = expires - datetime.now(UTC)
    assert timedelta(days=29) < left <= timedelta(days=30, minutes=1)


def test_json_nested_too_deeply_is_a_400(client, db):
    token = create_api_token(make_user("leader", team=make_team()), "tests")[1]
    response = client.post("/api/v1/invitations", data="[" * 200000, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "body" and "nested too deeply" in response.get_json()["error"]


def test_an_unhandled_database_error_logs_no_value(app, client, db, caplog):
    # PostgreSQL's own message quotes the conflicting row ("Key (name)=(...) already exists"): the
    # log line names the kind of error and where, never the message.
    address = "anna@" + "example.com"  # never written as one literal: a traceback quotes source lines
    db.session.execute(insert(Team).values(name=address))
    db.session.commit()

    def duplicate():
        db.session.execute(insert(Team).values(name=address))
        return "stored"

    app.add_url_rule("/test-duplicate", "test_duplicate", duplicate)
    with caplog.at_level("ERROR"):
        response = client.get("/test-duplicate")
    assert response.status_code == 500
    assert "IntegrityError" in caplog.text and address not in caplog.text
