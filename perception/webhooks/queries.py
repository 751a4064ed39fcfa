"""Reading webhook endpoints and their delivery log (the admin page, `flask webhooks list`)."""

from dataclasses import dataclass, field

from sqlalchemy import func, select

from perception.core.extensions import db
from perception.core.models import WebhookDelivery, WebhookEndpoint

LOG_LENGTH = 20  # deliveries shown per endpoint, newest first


@dataclass
class EndpointLog:
    endpoint: WebhookEndpoint
    counts: dict  # status -> deliveries
    recent: list = field(default_factory=list)  # the newest WebhookDelivery rows


def endpoints():
    return list(db.session.execute(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).scalars())


def endpoint_logs(log_length=LOG_LENGTH):
    """Every endpoint with its delivery counts per status and its newest deliveries (three queries)."""
    logs = {endpoint.id: EndpointLog(endpoint, {}) for endpoint in endpoints()}
    if not logs:
        return []
    counted = db.session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)
    ).all()
    for endpoint_id, status, count in counted:
        logs[endpoint_id].counts[status] = count
    newest = (
        select(WebhookDelivery.id, func.row_number().over(
            partition_by=WebhookDelivery.endpoint_id, order_by=WebhookDelivery.id.desc()).label("place"))
        .subquery()
    )
    recent = db.session.execute(
        select(WebhookDelivery).join(newest, newest.c.id == WebhookDelivery.id)
        .where(newest.c.place <= log_length).order_by(WebhookDelivery.id.desc())
    ).scalars()
    for delivery in recent:
        logs[delivery.endpoint_id].recent.append(delivery)
    return list(logs.values())
