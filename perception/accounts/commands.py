"""`flask --app wsgi create-user` and `flask --app wsgi users invite|deactivate|activate|reset-password`
(DESIGN section 3). Registered by perception.cli."""

import click

from perception.accounts.people_service import (
    PeopleError,
    activate_user,
    checked_role,
    deactivate_user,
    invite_user,
    send_password_reset,
    team_named,
    user_by_email,
)
from perception.accounts.service import UserError, create_user
from perception.core.models import ROLES


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


@click.group("users")
def users_group():
    """Manage accounts: invite by email, deactivate, activate, send a password-reset link.

    Mails are queued in the outbox; `flask --app wsgi send-mail` delivers them."""


def _fail(error):
    raise click.ClickException(str(error))


@users_group.command("invite")
@click.argument("email")
@click.option("--role", required=True, help=f"What the account may do: {', '.join(ROLES)}.")
@click.option("--team", "team_name", help="An existing team's name; required for staff.")
@click.option("--name", default="", help="Display name (defaults to the part of the email before @).")
def invite_command(email, role, team_name, name):
    """Make an account and mail it a single-use link to set its password (valid 72 hours)."""
    try:
        user = invite_user(email, checked_role(role), team_named(team_name), name=name)
    except PeopleError as error:
        _fail(error)
    team = f" in team {user.team.name}" if user.team else ""
    click.echo(f"Invited {user.role} {user.email}{team}: the set-password mail is queued (send-mail delivers it).")


@users_group.command("deactivate")
@click.argument("email")
def deactivate_command(email):
    """Stop an account at once: its sessions and unused links no longer work, its API tokens are revoked."""
    try:
        user = user_by_email(email)
        changed = deactivate_user(user)
    except PeopleError as error:
        _fail(error)
    click.echo(f"Deactivated {user.email}." if changed else f"{user.email} was already deactivated.")


@users_group.command("activate")
@click.argument("email")
def activate_command(email):
    """Let a deactivated account log in again (with its old password; its API tokens stay revoked)."""
    try:
        user = user_by_email(email)
        changed = activate_user(user)
    except PeopleError as error:
        _fail(error)
    click.echo(f"Activated {user.email}." if changed else f"{user.email} was already active.")


@users_group.command("reset-password")
@click.argument("email")
def reset_password_command(email):
    """Mail an active account a single-use link to choose a new password (valid 72 hours)."""
    try:
        user = user_by_email(email)
        send_password_reset(user)
    except PeopleError as error:
        _fail(error)
    click.echo(f"A password-reset link for {user.email} is queued (send-mail delivers it).")
