"""`flask export-responses` (DESIGN section 3). Registered by perception.cli."""

import os
import sys
from pathlib import Path

import click
from flask import current_app

from .report_commands import _survey


@click.command("export-responses")
@click.option("--survey", "slug", required=True, help="Slug of the survey wave.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True),
              help="File to write (default: standard output). Written in full or not at all.")
@click.option("--anonymous", is_flag=True,
              help="As the leaders' download: no respondent ids, dates only, small groups without team or comment.")
@click.option("--min-n", type=click.IntRange(min=1), help="Anonymity threshold for --anonymous (default: MIN_N).")
def export_responses_command(slug, out, anonymous, min_n):
    """Write a survey's responses as CSV in the import format: perspective, respondent, team,
    submitted_at, one column per item key, predicted:<item key>, comment, nps.

    Streamed in batches (constant memory). Text cells starting with = + - @ tab or CR are
    prefixed with a single quote; `import-responses` removes it again.
    """
    from .exporter import csv_chunks, export_rows

    survey = _survey(slug)
    rows = export_rows(survey, anonymous=anonymous, min_n=min_n or current_app.config["MIN_N"])
    if out is None:
        for chunk in csv_chunks(rows):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    target = Path(out)
    partial = target.with_name(target.name + ".partial")
    written = [0]

    def counted():
        for row in rows:
            written[0] += 1
            yield row

    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            for chunk in csv_chunks(counted()):
                handle.write(chunk)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    click.echo(f"Wrote {written[0] - 1} responses of survey {survey.slug} to {target}.", err=True)
