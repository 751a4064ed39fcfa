"""Open (multi-use) survey links for counters, receipts and tables, and their QR codes.

An open link belongs to one survey and one team; anyone with it may answer, so it is guarded
against stuffing in two ways: a browser that answered gets a signed cookie and is not asked
again, and submissions are rate-limited per address (OPEN_LINK_RATE_LIMIT, see the view).
Like personal links, the token is never stored: only its hash and the nonce it is rebuilt from
(perception.invitations.derive_token), so the QR code can be downloaded again at any time.
Responses through an open link record channel "open" and no invitation and no identity.
"""

import io
import secrets

import segno
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from perception.accounts.scope import in_scope, sees_survey, team_condition
from perception.core.extensions import db
from perception.core.models import Answer, OpenLink, Response, utcnow
from perception.core.tokens import derive_token, find_by_token, hash_token, new_nonce
from perception.core.webhooks_outbox import emit
from perception.followups.service import alert_reasons, insert_followup
from perception.followups.webhook_queries import response_event, response_hold

PURPOSE = "open-link"
ANSWERED_COOKIE = "perception_answered"
ANSWERED_COOKIE_DAYS = 400


class OpenLinkError(ValueError):
    def __init__(self, message, field):
        super().__init__(message)
        self.field = field


def create_open_link(survey, team, label="", created_by=None):
    if not survey.covers_team(team.id):
        raise OpenLinkError(f"survey {survey.slug} does not cover team {team.name}", "team")
    if created_by is not None and not in_scope(created_by, team.id):
        raise OpenLinkError(f"you make open links for your own team only, not for {team.name}", "team")
    nonce = new_nonce()
    link = OpenLink(
        survey=survey, team=team, label=(label or "").strip()[:120], token_nonce=nonce,
        token_hash=hash_token(derive_token(nonce, PURPOSE)),
        created_by_id=created_by.id if created_by is not None else None,
    )
    db.session.add(link)
    db.session.commit()
    return link


def open_link_url(link):
    """Built from BASE_URL, like every link we hand out."""
    return f"{current_app.config['BASE_URL']}/s/o/{derive_token(link.token_nonce, PURPOSE)}"


def find_open_link(token):
    return find_by_token(OpenLink, token)


def open_links_for(survey, user):
    """The survey's open links of the teams within `user`'s team scope."""
    return list(db.session.execute(
        select(OpenLink).where(OpenLink.survey_id == survey.id, team_condition(user, OpenLink.team_id))
        .order_by(OpenLink.active.desc(), OpenLink.id)
    ).scalars())


def open_link_for(user, link_id):
    """The open link if it belongs to a team within `user`'s scope on a wave they see, else None (the page
    says 404). A wave narrowed to other teams after the link was made answers as if it did not exist
    (an attacker's read: its QR download and switch named it)."""
    link = db.session.get(OpenLink, link_id)
    return link if link is not None and in_scope(user, link.team_id) and sees_survey(user, link.survey) else None


def set_active(link, active):
    link.active = active
    db.session.commit()


def qr_png(url, scale=10):
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(url, scale=10):
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=scale, border=4, title="Survey link", xmldecl=True)
    return buffer.getvalue()


def new_visit():
    """The random value a browser's session gets when it opens an open link: its answer names it."""
    return secrets.token_urlsafe(16)


def _repeated_visit(error):
    """Whether the IntegrityError is the visit's unique index: PostgreSQL names the constraint (its message
    may quote a row's values, a comment among them: a review), SQLite the column."""
    diagnosis = getattr(error.orig, "diag", None)
    if diagnosis is not None:
        return diagnosis.constraint_name == "uq_responses_open_visit"
    return str(error.orig) == "UNIQUE constraint failed: responses.open_visit"


def record_open_response(link, scores, comment=None, nps=None, now=None, contact=(False, None), visit=None):
    """One anonymous customer response through an open link (identified only by a phone number
    the customer gives with their consent, `contact` = (consent, phone)). A response at or below
    the alert rule opens its follow-up in the same transaction (perception.followups). Returns the
    response, or None when its `visit` has answered already: the same form sent twice (a double click
    without JavaScript, a phone resending) stored two responses (an attacker's read); the unique hash of
    the visit decides, whoever commits first."""
    now = now or utcnow()
    consent, phone = contact
    response = Response(
        survey_id=link.survey_id, perspective="customer", team_id=link.team_id, channel="open",
        submitted_at=now, comment=comment or None, nps=nps, contact_consent=bool(consent),
        answered_with_consent=bool(consent),
        contact_phone=(phone or None) if consent else None,
        answers=[Answer(item_id=item_id, score=score) for item_id, score in scores.items()],
        open_visit=hash_token(visit) if visit else None,
    )
    db.session.add(response)
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()  # the session's whole transaction: call it with nothing else pending
        if visit is None or not _repeated_visit(error):
            raise
        return None
    emit("response.received", lambda: response_event(response.id), now=now, not_before=response_hold(consent, now))
    reasons = alert_reasons(link.survey.items, scores, nps)
    if reasons:
        insert_followup(response.id, link.team_id, reasons, now, consent)
    db.session.commit()
    return response


def _cookie_serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="perception-open-answered")


def answered_surveys(cookie_value):
    """Survey ids this browser answered through an open link (a forged cookie counts as none)."""
    if not cookie_value:
        return set()
    try:
        ids = _cookie_serializer().loads(cookie_value)
    except BadSignature:
        return set()
    return {value for value in ids if isinstance(value, int)} if isinstance(ids, list) else set()


def answered_cookie_value(cookie_value, survey_id):
    ids = answered_surveys(cookie_value) | {survey_id}
    return _cookie_serializer().dumps(sorted(ids)[-50:])
