"""`flask --app wsgi seed-demo` and `demo-info` (DESIGN section 3). Registered by perception.cli."""

import click
from flask import current_app

from perception.demo.service import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DemoError,
    database_is_empty,
    fresh_demo_link,
    has_demo_accounts,
    seed_demo,
)


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Erase every row first, even if the database is not empty.")
@click.option("--seed", default=2026, show_default=True, help="Random seed, for a repeatable demo.")
@click.option("--if-empty", is_flag=True, help="Seed only an empty database; otherwise print how to log in.")
def seed_demo_command(force, seed, if_empty):
    """Fill an empty database with a realistic demo and print the logins and a customer link.
    Refused with PERCEPTION_ENV=production."""
    refuse_in_production("seed-demo")
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
    print_access(summary["link"])


@click.command("demo-info")
def demo_info_command():
    """Print the demo logins and a fresh, unanswered customer link for the open demo wave.
    Refused with PERCEPTION_ENV=production."""
    refuse_in_production("demo-info")
    try:
        link = fresh_demo_link()
    except DemoError as error:
        raise click.ClickException(str(error)) from None
    print_access(link)


def refuse_in_production(command):
    """The demo's accounts share a published password, and demo-info makes a working customer link:
    neither belongs in a production database."""
    if current_app.config.get("PERCEPTION_ENV") == "production":
        raise click.ClickException(
            f"{command} does not run with PERCEPTION_ENV=production: the demo's accounts share a password "
            "printed in the README. Make real accounts with create-user."
        )


def print_access(link):
    base = current_app.config["BASE_URL"]
    click.echo("")
    click.echo(f"Open {base}/ in a browser. Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, email, sees in DEMO_LOGINS:
        click.echo(f"  {role:<7} {email:<24} sees {sees}")
    click.echo("A customer link, ready to answer (open it on a phone or in a private window):")
    click.echo(f"  {link}")
    click.echo("")
