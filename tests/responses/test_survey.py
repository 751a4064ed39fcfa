"""The customer's path: link, form, validation, thanks, exactly one response."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from perception.core.models import Answer, Invitation, Response, utcnow
from perception.core.tokens import hash_token
from tests.helpers import answers_for, csrf_token, make_invitation, make_survey, make_team, post_form


@pytest.fixture
def survey(db):
    return make_survey()


def _start(client, token):
    response = client.get(f"/s/{token}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/s/answer")
    return response


def test_token_is_stored_only_as_hash(db, survey):
    invitation, token = make_invitation(survey)
    assert len(token) >= 22  # >= 128 bits, url-safe base64
    assert invitation.token_hash == hash_token(token)
    assert token not in invitation.token_hash


def test_link_redirects_to_tokenless_url_and_marks_opened(client, db, survey):
    invitation, token = make_invitation(survey)
    response = _start(client, token)
    assert token not in response.headers["Location"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    db.session.refresh(invitation)
    assert invitation.state == "opened"
    assert invitation.opened_at is not None


def test_form_shows_customer_wordings_as_accessible_radio_groups(client, db, survey):
    _invitation, token = make_invitation(survey, name="Dana")
    _start(client, token)
    page = client.get("/s/answer")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for item in survey.items:
        assert item.customer_text in html
        assert item.staff_text not in html
    assert html.count("<fieldset") == len(survey.items) + 2  # plus the recommend and the may-we-contact-you questions
    assert html.count("<legend") == len(survey.items) + 2
    assert 'type="radio"' in html
    assert "plotly" not in html
    assert "Dana, how did we treat you?" in html


def test_valid_submit_stores_response_and_answers_once(client, db, survey):
    invitation, token = make_invitation(survey)
    _start(client, token)
    # The form as loaded in the tab: a double click or a second tab sends it again.
    data = answers_for(survey.items, 2) | {"comment": "Kept waiting", "nps": "3",
                                           "csrf_token": csrf_token(client, "/s/answer")}
    response = client.post("/s/answer", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/s/thanks")
    thanks = client.get("/s/thanks").get_data(as_text=True)
    assert "Thank you" in thanks
    assert "may contact you" in thanks
    stored = db.session.execute(select(Response)).scalar_one()
    assert (stored.perspective, stored.comment, stored.nps, stored.team_id) == ("customer", "Kept waiting", 3,
                                                                              invitation.team_id)
    assert sorted(a.score for a in stored.answers) == [2] * len(survey.items)
    db.session.refresh(invitation)
    assert invitation.state == "answered"

    again = client.post("/s/answer", data=data)
    assert again.status_code == 200
    assert "You already answered, thank you" in again.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 1
    assert db.session.execute(select(func.count()).select_from(Answer)).scalar() == len(survey.items)


def test_answered_link_reopened_says_so(client, db, survey):
    _invitation, token = make_invitation(survey)
    _start(client, token)
    post_form(client, "/s/answer", answers_for(survey.items))
    fresh = client.application.test_client()
    response = fresh.get(f"/s/{token}")
    assert response.status_code == 410
    assert "already answered" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", ["nope", "x" * 43, "' OR 1=1 --", "%00", "a" * 500])
def test_unknown_link_is_a_friendly_404(client, db, survey, token):
    response = client.get(f"/s/{token}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "We could not find this survey" in html
    assert "Traceback" not in html


def test_expired_link_is_410(client, db, survey):
    _invitation, token = make_invitation(survey, now=utcnow() - timedelta(days=30))
    response = client.get(f"/s/{token}")
    assert response.status_code == 410
    assert "closed" in response.get_data(as_text=True)


def test_closed_survey_link_is_410(client, db, survey):
    _invitation, token = make_invitation(survey)
    survey.status = "closed"
    db.session.commit()
    assert client.get(f"/s/{token}").status_code == 410


def test_a_link_of_a_team_the_wave_no_longer_covers_is_410(app, client, db):
    """A review: an admin changed the wave's teams after inviting; the invitation still took an answer
    for a team the wave no longer asks (as open links did)."""
    team, other = make_team("Harbour Street"), make_team("Quay Road")
    survey = make_survey(teams=[team])
    _invitation, token = make_invitation(survey, team)
    opened = app.test_client()
    _start(opened, token)
    form_token = csrf_token(opened, "/s/answer")  # the form is open in the customer's browser
    survey.teams = [other]
    db.session.commit()
    assert client.get(f"/s/{token}").status_code == 410
    sent = opened.post("/s/answer", data={**answers_for(survey.items, 4), "csrf_token": form_token})
    assert sent.status_code == 410 and db.session.execute(select(func.count(Response.id))).scalar() == 0
    survey.teams = []  # a wave of the whole business asks every team
    db.session.commit()
    assert client.get(f"/s/{token}").status_code == 303


def test_answer_page_without_link_is_404(client, db):
    assert client.get("/s/answer").status_code == 404


@pytest.mark.parametrize("bad", ["0", "6", "abc", "", "4.5", "-1"])
def test_out_of_range_scores_rerender_with_field_message(client, db, survey, bad):
    _invitation, token = make_invitation(survey)
    _start(client, token)
    data = answers_for(survey.items, 3)
    first = f"item_{survey.items[0].key}"
    data[first] = bad
    response = post_form(client, "/s/answer", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Please check the answer marked below" in html and "Please check 1 answer" not in html
    assert f'href="#{first}"' in html
    second = f"item_{survey.items[1].key}"
    assert re.search(rf'<input checked id="{second}-2" name="{second}"', html)  # other answers are kept
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 0


def test_missing_answers_are_named(client, db, survey):
    _invitation, token = make_invitation(survey)
    _start(client, token)
    response = post_form(client, "/s/answer", {})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f"Please check {len(survey.items)} answers" in html
    assert "Please choose an answer from 1 (strongly disagree) to 5 (strongly agree)." in html


@pytest.mark.parametrize("nps", ["11", "-1", "ten"])
def test_bad_recommend_score_rejected(client, db, survey, nps):
    _invitation, token = make_invitation(survey)
    _start(client, token)
    response = post_form(client, "/s/answer", answers_for(survey.items) | {"nps": nps})
    assert response.status_code == 400
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 0


def test_missing_or_tampered_csrf_is_rejected(client, db, survey):
    _invitation, token = make_invitation(survey)
    _start(client, token)
    client.get("/s/answer")
    for data in (answers_for(survey.items), answers_for(survey.items) | {"csrf_token": "forged"}):
        response = client.post("/s/answer", data=data)
        assert response.status_code == 400
        assert "expired" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 0


def test_ten_megabyte_comment_is_refused_with_a_message(client, db, survey):
    _invitation, token = make_invitation(survey)
    _start(client, token)
    response = post_form(client, "/s/answer", answers_for(survey.items) | {"comment": "x" * (10 * 1024 * 1024)})
    assert response.status_code == 413
    assert "shorten your comment" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 0


def test_overlong_comment_under_body_limit_gets_field_message(client, db, survey):
    _invitation, token = make_invitation(survey)
    _start(client, token)
    response = post_form(client, "/s/answer", answers_for(survey.items) | {"comment": "x" * 6000})
    assert response.status_code == 400
    assert "Please keep your comment under 5,000 characters." in response.get_data(as_text=True)


def test_unicode_and_html_comment_stored_as_typed(client, db, survey):
    invitation, token = make_invitation(survey)
    _start(client, token)
    comment = "<script>alert('x')</script> Zoë & 日本語 👍"
    post_form(client, "/s/answer", answers_for(survey.items) | {"comment": comment})
    stored = db.session.execute(select(Response)).scalar_one()
    assert stored.comment == comment


def test_link_guessing_is_rate_limited_per_address(client, db, survey):
    statuses = [client.get(f"/s/guess{i}").status_code for i in range(31)]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429
    other = client.application.test_client()
    _invitation, token = make_invitation(survey)
    assert other.get(f"/s/{token}", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 303


def test_invitation_state_not_reopened_after_answer(client, db, survey):
    invitation, token = make_invitation(survey)
    _start(client, token)
    post_form(client, "/s/answer", answers_for(survey.items))
    client.get(f"/s/{token}")
    assert db.session.get(Invitation, invitation.id).state == "answered"


def test_a_comment_keeps_no_control_characters_for_an_operators_terminal(app, client, db, runner):
    """An attacker's read: a comment holding ESC sequences was stored as typed and written raw by
    `export-responses` to stdout, where they rewrite lines already shown, retitle the window or write
    the clipboard. Control characters other than tab and line breaks are dropped as the form reads it."""
    team = make_team()
    survey = make_survey(teams=[team])
    _invitation, token = make_invitation(survey, team, email="e@example.org")
    client.get(f"/s/{token}")
    typed = "fine\x1b[2K\x1b[1A\x1b]0;owned\x07\x1b]52;c;Y3VybA==\x07\x08\x0b\x7f\x9b\tline one\r\nline two\rthree"
    data = answers_for(survey.items) | {"csrf_token": csrf_token(client, "/s/answer"), "comment": typed}
    assert client.post("/s/answer", data=data).status_code == 303
    assert db.session.execute(select(Response.comment)).scalar_one() == (
        "fine[2K[1A]0;owned]52;c;Y3VybA==\tline one\r\nline two\nthree")
    result = runner.invoke(args=["export-responses", "--survey", survey.slug])
    assert result.exit_code == 0 and "line two" in result.output and "\x1b" not in result.output


@pytest.mark.parametrize(("key", "value"), [
    ("survey_invitation", [1]), ("survey_invitation", {"a": 1}), ("survey_invitation", 2**70),
    ("survey_invitation", True), ("survey_open_link", 2**70), ("survey_open_link", [2**70, "v"]),
    ("survey_recovery", 2**70), ("survey_link", "é" * 16), ("survey_link", "a"), ("account_link", 2**70)])
def test_a_customer_session_holding_an_odd_value_finds_nothing(app, db, key, value):
    """A robustness hunt: values of another shape in the signed session (only a forged one holds them)
    reached a lookup and answered 500, and an id beyond 64 bits broke the language choice of the error
    page itself. They find nothing: the unknown-link page."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    browser = app.test_client()
    _invitation, token = make_invitation(make_survey(), make_team())
    browser.get(f"/s/{token}")  # a real session, then one of its values changed
    with browser.session_transaction() as session:
        session[key] = value
    page = {"survey_invitation": "/s/answer", "survey_open_link": "/s/o/answer", "survey_recovery": "/s/r/answer",
            "survey_link": "/s/answer", "account_link": "/set-password"}[key]
    for answer in (browser.get(page), browser.post(page, data={"x": "1"})):
        assert answer.status_code in (400, 404), (answer.status_code, answer.get_data(as_text=True)[:300])
