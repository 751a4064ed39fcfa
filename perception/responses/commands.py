"""`flask --app wsgi import-responses` (DESIGN section 3). Registered by perception.cli."""

import click

from perception.core.models import PERSPECTIVES
from perception.reports.queries import batch_size, waiting_answers
from perception.responses.csv_import import ImportFailed, ImportWriteError, import_responses
from perception.surveys.commands import survey_from_option

MAX_ERRORS_SHOWN = 50


@click.command("import-responses")
@click.argument("csv_file", metavar="FILE.csv", type=click.File("rb"))
@click.option("--survey", "slug", required=True, help="Slug of the survey the answers belong to.")
@click.option("--create-teams", is_flag=True, help="Create the teams the file names that do not exist yet "
                                                   "(without it, an unknown team is an error).")
def import_responses_command(csv_file, slug, create_teams):
    """Import responses gathered elsewhere from a CSV file: all rows or none.

    Columns: perspective (customer|staff|leader), team, submitted_at (ISO 8601; no offset =
    UTC), optional respondent, one column per item key (1-5 or empty), optional
    predicted:<item key> (staff, 1-5), comment and nps (customers, 0-10). Rows are numbered
    from 1 (the first data row); errors also give the line in the file.

    Importing a file again adds nothing: a row whose perspective, respondent, team and
    submitted_at are already stored is skipped and counted. An unknown team is an error unless
    --create-teams is given.
    """

    survey = survey_from_option(slug)
    try:
        summary = import_responses(csv_file, survey, create_teams=create_teams)
    except ImportFailed as failure:
        errors = failure.errors
        click.echo(f"Nothing was imported: {failure.count} error(s) in {csv_file.name} "
                   "(rows are numbered from 1 = the first data row, lines from 1 = the header).", err=True)
        for message in errors[:MAX_ERRORS_SHOWN]:
            click.echo(f"  {message}", err=True)
        if failure.count > MAX_ERRORS_SHOWN:
            click.echo(f"  ... and {failure.count - MAX_ERRORS_SHOWN} more error(s).", err=True)
        click.get_current_context().exit(2)
    except ImportWriteError as error:
        click.echo(f"Nothing was imported: the database refused the data ({error}).", err=True)
        click.get_current_context().exit(1)
    counts = ", ".join(f"{summary.per_perspective[p]} {p}" for p in PERSPECTIVES)
    click.echo(f"Imported {summary.total} responses into survey {summary.survey}: {counts}.")
    if summary.skipped:
        click.echo(f"Skipped {summary.skipped:,} row(s) already stored (same perspective, respondent, team and "
                   "submitted_at): importing a file again adds nothing.")
    if summary.created_teams:
        click.echo(summary.created_teams_text())
    waiting = sum(waiting_answers(survey).values())
    if waiting:
        click.echo(f"{waiting} answer(s) of the survey wait for their group of {batch_size()} before they count: "
                   "answers enter the figures in batches, so nobody's answers can be picked out by comparing "
                   "two reports.")
    if summary.unanswered:
        click.echo(f"{summary.unanswered} row(s) answered no item: they are stored but count in no figure.")
