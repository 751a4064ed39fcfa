"""The digest email (issue #16): each leader and admin gets, for their scope (perception.accounts.scope),
the largest significant gap of the latest wave, the largest change since the previous wave (the trend
of perception.reports.trend_queries), new and overdue follow-ups and the response rate, with links.

How often is a per-user setting (`users.digest_frequency`): weekly (the default), daily or off.
`queue_due_digests(now)` (called by the worker) queues one outbox row of kind "digest" per user and
period; the row's `sequence` is the period key (ISO year and week as YYYYWW for weekly, YYYYMMDD for
daily), and the outbox's UNIQUE (user_id, kind, sequence) makes that exactly once per user and
period, however many workers queue at the same time. The mail is written when it is sent
(perception.followups.digest_mail), from the figures of that moment.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from perception.accounts.scope import own_team
from perception.core.extensions import db
from perception.core.models import DIGEST_FREQUENCIES, FollowUp, OutboxMessage, User, start_of_utc_day
from perception.core.outbox import insert_ignoring_duplicates
from perception.followups.queries import overdue_count, visible_condition
from perception.insights import benjamini_hochberg
from perception.reports.trend_queries import trend_report
from perception.reports.trend_sentence import SIGNIFICANCE, change_sentence, largest_change

DIGEST_ROLES = ("leader", "admin")
PERIOD_LENGTH = {"weekly": timedelta(days=7), "daily": timedelta(days=1)}


def period_key(frequency, now):
    """The period `now` falls in: YYYYWW (ISO week) for weekly, YYYYMMDD for daily; None for off."""
    if frequency == "weekly":
        year, week, _day = now.isocalendar()
        return year * 100 + week
    if frequency == "daily":
        return now.year * 10000 + now.month * 100 + now.day
    return None


def set_digest_frequency(user, frequency):
    """Change how often `user` gets the digest (the caller's form checked the choice); commits."""
    if frequency not in DIGEST_FREQUENCIES:
        raise ValueError(f"digest frequency must be one of {', '.join(DIGEST_FREQUENCIES)}")
    user.digest_frequency = frequency
    db.session.commit()


def queue_due_digests(now):
    """Queue the digest of every active leader and admin whose current period has none yet; returns
    how many were queued. Safe in several processes at once: the INSERT does nothing when the row of
    that user and period exists (UNIQUE (user_id, kind, sequence))."""
    users = db.session.execute(
        select(User.id, User.digest_frequency)
        .where(User.active.is_(True), User.role.in_(DIGEST_ROLES), User.digest_frequency != "off")
        .order_by(User.id)
    ).all()
    queued = 0
    for user_id, frequency in users:
        queued += insert_ignoring_duplicates(
            OutboxMessage, user_id=user_id, kind="digest", sequence=period_key(frequency, now),
            status="pending", attempts=0, next_attempt_at=now, created_at=now,
        )
    db.session.commit()
    return queued


@dataclass
class Digest:
    """What one leader's digest says (plain figures and sentences; the mail words and links them)."""

    scope: str
    latest: dict | None = None
    gap_sentence: str | None = None
    change_sentence: str | None = None
    trend_sentence: str = ""
    new_followups: int = 0
    overdue_followups: int = 0
    since: datetime | None = None
    new_until: datetime | None = None  # the last day new_followups counts (new_followup_count)
    links: dict = field(default_factory=dict)


def _lower_first(name):
    return name if len(name) > 1 and name[1].isupper() else name[:1].lower() + name[1:]


def largest_gap_sentence(wave):
    """The largest staff or leader gap of `wave` whose p-value, adjusted over the wave's gaps
    (Benjamini-Hochberg), is below 0.05; None when none is."""
    tests = [(who, cell, cell[key]) for cell in wave["dimensions"]
             for who, key in (("Staff", "gap"), ("Leaders", "leader_gap"))]
    adjusted = benjamini_hochberg([gap["p"] for _who, _cell, gap in tests])
    significant = [(who, cell, gap, p) for (who, cell, gap), p in zip(tests, adjusted, strict=True)
                   if p is not None and p < SIGNIFICANCE]
    if not significant:
        return None
    who, cell, gap, p = max(significant, key=lambda entry: abs(entry[2]["value"]))
    direction = "higher" if gap["value"] > 0 else "lower"
    low, high = sorted(abs(bound) for bound in gap["ci"])
    return (f"{who} rate {_lower_first(cell['name'])} {abs(gap['value']):.1f} points {direction} than customers "
            f"do in {wave['survey']} (95% CI {low:.1f}–{high:.1f}, adjusted p = {p:.3f}).")


def new_followup_count(user, since, until):
    """The follow-ups `user` sees that opened on the UTC days from `since`'s to the one before `until`'s
    (the digest's queueing time). Whole days: a bound at the digest's hour would tell whether a follow-up,
    and so its customer's answer, came before or after that hour (DESIGN section 2, "No consent, no
    link"); one digest's days end where the next one's begin, however late either is sent, so each
    follow-up is counted once."""
    return db.session.execute(
        select(func.count()).select_from(FollowUp).where(
            visible_condition(user), FollowUp.opened_at >= start_of_utc_day(since),
            FollowUp.opened_at < start_of_utc_day(until))
    ).scalar_one()


def build_digest(user, since, now, until=None):
    """The digest of `user` for the period from `since` to `until` (when it was queued; default `now`),
    within their scope, with the figures of `now`."""
    until = until or now
    base = current_app.config["BASE_URL"]
    team = own_team(user)
    document = trend_report(user=user)
    latest = document["waves"][-1] if document["waves"] else None
    found = largest_change(document)
    digest = Digest(
        scope=team.name if team is not None else "the whole business",
        latest=latest,
        gap_sentence=largest_gap_sentence(latest) if latest else None,
        change_sentence=change_sentence(found) if found else None,
        trend_sentence=document["sentence"],
        new_followups=new_followup_count(user, since, until),
        overdue_followups=overdue_count(user, now),
        since=since,
        new_until=start_of_utc_day(until) - timedelta(days=1),
        links={"trend": f"{base}/leaders/trend", "followups": f"{base}/leaders/followups/?view=overdue",
               "settings": f"{base}/leaders/digest"},
    )
    if latest is not None:
        digest.links["dashboard"] = f"{base}/leaders/surveys/{latest['survey']}/dashboard"
    return digest


def digest_period_start(message):
    """Where the period of a queued digest starts: one period before it was queued."""
    frequency = message.user.digest_frequency if message.user.digest_frequency in PERIOD_LENGTH else "weekly"
    return message.created_at - PERIOD_LENGTH[frequency]
