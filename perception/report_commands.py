"""`flask gap` and `flask import-responses` (DESIGN section 3). Registered by perception.cli."""

import json

import click
from sqlalchemy import select

from .extensions import db
from .models import PERSPECTIVES, Survey, Team


def _survey(slug):
    survey = db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one_or_none()
    if survey is None:
        known = db.session.execute(select(Survey.slug).order_by(Survey.slug).limit(20)).scalars().all()
        hint = f" Known surveys: {', '.join(known)}." if known else " There are no surveys yet."
        raise click.UsageError(f"no survey with slug {slug!r}.{hint}")
    return survey


@click.command("gap")
@click.option("--survey", "slug", required=True, help="Slug of the survey wave.")
@click.option("--team", "team_name", help="Only responses attributed to this team (every figure).")
@click.option("--by", type=click.Choice(["team", "month"]), help="Add one group per team or per UTC month.")
@click.option("--from", "month_from", metavar="YYYY-MM", help="First month to include (UTC, inclusive).")
@click.option("--to", "month_to", metavar="YYYY-MM", help="Last month to include (UTC, inclusive).")
@click.option("--min-n", type=click.IntRange(min=1), help="Anonymity threshold (default: the MIN_N setting).")
@click.option("--json", "as_json", is_flag=True, help="Print the Gap JSON (full precision) instead of a table.")
def gap_command(slug, team_name, by, month_from, month_to, min_n, as_json):
    """Print the gap report of a survey: staff and leaders minus customers, per dimension of care."""
    from .reports import ReportError, gap_report

    survey = _survey(slug)
    team = None
    if team_name is not None:
        team = db.session.execute(select(Team).where(Team.name == team_name)).scalar_one_or_none()
        if team is None:
            raise click.UsageError(f"no team named {team_name!r}")
    try:
        report = gap_report(survey, team=team, by=by, month_from=month_from, month_to=month_to, min_n=min_n)
    except ReportError as error:
        raise click.UsageError(str(error)) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(), allow_nan=False))
        return
    from .report_table import render_report

    click.echo(render_report(report.to_dict(), survey.title))


@click.command("import-responses")
@click.argument("csv_file", metavar="FILE.csv", type=click.File("rb"))
@click.option("--survey", "slug", required=True, help="Slug of the survey the answers belong to.")
def import_responses_command(csv_file, slug):
    """Import responses gathered elsewhere from a CSV file: all rows or none.

    Columns: perspective (customer|staff|leader), team, submitted_at (ISO 8601; no offset =
    UTC), optional respondent, one column per item key (1-5 or empty), optional
    predicted:<item key> (staff, 1-5), comment and nps (customers, 0-10). Rows are numbered
    from 1 (the first data row); errors also give the line in the file.
    """
    from .importer import MAX_ERRORS_SHOWN, ImportFailed, ImportWriteError, import_responses

    survey = _survey(slug)
    try:
        summary = import_responses(csv_file, survey)
    except ImportFailed as failure:
        errors = failure.errors
        click.echo(f"Nothing was imported: {len(errors)} error(s) in {csv_file.name} "
                   "(rows are numbered from 1 = the first data row, lines from 1 = the header).", err=True)
        for message in errors[:MAX_ERRORS_SHOWN]:
            click.echo(f"  {message}", err=True)
        if len(errors) > MAX_ERRORS_SHOWN:
            click.echo(f"  ... and {len(errors) - MAX_ERRORS_SHOWN} more error(s).", err=True)
        click.get_current_context().exit(2)
    except ImportWriteError as error:
        click.echo(f"Nothing was imported: the database refused the data ({error}).", err=True)
        click.get_current_context().exit(1)
    counts = ", ".join(f"{summary.per_perspective[p]} {p}" for p in PERSPECTIVES)
    click.echo(f"Imported {summary.total} responses into survey {summary.survey}: {counts}.")
    if summary.created_teams:
        click.echo(f"Created {len(summary.created_teams)} team(s): {', '.join(summary.created_teams)}.")
    if summary.unanswered:
        click.echo(f"{summary.unanswered} row(s) answered no item: they are stored but count in no figure.")


@click.command("report-cells")
@click.option("--survey", "slug", help="Only this survey (default: every survey).")
@click.option("--check", is_flag=True, help="Only compare the cells with the answers; exit 1 when they differ.")
def report_cells_command(slug, check):
    """Check or rebuild the report cells (the pre-aggregated histograms reports read) from the answers.

    The app keeps them in step on every write; rebuild after changing answers by hand in SQL.
    """
    from . import report_cells

    surveys = [_survey(slug)] if slug else list(db.session.execute(select(Survey).order_by(Survey.id)).scalars())
    differing = 0
    for survey in surveys:
        if not check:
            report_cells.rebuild(db.session, survey.id)
            db.session.commit()
        difference = report_cells.drift(db.session, survey.id)
        differing += bool(difference)
        state = f"{len(difference)} cells differ from the answers" if difference else "in step with the answers"
        click.echo(f"{survey.slug}: {state}")
    if check and differing:
        raise SystemExit(1)
