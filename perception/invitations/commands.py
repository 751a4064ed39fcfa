"""`flask --app wsgi send-mail` (DESIGN section 3): deliver every queued mail of the outbox
(invitations, reminders, follow-up alerts, re-survey links, account invitations and password resets,
leaders' digests); `send-invitations` stays as its alias.
Registered by perception.cli."""

import signal
import threading

import click

from perception.accounts.mail import deliver_account_mail
from perception.core.smtp import MailConfigError
from perception.followups.digest_mail import deliver_digests
from perception.followups.mail import deliver_followup_mail
from perception.invitations.mail import deliver_due


def deliver_every_kind(name, loop, limit, interval):
    stop = threading.Event()
    if loop:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    while True:
        try:
            report = deliver_due(limit=limit)
            followup_mail = deliver_followup_mail(limit=limit or 500)
            account_mail = deliver_account_mail(limit=limit or 500)
            digests = deliver_digests(limit=limit or 500)
        except MailConfigError as error:
            raise click.ClickException(str(error)) from None
        busy = (report.handled or report.reminders_queued or report.expired or followup_mail.sent
                or account_mail.sent or digests.sent)
        trouble = (followup_mail.retry or followup_mail.failed or account_mail.retry or account_mail.failed
                   or digests.retry or digests.failed)
        if busy or trouble or not loop:
            click.echo(f"{name}: {report.summary()}; alerts and re-surveys: {followup_mail.summary()}; "
                       f"account mails: {account_mail.summary()}; digests: {digests.summary()}")
        for error in report.errors + followup_mail.errors + account_mail.errors + digests.errors:
            click.echo(f"{name}: {error}", err=True)
        if not loop:
            if report.errors or trouble:
                raise SystemExit(1)
            return
        if stop.wait(interval):
            return


def send_mail_options(command):
    command = click.option("--interval", type=click.IntRange(min=1), default=30, show_default=True,
                           help="Seconds between rounds with --loop.")(command)
    command = click.option("--limit", type=click.IntRange(min=1),
                           help="Handle at most N mails of each kind in this run (each loop round).")(command)
    return click.option("--loop", is_flag=True,
                        help="Keep running as a worker: deliver, wait --interval seconds, repeat.")(command)


@click.command("send-mail")
@send_mail_options
def send_mail_command(loop, limit, interval):
    """Deliver every queued mail over SMTP: invitations and reminders to customers, alerts to the
    assignees of follow-ups, re-survey links, account invitations and password resets, leaders' digests.

    Safe to run in several processes at once: each mail is claimed by one process only.
    Settings: SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_STARTTLS, MAIL_FROM,
    REMINDER_AFTER_DAYS, MAX_REMINDERS. Exits non-zero when the SMTP server refuses our
    login or sender, or (without --loop) when it cannot be reached.
    """
    deliver_every_kind("send-mail", loop, limit, interval)


@click.command("send-invitations")
@send_mail_options
def send_invitations_command(loop, limit, interval):
    """The same as send-mail (its former name): deliver every queued mail over SMTP."""
    deliver_every_kind("send-invitations", loop, limit, interval)
