"""Rewriting webhook deliveries not sent yet when an answer loses its consent (a customer erased:
perception.followups.erasure_service).

Their bodies were written while the customer allowed contact: the exact time of the answer, the staff
member who served them, `contact_consent: true`. DESIGN section 2, "No consent, no link", holds for
what is still to go out as for everything else, so such a body is written again as it would have been
without consent (perception.followups.webhook_queries.body_without_consent). The delivery keeps its
id: a receiver that already took an earlier try (an answer lost on the way back) drops the retry as a
duplicate, which a new id would have made a second event; every later try sends the new bytes, signed
anew. A `response.received` is held until the next UTC midnight, as one given without consent is, so
its arrival tells no more than the day. Deliveries already sent (or given up) are not sent again."""

from sqlalchemy import or_, select

from perception.core.extensions import db
from perception.core.models import WebhookDelivery
from perception.core.tokens import webhook_reference_of
from perception.followups.webhook_queries import body_without_consent, response_hold

# A `sending` row (claimed by a worker, not posted yet) is read again just before its POST
# (perception.core.outbox.still_claimed), so it goes out with the new body too.
UNSENT = ("pending", "sending")


def withdraw_consent(responses, followups, now):
    """Rewrite the unsent deliveries about `responses` (answers that had consent) and their `followups`
    as without consent; returns how many. The caller commits."""
    by_reference = {webhook_reference_of(response.id): response for response in responses}
    if not by_reference:
        return 0
    followup_of = {followup.response_id: followup for followup in followups}
    changed = 0
    for delivery in db.session.execute(select(WebhookDelivery).where(
            WebhookDelivery.status.in_(UNSENT),
            or_(*(WebhookDelivery.body.contains(reference) for reference in by_reference)))).scalars():
        response = next(response for reference, response in by_reference.items() if reference in delivery.body)
        delivery.body = body_without_consent(delivery.body, response, followup_of.get(response.id))
        if delivery.event_type == "response.received":
            delivery.next_attempt_at = response_hold(False, now)
        changed += 1
    return changed
