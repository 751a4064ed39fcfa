"""Interaction triads: the customer's answer, the guess of the staff member who served them, and
the follow-up, linked through the invitation that named that staff member.

A staff member is asked once per such interaction, on their own pages, how they think the
customer felt (1-5, or "I don't remember"); the UNIQUE constraint on staff_guesses.invitation_id
makes "once" hold under double clicks. They are asked whether or not the customer has answered,
and never shown the answer: the guess stays blind.

`interaction_pairs` returns the linked data per interaction as plain dicts, for the staff
mirror and calibration figures. Each pair carries one customer's score next to a named staff
member: callers must aggregate and apply the MIN_N rule before showing anything to anyone.
"""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from perception.core.database import holds_id
from perception.core.extensions import db
from perception.core.models import (
    Answer,
    FollowUp,
    Invitation,
    RecoveryRequest,
    Response,
    StaffGuess,
    Survey,
    Team,
    utcnow,
)
from perception.insights.loop import care_score, triad_figures

ASK_WITHIN_DAYS = 30  # interactions older than this are not asked about any more: memory fades


class TriadError(ValueError):
    pass


def pending_interactions(staff, now=None, limit=50):
    """Invitations naming `staff` from the last ASK_WITHIN_DAYS days without their guess yet."""
    since = (now or utcnow()) - timedelta(days=ASK_WITHIN_DAYS)
    when = func.coalesce(Invitation.interaction_at, Invitation.created_at)
    return list(db.session.execute(
        select(Invitation)
        .outerjoin(StaffGuess, StaffGuess.invitation_id == Invitation.id)
        .where(Invitation.staff_id == staff.id, StaffGuess.id.is_(None), when >= since)
        .order_by(when.desc(), Invitation.id.desc()).limit(limit)
    ).scalars())


def pending_count(staff, now=None):
    since = (now or utcnow()) - timedelta(days=ASK_WITHIN_DAYS)
    when = func.coalesce(Invitation.interaction_at, Invitation.created_at)
    return db.session.execute(
        select(func.count()).select_from(Invitation)
        .outerjoin(StaffGuess, StaffGuess.invitation_id == Invitation.id)
        .where(Invitation.staff_id == staff.id, StaffGuess.id.is_(None), when >= since)
    ).scalar_one()


def record_guess(staff, invitation_id, score, now=None):
    """Store the guess (None: "I don't remember"). Returns False when one was already stored."""
    invitation = db.session.get(Invitation, invitation_id) if holds_id(invitation_id) else None
    if invitation is None or invitation.staff_id != staff.id:
        raise TriadError("That interaction is not one of yours.")
    if score is not None and not 1 <= score <= 5:
        raise TriadError("Choose a score from 1 to 5.")
    db.session.add(StaffGuess(invitation_id=invitation.id, staff_id=staff.id, score=score, created_at=now or utcnow()))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _customer_scores(response_ids):
    if not response_ids:
        return {}
    rows = db.session.execute(
        select(Answer.response_id, Answer.score).where(Answer.response_id.in_(response_ids))
    ).all()
    scores = {}
    for response_id, score in rows:
        scores.setdefault(response_id, []).append(score)
    return scores


def interaction_pairs(survey_id=None, team_id=None, staff_id=None, answered_only=True):
    """Per interaction with a staff guess: plain dicts with keys invitation_id, survey (slug),
    team_id, team, staff_id, interaction_at, guess (1-5 or None for "don't remember"),
    guessed_at, response_id, customer_score (mean of the customer's answered items, 1-5),
    customer_care_index (0-100), nps, followup_id, followup_state, recovery_score.
    With answered_only (the default) only interactions the customer answered are returned."""
    query = (
        select(StaffGuess, Invitation, Survey.slug, Team.name, Response.id, Response.nps, FollowUp.id,
               FollowUp.state, RecoveryRequest.score)
        .join(Invitation, Invitation.id == StaffGuess.invitation_id)
        .join(Survey, Survey.id == Invitation.survey_id)
        .join(Team, Team.id == Invitation.team_id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .outerjoin(FollowUp, FollowUp.response_id == Response.id)
        .outerjoin(RecoveryRequest, RecoveryRequest.follow_up_id == FollowUp.id)
        .order_by(Invitation.id)
    )
    if survey_id is not None:
        query = query.where(Invitation.survey_id == survey_id)
    if team_id is not None:
        query = query.where(Invitation.team_id == team_id)
    if staff_id is not None:
        query = query.where(StaffGuess.staff_id == staff_id)
    if answered_only:
        query = query.where(Response.id.is_not(None))
    rows = db.session.execute(query).all()
    scores = _customer_scores([row[4] for row in rows if row[4] is not None])
    pairs = []
    for guess, invitation, slug, team, response_id, nps, followup_id, followup_state, recovery_score in rows:
        care = care_score(scores.get(response_id, []))
        pairs.append({
            "invitation_id": invitation.id, "survey": slug, "team_id": invitation.team_id, "team": team,
            "staff_id": guess.staff_id, "interaction_at": invitation.interaction_at or invitation.created_at,
            "guess": guess.score, "guessed_at": guess.created_at, "response_id": response_id,
            "customer_score": care[0] if care else None, "customer_care_index": care[1] if care else None,
            "nps": nps, "followup_id": followup_id, "followup_state": followup_state,
            "recovery_score": recovery_score,
        })
    return pairs


def calibration_of(pairs):
    """TriadFigures over the pairs with both a guess and a customer score."""
    return triad_figures(
        (pair["guess"], pair["customer_score"]) for pair in pairs
        if pair["guess"] is not None and pair["customer_score"] is not None
    )
