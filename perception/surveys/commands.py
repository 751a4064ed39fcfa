"""What every command that takes `--survey SLUG` shares (the commands themselves live in their
features' commands.py)."""

import click

from perception.surveys.queries import known_slugs, survey_by_slug


def survey_from_option(slug):
    """The survey named by `--survey`, or a usage error that lists the known slugs."""
    survey = survey_by_slug(slug)
    if survey is None:
        known = known_slugs()
        hint = f" Known surveys: {', '.join(known)}." if known else " There are no surveys yet."
        raise click.UsageError(f"no survey with slug {slug!r}.{hint}")
    return survey
