"""Checking a customer link (unknown, gone, answered or ok) with one statement that reads the link,
its survey and items, and finding a staff member's or leader's own response."""

import hmac
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import bindparam, select, update

from perception.core.extensions import db
from perception.core.models import (
    Dimension,
    Invitation,
    Item,
    ItemVersion,
    Response,
    Survey,
    Team,
    User,
    covers_team_clause,
    survey_items,
    utcnow,
)
from perception.core.tokens import find_by_token
from perception.core.webhooks_outbox import any_endpoint_active
from perception.reports.queries import batch_size, waiting_in_group
from perception.surveys.queries import asked_version, translation_pairs
from perception.web.customer import LINK_CHECK_LENGTH
from perception.web.i18n import remember_invitation_language

# What a customer link leads to.
LINK_OK, LINK_UNKNOWN, LINK_GONE, LINK_ANSWERED = "ok", "unknown", "gone", "answered"
# Closed because the customer unsubscribed: the page says so instead of "this survey has closed".
LINK_UNSUBSCRIBED = "unsubscribed"


@dataclass(frozen=True)
class LinkCheck:
    status: str
    invitation: Invitation | None = None


def check_invitation(invitation, now=None):
    if invitation is None:
        return LinkCheck(LINK_UNKNOWN)
    if invitation.state == "answered":
        return LinkCheck(LINK_ANSWERED, invitation)
    if invitation.state == "unsubscribed":
        return LinkCheck(LINK_UNSUBSCRIBED, invitation)
    if invitation.state == "expired" or invitation.is_expired(now):
        return LinkCheck(LINK_GONE, invitation)
    if not invitation.survey.is_accepting(now) or not invitation.team_covered:
        return LinkCheck(LINK_GONE, invitation)
    return LinkCheck(LINK_OK, invitation)


def find_invitation(token):
    return find_by_token(Invitation, token)


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


@dataclass(frozen=True)
class DimensionKey:
    key: str


@dataclass(frozen=True)
class FormItem:
    """What the customer form and the alert rule need of one item."""

    id: int
    key: str
    customer_text: str  # the wording of the version the wave asks
    translations: tuple  # ((language, customer wording), ...) of that version
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
    webhooks_active: bool  # whether any webhook endpoint is active (read with the link; see emit)
    team_covered: bool  # whether the wave still asks the invitation's team (Invitation.team_covered)
    token_hash: str  # the link's, as checked: the answer is stored only while it is still the link's

    is_expired = Invitation.is_expired


def _link_statement():
    i, s, t, u = Invitation.__table__, Survey.__table__, Team.__table__, User.__table__
    si, it, d, iv = survey_items, Item.__table__, Dimension.__table__, ItemVersion.__table__
    items = si.join(it, it.c.id == si.c.item_id).join(d, d.c.id == it.c.dimension_id).join(iv, asked_version())
    return (
        select(
            i.c.id, i.c.survey_id, i.c.team_id, i.c.staff_id, i.c.state, i.c.expires_at, i.c.channel, i.c.language,
            i.c.customer_name, t.c.name, u.c.name, s.c.status, s.c.opens_at, s.c.closes_at, s.c.ask_nps,
            any_endpoint_active().label("webhooks_active"),
            covers_team_clause(s.c.id, i.c.team_id).label("team_covered"), i.c.token_hash,
            it.c.id, it.c.key, iv.c.customer_text, iv.c.customer_translations, d.c.key, d.c.id,
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
    return _form_items_of(tuple(
        (item_id, key, text, translation_pairs(translations), dimension, dimension_id)
        for item_id, key, text, translations, dimension, dimension_id in (row[18:] for row in rows)
        if item_id is not None
    ))


@lru_cache(maxsize=256)
def _form_items_of(content):
    """The same tuple of FormItem for the same items' rows, shared by every request (and so one
    key of the cached customer form class)."""
    return tuple(
        FormItem(item_id, key, text, translations, DimensionKey(dimension), dimension_id)
        for item_id, key, text, translations, dimension, dimension_id in content
    )


def invitation_by_id(invitation_id, link_check):
    """The link check of the invitation kept in the customer's session, with a `CustomerLink`.
    `link_check`, the start of the hash of the link the session was opened with (web.customer), must
    still be the link's: one replaced since (an erasure) is unknown, and so is a session without one (made
    before the check: its customer opens their link again; a review)."""
    if not invitation_id or not (isinstance(link_check, str) and link_check.isascii()
                                 and len(link_check) == LINK_CHECK_LENGTH):  # only a forged one differs: a review
        return check_invitation(None)
    rows = db.session.connection().execute(_LINK, {"invitation_id": invitation_id}).all()
    if not rows or not hmac.compare_digest(rows[0][17][:len(link_check)], link_check):
        return check_invitation(None)
    first = rows[0]
    survey = LinkSurvey(first[1], first[11], first[12], first[13], first[14], _form_items(rows))
    link = CustomerLink(
        first[0], first[1], first[2], first[3], first[4], first[5], first[6], first[7], first[8],
        Named(first[9]), Named(first[10]) if first[3] is not None else None, survey, bool(first[15]),
        bool(first[16]), first[17],
    )
    remember_invitation_language(link.id, link.language)
    return check_invitation(link)


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


@dataclass(frozen=True)
class RatingPublication:
    """Where a staff member's or leader's rating stands: published (final), or waiting with
    `waiting` ratings of its group (the user's team and perspective) for a batch of `batch`."""

    published: bool
    waiting: int
    batch: int
    perspective: str
    # Given in the role the user had before (service.RatingOfFormerRole): final, like a published one.
    former_role: bool = False


def rating_publication(survey, user, response):
    """The RatingPublication of the user's rating (or of the one they are about to give), in the
    group it is in: its own perspective and team once given."""
    published = response is not None and response.published_at is not None
    team_id, perspective = (user.team_id, user.perspective) if response is None else (response.team_id,
                                                                                      response.perspective)
    waiting = 0 if published else waiting_in_group(survey.id, team_id, None, perspective)
    return RatingPublication(published, waiting, batch_size(), perspective, perspective != user.perspective)
