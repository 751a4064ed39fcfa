"""Recording answers. One link, one response; one staff/leader response per survey, editable
while the survey is open. The database's unique indexes decide races, so a double click,
a second tab or twenty concurrent submits store exactly one response."""

from sqlalchemy import Integer, bindparam, func, insert, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from perception.core.extensions import db
from perception.core.models import Answer, Invitation, PredictedAnswer, Response, Survey, utcnow
from perception.core.webhooks_outbox import emit
from perception.followups.service import (
    alert_reasons,
    announce_opened,
    followup_values,
    insert_followup,
    opened_ctes,
)
from perception.followups.webhook_queries import response_event, response_hold
from perception.reports import service as report_cells
from perception.reports.batch_service import GROUP_LOCK, group_of, lock_groups, lock_key
from perception.responses.queries import own_response

_RESPONSE_INSERT = insert(Response.__table__).returning(Response.__table__.c.id)
_ANSWERS_INSERT = insert(Answer.__table__)
_ANSWERED = (
    update(Invitation.__table__)
    .where(Invitation.__table__.c.id == bindparam("invitation_id"),
           Invitation.__table__.c.token_hash == bindparam("checked_hash"))
    .values(state="answered", answered_at=bindparam("answered_at"))
)
_RESPONSE_FIELDS = ("survey_id", "perspective", "team_id", "invitation_id", "staff_id", "comment", "nps", "channel",
                   "submitted_at", "contact_consent", "answered_with_consent", "contact_phone")


class LinkReplaced(Exception):
    """The link was replaced (an erasure) after the customer's page checked it: nothing is stored."""


def _submit_in_one_statement(with_followup):
    """PostgreSQL: the response, its answers and the invitation's "answered" in one statement (data-
    modifying WITHs: one round trip instead of three), and `with_followup` its follow-up too (its
    "opened" event and alert mail: perception.followups.service.opened_ctes); the statement returns the
    response's id and the follow-up's. It also takes the lock of the response's publication group
    (batch_service.GROUP_LOCK, held to the commit), which publishing would otherwise take with a
    statement of its own just before reading the group's unpublished answers: the same lock, one
    round trip fewer. SQLite has no such thing: three statements, and three more for a follow-up."""
    r, i = Response.__table__, Invitation.__table__
    # The invitation's "answered" first, only while its link is the one the page checked, and the
    # response only with it (a data-modifying WITH sees another's rows through RETURNING alone): an
    # erasure that replaced the link meanwhile leaves nothing stored (a race hunt).
    # The group's lock comes before the invitation's row lock, as in every publisher and a team merge (which
    # locks groups, then moves invitations): taken after it, a submit and a merge each waited for the other
    # (a review). PostgreSQL runs the uncorrelated subquery once, before it scans for the row.
    group_lock_first = select(GROUP_LOCK).scalar_subquery().is_not(None)
    answered = (update(i)
                .where(i.c.id == bindparam("answered_invitation"), i.c.token_hash == bindparam("answered_hash"),
                       group_lock_first)
                .values(state=bindparam("answered_state"), answered_at=bindparam("answered_time"))
                .returning(i.c.id).cte("answered"))
    # Parameters named apart from every column: an INSERT or UPDATE takes a parameter named like one
    # of its table's columns as a value to set.
    response = (insert(r).from_select(list(_RESPONSE_FIELDS), select(
        *(bindparam(f"new_{name}", type_=r.c[name].type) for name in _RESPONSE_FIELDS)).select_from(answered))
                .returning(r.c.id).cte("response"))
    scores = func.unnest(bindparam("answer_items", type_=ARRAY(Integer)),
                         bindparam("answer_scores", type_=ARRAY(Integer))) \
        .table_valued("item_id", "score").render_derived()
    answers = insert(Answer.__table__).from_select(
        ["response_id", "item_id", "score"],
        select(response.c.id, scores.c.item_id, scores.c.score).join_from(response, scores, true())).cte("answers")
    if not with_followup:
        return select(response.c.id).add_cte(answered, answers)
    _opened, alert, event = opened_ctes(response.c.id, source=response)
    return (select(response.c.id, event.c.follow_up_id).join_from(response, event, true())
            .add_cte(answered, answers, alert))


_SUBMIT = _submit_in_one_statement(with_followup=False)
_SUBMIT_WITH_FOLLOWUP = _submit_in_one_statement(with_followup=True)
_EXISTING = select(Response.__table__.c.id).where(Response.__table__.c.invitation_id == bindparam("invitation_id"))


def record_customer_response(invitation, scores, comment=None, nps=None, channel="link", contact=(False, None)):
    """Store the response and all answers in one transaction. Returns (response id, created).

    `invitation` is a `CustomerLink`. Core statements built once rather than ORM objects: this
    is the hottest write path of the app. The unique index on responses.invitation_id makes
    a second submit fail, whoever commits first. A response at or below the alert rule opens its
    follow-up in the same transaction (the rule is evaluated on the scores in memory; see
    perception.followups). `contact` is (consent, phone). LinkReplaced when the link is no longer the
    one the page checked (an erasure meanwhile): nothing is stored."""
    now = utcnow()
    contact_consent, contact_phone = contact
    reasons = alert_reasons(invitation.survey.items, scores, nps)
    connection = db.session.connection()
    try:
        response = {
            "survey_id": invitation.survey_id, "perspective": "customer", "team_id": invitation.team_id,
            "invitation_id": invitation.id, "staff_id": invitation.staff_id, "comment": comment or None,
            "nps": nps, "channel": channel, "submitted_at": now, "contact_consent": bool(contact_consent),
            "answered_with_consent": bool(contact_consent),
            "contact_phone": (contact_phone or None) if contact_consent else None,
        }
        followup_id, locked = None, frozenset()
        group = report_cells.group_of(invitation.survey_id, invitation.team_id, invitation.staff_id, "customer",
                                      response["answered_with_consent"])
        if connection.dialect.name == "postgresql":
            values = {f"new_{name}": value for name, value in response.items()} | {
                "answer_items": list(scores), "answer_scores": list(scores.values()), "answered_state": "answered",
                "answered_invitation": invitation.id, "answered_hash": invitation.token_hash,
                "answered_time": now} | lock_key(group)
            if reasons:
                opened = followup_values(invitation.team_id, reasons, now, contact_consent)
                stored = connection.execute(_SUBMIT_WITH_FOLLOWUP, values | opened).one_or_none()
                response_id, followup_id = stored or (None, None)
            else:
                stored = connection.execute(_SUBMIT, values).one_or_none()
                response_id = stored[0] if stored else None
            if stored is None:
                raise LinkReplaced
            locked = {group}
        else:
            # The "answered" first, only while the link is the one the page checked (it takes the write
            # lock, so an erasure either committed before it or waits for this answer).
            if connection.execute(_ANSWERED, {"invitation_id": invitation.id, "answered_at": now,
                                              "checked_hash": invitation.token_hash}).rowcount != 1:
                raise LinkReplaced
            response_id = connection.execute(_RESPONSE_INSERT, response).scalar_one()
            answers = [{"response_id": response_id, "item_id": item, "score": score} for item, score in scores.items()]
            if answers:
                connection.execute(_ANSWERS_INSERT, answers)
        webhooks = invitation.webhooks_active
        emit("response.received", lambda: response_event(response_id), now=now,
             not_before=response_hold(contact_consent, now), endpoints_active=webhooks)
        if followup_id is not None:
            announce_opened(followup_id, now, endpoints_active=webhooks)
        elif reasons:
            insert_followup(response_id, invitation.team_id, reasons, now, contact_consent, endpoints_active=webhooks)
        # Enters the figures with its batch (Core inserts: no ORM hook sees them): one select of the
        # group's unpublished answers, and the batch's update and cells when this one completes it.
        report_cells.publish(connection, [group], locked=locked)
        db.session.commit()
    except LinkReplaced:
        db.session.rollback()
        raise
    except IntegrityError:
        db.session.rollback()
        existing = db.session.connection().execute(_EXISTING, {"invitation_id": invitation.id}).scalar_one_or_none()
        if existing is None:
            raise
        return existing, False
    return response_id, True


PUBLISHED_RATING = "Your rating is now part of the published figures and can no longer change."


class RatingFinal(ValueError):
    """A rating that can no longer change (the message says why)."""


class RatingPublished(RatingFinal):
    """The rating entered the figures with its batch: changing it would change them by one person."""

    def __init__(self):
        super().__init__(PUBLISHED_RATING)


class RatingOfFormerRole(RatingFinal):
    """The rating was given in the role the user had then (staff, since made a leader, or the reverse).
    It keeps that perspective, and the new role's form would rewrite it half-way: a leader's form has no
    predictions, so saving it would drop a waiting staff rating's predictions, and the batch it then
    completes would publish fewer predictions than the one before it by fewer than MIN_N people (found
    by the tenth session's attacker's read)."""

    def __init__(self, perspective):
        super().__init__(f"Your rating of this wave was given as {perspective}, before your role changed, "
                         "so it can no longer change.")


def save_self_assessment(survey: Survey, user, scores, predictions=None, comment=None):
    """Create or update the user's response for the survey. Returns (response, created).

    A new rating enters the figures with its batch (the session hook of perception/reports/service.py
    publishes it in the same transaction). A published rating is final: RatingPublished, since any
    change would show in the figures as the difference one person made; so is one given in another
    role: RatingOfFormerRole."""
    for attempt in range(2):
        response = own_response(survey, user)
        created = response is None
        if not created and response.published_at is not None:
            raise RatingPublished
        if not created and response.perspective != user.perspective:
            raise RatingOfFormerRole(response.perspective)
        if created:
            response = Response(
                survey_id=survey.id, perspective=user.perspective, user_id=user.id,
                team_id=user.team_id, respondent=user.email, channel="self",
            )
            db.session.add(response)
        elif not _still_waiting(response):
            db.session.rollback()
            raise RatingPublished
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


def _still_waiting(response):
    """Whether the rating is still unpublished, held so until the commit: its group's lock, then the row
    itself, marked updated only if its published_at is still empty. Read apart from the write, a
    colleague's rating could complete the batch in between, and the save then rewrote a published
    rating: the figures moved by one person's edit (an attacker's read). A publisher of the group waits
    for this transaction (PostgreSQL: the group's lock; SQLite: the write lock the UPDATE takes)."""
    connection = db.session.connection()
    lock_groups(connection, [group_of(response.survey_id, response.team_id, response.staff_id,
                                      response.perspective, response.answered_with_consent)])
    r = Response.__table__
    now = utcnow()
    marked = connection.execute(
        update(r).where(r.c.id == response.id, r.c.published_at.is_(None)).values(updated_at=now)).rowcount
    if marked:
        set_committed_value(response, "updated_at", now)
    return marked == 1


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
