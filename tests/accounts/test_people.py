"""People (#15): admins invite by email, change role and team, deactivate and re-activate; the
single-use set-password links of invitations and resets; "Forgot your password?"; their audit lines."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from perception.accounts.password_service import link_url, request_password_reset
from perception.accounts.password_views import FORGOT_MIN_SECONDS
from perception.accounts.service import create_api_token, revoke_api_token
from perception.core.extensions import db
from perception.core.models import AccountToken, AuditEvent, OutboxMessage, User, utcnow
from perception.core.tokens import email_hash
from perception.web.logs import redact
from perception.web.security import pad_to_minimum
from tests.helpers import PASSWORD, csrf_token, login, make_team, make_user, post_form

NEW_PASSWORD = "lantern orchard pebble"


@pytest.fixture
def admin(db):
    return make_user("admin", email="ada@example.com", name="Ada Admin")


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    login(client, admin)
    return client


def account_mails(email=None):
    query = select(OutboxMessage).where(OutboxMessage.kind == "account").order_by(OutboxMessage.id)
    return [row for row in _db_scalars(query) if email is None or row.account_token.user.email == email]


def _db_scalars(query):
    db.session.expire_all()
    return list(db.session.execute(query).scalars())


def newest_link_path(email):
    """The path of the newest set-password link mailed to `email` (as the mail writes it)."""
    row = account_mails(email)[-1]
    return link_url(row.account_token).removeprefix("http://perception.test")


def actions(action=None):
    events = _db_scalars(select(AuditEvent).order_by(AuditEvent.id))
    return [event for event in events if action is None or event.action == action]


def invite(admin_client, email, role="staff", team=None, name=""):
    return post_form(admin_client, "/admin/people/invite",
                     {"email": email, "role": role, "team": str(team.id) if team else "", "name": name})


def set_password(client, path, password=NEW_PASSWORD, confirm=None):
    opened = client.get(path)
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/set-password"), opened.status_code
    return post_form(client, "/set-password", {"password": password, "confirm": confirm or password})


def test_invite_mail_through_smtp_set_password_then_log_in(app, db, admin, admin_client, runner, smtp_server):
    team = make_team("Harbour Street")
    response = invite(admin_client, "Noor@Example.net", role="staff", team=team, name="Noor Haddad")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    user = db.session.execute(select(User).where(User.email == "noor@example.net")).scalar_one()
    assert (user.role, user.team_id, user.name, user.active) == ("staff", team.id, "Noor Haddad", True)
    [row] = account_mails()
    assert (row.status, row.account_token.purpose) == ("pending", "invite")

    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "account mails: sent 1" in result.output
    [mail] = smtp_server.to("noor@example.net")
    assert "set your password" in mail.message["Subject"].lower()
    assert "Ada Admin invited you" in mail.text and "Harbour Street" in mail.text and "72 hours" in mail.text
    link = re.search(r"http://perception\.test(/set-password/[A-Za-z0-9_-]{40,})", mail.text).group(1)
    assert link in mail.html

    newcomer = app.test_client()
    done = set_password(newcomer, link)
    assert done.status_code == 302 and done.headers["Location"].endswith("/me")
    assert newcomer.get("/staff/").status_code == 200  # logged in
    with app.test_client() as later:
        assert post_form(later, "/login", {"email": user.email, "password": NEW_PASSWORD}).status_code == 302
    assert [event.action for event in actions() if event.action.startswith("user.")] == [
        "user.invited", "user.password_set"]
    assert actions("user.invited")[0].actor_id == admin.id
    assert actions("user.invited")[0].details == {"role": "staff", "team_id": team.id}


def test_a_link_works_once_and_unknown_links_get_a_clear_page(app, db, admin_client):
    invite(admin_client, "kim@example.net", role="leader")
    path = newest_link_path("kim@example.net")
    assert set_password(app.test_client(), path).status_code == 302

    again = app.test_client().get(path)
    assert again.status_code == 410 and "This link was already used" in again.get_data(as_text=True)
    unknown = app.test_client().get("/set-password/not-a-real-token-at-all")
    assert unknown.status_code == 404 and "We do not know this link" in unknown.get_data(as_text=True)
    assert unknown.headers["Referrer-Policy"] == "no-referrer" and unknown.headers["Cache-Control"] == "no-store"
    # Without a link in the session, the form is not there either.
    assert app.test_client().get("/set-password").status_code == 404


def test_a_link_expires_after_72_hours(app, db, admin_client, monkeypatch):
    invite(admin_client, "kim@example.net", role="leader")
    path = newest_link_path("kim@example.net")
    made = utcnow()
    monkeypatch.setattr("perception.accounts.password_service.utcnow", lambda: made + timedelta(hours=71, minutes=59))
    assert app.test_client().get(path).status_code == 303  # still works just before

    monkeypatch.setattr("perception.accounts.password_service.utcnow", lambda: made + timedelta(hours=72, minutes=1))
    expired = app.test_client().get(path)
    assert expired.status_code == 410 and "This link has expired" in expired.get_data(as_text=True)


def test_a_link_opened_before_it_expired_cannot_set_the_password_after(app, db, admin_client, monkeypatch):
    invite(admin_client, "kim@example.net", role="leader")
    client = app.test_client()
    assert client.get(newest_link_path("kim@example.net")).status_code == 303
    token = csrf_token(client, "/set-password")
    later = utcnow() + timedelta(hours=73)
    monkeypatch.setattr("perception.accounts.password_service.utcnow", lambda: later)
    refused = client.post("/set-password", data={"csrf_token": token, "password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD})
    assert refused.status_code == 410


def test_a_link_used_by_another_submit_meanwhile_gets_the_link_page_not_an_error(app, db, admin_client):
    invite(admin_client, "kim@example.net", role="leader")
    client = app.test_client()
    assert client.get(newest_link_path("kim@example.net")).status_code == 303
    token = csrf_token(client, "/set-password")
    link = account_mails("kim@example.net")[0].account_token
    assert link.used_at is None  # what this request has read, as a second submit had read it
    # The first of two simultaneous submits commits in between, on another connection.
    with db.engine.begin() as other:
        other.execute(update(AccountToken).where(AccountToken.id == link.id).values(used_at=utcnow()))
    second = client.post("/set-password", data={"csrf_token": token, "password": NEW_PASSWORD,
                                                "confirm": NEW_PASSWORD})
    assert second.status_code == 410 and "This link was already used" in second.get_data(as_text=True)
    assert actions("user.password_set") == []


def test_a_new_link_voids_the_older_one_and_its_unsent_mail(app, db, admin_client):
    invite(admin_client, "kim@example.net", role="leader")
    first = newest_link_path("kim@example.net")
    user = db.session.execute(select(User).where(User.email == "kim@example.net")).scalar_one()
    assert post_form(admin_client, f"/admin/people/{user.id}/invite-again", {},
                     form_url=f"/admin/people/{user.id}").status_code == 302
    assert [row.status for row in account_mails()] == ["cancelled", "pending"]
    assert app.test_client().get(first).status_code == 410
    assert set_password(app.test_client(), newest_link_path("kim@example.net")).status_code == 302


def test_the_set_password_form_keeps_the_password_rules(app, db, admin_client):
    invite(admin_client, "kim@example.net", role="leader")
    client = app.test_client()
    short = set_password(client, newest_link_path("kim@example.net"), password="short")
    assert short.status_code == 400 and "8 to 200 characters" in short.get_data(as_text=True)
    differ = post_form(client, "/set-password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 400 and "The two passwords differ" in differ.get_data(as_text=True)
    assert account_mails()[0].account_token.used_at is None


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app, db):
    known = make_user("staff", email="known@example.com")
    gone = make_user("leader", email="gone@example.com")
    gone.active = False
    db.session.commit()
    pages = {}
    for email in ("known@example.com", "nobody@example.com", "gone@example.com"):
        with app.test_client() as client:
            response = post_form(client, "/forgot-password", {"email": email})
            assert response.status_code == 200
            pages[email] = CSRF_VALUE.sub("", response.get_data(as_text=True))
    assert pages["known@example.com"] == pages["nobody@example.com"] == pages["gone@example.com"]
    assert "If an active account uses this address" in pages["nobody@example.com"]

    [row] = account_mails()
    assert row.account_token.user_id == known.id and row.account_token.purpose == "reset"
    requested = actions("user.password_reset_requested")
    assert [event.target_id for event in requested] == [str(known.id), None, None]
    assert requested[1].details == {"email_hash": email_hash("nobody@example.com")}
    assert all("@" not in str(event.details) for event in actions())

    path = newest_link_path("known@example.com")
    with app.test_client() as client:
        assert set_password(client, path).status_code == 302
    assert post_form(app.test_client(), "/login", {"email": known.email, "password": PASSWORD}).status_code == 401
    assert post_form(app.test_client(), "/login", {"email": known.email, "password": NEW_PASSWORD}).status_code == 302


def test_forgot_password_answers_are_padded_to_one_minimum_time():
    """Whatever work a request did (an account: rows written; no account: less), its answer leaves at
    the same moment. No time is measured here: a clock and a sleep are handed in."""
    now = []

    def sleep(seconds):
        now.append(now[-1] + seconds)

    def handle(work):
        now[:] = [1000.0]
        started = now[-1]
        now.append(now[-1] + work)
        waited = pad_to_minimum(started, FORGOT_MIN_SECONDS, clock=lambda: now[-1], sleep=sleep)
        return waited, now[-1] - started

    unknown, known = handle(0.004), handle(0.031)
    assert unknown[1] == pytest.approx(known[1]) == pytest.approx(FORGOT_MIN_SECONDS)
    assert unknown[0] == pytest.approx(FORGOT_MIN_SECONDS - 0.004)
    assert handle(FORGOT_MIN_SECONDS + 0.2) == (0.0, pytest.approx(FORGOT_MIN_SECONDS + 0.2))  # never shortened
    assert 0.1 <= FORGOT_MIN_SECONDS <= 1


def test_forgot_password_with_a_blank_or_broken_address_re_renders_with_a_field_message(app, db, client):
    for email, message in (("   ", "Please enter your email."), (" no-at-sign ", "Please enter a whole email address")):
        response = post_form(client, "/forgot-password", {"email": email})
        assert response.status_code == 400 and message in response.get_data(as_text=True), email
    assert actions() == [] and account_mails() == []
    # The service does not fail on an address it was given empty either.
    request_password_reset("  ")
    request_password_reset(None)
    assert [event.details for event in actions("user.password_reset_requested")] == [{"email_hash": None}] * 2


CSRF_VALUE = re.compile(r'value="[^"]*"')


def test_forgot_password_is_rate_limited_like_login(client, db):
    make_user("staff", email="known@example.com")
    token = csrf_token(client, "/forgot-password")
    statuses = [client.post("/forgot-password", data={"csrf_token": token, "email": "known@example.com"},
                            environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(account_mails()) == 3
    other = client.post("/forgot-password", data={"csrf_token": token, "email": "known@example.com"},
                        environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert other.status_code == 200


def test_the_login_page_offers_forgot_password(client, db):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password"' in page and "Ask your administrator" not in page


def test_deactivating_refuses_the_old_session_and_api_token_at_once(app, db, admin_client):
    staff = make_user("staff", email="sam@example.com")
    _record, token = create_api_token(staff, "till")
    own = app.test_client()
    login(own, staff)
    assert own.get("/staff/").status_code == 200
    assert app.test_client().get("/api/v1/surveys", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    done = post_form(admin_client, f"/admin/people/{staff.id}/deactivate", {}, form_url=f"/admin/people/{staff.id}",
                     follow_redirects=True)
    assert "sam@example.com is deactivated" in done.get_data(as_text=True)
    assert own.get("/staff/").status_code == 302  # the old session is refused
    api = app.test_client().get("/api/v1/surveys", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    assert post_form(app.test_client(), "/login", {"email": staff.email, "password": PASSWORD}).status_code == 401
    assert [event.action for event in actions() if event.action.startswith("user.")] == ["user.deactivated"]

    post_form(admin_client, f"/admin/people/{staff.id}/activate", {}, form_url=f"/admin/people/{staff.id}")
    assert post_form(app.test_client(), "/login", {"email": staff.email, "password": PASSWORD}).status_code == 302
    assert actions()[-2].action == "user.activated"  # then the login


def test_deactivating_revokes_api_tokens_so_reactivating_does_not_bring_them_back(app, db, admin_client):
    staff = make_user("staff", email="sam@example.com")
    earlier, _old = create_api_token(staff, "old till")
    assert revoke_api_token(staff, earlier.id)
    record, token = create_api_token(staff, "till")
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/surveys", headers=bearer).status_code == 200

    done = post_form(admin_client, f"/admin/people/{staff.id}/deactivate", {}, form_url=f"/admin/people/{staff.id}",
                     follow_redirects=True)
    assert "API tokens are revoked" in done.get_data(as_text=True)
    assert app.test_client().get("/api/v1/surveys", headers=bearer).status_code == 401
    post_form(admin_client, f"/admin/people/{staff.id}/activate", {}, form_url=f"/admin/people/{staff.id}")
    db.session.expire_all()
    assert staff.active
    assert app.test_client().get("/api/v1/surveys", headers=bearer).status_code == 401  # still refused
    assert record.revoked_at is not None
    assert actions("user.deactivated")[0].details == {"api_tokens_revoked": 1}  # the one not revoked yet


def test_deactivating_voids_unused_links(app, db, admin_client):
    invite(admin_client, "kim@example.net", role="leader")
    path = newest_link_path("kim@example.net")
    user = db.session.execute(select(User).where(User.email == "kim@example.net")).scalar_one()
    post_form(admin_client, f"/admin/people/{user.id}/deactivate", {}, form_url=f"/admin/people/{user.id}")
    assert app.test_client().get(path).status_code == 410
    assert [row.status for row in account_mails()] == ["cancelled"]


def test_changing_role_and_team(app, db, admin, admin_client):
    harbour, river = make_team("Harbour Street"), make_team("Riverside")
    staff = make_user("staff", team=harbour, email="sam@example.com")
    url = f"/admin/people/{staff.id}"
    saved = post_form(admin_client, url, {"role": "leader", "team": str(river.id)})
    assert saved.status_code == 302
    db.session.expire_all()
    assert (staff.role, staff.team_id) == ("leader", river.id)
    role_changed, team_changed = actions("user.role_changed") + actions("user.team_changed")
    assert role_changed.details == {"old": "staff", "new": "leader"} and role_changed.actor_id == admin.id
    assert team_changed.details == {"old_team_id": harbour.id, "new_team_id": river.id}

    refused = post_form(admin_client, url, {"role": "staff", "team": ""})
    assert refused.status_code == 400 and "Staff members belong to a team" in refused.get_data(as_text=True)
    bad_team = post_form(admin_client, url, {"role": "leader", "team": "99999"})
    assert bad_team.status_code == 400
    db.session.expire_all()
    assert (staff.role, staff.team_id) == ("leader", river.id)


def test_admins_cannot_lock_themselves_out(app, db, admin, admin_client):
    own = f"/admin/people/{admin.id}"
    demoted = post_form(admin_client, own, {"role": "leader", "team": ""})
    assert demoted.status_code == 400 and "your own account" in demoted.get_data(as_text=True)
    post_form(admin_client, f"{own}/deactivate", {}, form_url=own)
    db.session.expire_all()
    assert admin.active and admin.role == "admin"


def test_the_list_filters_by_search_role_team_and_status(app, db, admin, admin_client):
    river = make_team("Riverside")
    make_user("staff", team=river, email="rosa@example.com", name="Rosa Riverside")
    gone = make_user("leader", email="gone@example.com", name="Gone Leader")
    gone.active = False
    db.session.commit()
    invite(admin_client, "new@example.net", role="leader")

    def names(query=""):
        page = admin_client.get(f"/admin/people{query}")
        assert page.status_code == 200
        return re.findall(r'<th scope="row"><a href="/admin/people/\d+">([^<]+)</a>', page.get_data(as_text=True))

    assert names() == ["Ada Admin", "Gone Leader", "new", "Rosa Riverside"]
    assert names("?q=RIVER") == ["Rosa Riverside"]
    assert names("?role=leader") == ["Gone Leader", "new"]
    assert names(f"?team={river.id}") == ["Rosa Riverside"]
    assert names("?team=none") == ["Ada Admin", "Gone Leader", "new"]
    assert names("?status=inactive") == ["Gone Leader"]
    assert names("?status=invited") == ["new"]
    assert names("?status=active&role=admin") == ["Ada Admin"]
    assert admin_client.get("/admin/people?role=owner").status_code == 400


def test_only_admins_reach_the_people_pages(app, db):
    staff = make_user("staff", email="sam@example.com")
    for role in ("staff", "leader"):
        with app.test_client() as client:
            login(client, make_user(role))
            assert client.get("/admin/people").status_code == 403
            assert client.get("/admin/people/invite").status_code == 403
            token = csrf_token(client, "/account/tokens")
            assert client.post(f"/admin/people/{staff.id}/deactivate", data={"csrf_token": token}).status_code == 403
            assert client.post("/admin/people/invite", data={"csrf_token": token, "email": "x@example.net",
                                                             "role": "admin"}).status_code == 403
    assert app.test_client().get("/admin/people").status_code == 302
    db.session.expire_all()
    assert staff.active and db.session.execute(select(User).where(User.email == "x@example.net")).first() is None


def test_inviting_an_existing_address_is_a_field_error(app, db, admin, admin_client):
    refused = invite(admin_client, "ADA@example.com", role="leader")
    assert refused.status_code == 400 and "already has an account" in refused.get_data(as_text=True)
    staff_without_team = invite(admin_client, "kim@example.net", role="staff")
    assert staff_without_team.status_code == 400 and "Staff members belong to a team" in \
        staff_without_team.get_data(as_text=True)
    assert _db_scalars(select(AccountToken)) == []


def test_logins_are_in_the_audit_log_without_the_address(app, db):
    user = make_user("leader", email="lee@example.com")
    with app.test_client() as client:
        login(client, user)
    with app.test_client() as client:
        post_form(client, "/login", {"email": "Lee@example.com", "password": "wrong"})
        post_form(client, "/login", {"email": "stranger@example.com", "password": "wrong"})
    success, known, unknown = actions()
    assert (success.action, success.actor_id, success.target_id) == ("login.success", user.id, str(user.id))
    assert (known.action, known.target_id, known.details) == (
        "login.failure", str(user.id), {"email_hash": email_hash("lee@example.com")})
    assert (unknown.action, unknown.target_id, unknown.details) == (
        "login.failure", None, {"email_hash": email_hash("stranger@example.com")})


def test_a_set_password_link_never_reaches_a_log_line():
    assert redact('"GET /set-password/Zq9-account_token HTTP/1.1" 303 -') == \
        '"GET /set-password/<redacted> HTTP/1.1" 303 -'
    assert redact('"POST /set-password HTTP/1.1" 302 -') == '"POST /set-password HTTP/1.1" 302 -'
