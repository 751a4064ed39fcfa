"""Recording answers. One link, one response; one staff/leader response per survey, editable
while the survey is open. The database's UNIQUE constraints decide races, so a double click,
a second tab or twenty concurrent submits store exactly one response."""

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import report_cells
from .extensions import db
from .followups import alert_reasons, insert_followup
from .i18n import remember_invitation_language
from .models import (
    Answer,
    Dimension,
    Invitation,
    Item,
    PredictedAnswer,
    Response,
    Survey,
    Team,
    User,
    survey_items,
    utcnow,
)
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


# --------------------------------------------------------------------------- the customer form
# The customer pages (perception.survey.views.answer) are the hottest path of the app: each GET
# and POST reads what it needs of the invitation, its survey and the survey's items in one Core
# statement built once, and the customer form class is built once per survey content and language.

@dataclass(frozen=True)
class DimensionKey:
    key: str


@dataclass(frozen=True)
class FormItem:
    """What the customer form and the alert rule need of one item."""

    id: int
    key: str
    customer_text: str
    dimension: DimensionKey
    dimension_id: int


@dataclass(frozen=True)
class Named:
    name: str


@dataclass(frozen=True)
class LinkSurvey:
    """The survey of a customer link: its state (read every request) and its items."""

    id: int
    status: str
    opens_at: object
    closes_at: object
    ask_nps: bool
    items: tuple  # FormItem, in survey order

    is_accepting = Survey.is_accepting


@dataclass(frozen=True)
class CustomerLink:
    """What the customer pages need of an invitation (read with `invitation_by_id`)."""

    id: int
    survey_id: int
    team_id: int
    staff_id: int | None
    state: str
    expires_at: object
    channel: str
    language: str | None
    customer_name: str | None
    team: Named
    staff: Named | None
    survey: LinkSurvey

    is_expired = Invitation.is_expired


def _link_statement():
    i, s, t, u = Invitation.__table__, Survey.__table__, Team.__table__, User.__table__
    si, it, d = survey_items, Item.__table__, Dimension.__table__
    items = si.join(it, it.c.id == si.c.item_id).join(d, d.c.id == it.c.dimension_id)
    return (
        select(
            i.c.id, i.c.survey_id, i.c.team_id, i.c.staff_id, i.c.state, i.c.expires_at, i.c.channel, i.c.language,
            i.c.customer_name, t.c.name, u.c.name, s.c.status, s.c.opens_at, s.c.closes_at, s.c.ask_nps,
            it.c.id, it.c.key, it.c.customer_text, d.c.key, d.c.id,
        )
        .select_from(
            i.join(s, s.c.id == i.c.survey_id).join(t, t.c.id == i.c.team_id)
            .outerjoin(u, u.c.id == i.c.staff_id).outerjoin(items, si.c.survey_id == s.c.id)
        )
        .where(i.c.id == bindparam("invitation_id"))
        .order_by(it.c.dimension_id, it.c.position, it.c.id)
    )


_LINK = _link_statement()
def _form_items(rows):
    return _form_items_of(tuple(row[15:] for row in rows if row[15] is not None))


@lru_cache(maxsize=256)
def _form_items_of(content):
    """The same tuple of FormItem for the same items' rows, shared by every request (and so one
    key of the cached customer form class)."""
    return tuple(
        FormItem(item_id, key, text, DimensionKey(dimension), dimension_id)
        for item_id, key, text, dimension, dimension_id in content
    )


def invitation_by_id(invitation_id):
    """The link check of the invitation kept in the customer's session, with a `CustomerLink`."""
    if not invitation_id:
        return check_invitation(None)
    rows = db.session.connection().execute(_LINK, {"invitation_id": invitation_id}).all()
    if not rows:
        return check_invitation(None)
    first = rows[0]
    survey = LinkSurvey(first[1], first[11], first[12], first[13], first[14], _form_items(rows))
    link = CustomerLink(
        first[0], first[1], first[2], first[3], first[4], first[5], first[6], first[7], first[8],
        Named(first[9]), Named(first[10]) if first[3] is not None else None, survey,
    )
    remember_invitation_language(link.id, link.language)
    return check_invitation(link)


_RESPONSE_INSERT = insert(Response.__table__).returning(Response.__table__.c.id)
_ANSWERS_INSERT = insert(Answer.__table__)
_ANSWERED = (
    update(Invitation.__table__)
    .where(Invitation.__table__.c.id == bindparam("invitation_id"))
    .values(state="answered", answered_at=bindparam("answered_at"))
)
_EXISTING = select(Response.__table__.c.id).where(Response.__table__.c.invitation_id == bindparam("invitation_id"))


def record_customer_response(invitation, scores, comment=None, nps=None, channel="link", contact=(False, None)):
    """Store the response and all answers in one transaction. Returns (response id, created).

    `invitation` is a `CustomerLink`. Core statements built once rather than ORM objects: this
    is the hottest write path of the app. The UNIQUE constraint on responses.invitation_id makes
    a second submit fail, whoever commits first. A response at or below the alert rule opens its
    follow-up in the same transaction (the rule is evaluated on the scores in memory; see
    perception.followups). `contact` is (consent, phone)."""
    now = utcnow()
    contact_consent, contact_phone = contact
    reasons = alert_reasons(invitation.survey.items, scores, nps)
    connection = db.session.connection()
    try:
        response_id = connection.execute(
            _RESPONSE_INSERT,
            {
                "survey_id": invitation.survey_id, "perspective": "customer", "team_id": invitation.team_id,
                "invitation_id": invitation.id, "staff_id": invitation.staff_id, "comment": comment or None,
                "nps": nps, "channel": channel, "submitted_at": now, "contact_consent": bool(contact_consent),
                "contact_phone": (contact_phone or None) if contact_consent else None,
            },
        ).scalar_one()
        answers = [{"response_id": response_id, "item_id": item, "score": score} for item, score in scores.items()]
        if answers:
            connection.execute(_ANSWERS_INSERT, answers)
        if reasons:
            insert_followup(response_id, invitation.team_id, reasons, now)
        connection.execute(_ANSWERED, {"invitation_id": invitation.id, "answered_at": now})
        # Counted in the report cells from the scores in hand (Core inserts: no ORM hook sees them).
        report_cells.add_new_response(
            connection, (invitation.survey_id, invitation.team_id, now, "customer"), scores,
            {item.id: item.dimension_id for item in invitation.survey.items},
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.connection().execute(_EXISTING, {"invitation_id": invitation.id}).scalar_one_or_none()
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
