"""Exports: responses in the import format (CLI and the leaders' anonymous download), the round trip
export -> import into an empty database, formula injection, the gap report CSV and the printable report."""

import csv
import io
import json
import os
import stat
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from perception.core.csv_cells import neutralise, restore
from perception.core.database import clear_data
from perception.core.models import Item, Response, Survey, Team
from perception.demo.service import seed_demo
from perception.reports.export_queries import GAP_COLUMNS, export_rows
from perception.reports.queries import gap_report
from tests.helpers import answered_one_by_one, bank_items, login, make_survey, make_team, make_user

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _gap_json(runner, slug, *extra):
    result = runner.invoke(args=["gap", "--survey", slug, "--json", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _reimport(runner, db, survey, text, tmp_path):
    """Wipe every row, recreate the survey (same slug and items), import `text`."""
    slug, title, item_keys = survey.slug, survey.title, [item.key for item in survey.items]
    clear_data(db.session, db.metadata)
    items = list(db.session.execute(select(Item).where(Item.key.in_(item_keys))).scalars())
    make_survey(slug, status="closed", items=items, title=title)
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8", newline="")
    result = runner.invoke(args=["import-responses", str(path), "--survey", slug, "--create-teams"])
    assert result.exit_code == 0, result.output
    return result.output


def test_full_export_then_import_into_an_empty_database_keeps_every_answer(app, db, runner, tmp_path):
    seed_demo(now=NOW)
    slug = "2026-q4"
    survey = db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one()
    # The full export (operators only) holds every answer, also those still waiting for their batch.
    responses = db.session.query(Response).filter_by(survey_id=survey.id).count()
    exported = runner.invoke(args=["export-responses", "--survey", slug])
    assert exported.exit_code == 0, exported.output
    assert len(list(csv.reader(io.StringIO(exported.stdout)))) == responses + 1
    assert {"customer", "staff", "leader"} <= {row[0] for row in csv.reader(io.StringIO(exported.stdout))}

    output = _reimport(runner, db, survey, exported.stdout, tmp_path)
    assert f"Imported {responses} responses" in output
    assert runner.invoke(args=["report-cells", "--check"]).exit_code == 0
    # The import format names no staff member served, so imported answers form their batches per
    # team and perspective: the figures are whole batches again, not the same batches.


def _customer_figures(text):
    report = json.loads(text)
    return ([(cell["key"], cell["customer"]) for cell in report["dimensions"] + report["items"]],
            report["care_index"]["customer"], report["indifference_rate"], report["respondents"]["customer"])


def _customer_cells(db, survey):
    """{(team name, 'YYYY-MM' of publication): published customer responses}, counted here in Python."""
    cells = {}
    for team, published_at in db.session.execute(
        select(Team.name, Response.published_at).join(Team, Team.id == Response.team_id)
        .where(Response.survey_id == survey.id, Response.perspective == "customer", Response.published_at.is_not(None))
    ):
        key = (team, published_at.astimezone(UTC).strftime("%Y-%m"))
        cells[key] = cells.get(key, 0) + 1
    return cells


def test_anonymous_export_has_customer_rows_of_published_cells_only_and_reimports_them_exactly(app, db, runner,
                                                                                             tmp_path):
    seed_demo(now=NOW)
    slug, min_n = "2026-q4", app.config["MIN_N"]
    survey = db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one()
    riverside = db.session.execute(select(Team).where(Team.name == "Riverside branch")).scalar_one()
    december = datetime(2026, 12, 1, 8, 15, tzinfo=UTC)
    db.session.add_all([  # a small published cell (one December answer) and a published answer of no team
        Response(survey=survey, perspective="customer", team=riverside, submitted_at=december, published_at=december,
                 comment="Only me"),
        Response(survey=survey, perspective="customer", team=None, submitted_at=NOW, published_at=NOW,
                 comment="Nobody's team"),
    ])
    db.session.commit()
    cells = _customer_cells(db, survey)
    published = {cell: n for cell, n in cells.items() if n >= min_n}
    assert published and cells[("Riverside branch", "2026-12")] == 1
    staff_comments = set(db.session.execute(select(Response.comment).where(
        Response.survey_id == survey.id, Response.perspective != "customer", Response.comment.is_not(None))).scalars())
    filters = {(team, month): ("--team", team, "--from", month, "--to", month, "--min-n", str(min_n))
               for team, month in published}
    before = {cell: _gap_json(runner, slug, *args) for cell, args in filters.items()}

    exported = runner.invoke(args=["export-responses", "--survey", slug, "--anonymous"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(exported.stdout)))[1:]
    assert {row[0] for row in rows} == {"customer"}  # no staff or leader row leaves the app
    assert len(rows) == sum(published.values())
    assert all((row[2], row[3][:7]) in published and row[1] == "" for row in rows)
    assert not staff_comments & {row[-2] for row in rows}
    assert "Only me" not in exported.stdout and "Nobody's team" not in exported.stdout

    app.config["MIN_N"] = 1  # the import publishes every row at once, on the day the export gives it
    _reimport(runner, db, survey, exported.stdout, tmp_path)
    for cell, text in before.items():
        assert _customer_figures(_gap_json(runner, slug, *filters[cell])) == _customer_figures(text), cell


def test_full_export_carries_identities_and_exact_times(app, db, runner):
    team = make_team("Harbour")
    staff = make_user("staff", team=team, email="ben@example.com")
    survey = make_survey("wave-1", items=bank_items(2))
    moment = datetime(2026, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)
    db.session.add_all([
        Response(survey=survey, perspective="staff", team=team, user=staff, submitted_at=moment, channel="self"),
        Response(survey=survey, perspective="customer", team=team, respondent="ann@example.net", submitted_at=moment,
                 nps=9, comment="Lovely"),
    ])
    db.session.commit()
    rows = list(csv.reader(io.StringIO(runner.invoke(args=["export-responses", "--survey", "wave-1"]).stdout)))
    keys = [item.key for item in bank_items(2)]
    assert rows[0] == ["perspective", "respondent", "team", "submitted_at", *keys,
                       *(f"predicted:{key}" for key in keys), "comment", "nps"]
    assert rows[1][:4] == ["staff", "ben@example.com", "Harbour", "2026-03-14T09:30:15.123456Z"]
    assert rows[2][:4] == ["customer", "ann@example.net", "Harbour", "2026-03-14T09:30:15.123456Z"]
    assert rows[2][-2:] == ["Lovely", "9"]


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "'quoted",
                                  "''twice", "'=already", "plain", "", "a=b"])
def test_neutralise_and_restore_are_inverse_and_safe(text):
    safe = neutralise(text)
    assert restore(safe) == text
    assert not safe or safe[0] not in "=+-@\t\r"


def test_formula_cells_are_escaped_in_the_file_and_imported_back_unchanged(app, db, runner, tmp_path):
    team = make_team("=Evil team")
    survey = make_survey("wave-1", items=bank_items(2))
    comment = "=cmd|' /C calc'!A0 and more"
    db.session.add(Response(survey=survey, perspective="customer", team=team, respondent="@someone",
                            comment=comment, submitted_at=NOW, nps=3))
    db.session.commit()
    text = runner.invoke(args=["export-responses", "--survey", "wave-1"]).stdout
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[1:3] == ["'@someone", "'=Evil team"] and row[-2] == "'" + comment
    _reimport(runner, db, survey, text, tmp_path)
    imported = db.session.execute(select(Response)).scalar_one()
    assert (imported.respondent, imported.team.name, imported.comment) == ("@someone", "=Evil team", comment)


def test_export_streams_in_batches(app, db):
    team = make_team()
    survey = make_survey("wave-1", items=bank_items(1))
    db.session.add_all(Response(survey=survey, perspective="customer", team=team, submitted_at=NOW) for _ in range(7))
    db.session.commit()
    rows = export_rows(survey, batch=3)
    assert next(rows)[0] == "perspective"  # a generator: nothing beyond the header is read yet
    assert len(list(rows)) == 7


def test_cli_writes_a_file_in_full(app, db, runner, tmp_path):
    make_survey("wave-1")
    out = tmp_path / "responses.csv"
    result = runner.invoke(args=["export-responses", "--survey", "wave-1", "--out", str(out)])
    assert result.exit_code == 0 and "Wrote 0 responses" in result.output
    assert out.read_text().startswith("perspective,respondent,team,submitted_at,")
    assert not (tmp_path / "responses.csv.partial").exists()
    unknown = runner.invoke(args=["export-responses", "--survey", "nope"])
    assert unknown.exit_code != 0 and "no survey with slug 'nope'" in unknown.output


# ----------------------------------------------------------------------------- leaders' download


def _download(client, path):
    response = client.get(path, buffered=False)
    assert response.status_code == 200, response.status_code
    response.streamed_before_reading = response.is_streamed  # get_data() below buffers it
    return response, list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_leaders_download_is_anonymous_and_streamed(app, client, db):
    seed_demo(now=NOW)
    login(client, make_user("leader"))
    response, rows = _download(client, "/leaders/surveys/2026-q4/export.csv")
    assert response.streamed_before_reading and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "@example" not in body  # no customer email, no staff login
    assert all(row[1] == "" for row in rows[1:])
    assert all(row[3].endswith("T00:00:00Z") for row in rows[1:])
    assert rows[1:] and {row[0] for row in rows[1:]} == {"customer"}  # staff and leader rows stay their own
    assert all(row[2] for row in rows[1:]) and any(row[-2] for row in rows[1:])  # teams, and comments


def test_anonymous_rows_of_a_day_are_not_in_the_order_customers_answered(app, client, db):
    """No consent, no link (DESIGN section 2): a row shows the day, and nothing finer. In the order of
    their answers (of the ids), a day's rows would tell whoever knows who answered when whose row is
    whose. Days still come in order."""
    survey, team = make_survey(items=bank_items(2)), make_team("Harbour")
    march = answered_one_by_one(survey, team, datetime(2026, 3, 14, 8, tzinfo=UTC))
    april = answered_one_by_one(survey, team, datetime(2026, 4, 2, 8, tzinfo=UTC), count=5)
    login(client, make_user("leader"))
    _response, rows = _download(client, f"/leaders/surveys/{survey.slug}/export.csv")
    days, comments = [row[3] for row in rows[1:]], [row[-2] for row in rows[1:]]
    assert days == sorted(days) and days[0] == "2026-03-14T00:00:00Z" and days[-1] == "2026-04-02T00:00:00Z"
    day = comments[:len(march)]
    assert sorted(day) == sorted(march) and sorted(comments[len(march):]) == sorted(april)
    assert day not in (march, march[::-1]), day


def test_download_needs_a_leader(app, client, db):
    make_survey("wave-1")
    assert client.get("/leaders/surveys/wave-1/export.csv").status_code == 302
    login(client, make_user("staff"))
    assert client.get("/leaders/surveys/wave-1/export.csv").status_code == 403


def test_gap_csv_has_one_row_per_cell_and_perspective(app, client, db):
    seed_demo(now=NOW)
    login(client, make_user("leader"))
    survey = db.session.execute(select(Survey).where(Survey.slug == "2026-q4")).scalar_one()
    report = gap_report(survey, by="team")
    _response, rows = _download(client, "/leaders/surveys/2026-q4/gap.csv?by=team")
    assert tuple(rows[0]) == GAP_COLUMNS
    cells = len(report.dimensions) + len(report.items)
    assert len(rows) - 1 == cells * 3 * (1 + len(report.groups))
    header = rows[0]
    trust_staff = next(dict(zip(header, row, strict=True)) for row in rows[1:]
                       if row[2] == "" and row[4] == "trust" and row[7] == "staff")
    cell = report.dimensions[0]
    assert float(trust_staff["mean"]) == cell.staff.mean
    assert float(trust_staff["gap"]) == cell.gap.value
    assert float(trust_staff["calibration"]) == cell.calibration
    assert cell.gap.p_adjusted is not None and cell.gap.p_adjusted >= cell.gap.p
    assert (float(trust_staff["gap_p"]), float(trust_staff["gap_p_adjusted"])) == (cell.gap.p, cell.gap.p_adjusted)
    leader_rows = [dict(zip(header, row, strict=True)) for row in rows[1:] if row[1] == "team" and row[7] == "leader"]
    assert leader_rows and all(row["suppressed"] == "true" and row["mean"] == "" for row in leader_rows)


def test_gap_csv_with_a_bad_month_answers_400_with_the_message(app, client, db):
    make_survey("wave-1")
    login(client, make_user("leader"))
    response = client.get("/leaders/surveys/wave-1/gap.csv?from=2026-13")
    assert response.status_code == 400
    assert "YYYY-MM" in response.get_data(as_text=True)


def test_printable_report_has_static_charts_and_tables(app, client, db):
    seed_demo(now=NOW)
    login(client, make_user("leader"))
    response = client.get("/leaders/surveys/2026-q4/report/print?team=Riverside+branch")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" in page and 'role="img"' in page and "Mean score per dimension" in page
    assert "css/print.css" in page and "plotly" not in page.lower().split("</head>")[0]
    assert "Riverside branch" in page and "Key drivers of likelihood to recommend" in page
    assert "Figures per dimension" in page and "Personal attention" in page


def test_the_full_export_file_is_private_and_never_written_through_what_was_there(app, db, runner, tmp_path):
    """An attacker's read: `--out` wrote the full export (customers' addresses, exact times) 0644, and
    through a FILE.partial left in the folder (a symlink to somewhere else)."""
    make_survey("wave-1")
    out, elsewhere = tmp_path / "responses.csv", tmp_path / "planted.csv"
    elsewhere.write_text("")
    (tmp_path / "responses.csv.partial").symlink_to(elsewhere)
    umask = os.umask(0o022)
    try:
        result = runner.invoke(args=["export-responses", "--survey", "wave-1", "--out", str(out)])
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text().startswith("perspective,")
    assert elsewhere.read_text() == "" and not (tmp_path / "responses.csv.partial").exists()
    missing = runner.invoke(args=["export-responses", "--survey", "wave-1", "--out", str(tmp_path / "no" / "x.csv")])
    assert missing.exit_code == 1 and "Cannot write" in missing.output, missing.output  # not a traceback


def test_out_is_never_renamed_over_a_device_or_a_pipe(app, db, runner, tmp_path):
    """A robustness hunt ran `--out /dev/null` as root: the export was renamed over the device, and every
    program on the machine then failed to write to /dev/null. A pipe stands in for the device here."""
    make_survey("wave-1")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    refused = runner.invoke(args=["export-responses", "--survey", "wave-1", "--out", str(pipe)])
    assert refused.exit_code == 1 and "it is not a regular file" in refused.output, refused.output
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
    os.mkfifo(tmp_path / "out.csv.partial")  # a pipe at FILE.partial is refused and left as it was (a review)
    partial = runner.invoke(args=["export-responses", "--survey", "wave-1", "--out", str(tmp_path / "out.csv")])
    assert partial.exit_code == 1 and "out.csv.partial: it is not a regular file" in partial.output, partial.output
    assert stat.S_ISFIFO(os.lstat(tmp_path / "out.csv.partial").st_mode)
    (tmp_path / "afile").write_text("")
    nested = runner.invoke(args=["export-responses", "--survey", "wave-1", "--out", str(tmp_path / "afile" / "x")])
    assert nested.exit_code == 1 and "Choose a file in a folder that exists" in nested.output
    (tmp_path / "out.csv.partial").unlink()
    (tmp_path / "afile").unlink()
    if db.engine.dialect.name == "sqlite":
        backup = runner.invoke(args=["backup", "--out", str(pipe)])
        assert backup.exit_code == 1 and "it is not a regular file" in backup.output, backup.output
        assert stat.S_ISFIFO(os.lstat(pipe).st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
