"""Staff guesses: the staff member an invitation names as the one who served its customer is asked
how that customer felt.

A staff member is asked once per such interaction, on their own pages, how they think the
customer felt (1-5, or "I don't remember"); the UNIQUE constraint on staff_guesses.invitation_id
makes "once" hold under double clicks. They are asked whether or not the customer has answered,
and never shown the answer: the guess stays blind.

A guess is its author's own answer (DESIGN section 2, "Own answers stay own"): only their mirror
shows it, as a count and a mean (perception.mirror.queries.own_guesses). Nothing pairs a guess
with its customer's answer: such a pair would put one customer's score beside a named staff member.
"""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from perception.core.database import holds_id
from perception.core.extensions import db
from perception.core.models import Invitation, StaffGuess, utcnow

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
