"""Teams (`/admin/teams`, `flask teams`): create, rename, merge, archive, restore. A merge moves
everything of a team and keeps the figures exactly what a fresh computation gives; an archived team
leaves every picker but stays in history and reports; only admins reach the pages."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.accounts.service import create_api_token
from perception.core.extensions import db as _db
from perception.core.models import AuditEvent, FollowUp, Invitation, OpenLink, Response, Team, User, survey_teams
from perception.reports import service as report_cells
from perception.reports.batch_service import GROUP_LOCK, group_of, lock_key
from perception.teams.service import merge_teams
from tests.helpers import (
    answers_for,
    csrf_token,
    login,
    make_invitation,
    make_responses,
    make_survey,
    make_team,
    make_user,
    post_form,
)

MARCH = datetime(2026, 3, 10, 9, tzinfo=UTC)


def _gap(runner, slug, *args):
    result = runner.invoke(args=["gap", "--survey", slug, "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _actions():
    return [event.action for event in _db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]


@pytest.fixture
def two_teams(db):
    """North: 5 published customer answers (score 2) and 3 waiting; South: 5 published (score 5) and
    2 waiting; a wave scoped to North; a person, an invitation, an open link and a follow-up of North."""
    north, south = make_team("North"), make_team("South")
    survey = make_survey("merge", teams=[north])
    minute = timedelta(minutes=1)
    made = make_responses(survey, 8, team=north, scores=2, submitted_at=lambda i: MARCH + i * minute)
    make_responses(survey, 7, team=south, scores=5, submitted_at=lambda i: MARCH + (20 + i) * minute)
    make_user("staff", team=north, email="n.staff@example.com")
    make_invitation(survey, north)
    db.session.add(OpenLink(survey=survey, team=north, label="Till", token_nonce="n" * 16, token_hash="h" * 64))
    db.session.add(FollowUp(response_id=made[0].id, team_id=north.id, due_at=MARCH + timedelta(days=2)))
    db.session.commit()
    return survey, north, south


def test_merge_moves_everything_and_the_figures_equal_a_fresh_computation(two_teams, runner, db):
    survey, north, south = two_teams
    before = _gap(runner, "merge", "--by", "team")
    assert before["waiting"]["customer"] == 5  # 3 + 2, each short of a batch
    south_before = next(g for g in before["groups"] if g["team"] == "South")["dimensions"][0]["customer"]["n"]

    result = runner.invoke(args=["teams", "merge", "North", "South"])
    assert result.exit_code == 0, result.output
    assert "moved 8 responses, 1 invitations, 1 open links, 1 follow-ups, 1 people, 1 waves" in result.stdout
    assert "5 waiting answer(s)" in result.stdout  # 3 + 2 make one whole batch

    db.session.expire_all()
    for model in (Response, Invitation, OpenLink, FollowUp, User):
        assert set(db.session.execute(select(model.team_id).where(model.team_id.is_not(None))).scalars()) == {south.id}
    assert set(db.session.execute(select(survey_teams.c.team_id)).scalars()) == {south.id}
    merged = db.session.get(Team, north.id)
    assert merged.merged_into_id == south.id and merged.archived
    assert report_cells.drift(db.session, survey.id) == {}

    after = _gap(runner, "merge", "--by", "team")
    assert after["waiting"]["customer"] == 0
    assert [g["team"] for g in after["groups"]] == ["South"]  # a merged team has no history left of its own
    south_after = after["groups"][0]["dimensions"][0]["customer"]["n"]
    assert (south_before, south_after) == (5, 15)  # whole batches only: its 5, North's 5, the new 5
    assert runner.invoke(args=["report-cells", "--survey", "merge"]).exit_code == 0  # rebuilt from the answers
    assert _gap(runner, "merge", "--by", "team") == after
    assert "team.merged" in _actions()

    again = runner.invoke(args=["teams", "merge", "North", "South"])  # moves stragglers only
    assert again.exit_code == 0 and "moved 0 responses" in again.stdout


def test_merge_refusals(two_teams, runner, db):
    for args, message in ((["North", "North"], "cannot be merged into itself"), (["North", "Nowhere"], "no team")):
        result = runner.invoke(args=["teams", "merge", *args])
        assert result.exit_code == 2 and message in result.stderr
    assert runner.invoke(args=["teams", "archive", "South"]).exit_code == 0
    result = runner.invoke(args=["teams", "merge", "North", "South"])
    assert result.exit_code == 2 and "restore it before merging" in result.stderr


def test_rename_archive_restore_and_list_commands(two_teams, runner, db):
    assert runner.invoke(args=["teams", "rename", "North", "Northside"]).exit_code == 0
    refused = runner.invoke(args=["teams", "rename", "South", "northside"])
    assert refused.exit_code == 2 and "already the name of another team" in refused.stderr
    assert runner.invoke(args=["teams", "archive", "Northside"]).exit_code == 0
    listed = runner.invoke(args=["teams", "list"]).stdout
    assert "South: 0 people, 7 responses" in listed and "Northside" not in listed and "1 archived team" in listed
    assert "Northside: 1 people, 8 responses, 1 invitations, 1 open follow-ups  [archived]" in runner.invoke(
        args=["teams", "list", "--archived"]).stdout
    assert runner.invoke(args=["teams", "archive", "Northside"]).exit_code == 2  # already archived
    assert runner.invoke(args=["teams", "restore", "Northside"]).exit_code == 0
    assert _actions()[-3:] == ["team.renamed", "team.archived", "team.restored"]


def test_archived_team_leaves_the_pickers_but_keeps_its_history(two_teams, app, client, runner, db):
    survey, north, _south = two_teams
    survey.teams = []  # a wave of every team: its pickers list every active team
    db.session.commit()
    runner.invoke(args=["teams", "archive", "North"])
    login(client, make_user("admin"))
    for url in ("/leaders/surveys/merge/dashboard", "/leaders/surveys/merge/invitations"):
        page = client.get(url).get_data(as_text=True)
        assert 'value="South"' in page and 'value="North"' not in page, url
    wave_form = client.get("/leaders/surveys/new").get_data(as_text=True)
    assert "South" in wave_form and "North" not in wave_form
    # History: a link naming the archived team still reads it, and the by-team report keeps it.
    assert client.get("/leaders/surveys/merge/dashboard?team=North").status_code == 200
    groups = _gap(runner, "merge", "--by", "team")["groups"]
    assert [g["team"] for g in groups] == ["North", "South"]
    assert _gap(runner, "merge", "--team", "North")["dimensions"][0]["customer"]["n"] == 5


def test_admin_pages_create_rename_merge_archive_restore(two_teams, client, db):
    _survey, north, south = two_teams
    login(client, make_user("admin"))
    page = client.get("/admin/teams").get_data(as_text=True)
    assert "North" in page and "South" in page and 'href="/admin/teams"' not in page
    assert b"Teams" in client.get("/admin/").data

    created = post_form(client, "/admin/teams", {"name": "  West  "})
    assert created.status_code == 302 and make_team("West").name == "West"
    duplicate = post_form(client, "/admin/teams", {"name": "west"})
    assert duplicate.status_code == 400 and "already the name of another team" in duplicate.get_data(as_text=True)

    team_url = f"/admin/teams/{north.id}"
    renamed = post_form(client, f"{team_url}/rename", {"name": "North Quay"}, form_url=team_url)
    assert renamed.status_code == 302 and db.session.get(Team, north.id).name == "North Quay"

    unconfirmed = post_form(client, f"{team_url}/merge", {"into": str(south.id)}, form_url=team_url)
    assert unconfirmed.status_code == 400 and "tick the box" in unconfirmed.get_data(as_text=True)
    merged = post_form(client, f"{team_url}/merge", {"into": str(south.id), "confirm": "y"}, form_url=team_url)
    assert merged.status_code == 302 and merged.headers["Location"].endswith(f"/admin/teams/{south.id}")
    db.session.expire_all()
    assert db.session.get(Team, north.id).merged_into_id == south.id
    assert "merged into South" in client.get("/admin/teams").get_data(as_text=True)
    merged_page = client.get(team_url).get_data(as_text=True)
    assert "Merged into South" in merged_page and "Restore" not in merged_page and "Archive" not in merged_page

    west = make_team("West")
    west_url = f"/admin/teams/{west.id}"
    assert post_form(client, f"{west_url}/archive", {}, form_url=west_url).status_code == 302
    db.session.expire_all()
    assert db.session.get(Team, west.id).archived
    assert "Restore West" in client.get(west_url).get_data(as_text=True)
    assert post_form(client, f"{west_url}/restore", {}, form_url=west_url).status_code == 302
    db.session.expire_all()
    assert not db.session.get(Team, west.id).archived
    assert client.get("/admin/teams/999999").status_code == 404
    assert _actions()[-5:] == ["team.created", "team.renamed", "team.merged", "team.archived", "team.restored"]


def test_only_admins_reach_the_team_pages(app, db):
    team = make_team("North")
    for role in ("staff", "leader"):
        with app.test_client() as client:
            login(client, make_user(role, team=team))
            assert client.get("/admin/teams").status_code == 403
            assert client.post(f"/admin/teams/{team.id}/archive").status_code in (400, 403)
    assert not db.session.get(Team, team.id).archived


def test_an_archived_team_takes_no_new_people_or_invitations(two_teams, client, runner, db):
    runner.invoke(args=["teams", "archive", "North"])
    refused = runner.invoke(args=["create-user", "new@example.com", "--role", "staff", "--team", "North",
                                  "--password", "a long enough password"])
    assert refused.exit_code == 2 and "archived" in refused.stderr
    token = create_api_token(make_user("admin"), "tests")[1]
    answer = client.post("/api/v1/invitations", headers={"Authorization": f"Bearer {token}"},
                         json={"survey": "merge", "team": "North", "deliver": "none"})
    assert answer.status_code == 422 and answer.get_json()["field"] == "team"


def test_a_merge_and_a_submit_completing_a_batch_in_the_target_team_never_deadlock(two_teams, app, db):
    """PostgreSQL (SQLite has one writer at a time): a customer's submit holds its group's lock and
    then counts its batch in its team's cells. A merge into that team that moved the cells first
    and then waited for the group's lock deadlocked with it, and one of the two failed."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    survey, north, south = two_teams
    published = db.session.execute(select(Response.id).where(
        Response.team_id == south.id, Response.published_at.is_not(None))).scalars().first()
    survey_id, north_id, south_id = survey.id, north.id, south.id
    outcome = {}

    def merge():
        with app.app_context():
            try:
                merge_teams(_db.session.get(Team, north_id), _db.session.get(Team, south_id))
                outcome["merged"] = True
            except Exception as error:  # noqa: BLE001 (the test reports whatever failed)
                outcome["error"] = error
            finally:
                _db.session.remove()

    with db.engine.connect() as submit:
        submit.execute(select(GROUP_LOCK), lock_key(group_of(survey_id, south_id, None, "customer", False)))
        merging = threading.Thread(target=merge)
        merging.start()
        deadline = time.monotonic() + 20
        while not submit.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).scalar():
            assert time.monotonic() < deadline and merging.is_alive(), outcome
            time.sleep(0.02)
        # The merge waits for the submit's group: the submit now counts South's cells, as a completed
        # batch does (its transaction is then rolled back: only the waiting matters here).
        report_cells.add(Session(bind=submit), survey_id, [published])
        submit.rollback()
        merging.join(30)
    assert outcome == {"merged": True}


def test_a_merge_and_a_customers_submit_into_the_merged_team_never_deadlock(two_teams, app, db):
    """A review (PostgreSQL): the submit marked its invitation answered before it took its publication
    group's lock, and a merge takes the groups' locks before it moves the invitations, so each waited for
    the other and one failed (a customer's answer lost, or the merge). The merge is held here after its
    group locks (a waiting answer of North locked elsewhere) while a customer of North submits."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    survey, north, south = two_teams
    _invitation, token = make_invitation(survey, north)
    waiting = db.session.execute(select(Response.id).where(
        Response.team_id == north.id, Response.published_at.is_(None))).scalars().first()
    browser = app.test_client()
    assert browser.get(f"/s/{token}").status_code == 303
    form = answers_for(survey.items, 4) | {"csrf_token": csrf_token(browser, "/s/answer")}
    north_id, south_id, outcome = north.id, south.id, {}

    def in_app(name, call):
        def run():
            with app.app_context():
                try:
                    outcome[name] = call()
                except Exception as error:  # noqa: BLE001 (the test reports whatever failed)
                    outcome[name] = error
                finally:
                    _db.session.remove()
        return threading.Thread(target=run)

    merging = in_app("merge", lambda: merge_teams(_db.session.get(Team, north_id), _db.session.get(Team, south_id))
                     .target)
    submitting = in_app("submit", lambda: browser.post("/s/answer", data=form).status_code)
    with db.engine.connect() as blocker:
        blocker.execute(sa.text("SELECT id FROM responses WHERE id = :id FOR UPDATE"), {"id": waiting})
        merging.start()
        deadline = time.monotonic() + 20
        while not blocker.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted")).scalar():
            assert time.monotonic() < deadline and merging.is_alive(), outcome
            time.sleep(0.02)
        submitting.start()
        submitting.join(1.5)  # the submit reaches its group's lock, which the merge holds
        blocker.rollback()
    merging.join(30)
    submitting.join(30)
    assert outcome == {"merge": "South", "submit": 303}, outcome
