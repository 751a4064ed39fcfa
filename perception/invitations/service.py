"""Creating invitations: one customer, one survey, one secret link.

How the link survives until the mail is sent (and the reminder after it): the token is never
stored. Each invitation stores a random nonce (192 bits from `secrets`) and the SHA-256 of the
token; the token is HMAC-SHA256(link key, nonce), where the link key is derived from SECRET_KEY.
So the outbox worker can rebuild the very same link for the first mail and for every reminder
without the database ever holding it, and a copy of the database alone cannot produce a
working link. Whoever holds SECRET_KEY could rebuild links, but SECRET_KEY already signs the
session that carries the invitation after `/s/<token>`, so it grants nothing new. The
alternatives were worse: a token generated at send time would give the reminder a different
link and kill the first mail's; a raw token kept in the outbox would sit in the database until
the last reminder. Rotating SECRET_KEY invalidates the rebuilt links of invitations not yet
mailed: the worker then issues a fresh token (see `mail_link`).
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import delete, text, update

from perception.accounts.queries import find_user_by_email
from perception.accounts.scope import in_scope, whole_business
from perception.core.database import take_sqlite_write_lock
from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import Invitation, MailSuppression, OutboxMessage, User, utcnow
from perception.core.outbox import insert_ignoring_duplicates
from perception.core.suppression import is_suppressed
from perception.core.tokens import derive_token, email_hashes, hash_token, new_nonce, normalise_email
from perception.invitations.queries import existing_invitation
from perception.web.i18n import LANGUAGES, supported
from perception.web.mail import one_line

LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}")


# A till's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=10)


# A date typed without a time may already be today east of UTC (as far as UTC+14).
FARTHEST_ZONE_AHEAD = timedelta(hours=14)


# Channels recorded on invitations (and passed to their responses): how the link reached the customer.
CHANNEL_EMAIL, CHANNEL_API, CHANNEL_LINK = "email", "api", "link"


class InvitationError(FieldError):
    """An invitation cannot be made; `field` names the input at fault. `conflict` is true when the
    input is fine but clashes with what exists (the customer was already invited)."""

    def __init__(self, message, field, conflict=False):
        super().__init__(message, field)
        self.conflict = conflict


def create_invitation(survey, team, email=None, name=None, staff=None, interaction_at=None, now=None, *,
                      channel=CHANNEL_LINK, language=None, created_by=None):
    """Return (invitation, token). Only the token's hash (and the nonce it derives from) is stored."""
    now = now or utcnow()
    nonce = new_nonce()
    token = derive_token(nonce)
    invitation = Invitation(
        survey=survey,
        team=team,
        staff=staff,
        customer_email=normalise_email(email),
        # One line without control characters, whatever sent it (API, upload, form): it goes into mails.
        customer_name=one_line(name) or None,
        token_hash=hash_token(token),
        token_nonce=nonce,
        interaction_at=interaction_at,
        created_at=now,
        expires_at=now + timedelta(days=current_app.config["INVITATION_TTL_DAYS"]),
        channel=channel,
        language=language or None,
        created_by_id=created_by.id if created_by is not None else None,
    )
    db.session.add(invitation)
    return invitation, token


def check_email(email, field="email"):
    """The normalised address, or InvitationError naming `field`."""
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvitationError(f"{email!r} is not a valid email address: {error}", field) from None
    return result.normalized.lower()


def check_language(language, field="language"):
    """A tag whose language the mails and customer pages exist in (en, de; a region such as de-AT is kept)."""
    language = (language or "").strip()
    if language and (not LANGUAGE_RE.fullmatch(language) or supported(language) is None):
        raise InvitationError(
            f"language must be a language tag we have the survey in ({' or '.join(LANGUAGES)}, e.g. de or de-AT), "
            f"got {language!r}", field)
    return language or None


def check_interaction_at(value, now=None, field="interaction_at"):
    now = now or utcnow()
    if value is not None and value > now + CLOCK_SKEW:
        raise InvitationError("the interaction cannot be in the future", field)
    return value


def visit_on(day, now=None, field="interaction_at"):
    """The moment recorded for a visit known only by its date: midday UTC, so the date reads the
    same everywhere, but never later than now. A visit this morning (or today in a zone ahead of
    UTC) is not in the future; a date after today everywhere on Earth is."""
    now = now or utcnow()
    if day > (now + FARTHEST_ZONE_AHEAD).date():
        raise InvitationError("the interaction cannot be in the future", field)
    return min(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), now)


@dataclass
class InvitationRequest:
    """What a leader's form, a CSV row or an API call asks for. `deliver` is "email" or "none"."""

    survey: object
    team: object
    email: str | None = None
    name: str | None = None
    staff: User | None = None
    interaction_at: datetime | None = None
    language: str | None = None
    deliver: str = "email"


def check_scope(user, team, field="team"):
    """A team's leader invites (and makes open links) for their own team only (accounts.scope)."""
    refusal = scope_refusal(user, team, team.name)
    if refusal:
        raise InvitationError(refusal, field)


def scope_refusal(user, team, name):
    """Why `user` may not invite for the team named `name` (`team`, or None when no team has that name),
    or None. To a team's leader an unknown name and another team read the same (no oracle of names,
    as the API's)."""
    if user is not None and not whole_business(user) and (team is None or not in_scope(user, team.id)):
        own = user.team.name if user.team else "none"
        return f"you invite for your own team ({own}) only, not for {name}"
    return None


# The key of the lock on a survey's invitations (PostgreSQL's one-bigint advisory locks, a key space apart
# from the two-int locks of publication groups): "Inv" above the survey id.
INVITATIONS_LOCK = 0x496E76 << 32


def hold_invitations(survey):
    """Make this transaction the only one adding invitations to `survey` until it ends, so that "already
    invited" and the insert are one step: read apart, two calls for one customer (two API posts, a CSV
    upload sent twice) both found none and both invited, mail and all (a race hunt). PostgreSQL: an
    advisory lock per survey; SQLite: the database's one write lock, taken now (its driver begins a
    transaction only at the first write)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INVITATIONS_LOCK + survey.id})
    take_sqlite_write_lock(connection)


def check_request(request, now=None, created_by=None):
    """Raise InvitationError for the first problem of `request` (survey, team, scope, email rules)."""
    survey = request.survey
    if not survey.is_accepting(now):
        raise InvitationError(f"survey {survey.slug} is not open for answers", "survey")
    if not survey.covers_team(request.team.id):
        raise InvitationError(f"survey {survey.slug} does not cover team {request.team.name}", "team")
    check_scope(created_by, request.team)
    if request.deliver == "email" and not request.email:
        raise InvitationError("an email address is needed to deliver by email", "email")
    if request.email:
        if request.deliver == "email" and is_suppressed(request.email):
            raise InvitationError(f"{request.email} asked for no more survey emails (unsubscribed or bounced)", "email")
        earlier = existing_invitation(survey, request.email)
        if earlier is not None:
            refusal = already_invited(request.email, survey, earlier.created_at, earlier.team_id, created_by)
            raise InvitationError(refusal, "email", conflict=True)
    check_interaction_at(request.interaction_at, now)


def already_invited(email, survey, invited_at, team_id, created_by):
    """The refusal of a second invitation of `email` to `survey`. The day of the first is given only to
    someone who may see its team (DESIGN section 2, "Scope"): to a team's leader, that another team's
    customer was invited on a given day is another team's data."""
    if created_by is None or in_scope(created_by, team_id):
        return f"{email} was already invited to {survey.slug} on {invited_at:%Y-%m-%d}"
    return f"{email} was already invited to {survey.slug}"


def invite(request, *, created_by=None, channel=None, now=None, commit=True):
    """Check and create one invitation; queue its mail when it is delivered by email.
    A link handed to the caller (`deliver="none"`) counts as sent at once. Returns (invitation, token)."""
    now = now or utcnow()
    hold_invitations(request.survey)
    check_request(request, now, created_by)
    return add_invitation(request, created_by=created_by, channel=channel, now=now, commit=commit)


def add_invitation(request, *, created_by=None, channel=None, now=None, commit=True):
    """Create a checked request's invitation (and queue its mail)."""
    now = now or utcnow()
    if channel is None:
        channel = CHANNEL_EMAIL if request.deliver == "email" else CHANNEL_LINK
    invitation, token = create_invitation(
        request.survey, request.team, email=request.email, name=request.name, staff=request.staff,
        interaction_at=request.interaction_at or now, now=now, channel=channel, language=request.language,
        created_by=created_by,
    )
    if request.deliver == "email":
        db.session.add(OutboxMessage(invitation=invitation, kind="invitation", sequence=0, next_attempt_at=now,
                                     created_at=now))
    else:
        invitation.state, invitation.sent_at = "sent", now
    if commit:
        db.session.commit()
    return invitation, token


def suppress(email, reason, now=None):
    """Put the address on the suppression list under its keyed hash; a row of the address from
    before (a plain SHA-256) is replaced by it."""
    if email:
        keyed, legacy = email_hashes(email)
        insert_ignoring_duplicates(MailSuppression, email_hash=keyed, reason=reason, created_at=now or utcnow())
        db.session.execute(delete(MailSuppression).where(MailSuppression.email_hash == legacy))


def cancel_pending_mail(invitation_id):
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.invitation_id == invitation_id, OutboxMessage.status == "pending")
        .values(status="cancelled")
    )


def unsubscribe(invitation, now=None):
    """No more mail for this address, from this survey or any other. An answered invitation keeps
    its state (the answer counts) but is marked unsubscribed too."""
    now = now or utcnow()
    if invitation.unsubscribed_at is None:
        invitation.unsubscribed_at = now
    if invitation.state != "answered":
        invitation.state = "unsubscribed"
    cancel_pending_mail(invitation.id)
    suppress(invitation.customer_email, "unsubscribed", now)
    db.session.commit()


def expire_invitations(now=None):
    """Mark the invitations whose link has expired; returns how many."""
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.state.in_(("created", "sent", "opened")), Invitation.expires_at <= (now or utcnow()))
        .values(state="expired")
    )
    db.session.commit()
    return result.rowcount


def find_staff_member(email, team, field="staff_email", created_by=None):
    user = find_user_by_email(email)
    problem = staff_problem(email, user, team, created_by)
    if problem:
        raise InvitationError(problem, field)
    return user


def staff_problem(email, user, team, created_by=None):
    """Why `user` (the account of `email`, or None) cannot be named as the staff member who served a
    customer of `team`; None when they can. To a team's leader an unknown address and another team's
    staff member read the same: who works in other teams is those teams' data (DESIGN section 2,
    "Scope"); whoever sees the whole business is told which it is."""
    if user is not None and user.role == "staff" and user.active and user.team_id == team.id:
        return None
    if created_by is not None and not whole_business(created_by):
        return f"there is no active staff member of {team.name} with the email {email!r}"
    if user is None or user.role != "staff" or not user.active:
        return f"there is no active staff member with the email {email!r}"
    return f"staff member {user.email} is not in team {team.name}"
