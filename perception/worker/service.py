"""One worker for every periodic job (`flask --app wsgi worker`, DESIGN section 3).

A tick runs each job of JOBS that is due, in order. Several workers, on several machines, may run at
once; the database shares the work out:
- jobs that run every tick claim their rows (the mail outbox and the webhook outbox: `FOR UPDATE
  SKIP LOCKED` on PostgreSQL, a claim UPDATE on SQLite), so each mail or delivery goes to one worker;
- a job with a period runs only when its `worker_runs` row's UPDATE succeeds (`ran_at` older than
  the period): one worker per period between them all. Its work is idempotent besides (overdue
  follow-ups are taken by one UPDATE ... RETURNING; reminders have UNIQUE keys).
A failing job does not stop the others: its transaction is rolled back and the tick reports it.
Nothing a tick reports names a person: only job names and counts."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update

from perception.accounts.mail import deliver_account_mail
from perception.core.extensions import db
from perception.core.models import WorkerRun, utcnow
from perception.core.outbox import insert_ignoring_duplicates
from perception.core.webhooks_outbox import iso
from perception.followups.digest_mail import deliver_digests
from perception.followups.digest_service import queue_due_digests
from perception.followups.handover_service import hand_over_stranded
from perception.followups.mail import deliver_followup_mail
from perception.followups.service import announce_overdue
from perception.invitations.mail import deliver_due
from perception.webhooks.delivery_service import deliver_due_webhooks


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta  # zero: every tick (the job claims its own rows)
    # Does the work, reading the time from the clock it is given; returns counts {label: number}. A job
    # that claims rows batch after batch reads the clock at each claim: a claim stamped with the tick's
    # start would look stale to other workers (STALE_CLAIM) while this one is still sending it.
    run: Callable[[Callable[[], datetime]], dict]


def invitation_mail(clock):
    """Invitations and reminders: expires old links, queues due reminders, sends (perception.invitations.mail)."""
    report = deliver_due(clock=clock)
    return {"sent": report.sent, "retry later": report.retried, "bounced": report.bounced,
            "failed": report.failed, "cancelled": report.cancelled, "reminders queued": report.reminders_queued,
            "expired": report.expired, "errors": len(report.errors)}


def followup_mail(clock):
    """Follow-up alerts to their assignees and re-survey links (perception.followups.mail); one claim."""
    return deliver_followup_mail(now=clock()).counts()


def account_mail(clock):
    """Set-password and reset links (perception.accounts.mail); one claim."""
    return deliver_account_mail(now=clock()).counts()


def queue_digests(clock):
    return {"queued": queue_due_digests(clock())}


def digest_mail(clock):
    """Leaders' digests (perception.followups.digest_mail), written when sent; one claim."""
    return deliver_digests(now=clock()).counts()


def stranded_followups(clock):
    """Follow-ups whose assignee may no longer see them, handed over (perception.followups.handover_service)."""
    return {"handed over": hand_over_stranded(clock())}


def overdue_followups(clock):
    return {"announced": announce_overdue(clock())}


def webhooks(clock):
    """Webhook deliveries (perception.webhooks.delivery_service): claims batch after batch, signs each at its send."""
    report = deliver_due_webhooks(clock=clock)
    return {"delivered": report.delivered, "retry later": report.retry, "failed": report.failed}


# In order: what queues mail or events first, then what sends them, so one tick does both.
JOBS = (
    Job("overdue follow-ups", timedelta(minutes=1), overdue_followups),
    # Before the follow-up mail: a follow-up handed over is alerted to its new assignee in the same tick.
    Job("stranded follow-ups", timedelta(minutes=1), stranded_followups),
    # Digests are queued at most once per user and period (UNIQUE key); the mail job below sends them.
    Job("digests", timedelta(minutes=15), queue_digests),
    Job("invitations", timedelta(0), invitation_mail),
    Job("follow-up mail", timedelta(0), followup_mail),
    Job("account mail", timedelta(0), account_mail),
    Job("digest mail", timedelta(0), digest_mail),
    Job("webhooks", timedelta(0), webhooks),
)


@dataclass
class Outcome:
    job: str
    counts: dict | None = None  # None: not due
    error: str | None = None  # the exception's class: the health line carries no message (it could name someone)
    detail: str | None = None  # its message, for the operator's error output only

    def summary(self):
        if self.error is not None:
            return f"{self.job}: error ({self.error})"
        if self.counts is None:
            return f"{self.job}: not due"
        return f"{self.job}: " + ", ".join(f"{label} {number}" for label, number in self.counts.items())


def take_turn(job, now):
    """Whether this worker runs `job` now: always for a job of every tick; for a periodic one, when
    no worker started it within its period (the UPDATE decides between concurrent workers)."""
    if not job.every:
        return True
    insert_ignoring_duplicates(WorkerRun, job=job.name, ran_at=None)
    taken = db.session.execute(
        update(WorkerRun)
        .where(WorkerRun.job == job.name, or_(WorkerRun.ran_at.is_(None), WorkerRun.ran_at <= now - job.every))
        .values(ran_at=now)
    ).rowcount
    db.session.commit()
    return taken == 1


def run_tick(now=None, jobs=JOBS):
    """Run every due job once; returns an Outcome per job, in order. `now` fixes the time for the
    whole tick (tests step through periods with it); otherwise every job reads the real clock."""
    clock = utcnow if now is None else (lambda: now)
    outcomes = []
    for job in jobs:
        try:
            outcomes.append(Outcome(job.name, job.run(clock) if take_turn(job, clock()) else None))
        except Exception as error:  # one job's failure must not stop the others (reported, not hidden)
            db.session.rollback()
            outcomes.append(Outcome(job.name, error=type(error).__name__, detail=str(error)[:300]))
    db.session.remove()  # hold no connection or transaction between ticks
    return outcomes


def health_line(outcomes, seconds, now=None):
    """One line per tick for a log: the time, ok or how many jobs failed, each job's counts, duration."""
    failed = sum(outcome.error is not None for outcome in outcomes)
    state = "ok" if not failed else f"{failed} job{'s' if failed > 1 else ''} failed"
    jobs = "; ".join(outcome.summary() for outcome in outcomes)
    return f"worker health {iso(now or utcnow())} {state}; {jobs}; took {seconds:.2f} s"
