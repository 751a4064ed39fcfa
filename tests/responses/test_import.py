"""`flask import-responses`: what a valid file stores, and every kind of refusal (nothing
written, every error with its row, line, column and value, exit code 2)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from perception.core.models import AuditEvent, Response, Team
from perception.responses import csv_import
from perception.responses.csv_import import names_summary
from tests.helpers import make_invitation, make_survey, make_team
from tests.reports_support import items_by_key, row_counts, write_csv

SMALL = Path(__file__).resolve().parent.parent / "data" / "gap_small.csv"
HEADER = ["perspective", "respondent", "team", "submitted_at", "trust_believed", "trust_reliable",
          "predicted:trust_believed", "comment", "nps"]
GOOD = ["customer", "a@example.net", "North", "2026-03-01T10:00:00Z", "4", "5", "", "ok", "8"]


@pytest.fixture
def survey(db):
    return make_survey("imp", items=items_by_key(db, ["trust_believed", "trust_reliable"]))


def run_import(runner, path, slug="imp", *options):
    return runner.invoke(args=["import-responses", path, "--survey", slug, *options])


def refused(runner, db, path, *messages):
    """Import `path`, expect a refusal naming every message, and an unchanged database."""
    before = row_counts(db)
    result = run_import(runner, path)
    assert result.exit_code == 2, result.output
    assert "Nothing was imported" in result.stderr
    for message in messages:
        assert message in result.stderr, result.stderr
    assert row_counts(db) == before
    return result.stderr


def test_valid_file_stores_every_field(survey, runner, db, tmp_path):
    make_team("North")  # an existing team is reused, a new one is created
    rows = [GOOD, ["staff", "s1", "South", "2026-03-02 09:30", "5", "", "3", "", ""],
            ["leader", "", "", "2026-03-03T08:00:00+02:00", "", "", "", "multi\nline, \"quoted\"", ""]]
    result = run_import(runner, write_csv(tmp_path / "ok.csv", HEADER, rows), "imp", "--create-teams")
    assert result.exit_code == 0, result.output
    assert "Imported 3 responses into survey imp: 1 customer, 1 staff, 1 leader." in result.stdout
    assert "Created 1 team(s): South." in result.stdout
    assert "1 row(s) answered no item" in result.stdout
    stored = db.session.execute(select(Response).order_by(Response.id)).scalars().all()
    customer, staff, leader = stored
    assert (customer.perspective, customer.respondent, customer.team.name, customer.nps, customer.comment) == (
        "customer", "a@example.net", "North", 8, "ok")
    assert customer.submitted_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert {a.item.key: a.score for a in customer.answers} == {"trust_believed": 4, "trust_reliable": 5}
    assert all(r.channel == "import" and r.user_id is None and r.invitation_id is None for r in stored)
    assert staff.team.name == "South" and staff.submitted_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert {p.item.key: p.score for p in staff.predictions} == {"trust_believed": 3}
    assert leader.team is None and leader.respondent is None and leader.answers == []
    assert leader.submitted_at == datetime(2026, 3, 3, 6, tzinfo=UTC)  # +02:00 stored as UTC
    assert leader.comment == 'multi\nline, "quoted"'


def test_formula_guard_of_exported_cells_is_removed(survey, runner, db, tmp_path):
    row = list(GOOD)
    row[HEADER.index("comment")] = "'=HYPERLINK(1)"  # how export-responses writes "=HYPERLINK(1)"
    row[HEADER.index("team")] = "'+Team"
    result = run_import(runner, write_csv(tmp_path / "guarded.csv", HEADER, [row]), "imp", "--create-teams")
    assert result.exit_code == 0
    stored = db.session.execute(select(Response)).scalar_one()
    assert (stored.comment, stored.team.name) == ("=HYPERLINK(1)", "+Team")


def test_bom_and_crlf_are_accepted(survey, runner, db, tmp_path):
    other = ["customer", "b@example.net", *GOOD[2:]]
    path = write_csv(tmp_path / "excel.csv", [name.upper() for name in HEADER], [GOOD, other], bom=True,
                     line_ending="\r\n")
    assert Path(path).read_bytes().startswith(b"\xef\xbb\xbfPERSPECTIVE,")
    result = run_import(runner, path, "imp", "--create-teams")
    assert result.exit_code == 0, result.output
    assert "Imported 2 responses" in result.stdout
    assert db.session.execute(select(Team.name)).scalars().all() == ["North"]


def test_blank_lines_are_skipped_and_not_numbered(survey, runner, db, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text(",".join(HEADER) + "\n\n" + ",".join(GOOD) + "\n,,,,,,,,\n"
                    + ",".join(GOOD).replace(",4,", ",9,") + "\n")
    refused(runner, db, str(path), "row 2 (line 5), column trust_believed: '9' is not an integer from 1 to 5")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADER + ["colour"], "header (line 1), column 10: unknown column 'colour'"),
        (HEADER + ["respect_dignity"], "column 10: item 'respect_dignity' is not part of survey 'imp'"),
        (HEADER + ["predicted:trust_made_up"], "names an unknown item key 'trust_made_up'"),
        (HEADER + ["predicted:kindness_warm"], "item 'kindness_warm' is not part of survey 'imp'"),
        ([name for name in HEADER if name != "submitted_at"], "the required column 'submitted_at' is missing"),
        ([name for name in HEADER if name != "team"], "the required column 'team' is missing"),
        (HEADER + ["nps"], "column 10: 'nps' appears twice (also column 9)"),
        (HEADER + [""], "column 10: the column has no name"),
        (["perspective", "team", "submitted_at", "comment"], "no column names an item of survey 'imp'"),
    ],
)
def test_header_errors(survey, runner, db, tmp_path, header, message):
    rows = [GOOD + [""] * (len(header) - len(GOOD))] if len(header) >= len(GOOD) else [["customer"] * len(header)]
    refused(runner, db, write_csv(tmp_path / "bad.csv", header, rows), message)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("trust_believed", "7", "row 2 (line 3), column trust_believed: '7' is not an integer from 1 to 5"),
        ("trust_believed", "0", "column trust_believed: '0' is not an integer from 1 to 5"),
        ("trust_reliable", "4.5", "column trust_reliable: '4.5' is not an integer from 1 to 5"),
        ("trust_reliable", "four", "column trust_reliable: 'four' is not an integer from 1 to 5"),
        ("submitted_at", "31/02/2026", "row 2 (line 3), column submitted_at: '31/02/2026' is not an ISO 8601"),
        ("submitted_at", "2026-02-30T10:00:00", "column submitted_at: '2026-02-30T10:00:00' is not an ISO 8601"),
        ("submitted_at", "", "column submitted_at: '' is not an ISO 8601"),
        ("perspective", "manager", "column perspective: 'manager' is not one of customer, staff, leader"),
        ("perspective", "", "column perspective: '' is not one of customer, staff, leader"),
        ("predicted:trust_believed", "4", "column predicted:trust_believed: '4' is a prediction, but predictions "
                                          "are for staff only (this row is customer)"),
        ("nps", "11", "row 2 (line 3), column nps: '11' is not an integer from 0 to 10"),
        ("nps", "-1", "column nps: '-1' is not an integer from 0 to 10"),
        ("team", "T" * 121, "column team: 'TTTT"),
        ("comment", "x" * 5001, "is longer than 5000 characters"),
        # A year typed wrong made a by-month report of some 120,000 months (a robustness review).
        ("submitted_at", "0001-03-01T10:00:00Z", "column submitted_at: '0001-03-01T10:00:00Z' is before 2000 or in "
                                                 "the future: check the year"),
        ("submitted_at", "9999-03-01", "column submitted_at: '9999-03-01' is before 2000 or in the future"),
        # PostgreSQL text cannot hold a NUL: refused by row and column, not by the database.
        ("comment", "fi\x00ne", "row 2 (line 3), column comment: 'fine' contains the NUL character (0x00)"),
        ("respondent", "r\x001", "column respondent: 'r1' contains the NUL character"),
        ("team", "Harbour\x00", "column team: 'Harbour' contains the NUL character"),
    ],
)
def test_value_errors_name_row_line_column_and_value(survey, runner, db, tmp_path, column, value, message):
    bad = list(GOOD)
    bad[HEADER.index(column)] = value
    refused(runner, db, write_csv(tmp_path / "bad.csv", HEADER, [GOOD, bad, GOOD]), message)


def test_wrong_perspective_for_predictions_and_nps(survey, runner, db, tmp_path):
    leader = ["leader", "", "", "2026-03-01", "4", "4", "5", "", "9"]
    staff = ["staff", "", "North", "2026-03-01", "4", "4", "5", "", "3"]
    refused(runner, db, write_csv(tmp_path / "bad.csv", HEADER, [leader, staff]),
            "row 1 (line 2), column predicted:trust_believed: '5' is a prediction, but predictions are for staff "
            "only (this row is leader)",
            "row 1 (line 2), column nps: '9' is given, but nps is for customers only (this row is leader)",
            "row 2 (line 3), column nps: '3' is given, but nps is for customers only (this row is staff)")


def test_wrong_number_of_values(survey, runner, db, tmp_path):
    refused(runner, db, write_csv(tmp_path / "bad.csv", HEADER, [GOOD, GOOD[:-2], GOOD + ["extra"]]),
            "row 2 (line 3): 7 values, but the header has 9 columns",
            "row 3 (line 4): 10 values, but the header has 9 columns")


def test_line_numbers_follow_multi_line_fields(survey, runner, db, tmp_path):
    first = list(GOOD)
    first[HEADER.index("comment")] = "one\ntwo\nthree"
    bad = list(GOOD)
    bad[HEADER.index("trust_reliable")] = "6"
    refused(runner, db, write_csv(tmp_path / "bad.csv", HEADER, [first, bad]),
            "row 2 (line 5), column trust_reliable: '6' is not an integer from 1 to 5")


def test_one_bad_last_row_refuses_the_whole_file(survey, runner, db, tmp_path):
    bad = list(GOOD)
    bad[HEADER.index("team")] = "Brand new team"
    bad[HEADER.index("trust_believed")] = "55"
    refused(runner, db, write_csv(tmp_path / "bad.csv", HEADER, [GOOD] * 200 + [bad]),
            "row 201 (line 202), column trust_believed: '55'")
    assert db.session.execute(select(Team)).first() is None  # not even the teams were created


def test_errors_are_capped_with_a_count_of_the_rest(survey, runner, db, tmp_path):
    bad = list(GOOD)
    bad[HEADER.index("trust_believed")] = "x"
    stderr = refused(runner, db, write_csv(tmp_path / "bad.csv", HEADER, [bad] * 80),
                     "Nothing was imported: 80 error(s)", "... and 30 more error(s).")
    assert "row 50 (line 51)" in stderr and "row 51 (line 52)" not in stderr


def test_not_utf8_and_empty_files(survey, runner, db, tmp_path):
    latin = tmp_path / "latin1.csv"
    latin.write_bytes((",".join(HEADER) + "\n" + ",".join(GOOD) + "\n").encode() + "caf\xe9,\n".encode("latin-1"))
    refused(runner, db, str(latin), "line 3: the file is not UTF-8 text")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused(runner, db, str(empty), "the file is empty")


def test_unknown_survey_and_missing_file_exit_2(survey, runner, tmp_path):
    path = write_csv(tmp_path / "ok.csv", HEADER, [GOOD])
    result = run_import(runner, path, slug="nope")
    assert result.exit_code == 2 and "no survey with slug 'nope'" in result.stderr
    result = run_import(runner, str(tmp_path / "missing.csv"))
    assert result.exit_code == 2 and "missing.csv" in result.stderr


def test_database_error_rolls_everything_back(survey, runner, db, tmp_path):
    """A failure while writing (here a trigger refusing predictions) leaves nothing behind."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        create = ["CREATE TRIGGER refuse BEFORE INSERT ON predicted_answers BEGIN SELECT RAISE(ABORT, 'refused'); END"]
        drop = "DROP TRIGGER refuse"
    else:
        create = ["CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
                  "LANGUAGE plpgsql",
                  "CREATE TRIGGER refuse BEFORE INSERT ON predicted_answers FOR EACH ROW EXECUTE FUNCTION refuse()"]
        drop = "DROP TRIGGER refuse ON predicted_answers; DROP FUNCTION refuse()"
    for statement in create:
        db.session.execute(text(statement))
    db.session.commit()
    try:
        before = row_counts(db)
        staff = ["staff", "s1", "Fresh team", "2026-03-02", "5", "4", "3", "", ""]
        result = run_import(runner, write_csv(tmp_path / "ok.csv", HEADER, [GOOD, staff]), "imp", "--create-teams")
        assert result.exit_code == 1
        assert "Nothing was imported" in result.stderr and "refused" in result.stderr
        assert row_counts(db) == before
    finally:
        db.session.rollback()
        db.session.execute(text(drop))
        db.session.commit()


# --- importing again adds nothing; teams must exist unless --create-teams (issue 15) -----------------

def _customers(db):
    return db.session.execute(select(func.count()).select_from(Response)).scalar_one()


def test_importing_the_same_file_again_adds_nothing_and_says_how_many_were_skipped(survey, runner, db, tmp_path):
    make_team("North")
    anonymous = ["customer", "", "North", "2026-03-05T00:00:00Z", "3", "3", "", "", ""]
    rows = [GOOD, GOOD, ["customer", "b@example.net", *GOOD[2:]], anonymous, anonymous]
    path = write_csv(tmp_path / "twice.csv", HEADER, rows)
    first = run_import(runner, path)
    assert first.exit_code == 0, first.output
    # GOOD twice is one respondent at one time; two blank respondents are two people (DESIGN section 2).
    assert "Imported 4 responses" in first.stdout and "Skipped 1 row(s) already stored" in first.stdout
    again = run_import(runner, path)
    assert again.exit_code == 0, again.output
    assert "Imported 0 responses" in again.stdout and "Skipped 5 row(s) already stored" in again.stdout
    assert _customers(db) == 4
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "responses.imported")).scalars().all()
    assert [(e.details["imported"], e.details["skipped"]) for e in events] == [(4, 1), (0, 5)]
    assert "@" not in str([e.details for e in events])


def test_a_response_stored_by_the_app_is_not_imported_again(survey, runner, db, tmp_path):
    """The stored respondent of a link's answer is its invitation's email, as export-responses writes it."""
    north = make_team("North")
    invitation, _token = make_invitation(survey, north)
    invitation.customer_email = "c@example.net"
    moment = datetime(2026, 3, 1, 10, tzinfo=UTC)
    db.session.add(Response(survey=survey, perspective="customer", team=north, invitation=invitation,
                            submitted_at=moment))
    db.session.commit()
    row = ["customer", "c@example.net", "North", "2026-03-01T11:00:00+01:00", "4", "4", "", "", ""]
    result = run_import(runner, write_csv(tmp_path / "same.csv", HEADER, [row]))
    assert result.exit_code == 0 and "Skipped 1 row(s)" in result.stdout and _customers(db) == 1


def test_an_unknown_team_is_an_error_naming_row_and_column(survey, runner, db, tmp_path):
    make_team("North")
    typo = ["customer", "x@example.net", "Nowhere branch", *GOOD[3:]]
    refused(runner, db, write_csv(tmp_path / "typo.csv", HEADER, [GOOD, typo]),
            "row 2 (line 3), column team: 'Nowhere branch' is not a team", "--create-teams")


def test_create_teams_creates_them_and_the_summary_names_only_a_few(survey, runner, db, tmp_path):
    rows = [["customer", f"p{i}@example.net", f"Branch {i:02d}", *GOOD[3:]] for i in range(6)]
    result = run_import(runner, write_csv(tmp_path / "new.csv", HEADER, rows), "imp", "--create-teams")
    assert result.exit_code == 0, result.output
    assert "Created 6 team(s): Branch 00, Branch 01, Branch 02 and 3 more." in result.stdout
    assert names_summary(["A", "B", "C", "D"]) == "A, B, C, D"
    assert names_summary(["A", "B", "C"], total=2000) == "A, B, C and 1,997 more"


def test_a_merged_team_name_imports_into_the_team_it_went_into(survey, runner, db, tmp_path):
    north, south = make_team("North"), make_team("South")
    assert runner.invoke(args=["teams", "merge", "North", "South"]).exit_code == 0
    assert run_import(runner, write_csv(tmp_path / "old.csv", HEADER, [GOOD])).exit_code == 0
    assert db.session.execute(select(Response.team_id)).scalar_one() == south.id != north.id


def test_rows_are_written_in_chunks_and_still_all_or_nothing(survey, runner, db, tmp_path, monkeypatch):
    monkeypatch.setattr(csv_import, "CHUNK", 3)
    make_team("North")
    rows = [["customer", f"p{i}@example.net", *GOOD[2:]] for i in range(7)]
    bad = ["customer", "late@example.net", "North", "2026-03-01T10:00:00Z", "9", "", "", "", ""]
    refused(runner, db, write_csv(tmp_path / "late.csv", HEADER, [*rows, bad]), "row 8 (line 9), column trust_believed")
    result = run_import(runner, write_csv(tmp_path / "ok.csv", HEADER, [*rows, rows[0]]))  # across chunks
    assert result.exit_code == 0 and "Imported 7 responses" in result.stdout and "Skipped 1 row(s)" in result.stdout
