"""Open links for counters and receipts: QR codes, one answer per browser, a rate limit per address."""

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from perception.core.models import FollowUp, OpenLink, Response
from perception.invitations.open_link_service import open_link_url, qr_png
from tests.helpers import answers_for, csrf_token, login, make_survey, make_team, make_user, post_form


def make_link(client, survey, team, label="Receipts"):
    login(client, make_user("leader", email="lead@example.com"))
    response = post_form(client, f"/leaders/surveys/{survey.slug}/open-links", {"team": team.name, "label": label})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return OpenLink.query.one()


def answer(browser, url, score=4, survey=None):
    opened = browser.get(urlsplit(url).path)
    if opened.status_code != 303:
        return opened
    assert opened.headers["Location"].endswith("/s/o/answer")
    return post_form(browser, "/s/o/answer", answers_for(survey.items, score))


def test_a_leader_makes_an_open_link_and_downloads_its_qr_code(client, db):
    survey, team = make_survey(), make_team()
    link = make_link(client, survey, team)
    url = open_link_url(link)
    assert url.startswith("http://perception.test/s/o/") and len(url.rsplit("/", 1)[1]) >= 40
    assert url.rsplit("/", 1)[1] not in repr(db.session.execute(select(OpenLink.__table__)).all())
    page = client.get(f"/leaders/surveys/{survey.slug}/open-links").get_data(as_text=True)
    assert url in page and "Receipts" in page

    png = client.get(f"/leaders/open-links/{link.id}/qr.png?download=1")
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.data == qr_png(url)  # the QR code encodes exactly the open link
    assert "attachment" in png.headers["Content-Disposition"] and ".png" in png.headers["Content-Disposition"]
    svg = client.get(f"/leaders/open-links/{link.id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert client.get(f"/leaders/open-links/{link.id}/qr.gif").status_code == 404


def test_staff_and_visitors_cannot_make_or_see_open_links(client, db):
    survey, team = make_survey(), make_team()
    assert client.get(f"/leaders/surveys/{survey.slug}/open-links").status_code == 302
    login(client, make_user("staff", team=team))
    assert client.get(f"/leaders/surveys/{survey.slug}/open-links").status_code == 403
    assert client.get("/leaders/open-links/1/qr.png").status_code == 403


def test_each_browser_answers_once_and_responses_record_the_open_channel(app, client, db):
    survey, team = make_survey(), make_team()
    url = open_link_url(make_link(client, survey, team))
    first = app.test_client()

    assert answer(first, url, survey=survey).status_code == 303
    again = first.get(urlsplit(url).path)
    assert again.status_code == 200 and "You already answered" in again.get_data(as_text=True)
    assert "You already answered" in answer(first, url, survey=survey).get_data(as_text=True)
    assert answer(app.test_client(), url, survey=survey).status_code == 303  # another browser

    responses = Response.query.all()
    assert len(responses) == 2
    assert {(r.channel, r.team_id, r.invitation_id, r.respondent) for r in responses} == {("open", team.id, None, None)}


def test_the_same_form_sent_twice_stores_one_response(app, client, db):
    """An attacker's read: the form of one visit sent twice (a double click without JavaScript, a phone
    resending after a dropped connection) stored two responses, and two follow-ups when low: the second
    request leaves before the first answer's "answered" cookie comes back. Each visit now has a value of
    its own in the session, and its answer's unique hash stores one response; the second send gets
    "you already answered", and its count against the limits is given back."""
    app.config["OPEN_LINK_RATE_LIMIT"] = "2 per hour"
    survey, team = make_survey(), make_team()
    url = open_link_url(make_link(client, survey, team))
    browser = app.test_client()
    assert browser.get(urlsplit(url).path).status_code == 303
    body = answers_for(survey.items, 1) | {"csrf_token": csrf_token(browser, "/s/o/answer")}
    sent_with = browser.get_cookie("session").value  # what both clicks carry
    assert browser.post("/s/o/answer", data=body).status_code == 303
    again = app.test_client()
    again.set_cookie("session", sent_with)
    second = again.post("/s/o/answer", data=body)
    assert second.status_code == 200 and "You already answered" in second.get_data(as_text=True)
    assert Response.query.count() == 1 and FollowUp.query.count() == 1
    reopened = again.get(urlsplit(url).path)  # its answer's cookie may have been lost: this one set it (a review)
    assert reopened.status_code == 200 and "You already answered" in reopened.get_data(as_text=True)
    assert answer(app.test_client(), url, survey=survey).status_code == 303  # a new visit answers (2 of 2)
    assert Response.query.count() == 2


def test_an_address_may_send_only_a_few_responses(app, client, db):
    app.config["OPEN_LINK_RATE_LIMIT"] = "2 per hour"
    survey, team = make_survey(), make_team()
    url = open_link_url(make_link(client, survey, team))

    results = [answer(app.test_client(), url, survey=survey) for _ in range(4)]

    assert [result.status_code for result in results] == [303, 303, 429, 429]
    assert 1 <= int(results[2].headers["Retry-After"]) <= 3600  # when to try again, as every 429 says
    assert Response.query.count() == 2
    other_address = app.test_client()
    other_address.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert answer(other_address, url, survey=survey).status_code == 303


def test_a_form_with_missing_answers_is_shown_again_and_not_counted(app, client, db):
    app.config["OPEN_LINK_RATE_LIMIT"] = "1 per hour"
    survey, team = make_survey(), make_team()
    url = open_link_url(make_link(client, survey, team))
    browser = app.test_client()
    browser.get(urlsplit(url).path)
    incomplete = post_form(browser, "/s/o/answer", {})
    assert incomplete.status_code == 400 and "Please choose an answer" in incomplete.get_data(as_text=True)
    assert post_form(browser, "/s/o/answer", answers_for(survey.items)).status_code == 303  # not rate-limited


def test_switched_off_unknown_and_closed_links(app, client, db):
    survey, team = make_survey(), make_team()
    link = make_link(client, survey, team)
    url = open_link_url(link)
    toggle = f"/leaders/open-links/{link.id}/active"
    post_form(client, toggle, {}, form_url=f"/leaders/surveys/{survey.slug}/open-links")
    assert app.test_client().get(urlsplit(url).path).status_code == 410
    post_form(client, toggle, {}, form_url=f"/leaders/surveys/{survey.slug}/open-links")
    assert app.test_client().get(urlsplit(url).path).status_code == 303
    assert app.test_client().get("/s/o/" + "x" * 43).status_code == 404
    assert app.test_client().get("/s/o/answer").status_code == 404  # no link in this visit
    survey.status = "closed"
    db.session.commit()
    assert app.test_client().get(urlsplit(url).path).status_code == 410


def test_a_link_of_a_team_the_wave_no_longer_covers_is_closed(app, client, db):
    """An attacker's read: after an admin scoped the wave away from the link's team, the link still took
    answers for that team, which the wave no longer asks."""
    team, other = make_team("Harbour Street"), make_team("Quay Road")
    survey = make_survey(teams=[team])
    url = urlsplit(open_link_url(make_link(client, survey, team))).path
    visitor = app.test_client()
    assert visitor.get(url).status_code == 303
    token = csrf_token(visitor, "/s/o/answer")  # the form is open in the visitor's browser
    survey.teams = [other]
    db.session.commit()
    assert app.test_client().get(url).status_code == 410
    sent = visitor.post("/s/o/answer", data={**answers_for(survey.items, 4), "csrf_token": token})
    assert sent.status_code == 410
    assert db.session.execute(select(Response)).first() is None


def test_a_forged_answered_cookie_is_ignored(app, client, db):
    survey, team = make_survey(), make_team()
    url = open_link_url(make_link(client, survey, team))
    browser = app.test_client()
    browser.set_cookie("perception_answered", "[1, 2, 3]", path="/s/")
    assert answer(browser, url, survey=survey).status_code == 303
    cookie = browser.get_cookie("perception_answered", path="/s/")
    assert cookie is not None and re.fullmatch(r"[\w.\-]+", cookie.value)
    assert cookie.http_only
