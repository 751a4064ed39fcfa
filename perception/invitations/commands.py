"""`flask --app wsgi send-invitations`: deliver the outbox. Registered by perception.cli."""

import signal
import threading

import click

from perception.core.smtp import MailConfigError
from perception.invitations.mail import deliver_due


@click.command("send-invitations")
@click.option("--loop", is_flag=True, help="Keep running as a worker: deliver, wait --interval seconds, repeat.")
@click.option("--limit", type=click.IntRange(min=1), help="Handle at most N mails in this run (each loop round).")
@click.option("--interval", type=click.IntRange(min=1), default=30, show_default=True,
              help="Seconds between rounds with --loop.")
def send_invitations_command(loop, limit, interval):
    """Deliver queued invitation and reminder emails over SMTP.

    Safe to run in several processes at once: each mail is claimed by one process only.
    Settings: SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_STARTTLS, MAIL_FROM,
    REMINDER_AFTER_DAYS, MAX_REMINDERS. Exits non-zero when the SMTP server refuses our
    login or sender, or (without --loop) when it cannot be reached.
    """

    stop = threading.Event()
    if loop:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    while True:
        try:
            report = deliver_due(limit=limit)
        except MailConfigError as error:
            raise click.ClickException(str(error)) from None
        if report.handled or report.reminders_queued or report.expired or not loop:
            click.echo(f"send-invitations: {report.summary()}")
        for error in report.errors:
            click.echo(f"send-invitations: {error}", err=True)
        if not loop:
            if report.errors:
                raise SystemExit(1)
            return
        if stop.wait(interval):
            return
