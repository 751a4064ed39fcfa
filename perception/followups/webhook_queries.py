"""What a webhook says about a customer answer and its follow-up (events `response.received`,
`followup.opened`, `followup.resolved`, `followup.overdue`; perception.core.webhooks_outbox.emit).

DESIGN section 2, "No consent, no link": for a customer who did not agree to be contacted, a
payload carries ids, the survey's slug, the team and days only: no name, email or phone, no staff
member who served them, no time finer than the day (the body's `created_at` included). Their
`response.received` carries no scores at all and is held until the next UTC midnight
(`response_hold`), so neither its content nor its arrival pins one person's answers ("No small
difference"); a `followup.*` event keeps the scores summary, as the follow-up page shows it. With
consent a payload adds the scores, who they are and exact times, as the follow-up page does. The
readable `text` line (for a chat channel) never names the customer."""

import json

from sqlalchemy import select

from perception.core.extensions import db
from perception.core.models import Answer, Dimension, FollowUp, Item, Response, next_utc_midnight
from perception.core.tokens import webhook_reference_of
from perception.core.webhooks_outbox import event_body, iso
from perception.followups.queries import customer_identity, followup_url, reason_lines


def moment(value, consent):
    """A time as the payload may show it: exact with consent, else its UTC day."""
    if value is None:
        return None
    return iso(value) if consent else value.strftime("%Y-%m-%d")


def scores_summary(response_id):
    """{"overall": mean of all answered items, "dimensions": {key: mean}} of one response."""
    rows = db.session.execute(
        select(Dimension.key, Answer.score).join(Item, Item.id == Answer.item_id)
        .join(Dimension, Dimension.id == Item.dimension_id).where(Answer.response_id == response_id)
        .order_by(Dimension.position, Dimension.id)
    ).all()
    by_dimension = {}
    for key, score in rows:
        by_dimension.setdefault(key, []).append(score)
    scores = [score for _key, score in rows]
    return {
        "overall": sum(scores) / len(scores) if scores else None,
        "dimensions": {key: sum(values) / len(values) for key, values in by_dimension.items()},
    }


def response_data(response, with_scores=True):
    consent = bool(response.contact_consent)
    data = {
        # A keyed reference, the same in every event of this answer: ids count up as answers arrive, so
        # a receiver holding every answer's id would know their order (DESIGN section 2, "No consent, no
        # link"). Keyed apart from the rows' reference: with that one, a body named its row in the
        # exports, the API and the comments board (an attacker's read).
        "id": webhook_reference_of(response.id),
        "survey": response.survey.slug,
        "team": response.team.name if response.team else None,
        "channel": response.channel,
        "submitted_at": moment(response.submitted_at, consent),
        "contact_consent": consent,
    }
    if with_scores:
        data["scores"] = {**scores_summary(response.id), "nps": response.nps}
    if consent:
        data["customer"] = customer_identity(response)
        data["staff"] = response.staff.name if response.staff else None
    return data


def _where(response):
    team = response.team.name if response.team else "no team"
    return f"{team} ({response.survey.slug})"


def response_hold(consent, now):
    """When `response.received` may be sent: at once with consent, else at the next UTC midnight, so
    its arrival tells no more than the day of the answer."""
    return None if consent else next_utc_midnight(now)


def response_event(response_id):
    """(data, text, created_at) of `response.received`; the scores only with consent."""
    response = db.session.get(Response, response_id)
    consent = bool(response.contact_consent)
    data = response_data(response, with_scores=consent)
    text = f"New customer answer for {_where(response)}"
    overall = data["scores"]["overall"] if consent else None
    text += f": overall {overall:.1f} of 5." if overall is not None else "."
    return {"response": data}, text, moment(response.submitted_at, consent)


def followup_event(followup_id, event_type, now):
    """(data, text, created_at) of a `followup.*` event."""
    followup = db.session.get(FollowUp, followup_id)
    response = followup.response
    consent = bool(response.contact_consent)
    reasons = reason_lines(followup)
    data = {
        "follow_up": {
            "id": followup.reference, "state": followup.state, "url": followup_url(followup), "reasons": reasons,
            "team": followup.team.name if followup.team else None,
            "opened_at": moment(followup.opened_at, consent), "due_at": moment(followup.due_at, consent),
            "resolved_at": moment(followup.resolved_at, consent),
        },
        "response": response_data(response),
    }
    where = _where(response)
    if event_type == "followup.opened":
        text = f"Follow-up #{followup.reference} opened for {where}: {'; '.join(reasons) or 'low scores'}."
    elif event_type == "followup.overdue":
        text = f"Follow-up #{followup.reference} for {where} is overdue: nobody has contacted the customer yet."
    else:
        text = f"Follow-up #{followup.reference} for {where} is resolved."
    return data, f"{text} {data['follow_up']['url']}", moment(now, consent)


def body_without_consent(body, response, followup):
    """A stored body about `response` (and its `followup`, or None), written while the customer allowed
    contact, as it reads without consent: the customer was erased since (perception.followups.
    erasure_service) and the answer has no consent any more. `response.received` becomes what
    `response_event` writes now (no scores, no identity, no staff, the day only). A `followup.*` event
    keeps what the follow-up was when it happened (state, reasons, text), with days for its times (the
    due time as the erasure moved it: queries.due_time) and the answer as `response_data` gives it now."""
    event = json.loads(body)
    if event["type"] == "response.received":
        data, text, created_at = response_event(response.id)
    else:
        data, text, created_at = event["data"], event["text"], _day(event["created_at"])
        follow_up = data["follow_up"]
        follow_up.update(opened_at=_day(follow_up["opened_at"]), resolved_at=_day(follow_up["resolved_at"]),
                         due_at=moment(followup.due_at, False) if followup else _day(follow_up["due_at"]))
        data["response"] = response_data(response)
    return event_body(event["type"], created_at, data, text)


def _day(stamp):
    """The UTC day of a time as a payload writes it (`2026-12-06T18:40:00Z` or already `2026-12-06`)."""
    return stamp[:10] if stamp else stamp
