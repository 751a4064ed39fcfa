"""`Idempotency-Key`: a client that retries a call (after a timeout, say) must not make a second
invitation. The key is stored with a fingerprint of the request in the same transaction as the
invitation; UNIQUE (user, key) settles two simultaneous retries, so there is never a second one."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from perception.core.extensions import db
from perception.core.models import IdempotencyKey
from perception.invitations.service import hold_invitations, invite


class KeyReused(Exception):
    """The key was used before for a different request."""


def _earlier(user, key, fingerprint):
    record = db.session.execute(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    ).scalar_one_or_none()
    if record is not None and record.request_hash != fingerprint:
        raise KeyReused(key)
    return record


def invite_once(invitation_request, user, key, fingerprint, channel):
    """(invitation, created). Without a key, always creates. Raises KeyReused, InvitationError."""
    if key is None:
        return invite(invitation_request, created_by=user, channel=channel)[0], True
    hold_invitations(invitation_request.survey)  # before the key's lookup: a retry arriving while the
    record = _earlier(user, key, fingerprint)    # first call is written then finds its key, not its email
    if record is not None:
        return record.invitation, False
    invitation, _token = invite(invitation_request, created_by=user, channel=channel, commit=False)
    db.session.add(IdempotencyKey(user_id=user.id, key=key, request_hash=fingerprint, invitation=invitation))
    try:
        db.session.commit()
    except IntegrityError:
        # The same key arrived twice at once and the other call won: answer with its invitation.
        db.session.rollback()
        record = _earlier(user, key, fingerprint)
        if record is None:
            raise
        return record.invitation, False
    return invitation, True
