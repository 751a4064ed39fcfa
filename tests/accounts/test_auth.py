"""Login, logout, sessions and role checks on every route."""

import re

import pytest

from tests.helpers import PASSWORD, csrf_token, login, make_survey, make_team, make_user, post_form


def test_login_and_logout(client, db):
    user = make_user("leader")
    response = login(client, user)
    assert response.headers["Location"].endswith("/me")
    assert client.get("/me").headers["Location"].endswith("/leaders/")
    assert client.get("/leaders/").status_code == 200
    post_form(client, "/logout", {}, form_url="/leaders/")
    assert client.get("/leaders/").status_code == 302


@pytest.mark.parametrize(("email", "password"), [("nobody@example.com", PASSWORD), ("known@example.com", "wrong")])
def test_login_failure_says_only_wrong_email_or_password(client, db, email, password):
    make_user("staff", email="known@example.com")
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_inactive_user_cannot_log_in(client, db):
    user = make_user("staff")
    user.active = False
    db.session.commit()
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_login_rotates_the_session(client, db):
    user = make_user("staff")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_next_parameter_cannot_redirect_off_site(client, db):
    user = make_user("staff")
    token = csrf_token(client, "/login")
    response = client.post("/login?next=https://evil.example/x",
                           data={"csrf_token": token, "email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/me")


def test_login_is_rate_limited_per_account_and_address(client, db):
    # More in tests/accounts/test_sessions_and_limits.py: failures from other addresses lock nobody out.
    user = make_user("staff")
    token = csrf_token(client, "/login")
    statuses = []
    for address in ["10.0.0.1"] * 6 + ["10.0.0.2"]:
        statuses.append(client.post("/login", data={"csrf_token": token, "email": user.email, "password": "bad"},
                                    environ_base={"REMOTE_ADDR": address}).status_code)
    assert statuses == [401] * 5 + [429] + [401]


def test_session_cookie_flags(client, db):
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_security_headers(client, db):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# Every staff/leader/admin page, walked by every role. Expected: anonymous -> login redirect.
ROUTES = {
    "/staff/": {"staff": 200, "leader": 403, "admin": 403},
    "/staff/surveys/wave-1": {"staff": 200, "leader": 403, "admin": 403},
    "/leaders/": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/trend": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/digest": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/rate": {"staff": 403, "leader": 200, "admin": 200},
    # Reaching customers: invitations, funnel, open links and their QR codes.
    "/leaders/surveys/wave-1/invitations": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/invitations/template.csv": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/open-links": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/open-links/999999/qr.png": {"staff": 403, "leader": 404, "admin": 404},
    "/leaders/open-links/999999/qr.svg": {"staff": 403, "leader": 404, "admin": 404},
    # Closing the loop. 999999 stands for any <int:...> id; no such follow-up exists, hence 404.
    "/staff/interactions": {"staff": 200, "leader": 403, "admin": 403},
    "/leaders/followups/": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/followups/nosuchfollowup": {"staff": 403, "leader": 404, "admin": 404},
    "/leaders/followups/nosuchfollowup/timeline": {"staff": 403, "leader": 404, "admin": 404},
    "/leaders/followups/recovery": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/customers": {"staff": 403, "leader": 403, "admin": 200},
    # Closing the loop, part B: drivers, board, mirror (admins only with ADMIN_SEES_MIRRORS), exports.
    "/leaders/surveys/wave-1/drivers": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/board": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/board/comments": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/mirror": {"staff": 403, "leader": 403, "admin": 403},
    "/leaders/surveys/wave-1/exports": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/export.csv": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/gap.csv": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/report/print": {"staff": 403, "leader": 200, "admin": 200},
    "/staff/surveys/wave-1/board": {"staff": 200, "leader": 403, "admin": 403},
    "/staff/surveys/wave-1/board/comments": {"staff": 200, "leader": 403, "admin": 403},
    "/staff/surveys/wave-1/mirror": {"staff": 200, "leader": 403, "admin": 403},
    # The gap dashboard and survey-wave management.
    "/leaders/surveys/wave-1/dashboard": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/new": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1": {"staff": 403, "leader": 200, "admin": 200},
    "/leaders/surveys/wave-1/edit": {"staff": 403, "leader": 200, "admin": 200},
}


@pytest.mark.parametrize("role", ["anonymous", "staff", "leader", "admin"])
def test_every_protected_route_checks_the_role(app, client, db, role):
    make_survey("wave-1")
    if role != "anonymous":
        # Leaders here have no team, so the whole business: a team's leader is tests/accounts/test_team_scope.py.
        login(client, make_user(role, team=make_team() if role == "staff" else None))
    for path, expected in ROUTES.items():
        response = client.get(path)
        if role == "anonymous":
            assert response.status_code == 302, path
            assert "/login" in response.headers["Location"], path
        else:
            assert response.status_code == expected[role], (path, role)


def test_route_table_covers_every_staff_and_leader_route(app):
    paths = {re.sub(r"<int:\w+>", "<int>", rule.rule) for rule in app.url_map.iter_rules()
             if rule.rule.startswith(("/staff", "/leaders"))}
    covered = {path.replace("wave-1", "<slug>").replace("999999", "<int>").replace("nosuchfollowup", "<reference>")
               for path in (*ROUTES, *POST_ROUTES)}
    assert paths <= covered, paths - covered


# Routes that only take a POST: walked with a valid CSRF token, so the role check is what answers.
POST_ROUTES = {
    "/leaders/surveys/wave-1/invitations/upload": {"staff": 403, "leader": 400, "admin": 400},
    "/leaders/open-links/999999/active": {"staff": 403, "leader": 404, "admin": 404},
    "/leaders/surveys/wave-1/close": {"staff": 403, "leader": 302, "admin": 302},
    "/leaders/surveys/wave-1/open": {"staff": 403, "leader": 302, "admin": 302},
}


@pytest.mark.parametrize("role", ["anonymous", "staff", "leader", "admin"])
def test_every_post_only_route_checks_the_role(app, client, db, role):
    make_survey("wave-1")
    if role != "anonymous":
        login(client, make_user(role, team=make_team() if role == "staff" else None))
    token = csrf_token(client, "/login" if role == "anonymous" else "/account/tokens")
    for path, expected in POST_ROUTES.items():
        response = client.post(path, data={"csrf_token": token})
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], path
        else:
            assert response.status_code == expected[role], (path, role)
