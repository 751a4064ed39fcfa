"""Who may reach what: every API endpoint x every kind of caller; staff of another team; a customer
who opened a survey link; and ids in URLs that must not lead to another team's data."""

import pytest
from flask import url_for

from perception.accounts.service import create_api_token, revoke_api_token
from tests.accounts.test_auth import POST_ROUTES, ROUTES
from tests.helpers import csrf_token, login, make_invitation, make_survey, make_team, make_user, open_link
from tests.loop_helpers import followup_of, invite_and_answer
from tests.openapi_check import Api, OpenApiChecker

CALLERS = ("none", "malformed", "revoked", "staff", "leader", "admin")
NO_TOKEN = {"none": 401, "malformed": 401, "revoked": 401}
LEADERS_ONLY = NO_TOKEN | {"staff": 403, "leader": 200, "admin": 200}

# (method, path template, expected status per caller). {slug} and {id} are filled in per test.
API_MATRIX = [
    ("GET", "/api/v1/openapi.json", dict.fromkeys(CALLERS, 200)),
    ("GET", "/api/v1/surveys", NO_TOKEN | {"staff": 200, "leader": 200, "admin": 200}),
    ("POST", "/api/v1/invitations", LEADERS_ONLY | {"leader": 201, "admin": 201}),
    ("GET", "/api/v1/invitations/{id}", LEADERS_ONLY),
    ("GET", "/api/v1/invitations/999999", LEADERS_ONLY | {"leader": 404, "admin": 404}),
    ("GET", "/api/v1/surveys/{slug}/gap", LEADERS_ONLY),
    ("GET", "/api/v1/surveys/{slug}/responses", LEADERS_ONLY),
    ("GET", "/api/v1/surveys/{slug}/funnel", LEADERS_ONLY),
    ("GET", "/api/v1/trend", LEADERS_ONLY),
    ("GET", "/api/v1/surveys/no-such-wave/gap", LEADERS_ONLY | {"leader": 404, "admin": 404}),
]


@pytest.fixture
def tokens(db):
    team = make_team("Harbour Street")
    owners = {role: make_user(role, team=team) for role in ("staff", "leader", "admin")}
    tokens = {role: create_api_token(user, "matrix")[1] for role, user in owners.items()}
    record, revoked = create_api_token(owners["leader"], "old")
    revoke_api_token(owners["leader"], record.id)
    return tokens | {"none": None, "malformed": "Basic dXNlcjpwdw==", "revoked": revoked}


def _headers(caller, token):
    if token is None:
        return {}
    return {"Authorization": token if caller == "malformed" else f"Bearer {token}"}


def test_the_matrix_covers_every_api_operation(app):
    document_paths = {path for path, item in OpenApiChecker(_document(app)).document["paths"].items()
                      for _method in item}
    walked = {template.removeprefix("/api/v1").replace("{id}", "{invitation_id}") for _, template, _ in API_MATRIX}
    assert document_paths <= walked, document_paths - walked


def _document(app):
    with app.test_client() as client:
        return client.get("/api/v1/openapi.json").get_json()


@pytest.mark.parametrize("caller", CALLERS)
def test_every_api_endpoint_answers_each_caller_as_expected(app, client, db, tokens, caller):
    survey, team = make_survey("wave-1"), make_team("Harbour Street")
    invitation, _ = make_invitation(survey, team, email="ada@example.com")
    api = Api(client, OpenApiChecker(_document(app)))
    for index, (method, template, expected) in enumerate(API_MATRIX):
        path = template.format(slug=survey.slug, id=invitation.id)
        body = {"json": {"survey": survey.slug, "team": team.name, "deliver": "none"}} if method == "POST" else {}
        headers = _headers(caller, tokens[caller]) | ({"Idempotency-Key": f"matrix-{index}"} if body else {})
        # Api.call validates every answer (errors included) against the OpenAPI document.
        response = api.call(method, path, token=None, headers=headers, **body)
        assert response.status_code == expected[caller], (method, path, caller, response.get_json())


def test_staff_of_another_team_get_404_on_a_survey_scoped_to_a_team(client, db):
    ours, theirs = make_team("Harbour Street"), make_team("Quay Road")
    make_survey("ours", teams=[ours])
    make_survey("theirs", teams=[theirs], title="Only for Quay Road")
    login(client, make_user("staff", team=ours))
    assert "Only for Quay Road" not in client.get("/staff/").get_data(as_text=True)
    for page in ("", "/board", "/board/comments", "/mirror"):
        assert client.get(f"/staff/surveys/ours{page}").status_code == 200, page
        assert client.get(f"/staff/surveys/theirs{page}").status_code == 404, page
    token = csrf_token(client, "/staff/surveys/ours")
    assert client.post("/staff/surveys/theirs", data={"csrf_token": token}).status_code == 404


def test_staff_see_only_their_own_teams_comments_on_the_board(app, client, db):
    app.config["MIN_N"] = 1
    ours, theirs = make_team("Harbour Street"), make_team("Quay Road")
    survey = make_survey("wave-1")
    invite_and_answer(client, survey, ours, score=4, comment="Ours: kind and quick")
    invite_and_answer(client, survey, theirs, score=4, comment="Theirs: kept me waiting")
    client = app.test_client()
    login(client, make_user("staff", team=ours))
    for page in ("/staff/surveys/wave-1/board/comments?untagged=", "/staff/surveys/wave-1/board?team=Quay+Road"):
        html = client.get(page).get_data(as_text=True)
        assert "Theirs: kept me waiting" not in html, page
    assert "Ours: kind and quick" in client.get("/staff/surveys/wave-1/board/comments?untagged=").get_data(True)


def test_a_customer_link_session_reaches_no_staff_leader_or_api_route(app, client, db):
    survey = make_survey("wave-1")
    _, token = make_invitation(survey, make_team())
    assert open_link(client, token).status_code == 303
    assert client.get("/s/answer").status_code == 200
    for path in ROUTES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    for path in POST_ROUTES:
        response = client.post(path, data={})
        assert response.status_code in (302, 400), path  # CSRF refusal or the login redirect, never the action
        assert response.status_code == 400 or "/login" in response.headers["Location"], path
    for _method, template, _ in API_MATRIX[1:]:
        assert client.get(template.format(slug="wave-1", id=1)).status_code in (401, 405), template


def test_follow_up_ids_cannot_be_walked_to_another_teams_follow_ups(app, client, db):
    ours, theirs = make_team("Harbour Street"), make_team("Quay Road")
    our_leader = make_user("leader", team=ours)
    other_leader = make_user("leader", team=theirs)
    survey = make_survey("wave-1")
    invitation = invite_and_answer(client, survey, ours, score=1, email="ada@example.com", consent="yes")
    followup = followup_of(invitation)
    assert followup is not None and followup.team_id == ours.id
    client = app.test_client()
    login(client, other_leader)
    for suffix in ("", "/timeline"):
        assert client.get(f"/leaders/followups/{followup.reference}{suffix}").status_code == 404, suffix
    assert f"/leaders/followups/{followup.reference}" not in client.get("/leaders/followups/?view=all").get_data(True)
    token = csrf_token(client, "/account/tokens")  # a valid CSRF token of this session, so scoping answers
    refused = client.post(f"/leaders/followups/{followup.reference}",
                          data={"note-csrf_token": token, "note-action": "note", "note-note": "peeking"})
    assert refused.status_code == 404
    client = app.test_client()
    login(client, our_leader)
    assert client.get(f"/leaders/followups/{followup.reference}").status_code == 200


def test_open_links_invitations_and_qr_codes_are_for_leaders_only(app, client, db):
    from perception.invitations.open_link_service import create_open_link

    survey, team = make_survey("wave-1"), make_team()
    link = create_open_link(survey, team, "Front desk", created_by=None)
    db.session.commit()
    with app.test_request_context():
        paths = [url_for("leaders.open_link_qr", link_id=link.id, fmt=fmt) for fmt in ("png", "svg")]
    login(client, make_user("staff", team=team))
    for path in (*paths, "/leaders/surveys/wave-1/open-links", "/leaders/surveys/wave-1/invitations"):
        assert client.get(path).status_code == 403, path


TOO_LARGE = (2**31, 2**63)  # one past PostgreSQL's INTEGER, one past SQLite's


def test_ids_too_large_for_the_database_are_not_found(app, client, db, tokens):
    int_routes = sorted({rule.rule for rule in app.url_map.iter_rules()
                         if "<int:" in rule.rule and "GET" in rule.methods})
    assert int_routes, "the app has routes with ids"
    login(client, make_user("admin"))
    for rule in int_routes:
        for number in TOO_LARGE:
            path = rule.split("<int:")[0] + str(number) + rule.split(">", 1)[1]
            headers = {"Authorization": f"Bearer {tokens['admin']}"} if path.startswith("/api/") else {}
            assert client.get(path, headers=headers).status_code == 404, path
