"""Erasing a customer (`flask --app wsgi erase-customer EMAIL`, and the admin page).

In one transaction:
- their invitations lose the address and the name; links not yet answered stop working
  (expired) and their pending mails are cancelled; idempotency keys pointing at them go;
- their responses (by invitation, or imported with `respondent` = the address) lose the
  respondent text, the phone number and the contact consent; so do the answers given with the
  same phone number (an open link, QR code, asks for nothing else), found by the number's last
  nine digits however it was written; their answers, comments, NPS, team and time stay, so
  every figure stays exactly as it was;
- the webhook deliveries about their answers given with consent that are not sent yet are written
  again as without consent (perception.followups.webhook_service);
- the name, address and phone are blanked out of those responses' comments and of the notes of
  their follow-ups (of an answer given without consent, the address, phone and full name only: a
  changed anonymous row would point at the customer); a re-survey not yet answered stops working and
  its pending mail is cancelled;
- finally every text column of every table (but user accounts, derived report cells and stored
  hashes) is swept for the address, each phone number and each full name of two words or more,
  so a copy in an SMTP error, a note about another customer or a future table goes too; an
  idempotency key holding one of them is deleted (a key must stay unique);
- a suppression-list row of the address from before keyed hashes (plain SHA-256) is replaced by
  its keyed form (HMAC with a key derived from SECRET_KEY): the address stays suppressed, so
  erasure does not bring their mail back, but the list no longer confirms it to anyone holding
  a list of addresses.
An audit line records who, when and how much, and a keyed hash of the address (HMAC with a key
derived from SECRET_KEY), never the address itself.
A user account with the same address is not touched; the result says so.
"""

import getpass
import hashlib
import hmac
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import String, delete, or_, select, update

from perception.core.audit import record as audit
from perception.core.database import take_sqlite_write_lock, text_lower
from perception.core.extensions import db
from perception.core.models import (
    ErasureRecord,
    FollowUp,
    FollowUpEvent,
    IdempotencyKey,
    Invitation,
    MailSuppression,
    OutboxMessage,
    RecoveryRequest,
    Response,
    User,
    WebhookDelivery,
    utcnow,
)
from perception.core.outbox import insert_ignoring_duplicates
from perception.core.tokens import email_hashes, new_token, normalise_email
from perception.followups.queries import due_time
from perception.followups.webhook_service import withdraw_consent

ERASED = "[erased]"
# audit_events: append-only (a trigger refuses UPDATE), and holds no address by construction
# (perception.core.audit.record refuses one).
NOT_SWEPT = {"users", "alembic_version", "erasure_records", "report_cells", "audit_events"}
HASHES = ("_hash", "nonce", "claim_token")  # columns holding hashes or random tokens: never swept
DELETED_ON_MATCH = {"idempotency_keys"}  # a unique key: the row goes rather than being rewritten
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+")
PHONE_DIGITS = 9  # a phone number is recognised by its last nine digits (the national number, mostly)


class ErasureError(ValueError):
    pass


@dataclass
class ErasureResult:
    record_id: int
    invitations: int
    responses: int
    follow_ups: int
    fields_cleared: int
    account_kept: bool

    @property
    def found(self):
        return bool(self.invitations or self.responses or self.fields_cleared)

    def summary(self):
        if not self.found:
            text = "No customer data was found for that address; nothing was erased."
        else:
            text = (f"Erased: {self.invitations} invitation(s) lost their name and address, {self.responses} "
                    f"response(s) given with consent to contact kept without identity, {self.follow_ups} "
                    f"follow-up(s) of those cleaned, {self.fields_cleared} field(s) cleared in all.")
        if self.account_kept:
            text += " A user account has this address; it was left alone (change or delete it separately)."
        return text + f" Audit line #{self.record_id}."


def subject_hash(email):
    key = hmac.new(str(current_app.config["SECRET_KEY"]).encode(), b"perception erasure v1", hashlib.sha256).digest()
    return hmac.new(key, email.encode(), hashlib.sha256).hexdigest()


def _phone_digits(phone):
    """The last PHONE_DIGITS digits of a number (all of them when shorter); None under 6 digits."""
    digits = "".join(char for char in phone or "" if char.isdigit())
    return digits[-PHONE_DIGITS:] if len(digits) >= 6 else None


def _phone_pattern(phone):
    """The number however it is written: its last 9 digits (the national number, mostly) with any
    separators, and whatever prefix of digits, "+" or "(" comes before them (+44 7700..., 07700...)."""
    digits = _phone_digits(phone)
    if digits is None:
        return None
    return r"(?:[+(]?\d[\d\s./()-]*?)?" + r"[\s./()-]*".join(digits) + r"(?!\d)"


def _phone_like(phone):
    """A LIKE pattern every text holding the number matches (its digits in order): a prefilter."""
    return "%" + "%".join(_phone_digits(phone)) + "%"


def _compile(patterns):
    expression = re.compile("|".join(f"(?:{pattern})" for pattern in patterns))

    def scrub(text):
        return expression.sub(ERASED, text) if text else text

    return scrub


def _identity_patterns(email, names, phones):
    """The address, each whole name (any case) and each phone number."""
    patterns = ["(?i:" + re.escape(email) + ")"]
    patterns += [r"(?i:\b" + re.escape(name) + r"\b)" for name in names if len(name) >= 3]
    return patterns + [pattern for pattern in (_phone_pattern(phone) for phone in phones) if pattern]


def _scrubber(email, names, phones):
    """For the customer's own texts (their comments, the notes of their follow-ups): also each part
    of a name (3 letters or more), only as written, capitalised, so "Will" goes but "will" stays."""
    parts = {part for name in names for part in re.split(r"[\s,]+", name) if len(part) >= 3}
    return _compile(_identity_patterns(email, names, phones)
                    + [r"\b" + re.escape(part) + r"\b" for part in sorted(parts, key=len, reverse=True)])


def _full_names(names):
    return [name for name in names if len(name.split()) >= 2]


def _identity_scrubber(email, names, phones):
    """For any text: the address, the phone numbers and the full names of two words or more (a single
    word may be any word). Each of them names the customer by itself, wherever the text is shown."""
    return _compile(_identity_patterns(email, _full_names(names), phones))


def _sweep(email, names, phones):
    """Blank the address, the phone numbers and the full names (`_identity_scrubber`) out of every text
    column of every table (but accounts, report cells and hashes); returns how many fields changed."""
    full_names = _full_names(names)
    scrub = _identity_scrubber(email, names, phones)
    phones = [phone for phone in phones if _phone_digits(phone)]
    changed = 0
    for table in db.metadata.sorted_tables:
        if table.name in NOT_SWEPT or not len(table.primary_key.columns):
            continue
        keys = list(table.primary_key.columns)
        for column in table.columns:
            if not isinstance(column.type, String) or column.primary_key or column.name.endswith(HASHES):
                continue
            for row in db.session.execute(select(*keys, column).where(_mentioning(column, email, phones,
                                                                                  full_names))).all():
                cleaned = scrub(row[-1])
                if cleaned == row[-1]:
                    continue  # a prefilter match only (the digits far apart, a name inside a word)
                condition = [key == value for key, value in zip(keys, row[:-1], strict=True)]
                if table.name in DELETED_ON_MATCH:
                    db.session.execute(delete(table).where(*condition))
                else:
                    db.session.execute(update(table).where(*condition).values({column.name: cleaned}))
                changed += 1
    return changed


def _mentioning(column, email, phones, names=()):
    """A prefilter: `column` holds the address or one of `names` (in any case), or the digits of one of
    `phones` (numbers with digits) in order. The scrubber decides what is really theirs."""
    candidates = [text_lower(column).contains(email, autoescape=True)]
    candidates += [text_lower(column).contains(name.lower(), autoescape=True) for name in names]
    return or_(*candidates, *(column.like(_phone_like(phone)) for phone in phones))


def _scrub_deliveries(email, phones, scrub):
    """The customer's own webhook bodies (those holding their address or phone number: a consenting
    customer's payload carries both beside their name) get the own-text scrubber, so a one-word name
    goes too, which the sweep of every table leaves (a single word may be any word). Returns how many."""
    phones = [phone for phone in phones if _phone_digits(phone)]
    changed = 0
    for delivery in db.session.execute(select(WebhookDelivery).where(
            _mentioning(WebhookDelivery.body, email, phones))).scalars():
        cleaned = scrub(delivery.body)
        if cleaned != delivery.body:
            delivery.body = cleaned
            changed += 1
    return changed


def _same_phone(phones, known_ids):
    """Customer responses given with one of `phones` (however written), beyond `known_ids`."""
    phones = [phone for phone in phones if _phone_digits(phone)]
    if not phones:
        return []
    wanted = {_phone_digits(phone) for phone in phones}
    found = db.session.execute(select(Response).where(
        Response.perspective == "customer", or_(*(Response.contact_phone.like(_phone_like(phone)) for phone in phones)),
    )).scalars()
    return [response for response in found
            if response.id not in known_ids and _phone_digits(response.contact_phone) in wanted]


def _rekey_suppression(email):
    """Replace a plain SHA-256 row of the address on the suppression list by its keyed form."""
    keyed, legacy = email_hashes(email)
    old = db.session.get(MailSuppression, legacy)
    if old is None:
        return 0
    insert_ignoring_duplicates(MailSuppression, email_hash=keyed, reason=old.reason, created_at=old.created_at)
    db.session.execute(delete(MailSuppression).where(MailSuppression.email_hash == legacy))
    return 1


def erase_customer(email, actor, now=None, user=None):
    """Erase the customer with `email`; `actor` says who asked (for the erasure record), `user` is
    the acting account (None on the command line) for the audit log."""
    email = normalise_email(email)
    if not email or not EMAIL_RE.fullmatch(email):
        raise ErasureError(f"{email!r} is not an email address")
    now = now or utcnow()
    # Their invitations locked first (SQLite: the write lock), then their answers read: a submit through
    # one of their links either committed before (its answer is erased here) or waits and then finds its
    # link replaced (responses.service refuses it). Read unlocked, an answer committed in between kept
    # its phone and consent (a race hunt).
    take_sqlite_write_lock(db.session.connection())
    invitations = list(db.session.execute(
        select(Invitation).where(text_lower(Invitation.customer_email) == email).order_by(Invitation.id)
        .with_for_update()  # in id order, as the mail worker's group writes them
    ).scalars())
    invitation_ids = [invitation.id for invitation in invitations]
    responses = list(db.session.execute(
        select(Response).where(Response.perspective == "customer", or_(
            Response.invitation_id.in_(invitation_ids), text_lower(Response.respondent) == email
        ))
    ).scalars())
    phones = {response.contact_phone for response in responses if response.contact_phone}
    # Answers given with the same phone (an open link asks for nothing else) are theirs too.
    responses += _same_phone(phones, {response.id for response in responses})
    phones |= {response.contact_phone for response in responses if response.contact_phone}
    names = {invitation.customer_name.strip() for invitation in invitations if invitation.customer_name}
    consented = {response.id for response in responses if response.contact_consent}
    # The texts of answers given with consent (shown by name while it stood) lose every part of the
    # name too. Those of answers given without it lose only what named the customer already, wherever
    # the text is shown: blanking "Will" out of "Will definitely come back" would change one anonymous
    # row of the exports, and the admin who erased the customer would know it for theirs (an attacker's
    # read). For the same reason the result counts the answers given with consent only (an answer
    # counted without it said they had answered, which no page says person by person), their follow-ups
    # only (one means a low answer), and the fields of those only.
    scrub = _scrubber(email, names, phones)
    scrub_anonymous = _identity_scrubber(email, names, phones)
    cleared = 0
    for invitation in invitations:
        cleared += (invitation.customer_email is not None) + (invitation.customer_name is not None)
        invitation.customer_email = invitation.customer_name = None
        # Every link of theirs stops working alike, answered or not: a new hash no token leads to. Moving
        # the unanswered ones to "expired" (state and expiry, as before) told whoever read the invitation
        # afterwards, or the team's funnel, that this customer had not answered (an attacker's read).
        invitation.token_hash, invitation.token_nonce = new_token()[1], None
    if invitation_ids:
        db.session.execute(update(OutboxMessage).where(
            OutboxMessage.invitation_id.in_(invitation_ids), OutboxMessage.status.in_(("pending", "sending"))
        ).values(status="cancelled", claim_token=None))
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.invitation_id.in_(invitation_ids)))
    for response in responses:
        cleared += (response.respondent is not None) + (response.contact_phone is not None)
        response.respondent = response.contact_phone = None
        response.contact_consent = False
        scrubbed = (scrub if response.id in consented else scrub_anonymous)(response.comment)
        if scrubbed != response.comment:
            response.comment = scrubbed
            cleared += 1
    followups = list(db.session.execute(
        select(FollowUp).where(FollowUp.response_id.in_([response.id for response in responses]))
    ).scalars()) if responses else []
    followup_ids = [followup.id for followup in followups]
    consented_followups = {followup.id for followup in followups if followup.response_id in consented}
    for followup in followups:
        if followup.id in consented_followups:
            # Without consent from now on, its clock starts at the end of the day it opened
            # (queries.clock_start): a due time measured from the minute would give that minute away.
            followup.due_at = due_time(followup.opened_at, False, followup.due_at - followup.opened_at)
    if followup_ids:
        for event in db.session.execute(select(FollowUpEvent).where(FollowUpEvent.follow_up_id.in_(followup_ids))
                                        ).scalars():
            consented_note = event.follow_up_id in consented_followups
            scrubbed = (scrub if consented_note else scrub_anonymous)(event.note)
            if scrubbed != event.note:
                event.note = scrubbed
                cleared += consented_note  # one more field would say a follow-up existed: a low answer
        recoveries = select(RecoveryRequest.id).where(RecoveryRequest.follow_up_id.in_(followup_ids))
        db.session.execute(update(OutboxMessage).where(
            OutboxMessage.recovery_id.in_(recoveries), OutboxMessage.status.in_(("pending", "sending"))
        ).values(status="cancelled", claim_token=None))
        db.session.execute(update(RecoveryRequest).where(
            RecoveryRequest.follow_up_id.in_(followup_ids), RecoveryRequest.state.in_(("created", "sent"))
        ).values(state="expired"))
    # Their webhook bodies not sent yet: as without consent (times of the day, no staff, no identity).
    cleared += withdraw_consent([response for response in responses if response.id in consented],
                                [followup for followup in followups if followup.id in consented_followups], now)
    cleared += _scrub_deliveries(email, phones, scrub)
    db.session.flush()
    cleared += _sweep(email, names, phones) + _rekey_suppression(email)
    account = db.session.execute(select(User.id).where(text_lower(User.email) == email)).first() is not None
    record = ErasureRecord(
        erased_at=now, actor=str(actor)[:300], subject_hash=subject_hash(email), invitations=len(invitations),
        responses=len(consented), follow_ups=len(consented_followups), fields_cleared=cleared,
    )
    db.session.add(record)
    db.session.flush()
    audit("customer.erased", actor=user, target=record, subject_hash=record.subject_hash,
          invitations=record.invitations, responses=record.responses, follow_ups=record.follow_ups,
          fields_cleared=cleared)
    db.session.commit()
    return ErasureResult(record.id, len(invitations), record.responses, record.follow_ups, cleared, account)


def command_line_actor():
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"command line (system user {who})"


def recent_erasures(limit=20):
    return list(db.session.execute(
        select(ErasureRecord).order_by(ErasureRecord.erased_at.desc(), ErasureRecord.id.desc()).limit(limit)
    ).scalars())
