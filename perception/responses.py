"""Recording answers. One link, one response; one staff/leader response per survey, editable
while the survey is open. The database's UNIQUE constraints decide races, so a double click,
a second tab or twenty concurrent submits store exactly one response."""

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .extensions import db
from .followups import alert_reasons, insert_followup
from .models import Answer, Invitation, Item, PredictedAnswer, Response, Survey, utcnow
from .security import hash_token, token_matches

LINK_OK, LINK_UNKNOWN, LINK_GONE, LINK_ANSWERED = "ok", "unknown", "gone", "answered"


@dataclass(frozen=True)
class LinkCheck:
    status: str
    invitation: Invitation | None = None


def check_invitation(invitation, now=None):
    if invitation is None:
        return LinkCheck(LINK_UNKNOWN)
    if invitation.state == "answered":
        return LinkCheck(LINK_ANSWERED, invitation)
    if invitation.state in ("expired", "unsubscribed") or invitation.is_expired(now):
        return LinkCheck(LINK_GONE, invitation)
    if not invitation.survey.is_accepting(now):
        return LinkCheck(LINK_GONE, invitation)
    return LinkCheck(LINK_OK, invitation)


def find_invitation(token):
    """Look a link token up by its hash, then compare the hashes in constant time."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.execute(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if invitation is None or not token_matches(invitation.token_hash, token):
        return None
    return invitation


def open_link(token):
    check = check_invitation(find_invitation(token))
    if check.status == LINK_OK and check.invitation.opened_at is None:
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == check.invitation.id, Invitation.opened_at.is_(None))
            .values(opened_at=utcnow())
        )
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == check.invitation.id, Invitation.state.in_(("created", "sent")))
            .values(state="opened")
        )
        db.session.commit()
    return check


def invitation_by_id(invitation_id):
    if not invitation_id:
        return check_invitation(None)
    # One round trip for everything the form needs: the survey, its items, the team and staff member.
    invitation = db.session.get(
        Invitation,
        invitation_id,
        options=[
            joinedload(Invitation.survey).selectinload(Survey.items).joinedload(Item.dimension),
            joinedload(Invitation.team),
            joinedload(Invitation.staff),
        ],
    )
    return check_invitation(invitation)


def record_customer_response(invitation, scores, comment=None, nps=None, channel="link", contact=(False, None)):
    """Store the response and all answers in one transaction. Returns (response id, created).

    Bulk statements rather than ORM objects: this is the hottest write path of the app. The UNIQUE
    constraint on responses.invitation_id makes a second submit fail, whoever commits first.
    A response at or below the alert rule opens its follow-up in the same transaction (the rule is
    evaluated on the scores in memory; see perception.followups). `contact` is (consent, phone)."""
    now = utcnow()
    contact_consent, contact_phone = contact
    reasons = alert_reasons(invitation.survey.items, scores, nps)
    try:
        response_id = db.session.execute(
            insert(Response).returning(Response.id),
            [{
                "survey_id": invitation.survey_id, "perspective": "customer", "team_id": invitation.team_id,
                "invitation_id": invitation.id, "staff_id": invitation.staff_id, "comment": comment or None,
                "nps": nps, "channel": channel, "submitted_at": now, "contact_consent": bool(contact_consent),
                "contact_phone": (contact_phone or None) if contact_consent else None,
            }],
        ).scalar_one()
        answers = [{"response_id": response_id, "item_id": item, "score": score} for item, score in scores.items()]
        db.session.execute(insert(Answer), answers)
        if reasons:
            insert_followup(response_id, invitation.team_id, reasons, now)
        db.session.execute(
            update(Invitation).where(Invitation.id == invitation.id).values(state="answered", answered_at=now)
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.execute(
            select(Response.id).where(Response.invitation_id == invitation.id)
        ).scalar_one_or_none()
        if existing is None:
            raise
        return existing, False
    return response_id, True


def own_response(survey, user):
    return db.session.execute(
        select(Response).where(Response.survey_id == survey.id, Response.user_id == user.id)
    ).scalar_one_or_none()


def own_responses(surveys, user):
    """{survey id: the user's response} for many surveys in one query (lists of surveys: no N+1)."""
    ids = [survey.id for survey in surveys]
    if not ids:
        return {}
    rows = db.session.execute(select(Response).where(Response.survey_id.in_(ids), Response.user_id == user.id))
    return {response.survey_id: response for response in rows.scalars()}


def save_self_assessment(survey: Survey, user, scores, predictions=None, comment=None):
    """Create or update the user's response for the survey. Returns (response, created)."""
    for attempt in range(2):
        response = own_response(survey, user)
        created = response is None
        if created:
            response = Response(
                survey_id=survey.id, perspective=user.perspective, user_id=user.id,
                team_id=user.team_id, respondent=user.email, channel="self",
            )
            db.session.add(response)
        else:
            response.updated_at = utcnow()
        _replace(response, "answers", Answer, scores)
        _replace(response, "predictions", PredictedAnswer, predictions or {})
        response.comment = comment or None
        try:
            db.session.commit()
            return response, created
        except IntegrityError:
            # Someone saved the same user's first response a moment earlier: update that one.
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def _replace(response, attribute, model, scores):
    by_item = {row.item_id: row for row in getattr(response, attribute)}
    for item_id, score in scores.items():
        if item_id in by_item:
            by_item[item_id].score = score
        else:
            getattr(response, attribute).append(model(item_id=item_id, score=score))
    for item_id, row in by_item.items():
        if item_id not in scores:
            getattr(response, attribute).remove(row)
