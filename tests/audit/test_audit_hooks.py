"""The audit log records each existing feature's event in the same transaction as the change, with the
acting account (None on the command line) and the right target, and never an email address."""

import json

import pytest
from sqlalchemy import select

from perception.accounts.service import create_api_token
from perception.board.service import save_tag
from perception.core.models import ApiToken, AuditEvent, ErasureRecord, Response, Survey
from perception.core.tokens import row_reference_of
from perception.followups.service import reassign
from perception.surveys.service import WaveError, WaveSpec, close_wave, create_wave, update_wave
from tests.helpers import (
    PASSWORD,
    bank_items,
    csrf_token,
    login,
    make_responses,
    make_survey,
    make_team,
    make_user,
    post_form,
)
from tests.loop_helpers import followup_of, invite_and_answer

CUSTOMER = "priyanka.sharma@example.org"


def events(db, action):
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


def only(db, action):
    [event] = events(db, action)
    assert "@" not in json.dumps(event.details), event.details
    return event


def test_tokens_made_and_revoked_on_the_tokens_page(client, db):
    leader = make_user("leader")
    login(client, leader)
    post_form(client, "/account/tokens", {"name": "Till at sam@shop.example", "scopes": "invitations:write",
                                          "password": PASSWORD})
    token = db.session.execute(select(ApiToken)).scalar_one()
    made = only(db, "token.created")
    assert (made.actor_id, made.target_type, made.target_id) == (leader.id, "api_tokens", str(token.id))
    assert made.details == {"scopes": "invitations:write"}  # not the name: free text, here with an address
    post_form(client, f"/account/tokens/{token.id}/revoke", {}, form_url="/account/tokens")
    revoked = only(db, "token.revoked")
    assert (revoked.actor_id, revoked.target_id) == (leader.id, str(token.id))


def test_exports_downloaded_from_the_pages_the_api_and_the_command_line(app, client, db, runner):
    team = make_team()
    survey = make_survey(teams=[team])
    make_responses(survey, 5, team=team)
    leader = make_user("leader", team=team)
    login(client, leader)
    assert client.get("/leaders/surveys/wave-1/export.csv").status_code == 200
    assert client.get("/leaders/surveys/wave-1/gap.csv?from=2026-01&by=month").status_code == 200
    assert client.get("/leaders/surveys/wave-1/report/print").status_code == 200
    _record, token = create_api_token(leader, "CRM", ["responses:read"])
    api = app.test_client()
    for page in (1, 2):
        assert api.get(f"/api/v1/surveys/wave-1/responses?page={page}&per_page=1",
                       headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(args=["export-responses", "--survey", "wave-1"]).exit_code == 0
    downloads = events(db, "export.downloaded")
    assert [event.details["kind"] for event in downloads] == [
        "responses", "gap-report", "printable-report", "api-responses", "responses-full"]
    assert [event.actor_id for event in downloads] == [leader.id] * 4 + [None]
    assert {(event.target_type, event.target_id) for event in downloads} == {("surveys", str(survey.id))}
    assert downloads[0].details["team_id"] == team.id  # a team's leader gets their team's rows
    assert downloads[1].details["month_from"] == "2026-01" and downloads[1].details["by"] == "month"
    assert all("@" not in json.dumps(event.details) for event in downloads)


def test_waves_made_changed_opened_and_closed(client, db):
    leader = make_user("leader")
    items = bank_items(3)
    survey = create_wave(WaveSpec(title="Spring", slug="spring", item_ids=frozenset({items[0].id})), actor=leader)
    update_wave(survey, WaveSpec(title="Spring", slug="spring", item_ids=frozenset({i.id for i in items})),
                actor=leader)
    login(client, leader)
    post_form(client, "/leaders/surveys/spring/open", {}, form_url="/leaders/surveys/spring")
    post_form(client, "/leaders/surveys/spring/close", {}, form_url="/leaders/surveys/spring")
    assert db.session.get(Survey, survey.id).status == "closed"
    for action in ("survey.created", "survey.items_changed", "survey.opened", "survey.closed"):
        event = only(db, action)
        assert (event.actor_id, event.target_type, event.target_id) == (leader.id, "surveys", str(survey.id)), action
    assert only(db, "survey.items_changed").details["items"] == sorted(item.id for item in items)


def test_a_refused_wave_change_records_nothing(db):
    survey = make_survey(status="closed")
    with pytest.raises(WaveError, match="Only an open wave"):
        close_wave(survey, actor=make_user("leader"))
    assert events(db, "survey.closed") == []


def test_erasures_recorded_with_the_keyed_hash_not_the_address(app, client, db, runner):
    survey = make_survey(items=bank_items())
    team = make_team()
    invite_and_answer(app.test_client(), survey, team, email=CUSTOMER, name="Priyanka Sharma", score=4, consent="yes")
    admin = make_user("admin")
    login(client, admin)
    post_form(client, "/leaders/customers", {"erase-action": "erase", "erase-email": CUSTOMER, "erase-confirm": "y"})
    assert runner.invoke(args=["erase-customer", "other@example.org", "--yes"]).exit_code == 0
    by_page, by_command = events(db, "customer.erased")
    record = db.session.execute(select(ErasureRecord).order_by(ErasureRecord.id)).scalars().first()
    assert (by_page.actor_id, by_page.target_type, by_page.target_id) == (admin.id, "erasure_records", str(record.id))
    assert by_page.details["subject_hash"] == record.subject_hash and by_page.details["responses"] == 1
    assert by_command.actor_id is None
    text = json.dumps([by_page.details, by_command.details]).lower()
    assert "@" not in text and "priyanka" not in text and "sharma" not in text


def test_followup_reassignment(app, db):
    team = make_team()
    survey = make_survey(items=bank_items(), teams=[team])
    first, second = make_user("leader", team=team), make_user("leader", team=team)
    followup = followup_of(invite_and_answer(app.test_client(), survey, team, score=1))
    before = followup.assignee_id
    reassign(followup, first, second.id if before != second.id else first.id)
    event = only(db, "followup.reassigned")
    assert (event.actor_id, event.target_type, event.target_id) == (first.id, "follow_ups", str(followup.id))
    assert event.details["from_assignee_id"] == before and event.details["to_assignee_id"] == followup.assignee_id


def test_tags_added_and_removed(client, db):
    team = make_team()
    survey = make_survey(items=bank_items())
    # Five answers: a comment is shown (and acted on) once its team and month have min_n of them.
    response = make_responses(survey, 5, team=team, comment="They promised a call back that never came.")[0]
    leader = make_user("leader")
    save_tag(survey, db.session.get(Response, response.id), leader, "erodes", "trust")
    tagged = only(db, "comment.tagged")
    # The comment by its keyed reference, as the board names it: a response id would tell its order of arrival.
    assert (tagged.actor_id, tagged.target_type, tagged.target_id) == (leader.id, "comments",
                                                                       row_reference_of(response.id))
    assert tagged.details == {"dimension": "trust", "effect": "erodes"}
    login(client, leader)
    token = csrf_token(client, "/leaders/surveys/wave-1/board")
    assert client.post("/leaders/surveys/wave-1/board/comments?untagged=",
                       data={"comment": row_reference_of(response.id), "csrf_token": token,
                             "remove": "trust"}).status_code == 302
    untagged = only(db, "comment.untagged")
    assert (untagged.actor_id, untagged.target_id) == (leader.id, row_reference_of(response.id))
