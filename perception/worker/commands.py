"""`flask --app wsgi worker [--once]` (DESIGN section 3). Registered by perception.cli."""

import signal
import threading
import time

import click
from flask import current_app

from perception.worker.service import JOBS, health_line, run_tick


def report_errors(outcomes):
    for outcome in outcomes:
        if outcome.error is not None:
            click.echo(f"worker: {outcome.job} failed: {outcome.error}: {outcome.detail}", err=True)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run what is due now, print one line per job, and exit.")
@click.option("--interval", type=click.IntRange(min=1),
              help="Seconds between ticks (default: the WORKER_INTERVAL setting, 30).")
def worker_command(once, interval):
    """Run every periodic job when due: invitations and reminders (and expiry of old links), follow-up
    alerts and re-survey mails, overdue follow-ups, digests, webhook deliveries.

    Safe on several machines at once: the database hands each mail, delivery and periodic run to one
    worker. Without --once it runs until SIGTERM or SIGINT (finishing the current job first) and
    prints a health line each tick. With --once it exits non-zero when a job failed.
    """
    if once:
        started = time.monotonic()
        outcomes = run_tick()
        for outcome in outcomes:
            click.echo(f"worker: {outcome.summary()}")
        click.echo(health_line(outcomes, time.monotonic() - started))
        report_errors(outcomes)
        if any(outcome.error is not None for outcome in outcomes):
            raise SystemExit(1)
        return
    interval = interval or current_app.config["WORKER_INTERVAL"]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"worker: started, {len(JOBS)} jobs, a tick every {interval} s")
    while not stop.is_set():
        started = time.monotonic()
        outcomes = run_tick()
        click.echo(health_line(outcomes, time.monotonic() - started))
        report_errors(outcomes)
        stop.wait(interval)
    click.echo("worker: stopped")
