"""`flask import-responses --create-teams` makes teams the way every other place does
(perception/accounts/team_service.py): the same name rules and one `team.created` audit event per new
team, with no actor on the command line, rolled back with the import when it fails."""

from sqlalchemy import select

from perception.core.models import AuditEvent, Response, Team
from perception.responses import csv_import
from tests.helpers import make_survey, make_team
from tests.reports_support import items_by_key, row_counts, write_csv

HEADER = ["perspective", "respondent", "team", "submitted_at", "trust_believed", "comment"]


def _row(respondent, team, score="4"):
    return ["customer", respondent, team, "2026-03-01T10:00:00Z", score, ""]


def _survey(db):
    return make_survey("imp", items=items_by_key(db, ["trust_believed"]))


def _import(runner, path, *options):
    return runner.invoke(args=["import-responses", path, "--survey", "imp", *options])


def _events(db, action):
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


def test_each_team_the_import_creates_is_recorded_once_and_an_existing_one_is_not(runner, db, tmp_path):
    _survey(db)
    north = make_team("North")
    rows = [_row("a", "North"), _row("b", "South"), _row("c", "South"), _row("d", "West"), _row("e", "a@b")]
    result = _import(runner, write_csv(tmp_path / "new.csv", HEADER, rows), "--create-teams")
    assert result.exit_code == 0, result.output
    assert "Created 3 team(s): South, West, a@b." in result.stdout
    teams = {team.name: team for team in db.session.execute(select(Team)).scalars()}
    created = _events(db, "team.created")
    assert [(event.actor_id, event.target_type, event.target_id, event.details) for event in created] == [
        (None, "teams", str(teams["South"].id), {"name": "South"}),
        (None, "teams", str(teams["West"].id), {"name": "West"}),
        (None, "teams", str(teams["a@b"].id), {"name": None}),  # the log takes no address-like name
    ]
    assert str(north.id) not in {event.target_id for event in created}
    [imported] = _events(db, "responses.imported")
    assert imported.details["created_teams"] == 3


def test_a_failed_import_keeps_neither_its_teams_nor_their_audit_events(runner, db, tmp_path, monkeypatch):
    monkeypatch.setattr(csv_import, "CHUNK", 2)  # the teams are made in the first chunk, the error is in the last
    _survey(db)
    before = row_counts(db)
    rows = [_row("a", "South"), _row("b", "West"), _row("c", "East"), _row("d", "South", score="9")]
    result = _import(runner, write_csv(tmp_path / "bad.csv", HEADER, rows), "--create-teams")
    assert result.exit_code == 2 and "row 4 (line 5), column trust_believed" in result.stderr
    assert row_counts(db) == before
    assert _events(db, "team.created") == [] and _events(db, "responses.imported") == []


def test_a_name_the_teams_service_refuses_is_an_error_naming_the_row(runner, db, tmp_path):
    """A team whose name differs from an existing one only in case would be confused with it: the teams
    pages refuse it, and so does the import, naming the row; nothing is kept."""
    _survey(db)
    make_team("North")
    before = row_counts(db)
    rows = [_row("a", "South"), _row("b", "north")]
    result = _import(runner, write_csv(tmp_path / "case.csv", HEADER, rows), "--create-teams")
    assert result.exit_code == 2, result.output
    assert ("row 2 (line 3), column team: 'north' is not a team and cannot be created: 'North' is already the "
            "name of another team") in result.stderr
    assert row_counts(db) == before and _events(db, "team.created") == []


def test_a_created_name_is_cleaned_like_on_the_teams_pages_and_found_again(runner, db, tmp_path):
    _survey(db)
    rows = [_row("a", "Harbour  Street"), _row("b", "Harbour Street")]
    path = write_csv(tmp_path / "spaces.csv", HEADER, rows)
    first = _import(runner, path, "--create-teams")
    assert first.exit_code == 0, first.output
    assert "Created 1 team(s): Harbour Street." in first.stdout
    [team] = db.session.execute(select(Team)).scalars()
    assert team.name == "Harbour Street"
    assert set(db.session.execute(select(Response.team_id)).scalars()) == {team.id}
    again = _import(runner, path)  # the same file finds the team it made: nothing added, nothing refused
    assert again.exit_code == 0, again.output
    assert "Skipped 2 row(s)" in again.stdout
    assert len(_events(db, "team.created")) == 1
