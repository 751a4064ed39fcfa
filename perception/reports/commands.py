"""`flask gap`, `flask trend`, `flask report-cells` and `flask export-responses` (DESIGN section 3). Registered by
perception.cli."""

import json
import os
import sys
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from perception.accounts.queries import find_team
from perception.core.csv_cells import csv_chunks
from perception.core.database import MAX_ID
from perception.core.extensions import db
from perception.core.models import Survey
from perception.core.private_files import check_replaceable, create_private
from perception.insights import waiting_sentence
from perception.reports import service as report_cells
from perception.reports.export_queries import export_rows
from perception.reports.export_service import record_download
from perception.reports.queries import ReportError, batch_size, gap_json, gap_report, waiting_answers
from perception.reports.text_table import render_report
from perception.reports.trend_queries import trend_report
from perception.surveys.commands import survey_from_option


@click.command("export-responses")
@click.option("--survey", "slug", required=True, help="Slug of the survey wave.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True),
              help="File to write (default: standard output). Written in full or not at all.")
@click.option("--anonymous", is_flag=True,
              help="As the leaders' download: customer rows of team-months with at least MIN_N customers only, "
                   "no respondent ids, dates only.")
@click.option("--min-n", type=click.IntRange(min=1, max=MAX_ID),
              help="Anonymity threshold for --anonymous (default: MIN_N).")
def export_responses_command(slug, out, anonymous, min_n):
    """Write a survey's responses as CSV in the import format: perspective, respondent, team,
    submitted_at, one column per item key, predicted:<item key>, comment, nps.

    Without --anonymous every row of every perspective, with respondents and exact times: a
    backup for operators, not for publishing. Streamed in batches (constant memory). Text cells
    starting with = + - @ tab or CR are prefixed with a single quote; `import-responses` removes it.
    """

    survey = survey_from_option(slug)
    rows = export_rows(survey, anonymous=anonymous, min_n=min_n or current_app.config["MIN_N"])
    record_download(None, survey, "responses" if anonymous else "responses-full")
    if out is None:
        for chunk in csv_chunks(rows):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    target = Path(out)
    partial = target.with_name(target.name + ".partial")
    written = [0]
    try:
        check_replaceable(target)
    except OSError as error:
        raise click.ClickException(f"Cannot write {target}: {error.strerror}. Leave out --out to write to the "
                                   "standard output.") from None

    def counted():
        for row in rows:
            written[0] += 1
            yield row

    # 0600, and never through a FILE.partial left there: the full export holds customers' addresses.
    try:
        descriptor = create_private(partial)
    except OSError as error:
        raise click.ClickException(f"Cannot write {partial}: {error.strerror}. Choose a file in a folder that "
                                   "exists and that you can write to.") from None
    try:  # from here on the partial file is this command's own: removed if the export does not finish
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            for chunk in csv_chunks(counted()):
                handle.write(chunk)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    click.echo(f"Wrote {written[0] - 1} responses of survey {survey.slug} to {target}.", err=True)


@click.command("gap")
@click.option("--survey", "slug", required=True, help="Slug of the survey wave.")
@click.option("--team", "team_name", help="Only responses attributed to this team (every figure).")
@click.option("--by", type=click.Choice(["team", "month"]), help="Add one group per team or per UTC month.")
@click.option("--from", "month_from", metavar="YYYY-MM", help="First month to include (UTC, inclusive).")
@click.option("--to", "month_to", metavar="YYYY-MM", help="Last month to include (UTC, inclusive).")
@click.option("--min-n", type=click.IntRange(min=1, max=MAX_ID),
              help="Anonymity threshold (default: the MIN_N setting).")
@click.option("--json", "as_json", is_flag=True, help="Print the Gap JSON (full precision) instead of a table.")
def gap_command(slug, team_name, by, month_from, month_to, min_n, as_json):
    """Print the gap report of a survey: staff and leaders minus customers, per dimension of care."""
    survey = survey_from_option(slug)
    team = None
    if team_name is not None:
        team = find_team(team_name)
        if team is None:
            raise click.UsageError(f"no team named {team_name!r}")
    try:
        report = gap_report(survey, team=team, by=by, month_from=month_from, month_to=month_to, min_n=min_n)
    except ReportError as error:
        raise click.UsageError(str(error)) from None
    if as_json:
        click.echo(json.dumps(gap_json(report, survey, team), allow_nan=False))
        return

    click.echo(render_report(report.to_dict(), survey.title))
    sentence = waiting_sentence(waiting_answers(survey, team=team), batch_size())
    if sentence:
        click.echo(sentence)


def _trend_line(wave):
    index = wave["care_index"]["customer"]
    rate = wave["response_rate"]
    return (f"{wave['survey']}: customer care index {'withheld' if index is None else f'{index:.0f}'}, "
            f"{wave['respondents']['customer']} customers, response rate "
            f"{'—' if rate is None else f'{rate * 100:.0f}%'}")


@click.command("trend")
@click.option("--team", "team_name", help="Only responses attributed to this team (every figure).")
@click.option("--survey-prefix", "prefix", help="Only waves whose slug starts with this (one series of waves).")
@click.option("--json", "as_json", is_flag=True,
              help="Print {\"waves\": [...]}: each wave's figures of `gap --json` and the change since the "
                   "previous one.")
def trend_command(team_name, prefix, as_json):
    """The care gap across waves, in order of opening: each wave's gap report with the same
    filters, and the change since the previous wave with its 95% CI and p-value (raw and
    Benjamini-Hochberg adjusted)."""
    team = None
    if team_name is not None:
        team = find_team(team_name)
        if team is None:
            raise click.UsageError(f"no team named {team_name!r}")
    document = trend_report(team=team, prefix=prefix)
    if as_json:
        click.echo(json.dumps(document, allow_nan=False))
        return
    for wave in document["waves"]:
        click.echo(_trend_line(wave))
    click.echo(document["sentence"])


@click.command("report-cells")
@click.option("--survey", "slug", help="Only this survey (default: every survey).")
@click.option("--check", is_flag=True, help="Only compare the cells with the answers; exit 1 when they differ.")
def report_cells_command(slug, check):
    """Check or rebuild the report cells (the pre-aggregated histograms reports read) from the answers.

    Cells hold the published answers, by month of publication (answers enter the figures in
    batches of MIN_N). The app keeps them in step on every write; rebuild after changing answers
    by hand in SQL or loading rows past the app (a rebuild first publishes the batches they complete).
    """

    if slug:
        surveys = [survey_from_option(slug)]
    else:
        surveys = list(db.session.execute(select(Survey).order_by(Survey.id)).scalars())
    differing = 0
    for survey in surveys:
        if not check:
            report_cells.rebuild(db.session, survey.id)
            db.session.commit()
        difference = report_cells.drift(db.session, survey.id)
        differing += bool(difference)
        state = (f"{len(difference)} cells differ from the published answers" if difference
                 else "in step with the published answers")
        click.echo(f"{survey.slug}: {state}")
    if check and differing:
        raise SystemExit(1)
