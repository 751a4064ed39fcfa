"""The JSON API: tokens, roles, creating invitations (idempotently), strict input, and the
OpenAPI document that every response here is checked against (tests/openapi_check.py)."""

import base64
import json
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from perception.accounts.service import create_api_token, revoke_api_token
from perception.api.forms import cursor_of
from perception.core.models import (
    ApiToken,
    AuditEvent,
    IdempotencyKey,
    Invitation,
    OutboxMessage,
    Response,
    User,
    utcnow,
)
from tests.helpers import (
    PASSWORD,
    answered_one_by_one,
    answers_for,
    login,
    make_responses,
    make_survey,
    make_team,
    make_user,
    post_form,
    race,
)
from tests.openapi_check import Api, OpenApiChecker

TOKEN_RE = re.compile(r'id="new-token" readonly value="(pcp_[A-Za-z0-9_-]+)"')


@pytest.fixture
def checker(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return OpenApiChecker(response.get_json())


def token_for(user):
    return create_api_token(user, "tests")[1]


@pytest.fixture
def leader(db):
    return make_user("leader", email="lead@example.com")


@pytest.fixture
def api(client, checker, leader):
    return Api(client, checker, token_for(leader))


def invitation_count():
    return Invitation.query.count()


BODY = {"survey": "wave-1", "team": "Harbour Street", "email": "cara@example.org", "name": "Cara",
        "interaction_at": "2026-01-02T10:00:00Z"}


def test_the_document_is_openapi_3_1_and_lists_exactly_the_api_routes(app, checker):
    document = checker.document
    assert document["openapi"].startswith("3.1")
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema), name
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in document["components"]["schemas"], ref
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
            routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert routes == documented


def test_making_a_token_takes_the_password_and_its_tries_are_limited(client, leader, db):
    """An attacker's read: whoever held a session for a moment made a token that kept reading after the
    owner set a new password (which ends sessions, not tokens)."""
    login(client, leader)
    fields = {"name": "Mine now", "scopes": "responses:read"}
    missing = post_form(client, "/account/tokens", fields)
    assert missing.status_code == 400 and "Please enter your password" in missing.get_data(as_text=True)
    for _ in range(5):
        wrong = post_form(client, "/account/tokens", fields | {"password": "guess"})
        assert wrong.status_code == 400 and "That is not your password." in wrong.get_data(as_text=True)
    refused = post_form(client, "/account/tokens", fields | {"password": PASSWORD})
    assert refused.status_code == 429 and "Too many wrong passwords" in refused.get_data(as_text=True)
    assert db.session.execute(select(ApiToken)).first() is None
    failures = db.session.execute(select(AuditEvent).where(AuditEvent.action == "login.failure")).scalars().all()
    assert len(failures) == 5 and {event.details["where"] for event in failures} == {"api-token"}


def test_a_token_revoked_from_two_tabs_at_once_is_revoked_once(app, db, leader):
    """A race hunt: both revocations read "not revoked" and wrote it, two audit lines for one revocation,
    the second moving its time. It is revoked only while the row is not."""
    record, _token = create_api_token(leader, "till")
    user_id, token_id = leader.id, record.id

    def revoke():
        with app.app_context():
            try:
                return revoke_api_token(db.session.get(User, user_id), token_id)
            finally:
                db.session.remove()

    first, second = race(db.engine, lambda statement: "FROM api_tokens" in statement, revoke, revoke)
    assert first is True and second is True
    db.session.expire_all()
    assert db.session.execute(select(func.count()).where(AuditEvent.action == "token.revoked")).scalar_one() == 1
    assert db.session.get(ApiToken, token_id).revoked_at is not None


def test_a_user_makes_a_token_sees_it_once_and_revokes_it(client, checker, leader, db):
    login(client, leader)
    page = post_form(client, "/account/tokens", {"name": "Till at Harbour Street", "scopes": "invitations:write",
                                                 "password": PASSWORD})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    token = TOKEN_RE.search(page.get_data(as_text=True)).group(1)
    assert len(token) > 40
    again = client.get("/account/tokens").get_data(as_text=True)
    assert token not in again and "Till at Harbour Street" in again and token[:10] in again
    record = db.session.execute(select(ApiToken)).scalar_one()
    assert record.scopes == "invitations:write"
    assert token not in repr(db.session.execute(select(ApiToken.__table__)).all())

    api = Api(client, checker, token)
    assert api.get("/api/v1/surveys").status_code == 200
    post_form(client, f"/account/tokens/{record.id}/revoke", {}, form_url="/account/tokens")
    refused = api.get("/api/v1/surveys")
    assert refused.status_code == 401 and refused.get_json()["field"] == "Authorization"


def test_missing_malformed_unknown_and_inactive_tokens_get_401(client, checker, leader, db):
    api = Api(client, checker)
    missing = api.get("/api/v1/surveys", token=None)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in missing.get_json()["error"]
    assert api.get("/api/v1/surveys", token=None, headers={"Authorization": "Basic dXNlcjpwdw=="}).status_code == 401
    assert api.get("/api/v1/surveys", token="pcp_not-a-real-token").status_code == 401
    token = token_for(leader)
    leader.active = False
    db.session.commit()
    assert api.get("/api/v1/surveys", token=token).status_code == 401


def test_staff_tokens_may_list_their_surveys_but_nothing_else(client, checker, db):
    team, other = make_team("Harbour Street"), make_team("Riverside")
    make_survey("ours", teams=[team])
    make_survey("theirs", teams=[other])
    api = Api(client, checker, token_for(make_user("staff", team=team)))
    assert [survey["slug"] for survey in api.get("/api/v1/surveys").get_json()["surveys"]] == ["ours"]
    for path in ("/api/v1/surveys/ours/gap", "/api/v1/surveys/ours/responses", "/api/v1/surveys/ours/funnel"):
        assert api.get(path).status_code == 403
    denied = api.post("/api/v1/invitations", json=BODY | {"survey": "ours"})
    assert denied.status_code == 403 and "leader or admin" in denied.get_json()["error"]
    assert invitation_count() == 0


def test_deliver_none_returns_a_working_link_built_from_base_url(client, api, db):
    survey, team = make_survey(), make_team()
    staff = make_user("staff", team=team, email="kemi@example.com")
    created = api.post("/api/v1/invitations", json=BODY | {"deliver": "none", "staff_email": "Kemi@example.com"},
                       headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["state"] == "sent" and body["deliver"] == "none" and body["staff_email"] == staff.email
    assert body["link"].startswith("http://perception.test/s/")
    assert body["interaction_at"].startswith("2026-01-02T10:00:00")
    assert OutboxMessage.query.count() == 0

    assert client.get(urlsplit(body["link"]).path).status_code == 303
    assert post_form(client, "/s/answer", answers_for(survey.items)).status_code == 303
    response = db.session.execute(select(Response)).scalar_one()
    assert response.channel == "api" and response.team_id == team.id and response.staff_id == staff.id
    # Reading the invitation later never hands out its link (only the call that made it got it).
    state = api.get(f"/api/v1/invitations/{body['id']}").get_json()
    assert state["state"] == "sent" and state["link"] is None  # answered: never told per invitation


def test_a_name_with_line_breaks_or_control_characters_is_stored_as_one_line(api, db):
    """The API kept a bare CR in a name (it strips the ends and refuses NUL only), and the re-survey mail
    put the name into its body: "<CR>.<CR><LF>" then SMTP commands reached the relay (SMTP smuggling)."""
    make_survey(), make_team()
    smuggled = "Cara\r.\r\nMAIL FROM:<ceo@perception.test>\rDATA\x1b[2J\x07\tDoe"
    created = api.post("/api/v1/invitations", json=BODY | {"deliver": "none", "name": smuggled})
    assert created.status_code == 201, created.get_json()
    stored = db.session.get(Invitation, created.get_json()["id"]).customer_name
    assert stored == "Cara . MAIL FROM:<ceo@perception.test> DATA[2J Doe"
    # A vertical tab, form feed or NEL between two words is white space: a space, not nothing (a review).
    spaced = api.post("/api/v1/invitations", json=BODY | {"deliver": "none", "email": "ada@example.org",
                                                         "name": "Ada\x85Lovelace\x0bKing\x0cByron"})
    assert db.session.get(Invitation, spaced.get_json()["id"]).customer_name == "Ada Lovelace King Byron"


def test_deliver_email_queues_the_mail_and_hides_the_link(client, api, runner, smtp_server):
    make_survey(), make_team()
    created = api.post("/api/v1/invitations", json=BODY)
    assert created.status_code == 201
    assert created.get_json()["link"] is None and created.get_json()["state"] == "created"
    assert created.headers["Location"].endswith(f"/api/v1/invitations/{created.get_json()['id']}")
    assert runner.invoke(args=["send-invitations"]).exit_code == 0
    [mail] = smtp_server.messages
    assert mail.to == "cara@example.org" and "Dear Cara," in mail.text
    assert client.get(urlsplit(mail.link()).path).status_code == 303


def test_a_language_we_ship_is_kept_and_the_mail_is_written_in_it(api, runner, smtp_server):
    make_survey(), make_team()
    created = api.post("/api/v1/invitations", json=BODY | {"language": "de"})
    assert created.status_code == 201 and created.get_json()["language"] == "de"
    assert runner.invoke(args=["send-invitations"]).exit_code == 0
    [mail] = smtp_server.messages
    assert "Guten Tag Cara," in mail.text


def test_a_retried_call_with_the_same_idempotency_key_makes_one_invitation(api, db):
    make_survey(), make_team()
    headers = {"Idempotency-Key": "till-7:receipt-4711"}
    first = api.post("/api/v1/invitations", json=BODY | {"deliver": "none"}, headers=headers)
    retries = [api.post("/api/v1/invitations", json=BODY | {"deliver": "none"}, headers=headers) for _ in range(5)]

    assert first.status_code == 201
    assert {retry.status_code for retry in retries} == {200}
    assert all(retry.headers["Idempotent-Replayed"] == "true" for retry in retries)
    assert {retry.get_json()["id"] for retry in retries} == {first.get_json()["id"]}
    assert {retry.get_json()["link"] for retry in retries} == {first.get_json()["link"]}
    assert invitation_count() == 1 and IdempotencyKey.query.count() == 1

    changed = api.post("/api/v1/invitations", json=BODY | {"deliver": "none", "name": "Carla"}, headers=headers)
    assert changed.status_code == 422 and changed.get_json()["field"] == "Idempotency-Key"
    other_key = api.post("/api/v1/invitations", json=BODY, headers={"Idempotency-Key": "till-7:receipt-4712"})
    assert other_key.status_code == 409 and other_key.get_json()["field"] == "email"  # already invited
    assert invitation_count() == 1


@pytest.mark.parametrize(("body", "status", "field"), [
    (BODY | {"colour": "blue"}, 422, "colour"),
    (BODY | {"email": 5}, 422, "email"),
    (BODY | {"name": ["Cara"]}, 422, "name"),
    (BODY | {"deliver": True}, 422, "deliver"),
    ({key: value for key, value in BODY.items() if key != "team"}, 422, "team"),
    (BODY | {"survey": ""}, 422, "survey"),
    (BODY | {"deliver": "sms"}, 422, "deliver"),
    (BODY | {"interaction_at": "yesterday"}, 422, "interaction_at"),
    (BODY | {"interaction_at": "2999-01-01T00:00:00Z"}, 422, "interaction_at"),
    (BODY | {"email": "not-an-address"}, 422, "email"),
    (BODY | {"email": None}, 422, "email"),
    (BODY | {"survey": "no-such-wave"}, 422, "survey"),
    (BODY | {"team": "Nowhere"}, 422, "team"),
    (BODY | {"staff_email": "nobody@example.com"}, 422, "staff_email"),
    (BODY | {"language": "english please"}, 422, "language"),
    (BODY | {"language": "fr"}, 422, "language"),  # only the languages we ship (en, de)
    (BODY | {"language": "de-AT"}, 422, "language"),
    (BODY | {"name": "x" * 121}, 422, "name"),
])
def test_bad_input_is_refused_naming_the_field(api, body, status, field):
    make_survey(), make_team()
    answer = api.post("/api/v1/invitations", json=body)
    assert (answer.status_code, answer.get_json()["field"]) == (status, field), answer.get_json()
    assert invitation_count() == 0


def test_malformed_bodies_headers_and_parameters(api):
    make_survey(), make_team()
    json_header = {"Content-Type": "application/json"}
    broken = api.post("/api/v1/invitations", data='{"survey": "wave-1",', headers=json_header)
    assert broken.status_code == 400 and broken.get_json()["field"] == "body"
    assert api.post("/api/v1/invitations", data="[1, 2]", headers=json_header).get_json()["field"] == "body"
    not_json = api.post("/api/v1/invitations", data="survey=wave-1", content_type="text/plain")
    assert not_json.status_code == 415 and not_json.get_json()["field"] == "Content-Type"
    long_key = api.post("/api/v1/invitations", json=BODY, headers={"Idempotency-Key": "k" * 300})
    assert long_key.status_code == 422 and long_key.get_json()["field"] == "Idempotency-Key"
    typo = api.get("/api/v1/surveys/wave-1/responses?per_pgae=10")
    assert typo.status_code == 400 and typo.get_json()["field"] == "per_pgae"
    assert api.get("/api/v1/surveys/wave-1/responses?per_page=0").get_json()["field"] == "per_page"
    assert api.get("/api/v1/surveys/nope/funnel").get_json()["field"] == "slug"
    assert api.get("/api/v1/invitations/999").status_code == 404
    assert invitation_count() == 0


def test_the_gap_endpoint_answers_exactly_what_the_cli_prints(api, runner):
    survey, team = make_survey(), make_team()
    for filters, args in (({}, []), ({"team": team.name, "by": "month"}, ["--team", team.name, "--by", "month"])):
        query = "&".join(f"{key}={value}" for key, value in filters.items())
        answer = api.get(f"/api/v1/surveys/{survey.slug}/gap?{query}")
        printed = runner.invoke(args=["gap", "--survey", survey.slug, "--json", *args])
        assert answer.status_code == 200 and printed.exit_code == 0, printed.output
        assert answer.get_json() == json.loads(printed.output)
    bad = api.get(f"/api/v1/surveys/{survey.slug}/gap?by=week")
    assert bad.status_code == 400 and bad.get_json()["field"] == "by"
    assert api.get(f"/api/v1/surveys/{survey.slug}/gap?from=2026-13").get_json()["field"] == "from"
    assert api.get(f"/api/v1/surveys/{survey.slug}/gap?team=Nowhere").get_json()["field"] == "team"


def _responses(survey, team, count, channel="email", comment=None, perspective="customer", submitted_at=None):
    """`count` responses, published at once (answers are otherwise published in batches of MIN_N)."""
    from perception.core.models import Answer

    moment = submitted_at or utcnow()
    for _ in range(count):
        db_response = Response(survey_id=survey.id, perspective=perspective, team_id=team.id if team else None,
                               channel=channel, respondent="someone@example.org", comment=comment,
                               submitted_at=moment, published_at=moment,
                               answers=[Answer(item_id=item.id, score=4) for item in survey.items])
        Invitation.query.session.add(db_response)
    Invitation.query.session.commit()


def test_responses_are_paginated_anonymous_and_only_published_cells_are_given(api, app):
    app.config["MIN_N"] = 5
    survey = make_survey()
    big, small = make_team("Harbour Street"), make_team("Riverside")
    _responses(survey, big, 7, comment="Kind staff")
    _responses(survey, small, 2, comment="Riverside comment")
    _responses(survey, big, 4, comment="Long ago", submitted_at=datetime(2025, 11, 3, 9, 30, tzinfo=UTC))
    _responses(survey, None, 6, comment="No team")
    this_month = utcnow().strftime("%Y-%m")

    pages, url = [], f"/api/v1/surveys/{survey.slug}/responses?per_page=3"
    page = 1
    while page:
        body = api.get(f"{url}&page={page}").get_json()
        pages.append(body)
        page = body["next_page"]
    assert [len(body["responses"]) for body in pages] == [3, 3, 1]
    assert pages[0]["total"] == 7
    assert pages[0]["withheld"] == [{"team": "Harbour Street", "month": "2025-11", "n": 4},
                                    {"team": "Riverside", "month": this_month, "n": 2},
                                    {"team": None, "month": this_month, "n": 6}]
    rows = [row for body in pages for row in body["responses"]]
    assert {row["team"] for row in rows} == {"Harbour Street"}
    assert {row["comment"] for row in rows} == {"Kind staff"}  # where the board would show it, and only there
    assert rows[0]["answers"] == {item.key: 4 for item in survey.items}
    text = json.dumps(pages)
    for withheld in ("someone@example.org", "Riverside comment", "Long ago", "No team"):
        assert withheld not in text
    assert api.get(f"/api/v1/surveys/{survey.slug}/responses?team=Riverside").get_json()["responses"] == []
    assert api.get(f"/api/v1/surveys/{survey.slug}/responses?channel=open").get_json()["total"] == 0
    assert {row["channel"] for row in rows} == {"email"}


def _batch(survey, team, channels, moment, comment=None):
    """One published batch: {channel: responses} all published at `moment`."""
    for channel, count in channels.items():
        _responses(survey, team, count, channel=channel, comment=comment, submitted_at=moment)


def test_a_channel_fewer_than_min_n_of_a_batch_took_is_given_neither_on_rows_nor_through_the_filter(api, app):
    """The one customer who scanned the counter's QR code: a leader who saw them scan would read their
    answers off the row marked "open". A batch mixing channels shows none, the filter gives none of its
    rows (counted in `withheld`), and later batches never change that."""
    app.config["MIN_N"] = 5
    survey, big = make_survey(), make_team("Harbour Street")
    day = utcnow().replace(hour=9, minute=0, second=0, microsecond=0)
    _batch(survey, big, {"email": 5}, day, comment="Kind staff")
    _batch(survey, big, {"email": 4}, day + timedelta(hours=1), comment="Quick")
    _responses(survey, big, 1, channel="open", comment="Scanned at the counter", submitted_at=day + timedelta(hours=1))
    month = day.strftime("%Y-%m")
    url = f"/api/v1/surveys/{survey.slug}/responses"

    def channels():
        rows = api.get(url).get_json()["responses"]
        return sorted((row["channel"] or "-", row["comment"]) for row in rows)

    assert channels() == [("-", "Quick")] * 4 + [("-", "Scanned at the counter")] + [("email", "Kind staff")] * 5
    opened = api.get(f"{url}?channel=open").get_json()
    assert (opened["total"], opened["responses"]) == (0, [])
    assert opened["withheld"] == [{"team": "Harbour Street", "month": month, "n": 1}]
    emailed = api.get(f"{url}?channel=email").get_json()
    assert emailed["total"] == 5 and {row["comment"] for row in emailed["responses"]} == {"Kind staff"}
    assert emailed["withheld"] == [{"team": "Harbour Street", "month": month, "n": 4}]
    # A batch all by the QR code later: it shows its channel, and the first one still shows none.
    _batch(survey, big, {"open": 5}, day + timedelta(hours=2), comment="Counter")
    assert channels() == ([("-", "Quick")] * 4 + [("-", "Scanned at the counter")] + [("email", "Kind staff")] * 5
                          + [("open", "Counter")] * 5)
    opened = api.get(f"{url}?channel=open").get_json()
    assert opened["total"] == 5 and {row["comment"] for row in opened["responses"]} == {"Counter"}
    assert opened["withheld"] == [{"team": "Harbour Street", "month": month, "n": 1}]


def _withheld_channels(counts, min_n):
    """The rule of perception.api.queries.with_shown_channel, written out: the channels a batch (or the
    batches published at one instant) withholds, given {channel: responses}."""
    order = sorted(counts, key=lambda channel: (counts[channel], channel))
    if all(counts[channel] >= min_n for channel in order):
        return set()
    withheld, together = set(), 0
    for channel in order:
        if counts[channel] < min_n or together < min_n:
            withheld.add(channel)
            together += counts[channel]
    return withheld


def test_channels_are_withheld_by_the_rule_and_no_shown_or_withheld_group_is_under_min_n(api, app):
    """Random teams of random batches (of 3, and some larger: batches published at one instant count
    as one), checked against the rule written out, with and without the channel filter."""
    app.config["MIN_N"] = 3
    survey, rng = make_survey(), random.Random(17)
    start = utcnow().replace(day=1, hour=8, minute=0, second=0, microsecond=0)
    names = ("email", "api", "open", "link", "import")
    expected, made = {}, {}  # team -> Counter of the channel each row should carry (None: withheld), of all
    # Branch 00 first: two batches at one instant, 2 + 2 + 2: each channel is under 3, so all are withheld.
    fixed = [Counter({"email": 2, "open": 2, "link": 2})]
    for index in range(10):
        team = make_team(f"Branch {index:02d}")
        shown = expected[team.name] = Counter()
        made[team.name] = Counter()
        for batch in range(rng.randint(1, 3)):
            counts = fixed.pop() if fixed else Counter(
                rng.choice(names[:rng.randint(1, 5)]) for _ in range(3 * rng.choice([1, 1, 1, 2, 3])))
            _batch(survey, team, counts, start + timedelta(minutes=10 * index + batch))
            withheld = _withheld_channels(counts, 3)
            made[team.name].update(counts)
            for channel, count in counts.items():
                shown[None if channel in withheld else channel] += count
    url = f"/api/v1/surveys/{survey.slug}/responses?per_page=500"
    seen = {}
    for row in api.get(url).get_json()["responses"]:
        seen.setdefault(row["team"], Counter())[row["channel"]] += 1
    assert seen == expected and seen["Branch 00"][None] >= 6
    assert all(count >= 3 for carried in seen.values() for count in carried.values())
    assert any(None in carried and len(carried) > 1 for carried in seen.values())  # mixed and pure batches
    for channel in names:
        body = api.get(f"{url}&channel={channel}").get_json()
        given = Counter(row["team"] for row in body["responses"])
        assert {row["channel"] for row in body["responses"]} <= {channel}
        assert given == Counter({name: carried[channel] for name, carried in seen.items() if carried[channel]})
        assert body["total"] == sum(given.values())
        assert {entry["team"]: entry["n"] for entry in body["withheld"]} == {
            name: made[name][channel] - seen[name][channel] for name in made
            if made[name][channel] > seen[name][channel]}


def test_rows_of_a_day_are_not_in_the_order_customers_answered_and_pages_hold_each_once(api, app):
    """No consent, no link: a row carries the day only, so its place among the day's rows must not say
    when it was answered (who knows who answered when would read off whose row is whose). Pages keep
    one order: together they give every row once."""
    survey, team = make_survey(), make_team("Harbour Street")
    answered = answered_one_by_one(survey, team, datetime(2026, 3, 14, 8, tzinfo=UTC))
    url, page, rows = f"/api/v1/surveys/{survey.slug}/responses?per_page=3", 1, []
    while page:
        body = api.get(f"{url}&page={page}").get_json()
        rows += body["responses"]
        page = body["next_page"]
    comments = [row["comment"] for row in rows]
    assert sorted(comments) == sorted(answered) and {row["submitted_on"] for row in rows} == {"2026-03-14"}
    assert comments not in (answered, answered[::-1]), comments


def test_after_goes_through_the_rows_once_while_batches_are_published(api, app):
    """An attacker's read: rows are sorted by day, team and keyed reference, so a batch published while
    a client paged by number slotted in anywhere in its day, and the pages after it repeated some rows
    and never gave others. `next` holds the last row's sort key; `after` goes on from it, and every
    row published before the first page comes once."""
    survey, team = make_survey(), make_team("Harbour Street")
    day = datetime(2026, 3, 14, 8, tzinfo=UTC)
    for index in range(20):  # four whole batches, published on 2026-03-14
        make_responses(survey, 1, team=team, submitted_at=day + timedelta(minutes=10 * index), comment=f"old {index}")
    url = f"/api/v1/surveys/{survey.slug}/responses?per_page=10"
    first = api.get(url).get_json()
    assert first["page"] == 1 and first["next"] and len(first["responses"]) == 10
    for index in range(5):  # one batch more, published the same day while the client pages
        make_responses(survey, 1, team=team, submitted_at=day + timedelta(hours=6, minutes=index),
                       comment=f"new {index}")
    rows, cursor = list(first["responses"]), first["next"]
    for _ in range(5):  # 25 rows, 10 a page: bounded, should after be ignored
        body = api.get(f"{url}&after={cursor}").get_json()
        assert body["page"] is None and body["next_page"] is None and body["next"] != cursor
        rows, cursor = rows + body["responses"], body["next"]
        if cursor is None:
            break
    assert cursor is None
    seen = Counter(row["comment"] for row in rows)
    assert max(seen.values()) == 1 and {f"old {index}" for index in range(20)} <= set(seen)
    by_number = [api.get(f"{url}&page={page}").get_json() for page in (1, 2, 3)]
    assert [body["next"] is None for body in by_number] == [False, False, True]
    nested = base64.urlsafe_b64encode(b"[" * 5000).decode()  # json's RecursionError gave a 500 (a review)
    # A team part no database takes (a lone surrogate, a NUL) was bound as it came: a 500 (a robustness hunt).
    unbindable = [base64.urlsafe_b64encode(json.dumps(["2026-03-14", team, "a" * 64]).encode()).decode()
                  for team in ("\ud800", "Harbour\x00")]
    for bad in ("nonsense", "W10=", cursor_of(("2026-03-14", "Harbour Street", "x" * 64)), nested, "A" * 1001,
                *unbindable):
        refused = api.get(f"{url}&after={bad}")
        assert refused.status_code == 400 and refused.get_json()["field"] == "after"
    both = api.get(f"{url}&page=2&after={first['next']}")
    assert both.status_code == 400 and both.get_json()["field"] == "after"


@pytest.mark.parametrize("perspective", ["staff", "leader"])
def test_no_staff_or_leader_row_leaves_the_app(api, app, perspective):
    app.config["MIN_N"] = 1
    survey = make_survey()
    _responses(survey, make_team(), 6, perspective=perspective, channel="self", comment="My own view")
    answer = api.get(f"/api/v1/surveys/{survey.slug}/responses?perspective={perspective}")
    assert answer.status_code == 400 and answer.get_json()["field"] == "perspective"
    assert "shown to that person only" in answer.get_json()["error"] and "My own view" not in answer.get_data(True)
    customers = api.get(f"/api/v1/surveys/{survey.slug}/responses").get_json()
    assert customers["total"] == 0 and customers["withheld"] == [] and "My own view" not in json.dumps(customers)


def test_an_invitation_never_says_whether_its_customer_answered(api, client, db):
    survey, _team = make_survey(), make_team()
    made = api.post("/api/v1/invitations", json=BODY | {"deliver": "none", "staff_email": None}).get_json()
    client.get(urlsplit(made["link"]).path)
    assert post_form(client, "/s/answer", answers_for(survey.items)).status_code == 303  # without consent
    assert db.session.get(Invitation, made["id"]).state == "answered"

    read = api.get(f"/api/v1/invitations/{made['id']}").get_json()  # checked against the document's enum too
    assert read["state"] == "sent" and read["email"] == "cara@example.org"
    assert api.get(f"/api/v1/surveys/{survey.slug}/funnel").get_json()["total"]["answered"] == 1  # counts stay


def test_the_funnel_counts_each_stage_per_team(api, client, db):
    survey, team = make_survey(), make_team()
    links = [api.post("/api/v1/invitations", json=BODY | {"email": f"c{n}@example.org", "deliver": "none"})
             .get_json()["link"] for n in range(3)]
    api.post("/api/v1/invitations", json=BODY | {"email": "mail@example.org"})
    client.get(urlsplit(links[0]).path)
    post_form(client, "/s/answer", answers_for(survey.items))
    client.get(urlsplit(links[1]).path)

    funnel = api.get(f"/api/v1/surveys/{survey.slug}/funnel").get_json()

    assert funnel["total"] == {"invited": 4, "sent": 3, "opened": 2, "answered": 1, "bounced": 0, "unsubscribed": 0,
                               "expired": 0, "response_rate": 1 / 3}
    assert funnel["teams"] == [{"team": team.name, **funnel["total"]}]
    assert funnel["responses_by_channel"] == {"api": 1}
    assert db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar() == 1
