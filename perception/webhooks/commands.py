"""`flask --app wsgi webhooks add URL --event NAME ...`, `webhooks list`, `webhooks remove ID`
(DESIGN section 3). Registered by perception.cli."""

import click

from perception.core.database import MAX_ID
from perception.core.models import WEBHOOK_EVENTS
from perception.webhooks.queries import endpoint_logs
from perception.webhooks.service import WebhookError, add_endpoint, remove_endpoint


@click.group("webhooks")
def webhooks_command():
    """Endpoints of other systems that receive signed events (response.received, followup.opened,
    followup.overdue, followup.resolved). `flask worker` delivers them."""


@webhooks_command.command("add")
@click.argument("url")
@click.option("--event", "events", multiple=True, required=True, type=click.Choice(WEBHOOK_EVENTS),
              help="An event to send; repeat for several.")
def add_command(url, events):
    """Register an endpoint (https://, or http://127.0.0.1:PORT/... outside production). Prints its
    signing secret once, alone on the last line: the receiver checks Perception-Signature with it."""
    try:
        endpoint, secret = add_endpoint(url, events)
    except WebhookError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"Added webhook endpoint {endpoint.id} for {', '.join(endpoint.event_list)}.")
    click.echo("Its signing secret follows; it is shown only this once:")
    click.echo(secret)


@webhooks_command.command("list")
def list_command():
    """List the endpoints, their events and how their deliveries went."""
    logs = endpoint_logs(log_length=1)
    if not logs:
        click.echo("No webhook endpoints.")
    for log in logs:
        counts = ", ".join(f"{status} {log.counts.get(status, 0)}" for status in ("delivered", "pending", "failed"))
        last = log.recent[0] if log.recent else None
        error = f"; last error: {last.last_error}" if last is not None and last.last_error else ""
        state = "" if log.endpoint.active else " (paused)"
        events = " ".join(log.endpoint.event_list)
        click.echo(f"{log.endpoint.id}\t{log.endpoint.url}{state}\t{events}\t{counts}{error}")


@webhooks_command.command("remove")
@click.argument("endpoint_id", type=click.IntRange(min=1, max=MAX_ID))
def remove_command(endpoint_id):
    """Remove an endpoint and its delivery log."""
    if not remove_endpoint(endpoint_id):
        raise click.UsageError(f"There is no webhook endpoint {endpoint_id}.")
    click.echo(f"Removed webhook endpoint {endpoint_id}.")
