"""Command-line interface (DESIGN §3). Every command has --help."""

import click
from flask import current_app


def register_commands(app):
    from .report_commands import gap_command, import_responses_command, report_cells_command

    for command in (create_user_command, seed_demo_command, demo_info_command, gap_command, import_responses_command,
                    report_cells_command):
        app.cli.add_command(command)
    from .mail_commands import send_invitations_command

    app.cli.add_command(send_invitations_command)
    from .loop_commands import erase_customer_command, send_followup_alerts_command

    app.cli.add_command(erase_customer_command)
    app.cli.add_command(send_followup_alerts_command)
    from .export_commands import export_responses_command

    app.cli.add_command(export_responses_command)


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["leader", "staff", "admin"]), required=True, help="What the account may do.")
@click.option("--team", "team_name", help="Team name (created if new); required for staff.")
@click.option("--name", default="", help="Display name (defaults to the part of the email before @).")
@click.password_option(help="Prompted twice when not given.")
def create_user_command(email, role, team_name, name, password):
    """Make an account; prompts for the password twice."""
    from .users import UserError, create_user

    try:
        user = create_user(email, password, role, team_name, name)
    except UserError as error:
        raise click.UsageError(str(error)) from None
    team = f" in team {user.team.name}" if user.team else ""
    click.echo(f"Created {user.role} {user.email}{team}.")


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Erase every row first, even if the database is not empty.")
@click.option("--seed", default=2026, show_default=True, help="Random seed, for a repeatable demo.")
@click.option("--if-empty", is_flag=True, help="Seed only an empty database; otherwise print how to log in.")
def seed_demo_command(force, seed, if_empty):
    """Fill an empty database with a realistic demo and print the logins and a customer link."""
    from .demo import DemoError, database_is_empty, has_demo_accounts, seed_demo

    if if_empty and not database_is_empty():
        if has_demo_accounts():
            click.echo("The database already holds the demo; not seeding again.")
            demo_info_command.callback()
        else:
            click.echo(f"The database already has data; not seeding. Open {current_app.config['BASE_URL']}/")
        return
    try:
        summary = seed_demo(force=force, seed=seed)
    except DemoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Demo ready: {summary['teams']} teams, {summary['users']} accounts, {summary['surveys']} survey waves, "
        f"{summary['customer_responses']} customer responses."
    )
    _print_access(summary["link"])


@click.command("demo-info")
def demo_info_command():
    """Print the demo logins and a fresh, unanswered customer link for the open demo wave."""
    from .demo import DemoError, fresh_demo_link

    try:
        link = fresh_demo_link()
    except DemoError as error:
        raise click.ClickException(str(error)) from None
    _print_access(link)


def _print_access(link):
    from .demo import DEMO_LOGINS, DEMO_PASSWORD

    base = current_app.config["BASE_URL"]
    click.echo("")
    click.echo(f"Open {base}/ in a browser. Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, email in DEMO_LOGINS:
        click.echo(f"  {role:<7} {email}")
    click.echo("A customer link, ready to answer (open it on a phone or in a private window):")
    click.echo(f"  {link}")
    click.echo("")

