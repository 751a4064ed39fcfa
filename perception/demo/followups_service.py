"""The closed loop in the demo (called by perception.demo.seed_demo): follow-ups for the low
customer responses of the last four weeks, some contacted in time, some late, some overdue,
some resolved with a re-survey answered; consent (with a phone number) on part of them; staff
guesses for recent interactions. Everything is derived from the demo's own random generator,
so a seed gives the same demo every time."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from perception.core.extensions import db
from perception.core.models import (
    Answer,
    FollowUp,
    FollowUpEvent,
    Invitation,
    Item,
    RecoveryRequest,
    Response,
    StaffGuess,
    User,
)
from perception.core.tokens import derive_token, hash_token, new_nonce
from perception.followups.queries import RECOVERY_PURPOSE, due_time
from perception.followups.recovery_service import worst_item
from perception.followups.service import alert_reasons
from perception.followups.triads_service import ASK_WITHIN_DAYS

WINDOW = timedelta(days=28)
NOTES = [
    "Apologised and listened; they mostly wanted someone to hear them out.",
    "Explained the fee properly this time and refunded the difference.",
    "Booked a meeting with the branch manager.",
    "Promised a call-back from the specialist team and checked it happened.",
]


def _leaders_by_team():
    leaders = {}
    for user in db.session.execute(select(User).where(User.role == "leader").order_by(User.id)).scalars():
        leaders.setdefault(user.team_id, user)
    return leaders


def _clamp(value, low, high):
    return max(low, min(high, round(value)))


def _follow_up(rng, response, reasons, assignee, now):
    opened = response.submitted_at
    due = due_time(opened, response.contact_consent, timedelta(hours=48))
    followup = FollowUp(response=response, team_id=response.team_id, assignee=assignee, reasons=reasons,
                        opened_at=opened, due_at=due, notified_at=opened, notify_attempts=0, state="open")
    followup.events.append(FollowUpEvent(at=opened, kind="opened", to_state="open", assignee=assignee))
    if now - opened < timedelta(hours=20) or rng.random() < 0.2:
        return followup  # still open: the newest ones, and some overdue
    contact_at = opened + timedelta(hours=rng.choice([2, 5, 20, 30, 60, 75]))
    if contact_at > now:
        return followup
    channel = rng.choice(["phone", "phone", "phone", "meeting", "email"])
    followup.events.append(FollowUpEvent(at=contact_at, kind="contact", actor=assignee, channel=channel,
                                         outcome="reached" if channel != "email" else "sent",
                                         note=rng.choice(NOTES)))
    followup.events.append(FollowUpEvent(at=contact_at, kind="state", actor=assignee, from_state="open",
                                         to_state="contacted"))
    followup.first_contact_at, followup.state = contact_at, "contacted"
    resolved_at = contact_at + timedelta(hours=rng.randint(4, 72))
    if resolved_at < now and rng.random() < 0.7:
        followup.events.append(FollowUpEvent(at=resolved_at, kind="state", actor=assignee, from_state="contacted",
                                             to_state="resolved", note="Customer satisfied with the outcome."))
        followup.state, followup.resolved_at = "resolved", resolved_at
    return followup


def _recovery(rng, followup, now):
    item = worst_item(followup.response)
    sent = followup.resolved_at + timedelta(hours=2)
    if item is None or sent > now:
        return
    nonce = new_nonce()
    before = min(answer.score for answer in followup.response.answers)
    recovery = RecoveryRequest(follow_up=followup, item_id=item.id, token_nonce=nonce,
                               token_hash=hash_token(derive_token(nonce, RECOVERY_PURPOSE)), state="sent",
                               created_at=sent,
                               sent_at=sent, expires_at=sent + timedelta(days=14))
    followup.events.append(FollowUpEvent(at=sent, kind="recovery_sent", actor=followup.assignee))
    answered = sent + timedelta(hours=rng.randint(3, 40))
    if answered < now and rng.random() < 0.75:
        recovery.state, recovery.answered_at = "answered", answered
        recovery.score = _clamp(before + rng.choice([0, 1, 2, 2, 3]), 1, 5)
        recovery.nps = _clamp(rng.gauss(7, 2), 0, 10)
        followup.events.append(FollowUpEvent(at=answered, kind="recovery_answered"))
    db.session.add(recovery)


def add_closed_loop(rng, now):
    db.session.flush()
    leaders = _leaders_by_team()
    responses = db.session.execute(
        select(Response).where(Response.perspective == "customer", Response.submitted_at >= now - WINDOW)
        .options(selectinload(Response.answers).selectinload(Answer.item).selectinload(Item.dimension))
        .order_by(Response.submitted_at, Response.id)
    ).scalars()
    for response in responses:
        scores = {answer.item_id: answer.score for answer in response.answers}
        reasons = alert_reasons([answer.item for answer in response.answers], scores, response.nps)
        if rng.random() < 0.55:
            response.contact_consent = response.answered_with_consent = True
            response.contact_phone = f"+44 7700 9{rng.randint(0, 99999):05d}" if rng.random() < 0.6 else None
        if not reasons:
            continue
        followup = _follow_up(rng, response, reasons, leaders.get(response.team_id), now)
        db.session.add(followup)
        if followup.state == "resolved" and response.contact_consent:
            _recovery(rng, followup, now)
    _staff_guesses(rng, now)


def _staff_guesses(rng, now):
    invitations = db.session.execute(
        select(Invitation).where(Invitation.staff_id.is_not(None),
                                 Invitation.interaction_at >= now - timedelta(days=ASK_WITHIN_DAYS))
        .order_by(Invitation.id)
    ).scalars().all()
    scores = {}
    for invitation_id, score in db.session.execute(
        select(Response.invitation_id, Answer.score).join(Answer, Answer.response_id == Response.id)
        .where(Response.invitation_id.in_([invitation.id for invitation in invitations]))
    ):
        scores.setdefault(invitation_id, []).append(score)
    for invitation in invitations:
        if rng.random() < 0.4:
            continue  # left for the staff member to answer in the demo
        answered = scores.get(invitation.id)
        felt = sum(answered) / len(answered) if answered else 3.5
        guess = None if rng.random() < 0.05 else _clamp(felt + 0.7 + rng.gauss(0, 0.6), 1, 5)
        asked = min(now, (invitation.interaction_at or invitation.created_at) + timedelta(hours=3))
        db.session.add(StaffGuess(invitation_id=invitation.id, staff_id=invitation.staff_id, score=guess,
                                  created_at=asked))
