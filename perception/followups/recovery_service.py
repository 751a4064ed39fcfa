"""Recovery: after a follow-up is resolved, a customer who allowed contact can be sent a
two-question re-survey, and leaders see whether calling back repaired the relationship.

The two questions: the customer wording of the item the customer scored lowest in the original
response, as their wave asked it (the dimension that hurt most; ties go to survey order), and the
recommendation question (0-10, optional). "Before" is the customer's original score on that item's dimension
(the mean of their answered items in it, DESIGN section 2), "after" is the re-survey's score.

The link follows the invitation rules: a 256-bit token derived from a random nonce with the
server's key (perception.core.tokens.derive_token), only its SHA-256 stored, compared in
constant time, one answer, an expiry (RECOVERY_TTL_DAYS). Re-survey answers are kept apart from
the survey's responses, so the gap figures do not move.

Recovery figures are not suppressed below MIN_N: they cover only customers who allowed contact,
whose answers the same leaders already see one by one on the follow-up pages.
"""

from datetime import timedelta
from fractions import Fraction

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from perception.core.extensions import db
from perception.core.models import FollowUp, FollowUpEvent, OutboxMessage, RecoveryRequest, Team, utcnow
from perception.core.outbox import cancel_pending
from perception.core.smtp import MailConfigError
from perception.core.suppression import is_suppressed
from perception.core.tokens import derive_token, find_by_token, hash_token, new_nonce
from perception.followups.mail import deliver_followup_mail
from perception.followups.queries import RECOVERY_PURPOSE, customer_email, visible_condition
from perception.insights.loop import recovery_figures

RECOVERY_OK, RECOVERY_UNKNOWN, RECOVERY_GONE, RECOVERY_ANSWERED = "ok", "unknown", "gone", "answered"


class RecoveryError(ValueError):
    pass


def recovery_of(followup):
    return db.session.execute(
        select(RecoveryRequest).where(RecoveryRequest.follow_up_id == followup.id)
    ).scalar_one_or_none()


def why_not(followup):
    """Why no re-survey can be sent for this follow-up now, or None when one can."""
    response = followup.response
    if followup.state != "resolved":
        return "A re-survey can be sent once the follow-up is resolved."
    if not response.contact_consent:
        return "The customer did not allow us to contact them, so no re-survey can be sent."
    address = customer_email(response)
    if not address:
        return "We have no email address for this customer."
    if is_suppressed(address):
        # An unsubscribe or a bounce stops every mail to the address, the re-survey too (a review).
        return "This customer's address is on the suppression list (they unsubscribed, or mail to it bounced)."
    recovery = recovery_of(followup)
    if recovery is not None and recovery.state != "created":
        return "The re-survey was already sent."
    return None


def worst_item(response):
    """The item the customer scored lowest (ties: survey order)."""
    answers = sorted(response.answers, key=lambda a: (a.score, a.item.dimension.position, a.item.position, a.item.id))
    return answers[0].item if answers else None


def _commit_or_sent_meanwhile():
    """Commit; a unique index refusing it means another tab or leader sent the re-survey a moment ago
    (the same follow-up's request, or the same mail's sequence): say so instead of a 500 (a race hunt)."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RecoveryError("The re-survey was sent from another page a moment ago: reload this page to see it.") \
            from None


def send_recovery(followup, actor, now=None):
    """Create (once) and mail the re-survey. Raises RecoveryError with a reason to show."""
    now = now or utcnow()
    reason = why_not(followup)
    if reason:
        raise RecoveryError(reason)
    response = followup.response
    recovery = recovery_of(followup)
    if recovery is None:
        item = worst_item(response)
        if item is None:
            raise RecoveryError("The original response has no answers to compare with.")
        nonce = new_nonce()
        recovery = RecoveryRequest(
            follow_up_id=followup.id, item_id=item.id, token_nonce=nonce,
            token_hash=hash_token(derive_token(nonce, RECOVERY_PURPOSE)), state="created", created_at=now,
            created_by_id=actor.id if actor else None,
            expires_at=now + timedelta(days=current_app.config["RECOVERY_TTL_DAYS"]),
        )
        db.session.add(recovery)
        _commit_or_sent_meanwhile()
    # Queued and sent at once, so the leader sees whether it went out; a mail that could not go
    # out is taken back from the queue (no later duplicate) and the leader may try again.
    queued = db.session.execute(select(func.count()).where(OutboxMessage.recovery_id == recovery.id)).scalar_one()
    db.session.add(OutboxMessage(recovery_id=recovery.id, kind="recovery", sequence=queued, status="pending",
                                 attempts=0, next_attempt_at=now, created_at=now))
    _commit_or_sent_meanwhile()
    try:
        report = deliver_followup_mail(now=now, recovery_ids=[recovery.id])
        reason = report.last_error
    except MailConfigError as error:
        report, reason = None, str(error)
    if report is None or report.sent != 1:
        cancel_pending(OutboxMessage.recovery_id == recovery.id, "not sent at once; the leader may try again")
        db.session.commit()
        raise RecoveryError(f"The email could not be sent ({reason or 'it was not accepted'}). "
                            "Please try again later.")
    return recovery


def find_recovery(token):
    return find_by_token(RecoveryRequest, token)


def check_recovery(recovery, now=None):
    if recovery is None:
        return RECOVERY_UNKNOWN
    if recovery.state == "answered":
        return RECOVERY_ANSWERED
    if recovery.state == "expired" or (now or utcnow()) >= recovery.expires_at:
        return RECOVERY_GONE
    return RECOVERY_OK


def record_recovery_answer(recovery, score, nps=None, now=None):
    """Store the answer once; returns False when the link was answered meanwhile."""
    now = now or utcnow()
    stored = db.session.execute(
        update(RecoveryRequest)
        .where(RecoveryRequest.id == recovery.id, RecoveryRequest.state.in_(("created", "sent")))
        .values(state="answered", answered_at=now, score=score, nps=nps)
    ).rowcount
    if stored != 1:
        db.session.rollback()
        return False
    db.session.add(FollowUpEvent(follow_up_id=recovery.follow_up_id, at=now, kind="recovery_answered"))
    db.session.commit()
    return True


def _dimension_score(response, dimension_id):
    scores = [a.score for a in response.answers if a.item.dimension_id == dimension_id]
    return Fraction(sum(scores), len(scores)) if scores else None


def recovery_report(user):
    """{"dimensions": [...], "teams": [...], "recommend": [...]} of RecoveryFigures, over the
    answered re-surveys of the follow-ups `user` sees."""
    rows = db.session.execute(
        select(RecoveryRequest, FollowUp, Team.name)
        .join(FollowUp, FollowUp.id == RecoveryRequest.follow_up_id)
        .outerjoin(Team, Team.id == FollowUp.team_id)
        .where(RecoveryRequest.state == "answered", visible_condition(user))
    ).all()
    by_dimension, by_team, recommend = [], [], []
    for recovery, followup, team_name in rows:
        dimension = recovery.item.dimension
        before = _dimension_score(followup.response, dimension.id)
        if before is None:
            continue
        by_dimension.append((dimension.name, before, recovery.score))
        by_team.append((team_name or "No team", before, recovery.score))
        if followup.response.nps is not None and recovery.nps is not None:
            recommend.append((team_name or "No team", followup.response.nps, recovery.nps))
    return {
        "dimensions": recovery_figures(by_dimension),
        "teams": recovery_figures(by_team),
        "recommend": recovery_figures(recommend),
        "answered": len(rows),
    }
