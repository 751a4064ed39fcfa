"""Team scope (DESIGN section 2, "Scope"), tried as the threat model's curious insider would: the
leader of Harbour Street walks every leaders' route and every API operation against Quay Road's
data (its wave, invitation ids, open link ids, follow-up ids, team filters) and gets 404, 403 or a
form error; an admin and a leader without a team reach all of it. API tokens carry scopes: a till's
token that may only invite reads no responses and no reports."""

import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Integer, func, literal, not_, select

from perception.accounts.scope import account_sees_team, in_scope, manages_teams, sees_survey, team_scope
from perception.accounts.service import TokenError, create_api_token
from perception.core.models import ApiToken, FollowUp, Invitation, OpenLink, Survey, User
from perception.core.tokens import API_SCOPES
from perception.demo.service import DEMO_PASSWORD, seed_demo
from perception.invitations.open_link_service import create_open_link
from perception.surveys.service import WaveSpec, update_wave
from tests.accounts.test_auth import POST_ROUTES, ROUTES
from tests.helpers import (
    PASSWORD,
    bank_items,
    csrf_token,
    login,
    make_invitation,
    make_survey,
    make_team,
    make_user,
    post_form,
)
from tests.loop_helpers import followup_of, invite_and_answer
from tests.openapi_check import Api, OpenApiChecker

CALLERS = ("team", "all", "admin")  # Harbour Street's leader, a leader without a team, an admin
OURS, THEIRS = "Harbour Street", "Quay Road"
THEIR_EMAILS = ("bea@quay.example", "cy@quay.example")
THEIR_COMMENT = "Theirs: kept me waiting at the counter"


def _expect(team, others=200):
    return {"team": team, "all": others, "admin": others}


@pytest.fixture
def world(app, db):
    """Two teams, three leaders, a whole-business wave with data of both teams, and a wave of each."""
    app.config["MIN_N"] = 1  # nothing withheld for anonymity: only the scope may keep Quay Road out
    ours, theirs = make_team(OURS), make_team(THEIRS)
    people = {"team": make_user("leader", team=ours, email="lead.harbour@example.com"),
              "all": make_user("leader", email="lead.all@example.com"),
              "admin": make_user("admin", email="admin@example.com")}
    shared = make_survey("shared", items=bank_items())
    make_survey("wave-a", teams=[ours], title="Only for Harbour Street")
    make_survey("wave-b", teams=[theirs], title="Only for Quay Road", status="draft")
    customer = app.test_client()
    their_answer = invite_and_answer(customer, shared, theirs, score=1, email=THEIR_EMAILS[0], name="Bea",
                                     consent="yes", comment=THEIR_COMMENT, nps=2)
    our_answer = invite_and_answer(app.test_client(), shared, ours, score=1, email="ada@harbour.example",
                                   name="Ada", consent="yes", comment="Ours: kind and quick", nps=3)
    their_invitation, _ = make_invitation(shared, theirs, email=THEIR_EMAILS[1], name="Cy")
    their_link = create_open_link(shared, theirs, "Quay counter")
    create_open_link(shared, ours, "Harbour counter")
    return {
        "people": people, "ours": ours, "theirs": theirs, "shared": shared,
        "invitation": their_invitation.id, "answered_invitation": their_answer.id,
        "link": their_link.id, "followup": followup_of(their_answer).reference,
        "our_followup": followup_of(our_answer).reference,
    }


def _login(app, world, caller):
    client = app.test_client()
    login(client, world["people"][caller])
    return client


# ---- the pages ---------------------------------------------------------------------------------

# (path, expected status per caller). {link} and {followup} are Quay Road's. "wave-b" covers Quay
# Road only (404: the leader of Harbour Street learns nothing of it); "shared" covers every team
# (theirs to read for their own team; another team in a filter is a form error, 400).
GET_MATRIX = [
    ("/leaders/surveys/wave-b", _expect(404)),
    ("/leaders/surveys/wave-b/edit", _expect(404)),
    ("/leaders/surveys/wave-b/rate", _expect(404)),
    ("/leaders/surveys/wave-b/dashboard", _expect(404)),
    ("/leaders/surveys/wave-b/drivers", _expect(404)),
    ("/leaders/surveys/wave-b/board", _expect(404)),
    ("/leaders/surveys/wave-b/board/comments", _expect(404)),
    ("/leaders/surveys/wave-b/exports", _expect(404)),
    ("/leaders/surveys/wave-b/export.csv", _expect(404)),
    ("/leaders/surveys/wave-b/gap.csv", _expect(404)),
    ("/leaders/surveys/wave-b/report/print", _expect(404)),
    ("/leaders/surveys/wave-b/invitations", _expect(404)),
    ("/leaders/surveys/wave-b/invitations/template.csv", _expect(404)),
    ("/leaders/surveys/wave-b/open-links", _expect(404)),
    ("/leaders/surveys/shared/dashboard?team=Quay+Road", _expect(400)),
    ("/leaders/surveys/shared/drivers?team=Quay+Road", _expect(400)),
    ("/leaders/surveys/shared/gap.csv?team=Quay+Road", _expect(400)),
    ("/leaders/surveys/shared/report/print?team=Quay+Road", _expect(400)),
    ("/leaders/trend?team=Quay+Road", _expect(400)),
    ("/leaders/surveys/shared/edit", _expect(403, 302)),  # a whole-business wave: read, not change
    ("/leaders/open-links/{link}/qr.png", _expect(404)),
    ("/leaders/open-links/{link}/qr.svg", _expect(404)),
    ("/leaders/followups/{followup}", _expect(404)),
    ("/leaders/followups/{followup}/timeline", _expect(404)),
]

# Routes of the leaders' area that show no team's data of their own, or are checked elsewhere.
NOT_TEAM_DATA = {
    "/leaders/": "lists the waves: checked for its content below",
    "/leaders/surveys/new": "the form: its teams are checked below",
    "/leaders/surveys/<slug>/mirror": "leaders never see a staff member's mirror (403 for all)",
    "/leaders/followups/": "the list: checked for its content below",
    "/leaders/followups/recovery": "figures of the visible follow-ups (followups.queries.visible_condition)",
    "/leaders/customers": "admins only",
    "/leaders/digest": "the reader's own digest setting",
    "/leaders/trend": "checked for its content below and in tests/reports/test_trend.py",
}


def _fill(template, world):
    return template.format(link=world["link"], followup=world["followup"])


@pytest.mark.parametrize("caller", CALLERS)
def test_a_team_leader_gets_404_or_a_form_error_for_another_teams_pages(app, world, caller):
    client = _login(app, world, caller)
    for template, expected in GET_MATRIX:
        response = client.get(_fill(template, world))
        assert response.status_code == expected[caller], (template, caller)
        if expected[caller] == 400:
            assert "these figures are for Harbour Street only" in response.get_data(as_text=True), template


def _post_matrix(world, today):
    """(path, form data, expected per caller); every form with a valid CSRF token, so the scope answers."""
    csv = (f"email,name,team,interaction_date\nned@quay.example,Ned,{THEIRS},{today}\n").encode()
    return [
        ("/leaders/surveys/wave-b/invitations", {"team": OURS}, _expect(404, 400)),
        ("/leaders/surveys/wave-b/invitations/upload", {}, _expect(404, 400)),
        ("/leaders/surveys/wave-b/open-links", {"team": THEIRS}, _expect(404, 303)),
        ("/leaders/surveys/shared/invitations",
         {"email": "new@quay.example", "team": THEIRS, "staff_email": "", "interaction_date": today,
          "language": "", "deliver": "email"}, _expect(400, 303)),
        ("/leaders/surveys/shared/invitations/upload", {"file": (io.BytesIO(csv), "customers.csv")},
         _expect(400, 303)),
        ("/leaders/surveys/shared/open-links", {"team": THEIRS, "label": "Back door"}, _expect(400, 303)),
        ("/leaders/open-links/{link}/active", {}, _expect(404, 303)),
        (f"/leaders/followups/{world['followup']}", {"note-action": "note", "note-note": "peeking"},
         _expect(404, 303)),
        ("/leaders/surveys/new", {"title": "For Quay Road", "items": str(bank_items(1)[0].id),
                                  "teams": str(world["theirs"].id)}, _expect(400, 302)),
        ("/leaders/surveys/new", {"title": "For everyone", "items": str(bank_items(1)[0].id)}, _expect(400, 302)),
        # Last: the whole-business wave stays open for the invitations above.
        ("/leaders/surveys/wave-b/open", {}, _expect(404, 302)),
        ("/leaders/surveys/wave-b/close", {}, _expect(404, 302)),
        ("/leaders/surveys/shared/open", {}, _expect(403, 302)),
        ("/leaders/surveys/shared/close", {}, _expect(403, 302)),
    ]


def _state(db, world):
    count = func.count()
    return {
        "invitations": db.session.execute(select(count).select_from(Invitation)).scalar_one(),
        "open links": db.session.execute(select(count).select_from(OpenLink)).scalar_one(),
        "active": db.session.execute(select(count).select_from(OpenLink).where(OpenLink.active)).scalar_one(),
        "surveys": db.session.execute(select(Survey.slug, Survey.status).order_by(Survey.slug)).all(),
        "events": len(db.session.execute(select(FollowUp).where(FollowUp.reference == world["followup"]))
                      .scalar_one().events),
    }


@pytest.mark.parametrize("caller", CALLERS)
def test_a_team_leader_cannot_act_on_another_teams_data(app, db, world, caller):
    client = _login(app, world, caller)
    token = csrf_token(client, "/account/tokens")
    today = datetime.now(UTC).date().isoformat()
    for template, data, expected in _post_matrix(world, today):
        before = _state(db, world)
        prefix = "note-" if "note-action" in data else ""
        payload = {f"{prefix}csrf_token": token, **data}
        multipart = any(isinstance(value, tuple) for value in data.values())
        response = client.post(_fill(template, world), data=payload,
                               content_type="multipart/form-data" if multipart else None)
        assert response.status_code == expected[caller], (template, caller, response.get_data(True)[:300])
        db.session.expire_all()
        if caller == "team":
            assert _state(db, world) == before, template  # refused: nothing changed
        if expected[caller] == 400 and caller == "team" and "shared" in template:
            html = response.get_data(as_text=True)
            assert re.search(r"your own team|you work for these teams only|You lead Harbour Street", html), template


def test_the_field_errors_name_the_team_and_nothing_is_made(app, db, world):
    client = _login(app, world, "team")
    today = datetime.now(UTC).date().isoformat()
    one = post_form(client, "/leaders/surveys/shared/invitations", {
        "email": "new@quay.example", "team": THEIRS, "staff_email": "", "interaction_date": today,
        "language": "", "deliver": "none"}, form_url="/leaders/surveys/shared/invitations")
    assert one.status_code == 400 and "Choose a team from the list (Harbour Street)" in one.get_data(as_text=True)
    page = "/leaders/surveys/shared/invitations"
    uploaded = client.post(f"{page}/upload", data={
        "csrf_token": csrf_token(client, page),
        "file": (io.BytesIO(f"email,name,team,interaction_date\na@x.example,A,{OURS},{today}\n"
                            f"b@x.example,B,{THEIRS},{today}\n".encode()), "c.csv")},
        content_type="multipart/form-data")
    html = uploaded.get_data(as_text=True)
    assert uploaded.status_code == 400
    assert "you invite for your own team (Harbour Street) only, not for Quay Road" in html
    assert db.session.execute(select(func.count()).select_from(Invitation)
                              .where(Invitation.customer_email.like("%@x.example"))).scalar_one() == 0
    # Their own team works, on the same wave.
    ok = post_form(client, page, {"email": "new@harbour.example", "team": OURS, "staff_email": "",
                                  "interaction_date": today, "language": "", "deliver": "email"})
    assert ok.status_code == 303


def world_stub():
    class Stub:
        id = 0

    return Stub()


def test_the_matrix_walks_every_leaders_route(app, db):
    walked = {re.sub(r"\?.*", "", path).replace("wave-b", "<slug>").replace("shared", "<slug>")
              .replace("{link}", "<int>").replace("{followup}", "<reference>") for path, _ in GET_MATRIX}
    posted = _post_matrix({"followup": "<reference>", "theirs": world_stub()}, "")
    walked |= {path.replace("wave-b", "<slug>").replace("shared", "<slug>").replace("{link}", "<int>")
               for path, _, _ in posted if "new" not in path}
    leaders_routes = {re.sub(r"<int:\w+>", "<int>", rule.rule) for rule in app.url_map.iter_rules()
                      if rule.rule.startswith("/leaders")}
    assert leaders_routes - walked - set(NOT_TEAM_DATA) == set()
    # tests/accounts/test_auth.py walks every route for the role check; this walk is for the team check.
    assert {re.sub(r"wave-1", "<slug>", path) for path in (*ROUTES, *POST_ROUTES)} >= set(NOT_TEAM_DATA) - {
        "/leaders/surveys/<slug>/mirror"} | {"/leaders/"}


@pytest.mark.parametrize("caller", CALLERS)
def test_what_each_leader_reads_on_the_shared_wave(app, world, caller):
    client = _login(app, world, caller)
    team = caller == "team"
    pages = {
        "/leaders/": "Only for Quay Road",
        "/leaders/surveys/shared/invitations": THEIR_EMAILS[0],
        "/leaders/surveys/shared/open-links": "Quay counter",
        "/leaders/followups/?view=all": f"/leaders/followups/{world['followup']}\"",
        "/leaders/surveys/shared/board/comments?untagged=": THEIR_COMMENT,
        # The board forces a team's leader to their team, as it does staff: another team is not shown.
        f"/leaders/surveys/shared/board/comments?untagged=&team={THEIRS}": THEIR_COMMENT,
        "/leaders/surveys/shared/export.csv": THEIR_COMMENT,
        "/leaders/surveys/shared/gap.csv?by=team": THEIRS,
        "/leaders/surveys/shared/dashboard": THEIRS,
        "/leaders/surveys/shared/drivers": THEIRS,
        "/leaders/trend": THEIRS,
    }
    for path, theirs in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert (theirs in body) is not team, (path, caller)
    invitations = client.get("/leaders/surveys/shared/invitations").get_data(as_text=True)
    assert (THEIR_EMAILS[1] in invitations) is not team
    assert "Ours: kind and quick" in client.get("/leaders/surveys/shared/export.csv").get_data(as_text=True)
    assert client.get(f"/leaders/followups/{world['our_followup']}").status_code == 200
    manage = client.get("/leaders/surveys/shared").get_data(as_text=True)
    assert ("Close the wave" in manage) is not team
    assert ("an admin or a leader without a team edits" in manage) is team


def test_a_team_leader_makes_opens_and_closes_the_waves_of_their_own_team(app, db, world):
    client = _login(app, world, "team")
    form = client.get("/leaders/surveys/new").get_data(as_text=True)
    assert OURS in form and THEIRS not in form
    made = post_form(client, "/leaders/surveys/new", {"title": "Harbour deep dive", "items": str(bank_items(1)[0].id),
                                                      "teams": str(world["ours"].id)})
    assert made.status_code == 302
    survey = db.session.execute(select(Survey).where(Survey.title == "Harbour deep dive")).scalar_one()
    assert [team.name for team in survey.teams] == [OURS]
    assert post_form(client, f"/leaders/surveys/{survey.slug}/open", {},
                     form_url=f"/leaders/surveys/{survey.slug}").status_code == 302
    assert post_form(client, "/leaders/surveys/wave-a/close", {}, form_url="/leaders/surveys/wave-a").status_code == 302
    db.session.expire_all()
    assert survey.status == "open"
    assert db.session.execute(select(Survey.status).where(Survey.slug == "wave-a")).scalar_one() == "closed"
    assert client.get(f"/leaders/surveys/{survey.slug}/edit").status_code == 200  # open, but no responses yet


# ---- the API -----------------------------------------------------------------------------------

API_MATRIX = [
    ("GET", "/api/v1/invitations/{invitation}", None, _expect(404)),
    ("GET", "/api/v1/invitations/{answered_invitation}", None, _expect(404)),
    ("POST", "/api/v1/invitations", {"survey": "shared", "team": THEIRS, "deliver": "none"}, _expect(422, 201)),
    ("GET", "/api/v1/surveys/shared/gap?team=Quay+Road", None, _expect(400)),
    ("GET", "/api/v1/surveys/shared/responses?team=Quay+Road", None, _expect(400)),
    ("GET", "/api/v1/surveys/shared/funnel?team=Quay+Road", None, _expect(400)),
    ("GET", "/api/v1/trend?team=Quay+Road", None, _expect(400)),
    ("GET", "/api/v1/surveys/wave-b/gap", None, _expect(404)),
    ("GET", "/api/v1/surveys/wave-b/responses", None, _expect(404)),
    ("GET", "/api/v1/surveys/wave-b/funnel", None, _expect(404)),
    ("GET", "/api/v1/surveys", None, _expect(200)),
]


@pytest.fixture
def api_for(app, world):
    client = app.test_client()
    document = client.get("/api/v1/openapi.json").get_json()
    tokens = {caller: create_api_token(user, "scope matrix")[1] for caller, user in world["people"].items()}
    return lambda caller: Api(client, OpenApiChecker(document), tokens[caller])


def test_the_api_matrix_covers_every_operation(api_for):
    checker = api_for("admin").checker
    walked = {checker.operation(method, path.split("?")[0])[0] for method, path, _, _ in API_MATRIX}
    documented = {path for path, item in checker.document["paths"].items() if path != "/openapi.json"}
    assert walked == documented


@pytest.mark.parametrize("caller", CALLERS)
def test_every_api_operation_acts_within_the_token_owners_scope(db, world, api_for, caller):
    api = api_for(caller)
    for method, template, body, expected in API_MATRIX:
        path = template.format(**world)
        response = api.call(method, path, json=body) if body else api.call(method, path)  # checked against the doc
        assert response.status_code == expected[caller], (method, path, caller, response.get_json())
        if caller == "team" and response.status_code in (400, 422):
            assert response.get_json()["field"] == "team", path
            assert "works for team 'Harbour Street' only" in response.get_json()["error"], path
    hidden = api.post("/api/v1/invitations", json={"survey": "wave-b", "team": THEIRS, "deliver": "none"})
    assert (hidden.get_json()["error"] == "There is no survey 'wave-b'.") is (caller == "team")
    invitations = db.session.execute(select(Invitation.team_id).where(Invitation.channel == "api")).scalars().all()
    assert (world["theirs"].id in invitations) is (caller != "team")


def test_a_team_leaders_token_cannot_tell_another_teams_name_from_an_unknown_one(world, api_for):
    """As on the pages (TeamFilters): another team and no team at all get the same answer, so a team's
    leader cannot try names to learn which teams exist."""
    api = api_for("team")
    for path in ("/api/v1/surveys/shared/gap?team={}", "/api/v1/surveys/shared/responses?team={}",
                 "/api/v1/surveys/shared/funnel?team={}", "/api/v1/trend?team={}"):
        answers = [api.get(path.format(name)) for name in ("Quay+Road", "Nowhere+Street")]
        assert [answer.status_code for answer in answers] == [400, 400], path
        assert answers[0].get_json() == answers[1].get_json(), path
    made = [api.post("/api/v1/invitations", json={"survey": "shared", "team": name, "deliver": "none"})
            for name in (THEIRS, "Nowhere Street")]
    assert [answer.status_code for answer in made] == [422, 422] and made[0].get_json() == made[1].get_json()


@pytest.mark.parametrize("caller", CALLERS)
def test_without_a_team_filter_a_team_leaders_token_reads_their_team(world, api_for, caller):
    api, team = api_for(caller), caller == "team"
    gap = api.get("/api/v1/surveys/shared/gap?by=team").get_json()
    assert gap["filters"]["team"] == (OURS if team else None)
    assert {group["team"] for group in gap["groups"]} == ({OURS} if team else {OURS, THEIRS})
    rows = api.get("/api/v1/surveys/shared/responses").get_json()["responses"]
    assert {row["team"] for row in rows} == ({OURS} if team else {OURS, THEIRS})
    assert any(row["comment"] == THEIR_COMMENT for row in rows) is not team
    funnel = api.get("/api/v1/surveys/shared/funnel").get_json()
    assert [row["team"] for row in funnel["teams"]] == ([OURS] if team else [OURS, THEIRS])
    slugs = {survey["slug"] for survey in api.get("/api/v1/surveys").get_json()["surveys"]}
    assert slugs == ({"shared", "wave-a"} if team else {"shared", "wave-a", "wave-b"})


def test_reading_an_invitation_never_returns_its_customer_link(app, world, api_for):
    api = api_for("team")
    made = api.post("/api/v1/invitations", json={"survey": "shared", "team": OURS, "deliver": "none"},
                    headers={"Idempotency-Key": "counter-1"})
    assert made.status_code == 201 and made.get_json()["link"]
    replay = api.post("/api/v1/invitations", json={"survey": "shared", "team": OURS, "deliver": "none"},
                      headers={"Idempotency-Key": "counter-1"})
    assert replay.status_code == 200 and replay.get_json()["link"] == made.get_json()["link"]
    for caller in CALLERS:  # nobody, not even its maker or an admin, gets the link again by reading it
        read = api_for(caller).get(f"/api/v1/invitations/{made.get_json()['id']}")
        assert read.status_code == 200 and read.get_json()["link"] is None, caller
    # The link handed out at first still works: what was withheld is a working link.
    assert app.test_client().get(made.get_json()["link"].split("perception.test", 1)[1]).status_code == 303


# ---- API token scopes --------------------------------------------------------------------------

def _operation_scopes(document):
    """{(method, path): scope} from the document's security requirements."""
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for requirement in operation.get("security", document["security"]):
                for scope in requirement.get("bearerToken", []):
                    found[(method.upper(), path)] = scope
    return found


SCOPED_CALLS = {
    ("POST", "/invitations"): ("/api/v1/invitations", {"survey": "shared", "team": OURS, "deliver": "none"}),
    ("GET", "/invitations/{invitation_id}"): ("/api/v1/invitations/{invitation}", None),
    ("GET", "/surveys/{slug}/gap"): ("/api/v1/surveys/shared/gap", None),
    ("GET", "/surveys/{slug}/responses"): ("/api/v1/surveys/shared/responses", None),
    ("GET", "/surveys/{slug}/funnel"): ("/api/v1/surveys/shared/funnel", None),
    ("GET", "/trend"): ("/api/v1/trend", None),
}


def test_the_document_names_a_scope_for_every_operation_but_the_survey_list(api_for):
    scopes = _operation_scopes(api_for("admin").checker.document)
    assert scopes == {("POST", "/invitations"): "invitations:write",
                      ("GET", "/invitations/{invitation_id}"): "invitations:read",
                      ("GET", "/surveys/{slug}/gap"): "reports:read",
                      ("GET", "/surveys/{slug}/responses"): "responses:read",
                      ("GET", "/surveys/{slug}/funnel"): "invitations:read",
                      ("GET", "/trend"): "reports:read"}
    assert set(scopes) == set(SCOPED_CALLS)
    assert set(scopes.values()) == set(API_SCOPES)


def test_each_operation_needs_exactly_the_scope_the_document_names(app, world, api_for):
    checker = api_for("admin").checker
    admin = world["people"]["admin"]
    for (method, operation), scope in _operation_scopes(checker.document).items():
        path, body = SCOPED_CALLS[(method, operation)]
        path = path.format(**world)
        without = Api(app.test_client(), checker, create_api_token(admin, "all but", set(API_SCOPES) - {scope})[1])
        refused = without.call(method, path, json=body) if body else without.call(method, path)
        assert refused.status_code == 403, (method, path)
        assert refused.get_json()["field"] == "scope" and repr(scope) in refused.get_json()["error"]
        only = Api(app.test_client(), checker, create_api_token(admin, "only", {scope})[1])
        allowed = only.call(method, path, json=body) if body else only.call(method, path)
        assert allowed.status_code in (200, 201), (method, path, allowed.get_json())


def test_a_tills_token_that_may_only_invite_reads_no_responses_and_no_reports(app, world, api_for):
    checker = api_for("admin").checker
    till = Api(app.test_client(), checker, create_api_token(world["people"]["team"], "till",
                                                            {"invitations:write"})[1])
    made = till.post("/api/v1/invitations", json={"survey": "shared", "team": OURS, "email": "dee@harbour.example"})
    assert made.status_code == 201
    for path, scope in (("/api/v1/surveys/shared/responses", "responses:read"),
                        ("/api/v1/surveys/shared/gap", "reports:read"),
                        ("/api/v1/surveys/shared/funnel", "invitations:read"),
                        (f"/api/v1/invitations/{made.get_json()['id']}", "invitations:read")):
        refused = till.get(path)
        assert refused.status_code == 403 and scope in refused.get_json()["error"], path
    assert till.get("/api/v1/surveys").status_code == 200  # which waves it may invite to


def test_the_token_page_makes_tokens_with_the_ticked_scopes_only(app, db, world):
    client = _login(app, world, "team")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert all(f'value="{scope}"' in page for scope in API_SCOPES)
    assert "checked" not in page  # nothing ticked in advance
    none = post_form(client, "/account/tokens", {"name": "Nothing"})
    assert none.status_code == 400 and "Please tick at least one thing the token may do." in none.get_data(True)
    odd = post_form(client, "/account/tokens", {"name": "Odd", "scopes": "admin:everything"})
    assert odd.status_code == 400
    made = client.post("/account/tokens", data={"csrf_token": csrf_token(client, "/account/tokens"), "name": "CRM",
                                                "scopes": ["reports:read", "invitations:write"], "password": PASSWORD})
    assert made.status_code == 200
    record = db.session.execute(select(ApiToken).where(ApiToken.name == "CRM")).scalar_one()
    assert record.scopes == "invitations:write reports:read"
    listed = client.get("/account/tokens").get_data(as_text=True)
    assert "<code>invitations:write</code> <code>reports:read</code>" in listed
    assert db.session.execute(select(func.count()).select_from(ApiToken)).scalar_one() == 1
    with pytest.raises(TokenError):
        create_api_token(world["people"]["team"], "empty", ())


# ---- the rule itself ---------------------------------------------------------------------------

def test_the_rule(world):
    people, ours, theirs = world["people"], world["ours"], world["theirs"]
    assert team_scope(people["team"]) == {ours.id}
    assert team_scope(people["all"]) is None and team_scope(people["admin"]) is None
    shared = world["shared"]
    wave_b = Survey.query.filter_by(slug="wave-b").one()
    assert sees_survey(people["team"], shared) and not sees_survey(people["team"], wave_b)
    assert sees_survey(people["all"], wave_b) and sees_survey(people["admin"], wave_b)
    assert manages_teams(people["team"], {ours.id})
    assert not manages_teams(people["team"], set()) and not manages_teams(people["team"], {ours.id, theirs.id})
    assert manages_teams(people["all"], set()) and manages_teams(people["admin"], {theirs.id})


# ---- the demo ----------------------------------------------------------------------------------

def test_the_demo_has_a_whole_business_leader_and_a_team_leader(app, db, runner):
    seed_demo(now=datetime(2026, 11, 20, 12, tzinfo=UTC))
    users = {user.email: user for user in db.session.execute(select(User)).scalars()}
    assert users["leader@example.com"].team is None
    assert users["team.leader@example.com"].team.name == "Riverside branch"
    output = runner.invoke(args=["demo-info"]).output
    assert "leader@example.com" in output and "the whole business" in output
    assert "team.leader@example.com" in output and "Riverside branch only" in output
    client = app.test_client()
    login(client, users["team.leader@example.com"], password=DEMO_PASSWORD)
    dashboard = client.get("/leaders/surveys/2026-q4/dashboard").get_data(as_text=True)
    assert "these figures are for Riverside branch only" in dashboard and "Harbour Street branch" not in dashboard
    followups = client.get("/leaders/followups/?view=all").get_data(as_text=True)
    assert "Riverside branch" in followups and "Harbour Street branch" not in followups
    client = app.test_client()
    login(client, users["leader@example.com"], password=DEMO_PASSWORD)
    followups = client.get("/leaders/followups/?view=all").get_data(as_text=True)
    assert "Riverside branch" in followups and "Harbour Street branch" in followups


def test_the_rule_over_many_accounts_in_sql_agrees_with_in_scope(world, db):
    """account_sees_team (the sweep of stranded follow-ups asks it for every assignee at once) is
    in_scope as SQL: compared for every role, with and without a team, and every team, none included."""
    staff_ours, staff_none = make_user("staff", team=world["ours"]), make_user("staff", team=world["ours"])
    staff_none.team_id = None  # (make_user gives staff a team of their own)
    db.session.commit()
    admin_of_theirs = make_user("admin", team=world["theirs"])  # an admin with a team sees all anyway
    accounts = [*world["people"].values(), staff_ours, staff_none, admin_of_theirs]
    teams = [world["ours"].id, world["theirs"].id, None]
    users = User.__table__
    ids = [account.id for account in accounts]
    for team_id in teams:
        rule = account_sees_team(users, literal(team_id, Integer))
        seen = set(db.session.execute(select(users.c.id).where(users.c.id.in_(ids), rule)).scalars())
        unseen = set(db.session.execute(select(users.c.id).where(users.c.id.in_(ids), not_(rule))).scalars())
        assert seen == {account.id for account in accounts if in_scope(account, team_id)}, team_id
        assert unseen == set(ids) - seen, team_id  # never NULL: its negation is the rest (the sweep negates it)


def test_a_wave_narrowed_away_from_a_team_answers_its_leader_as_if_it_did_not_exist(app, db, client):
    """An attacker's read: after an admin narrowed a wave to another team, the leader of the team it had
    covered still downloaded their old open link's QR code (its file named the wave), switched the link
    on and off, and read their team's invitation on it through the API, while every page of the wave
    answered 404."""
    ours, theirs = make_team("Harbour Street"), make_team("Quay Road")
    admin = make_user("admin", email="admin@example.com")
    leader = make_user("leader", team=ours, email="lead@harbour.example")
    survey = make_survey("quay-pilot", teams=[ours, theirs])
    link = create_open_link(survey, ours, "Counter")
    invitation, _ = make_invitation(survey, ours, email="ada@harbour.example")
    update_wave(survey, WaveSpec(title=survey.title, slug=survey.slug, item_ids=frozenset(i.id for i in survey.items),
                                 opens_at=survey.opens_at, closes_at=survey.closes_at, team_ids=frozenset({theirs.id})),
                actor=admin)
    login(client, leader)
    assert client.get("/leaders/surveys/quay-pilot").status_code == 404
    assert client.get(f"/leaders/open-links/{link.id}/qr.svg?download=1").status_code == 404
    switched = client.post(f"/leaders/open-links/{link.id}/active",
                           data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert switched.status_code == 404
    db.session.expire_all()
    assert db.session.get(OpenLink, link.id).active
    token = create_api_token(leader, "till")[1]
    read = client.get(f"/api/v1/invitations/{invitation.id}", headers={"Authorization": f"Bearer {token}"})
    assert read.status_code == 404 and "quay-pilot" not in read.get_data(as_text=True)
