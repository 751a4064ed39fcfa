"""Commands of the closed loop: `erase-customer EMAIL` (DESIGN section 3) and
`send-followup-alerts`. Registered by perception.cli."""

import click

from perception.core.smtp import MailConfigError
from perception.followups.erasure_service import ErasureError, command_line_actor, erase_customer
from perception.followups.mail import deliver_followup_mail


@click.command("erase-customer")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_customer_command(email, yes):
    """Remove a customer's identity everywhere, keeping their answers anonymously.

    Clears the address, name and phone number from invitations, responses (also those given with
    the same phone number, as through an open link), comments, follow-up notes and every other text
    field; the answers stay, so every figure stays the same. Records an audit line (who and when,
    with counts, never the address). Cannot be undone.
    """

    if not yes:
        click.confirm(f"Erase every trace of {email.strip()} (answers are kept anonymously)? This cannot be undone",
                      abort=True)
    try:
        result = erase_customer(email, command_line_actor())
    except ErasureError as error:
        raise click.UsageError(str(error)) from None
    click.echo(result.summary())


@click.command("send-followup-alerts")
def send_followup_alerts_command():
    """Deliver only the queued follow-up alerts and re-survey mails (send-mail delivers them with
    every other mail). Safe to run in several processes at once. Exits non-zero when the SMTP
    server cannot be reached or refuses us; the mails stay queued for the next run."""
    try:
        report = deliver_followup_mail()
    except MailConfigError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"send-followup-alerts: {report.summary()}")
    for line in report.errors:
        click.echo(f"send-followup-alerts: {line}", err=True)
    if report.retry or report.failed:
        raise SystemExit(1)
