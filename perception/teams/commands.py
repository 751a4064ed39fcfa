"""`flask --app wsgi teams ...` (DESIGN section 3): list, create, rename, merge, archive, restore.
Registered by perception.cli."""

import click

from perception.teams.queries import team_by_name, team_rows
from perception.teams.service import TeamError, archive_team, create_team, merge_teams, rename_team, restore_team


@click.group("teams")
def teams_group():
    """List, create, rename, merge, archive and restore teams."""


def _team(name, what="team"):
    team = team_by_name(name)
    if team is None:
        raise click.UsageError(f"no {what} named {name!r} (see `flask teams list --archived`).")
    return team


def _run(change, *args):
    try:
        return change(*args)
    except TeamError as error:
        raise click.UsageError(str(error)) from None


@teams_group.command("list")
@click.option("--archived", is_flag=True, help="Also list archived and merged teams.")
def list_command(archived):
    """Every active team with its people, responses, invitations and open follow-ups."""
    active, old = team_rows()
    for row in (*active, *(old if archived else ())):
        state = ""
        if row.team.archived:
            state = f"  [merged into {row.merged_into}]" if row.merged_into else "  [archived]"
        click.echo(f"{row.team.name}: {row.people} people, {row.responses} responses, {row.invitations} invitations, "
                   f"{row.open_followups} open follow-ups{state}")
    if not archived and old:
        click.echo(f"({len(old)} archived team(s) not shown: --archived lists them.)")


@teams_group.command("create")
@click.argument("name")
def create_command(name):
    """Create a team."""
    team = _run(create_team, name)
    click.echo(f"Created team {team.name}.")


@teams_group.command("rename")
@click.argument("old")
@click.argument("new")
def rename_command(old, new):
    """Rename team OLD to NEW (past answers show the new name too)."""
    team = _team(old)
    _run(rename_team, team, new)
    click.echo(f"Renamed {old} to {team.name}.")


@teams_group.command("merge")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="INTO")
def merge_command(source, target):
    """Merge team FROM into team INTO: responses, invitations, open links, follow-ups, people, waves'
    team scopes and report figures move to INTO; FROM stays as an archived alias of INTO."""
    result = _run(merge_teams, _team(source, "team to merge"), _team(target, "team to merge into"))
    moved = ", ".join(f"{count} {label}" for label, count in result.moved.items())
    click.echo(f"Merged {result.source} into {result.target}: moved {moved}.")
    if result.published:
        click.echo(f"{result.published} waiting answer(s) of the two teams completed batches together and now count.")


@teams_group.command("archive")
@click.argument("name")
def archive_command(name):
    """Archive a team: offered in no picker or filter, kept in history and reports."""
    team = _run(archive_team, _team(name))
    click.echo(f"Archived {team.name}.")


@teams_group.command("restore")
@click.argument("name")
def restore_command(name):
    """Restore an archived team."""
    team = _run(restore_team, _team(name))
    click.echo(f"Restored {team.name}.")
