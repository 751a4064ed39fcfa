"""Steps that outlive the session ask for the password again (accounts/recent_password.py): inviting a
person, changing a role or team, activating an account, adding a webhook endpoint. An attacker's read:
whoever held an admin's session for a moment (a remember-me cookie, a laptop left open) could invite
themselves as an admin or add a webhook that fed them every follow-up, both outlasting the logout."""

import time

import pytest
from sqlalchemy import select

from perception.accounts.password_service import request_password_reset
from perception.accounts.recent_password import CONFIRM_MESSAGE, CONFIRMED_AT_KEY
from perception.core.models import AuditEvent, User, WebhookEndpoint
from tests.accounts.test_people import newest_link_path, set_password
from tests.helpers import PASSWORD, csrf_token, login, make_team, make_user, post_form

CONFIRM = "/account/confirm"


@pytest.fixture
def admin(db):
    return make_user("admin", email="ada@example.com", name="Ada Admin")


@pytest.fixture
def remembered(app, admin):
    """A browser holding only the admin's remember-me cookie: logged in, no password given."""
    first = app.test_client()
    assert post_form(first, "/login", {"email": admin.email, "password": PASSWORD, "remember": "y"}).status_code == 302
    browser = app.test_client()
    browser.set_cookie("remember_token", first.get_cookie("remember_token").value)
    assert browser.get("/admin/people").status_code == 200
    return browser


def _password_given_minutes_ago(client, minutes):
    with client.session_transaction() as session:
        session[CONFIRMED_AT_KEY] = [session[CONFIRMED_AT_KEY][0], int(time.time() - 60 * minutes)]


def _sent_to_confirm(response, back):
    return response.status_code == 303 and response.headers["Location"].endswith(f"{CONFIRM}?next={back}")


def _users(db):
    db.session.expire_all()
    return {user.email: user for user in db.session.execute(select(User)).scalars()}


def test_a_remembered_session_confirms_the_password_before_inviting(app, db, remembered, admin):
    token = csrf_token(remembered, "/admin/people")
    fields = {"csrf_token": token, "email": "mallory@example.net", "role": "admin", "team": ""}
    refused = remembered.post("/admin/people/invite", data=fields)
    assert _sent_to_confirm(refused, "/admin/people/invite")
    assert "mallory@example.net" not in _users(db)
    page = remembered.get("/admin/people/invite")  # the page itself asks first: nothing typed is lost
    assert _sent_to_confirm(page, "/admin/people/invite")
    confirm = remembered.get(page.headers["Location"])
    assert confirm.status_code == 200 and CONFIRM_MESSAGE in confirm.get_data(as_text=True)

    wrong = post_form(remembered, f"{CONFIRM}?next=/admin/people/invite", {"password": "guess"})
    assert wrong.status_code == 400 and "That is not your password." in wrong.get_data(as_text=True)
    failure = db.session.execute(select(AuditEvent).where(AuditEvent.action == "login.failure")).scalar_one()
    assert failure.details == {"where": "confirm"} and failure.actor_id == admin.id
    right = post_form(remembered, f"{CONFIRM}?next=/admin/people/invite", {"password": PASSWORD})
    assert right.status_code == 302 and right.headers["Location"] == "/admin/people/invite"

    invited = post_form(remembered, "/admin/people/invite", {"email": "kim@example.net", "role": "leader", "team": ""})
    assert invited.status_code == 302 and _users(db)["kim@example.net"].role == "leader"


def test_the_password_counts_for_recent_password_minutes(app, db, admin):
    client = app.test_client()
    login(client, admin)  # the login's password counts
    assert client.get("/admin/people/invite").status_code == 200
    _password_given_minutes_ago(client, app.config["RECENT_PASSWORD_MINUTES"] - 1)
    assert client.get("/admin/people/invite").status_code == 200
    _password_given_minutes_ago(client, app.config["RECENT_PASSWORD_MINUTES"] + 1)
    assert _sent_to_confirm(client.get("/admin/people/invite"), "/admin/people/invite")
    _password_given_minutes_ago(client, -5)  # a time to come is no proof either
    assert _sent_to_confirm(client.get("/admin/people/invite"), "/admin/people/invite")


def test_role_changes_and_activation_confirm_first_but_the_person_page_shows(app, db, remembered):
    team = make_team("Harbour Street")
    staff = make_user("staff", team=team, email="sam@example.net")
    page = f"/admin/people/{staff.id}"
    assert remembered.get(page).status_code == 200
    refused = post_form(remembered, page, {"role": "admin", "team": ""})
    assert _sent_to_confirm(refused, page) and _users(db)["sam@example.net"].role == "staff"
    staff.active = False
    db.session.commit()
    refused = post_form(remembered, f"{page}/activate", {}, form_url=page)
    assert _sent_to_confirm(refused, page) and not _users(db)["sam@example.net"].active

    post_form(remembered, CONFIRM, {"password": PASSWORD})
    assert post_form(remembered, page, {"role": "leader", "team": str(team.id)}).status_code == 302
    assert post_form(remembered, f"{page}/activate", {}, form_url=page).status_code == 302
    changed = _users(db)["sam@example.net"]
    assert changed.role == "leader" and changed.active


def test_adding_a_webhook_confirms_first(app, db, remembered):
    assert remembered.get("/admin/webhooks").status_code == 200  # the delivery log shows
    fields = {"url": "https://receiver.example.net/hook", "events": "followup.opened"}
    refused = post_form(remembered, "/admin/webhooks", fields)
    assert _sent_to_confirm(refused, "/admin/webhooks")
    assert db.session.execute(select(WebhookEndpoint)).first() is None
    post_form(remembered, CONFIRM, {"password": PASSWORD})
    added = post_form(remembered, "/admin/webhooks", fields)
    assert added.status_code == 200 and db.session.execute(select(WebhookEndpoint)).scalar_one().url == fields["url"]


def test_confirm_tries_share_the_logins_limit_and_next_stays_on_this_site(app, db, remembered):
    away = post_form(remembered, f"{CONFIRM}?next=//evil.example/x", {"password": PASSWORD})
    assert away.status_code == 302 and away.headers["Location"] == "/me"
    injected = post_form(remembered, f"{CONFIRM}?next=/admin%0d%0aX-Evil:%201", {"password": PASSWORD})
    assert injected.status_code == 302 and injected.headers["Location"] == "/me"  # not a 500 (a review)
    app.config["RATELIMIT_ENABLED"] = True
    for _ in range(5):
        assert post_form(remembered, CONFIRM, {"password": "guess"}).status_code == 400
    refused = post_form(remembered, CONFIRM, {"password": PASSWORD})
    assert refused.status_code == 429 and "Too many wrong passwords" in refused.get_data(as_text=True)
    login = post_form(app.test_client(), "/login", {"email": "ada@example.com", "password": PASSWORD})
    assert login.status_code == 429  # one count with the login's, for this account and address


def test_a_new_password_set_through_a_link_counts_as_given(app, db, admin):
    request_password_reset(admin.email)
    db.session.commit()
    client = app.test_client()
    assert set_password(client, newest_link_path(admin.email)).status_code == 302
    assert client.get("/admin/people/invite").status_code == 200


def test_the_mark_is_the_accounts_a_remember_me_cookie_put_into_a_browser_gets_none(app, db, admin):
    """A review: the mark was a bare time, so it stayed in a session whose account had stopped loading
    (logged out on another device), and an admin's copied remember-me cookie put into that browser
    found it there: the attacker's own password, typed at their own login, let them invite an admin."""
    first = app.test_client()
    post_form(first, "/login", {"email": admin.email, "password": PASSWORD, "remember": "y"})
    copied = first.get_cookie("remember_token").value
    attacker = make_user("staff", email="mallory@example.com")
    browser = app.test_client()
    login(browser, attacker)  # a mark of the attacker's, in this browser
    elsewhere = app.test_client()
    login(elsewhere, attacker)
    post_form(elsewhere, "/logout", {}, form_url="/account/tokens")  # this browser's account stops loading
    browser.set_cookie("remember_token", copied)
    assert _sent_to_confirm(browser.get("/admin/people/invite"), "/admin/people/invite")
    with browser.session_transaction() as session:
        session[CONFIRMED_AT_KEY] = [f"{attacker.id}:1", int(time.time())]  # a mark of another account
    assert _sent_to_confirm(browser.get("/admin/people/invite"), "/admin/people/invite")
