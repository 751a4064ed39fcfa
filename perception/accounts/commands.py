"""`flask --app wsgi create-user` (DESIGN section 3). Registered by perception.cli."""

import click

from perception.accounts.service import UserError, create_user


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["leader", "staff", "admin"]), required=True, help="What the account may do.")
@click.option("--team", "team_name", help="Team name (created if new); required for staff.")
@click.option("--name", default="", help="Display name (defaults to the part of the email before @).")
@click.password_option(help="Prompted twice when not given.")
def create_user_command(email, role, team_name, name, password):
    """Make an account; prompts for the password twice."""
    try:
        user = create_user(email, password, role, team_name, name)
    except UserError as error:
        raise click.UsageError(str(error)) from None
    team = f" in team {user.team.name}" if user.team else ""
    click.echo(f"Created {user.role} {user.email}{team}.")
