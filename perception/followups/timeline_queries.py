"""A customer's relationship timeline: every invitation, answer and follow-up, in time order,
with the trend of their care score (perception.insights.loop.care_trend).

A customer is found by email: the invitations addressed to it, the responses to those
invitations, and imported responses whose `respondent` is that address.

The consent rule holds here too (DESIGN section 2, "No consent, no link"): a response is on the
timeline (its answers, comment, care score, follow-up), and counts in the trend, only when the
customer allowed contact on that response. Without consent the timeline does not even say that
they answered, nor that they opened the survey (opening is shown only beside an answer given with
consent): the invitations, and when they were sent, are all it shows. Admins see every team; a
leader sees the entries of their own team only.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import selectinload

from perception.accounts.scope import own_team
from perception.core.extensions import db
from perception.core.models import Answer, FollowUp, Invitation, Item, RecoveryRequest, Response
from perception.core.tokens import normalise_email
from perception.followups.service import CHANNEL_LABELS, OUTCOME_LABELS, STATE_LABELS
from perception.insights.loop import care_score, care_trend


@dataclass
class Entry:
    at: datetime
    kind: str  # invitation, answer, followup, contact, state, reassigned, note, recovery
    title: str
    team: str | None = None
    detail: str | None = None
    care: tuple[float, float] | None = None  # (mean 1-5, care index 0-100) of an answer
    followup: str | None = None  # the reference of the follow-up it belongs to
    lines: list = field(default_factory=list)


@dataclass
class Timeline:
    email: str
    name: str | None
    entries: list
    trend: object  # CareTrend
    team_only: str | None  # the team a leader's view is limited to

    @property
    def found(self):
        return bool(self.entries)


def _invitations(email, team_id):
    query = select(Invitation).where(Invitation.customer_email == email).options(
        selectinload(Invitation.team), selectinload(Invitation.survey), selectinload(Invitation.staff)
    )
    if team_id is not None:
        query = query.where(Invitation.team_id == team_id)
    return list(db.session.execute(query).scalars())


def _responses(email, invitation_ids, team_id):
    query = select(Response).where(Response.perspective == "customer", or_(
        Response.invitation_id.in_(invitation_ids) if invitation_ids else false(),
        func.lower(Response.respondent) == email,
    )).options(selectinload(Response.answers).selectinload(Answer.item).selectinload(Item.dimension),
               selectinload(Response.team), selectinload(Response.survey))
    if team_id is not None:
        query = query.where(Response.team_id == team_id)
    return list(db.session.execute(query).scalars())


def _invitation_entries(invitation, answered_with_consent):
    team, survey = invitation.team.name, invitation.survey.title
    served = f", served by {invitation.staff.name}" if invitation.staff else ""
    yield Entry(invitation.created_at, "invitation", f"Invited to “{survey}”", team, f"After a visit{served}.")
    if invitation.sent_at:
        yield Entry(invitation.sent_at, "invitation", "Invitation sent", team)
    if invitation.opened_at and answered_with_consent:
        yield Entry(invitation.opened_at, "invitation", "Opened the survey", team)


def _answer_entry(response):
    team = response.team.name if response.team else None
    title = f"Answered “{response.survey.title}”"
    answers = sorted(response.answers, key=lambda a: (a.item.dimension.position, a.item.position, a.item.id))
    by_dimension = {}
    for answer in answers:
        by_dimension.setdefault(answer.item.dimension.name, []).append(answer.score)
    lines = [f"{name}: {sum(scores) / len(scores):.3g} of 5" for name, scores in by_dimension.items()]
    if response.nps is not None:
        lines.append(f"Likely to recommend: {response.nps} of 10")
    return Entry(response.submitted_at, "answer", title, team, response.comment,
                 care=care_score([a.score for a in answers]), lines=lines)


def _followup_entries(followup):
    team = followup.team.name if followup.team else None
    yield Entry(followup.opened_at, "followup", "Follow-up opened", team, followup=followup.reference,
                detail=f"Due {followup.due_at:%d %b %Y, %H:%M} UTC.")
    for event in followup.events:
        who = event.actor.name if event.actor else None
        if event.kind == "contact":
            title = f"{CHANNEL_LABELS[event.channel]}: {OUTCOME_LABELS[event.outcome].lower()}"
        elif event.kind == "state":
            title = f"Follow-up {STATE_LABELS[event.to_state].lower()}"
        elif event.kind == "reassigned":
            title = f"Follow-up passed to {event.assignee.name if event.assignee else 'someone else'}"
        elif event.kind == "note":
            title = "Note"
        else:
            continue
        yield Entry(event.at, event.kind, title, team, event.note, followup=followup.reference,
                    lines=[f"by {who}"] if who else [])


def _recovery_entries(recovery, team):
    if recovery.sent_at:
        yield Entry(recovery.sent_at, "recovery", "Re-survey sent", team, followup=recovery.follow_up.reference)
    if recovery.answered_at:
        lines = [f"{recovery.item.dimension.name}: {recovery.score} of 5"]
        if recovery.nps is not None:
            lines.append(f"Likely to recommend: {recovery.nps} of 10")
        yield Entry(recovery.answered_at, "recovery", "Answered the re-survey", team,
                    followup=recovery.follow_up.reference, lines=lines)


def customer_timeline(email, viewer):
    """The timeline of the customer with `email` as `viewer` (a leader or admin) may see it."""
    email = normalise_email(email) or ""
    team = own_team(viewer)  # None: the whole business (perception.accounts.scope)
    team_id = team.id if team is not None else None
    invitations = _invitations(email, team_id)
    responses = _responses(email, [invitation.id for invitation in invitations], team_id)
    consented = [response for response in responses if response.contact_consent]
    shown = {response.invitation_id for response in consented}
    entries = [entry for invitation in invitations for entry in _invitation_entries(invitation, invitation.id in shown)]
    entries += [_answer_entry(response) for response in consented]
    followups = list(db.session.execute(
        select(FollowUp).where(FollowUp.response_id.in_([response.id for response in consented]))
    ).scalars()) if consented else []
    for followup in followups:
        entries += list(_followup_entries(followup))
        recovery = db.session.execute(
            select(RecoveryRequest).where(RecoveryRequest.follow_up_id == followup.id)
        ).scalar_one_or_none()
        if recovery is not None:
            entries += list(_recovery_entries(recovery, followup.team.name if followup.team else None))
    entries.sort(key=lambda entry: entry.at)
    trend = care_trend([(r.submitted_at, [a.score for a in r.answers]) for r in consented])
    name = next((i.customer_name for i in sorted(invitations, key=lambda i: i.created_at, reverse=True)
                 if i.customer_name), None)
    return Timeline(email, name, entries, trend, team.name if team is not None else None)


def sparkline(points, width=320, height=80, pad=6):
    """SVG polyline coordinates of (when, mean, index) points: evenly spaced, index 0-100 upwards."""
    if not points:
        return ""
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    coordinates = []
    for position, (_when, _mean, index) in enumerate(points):
        x = pad + position * step if len(points) > 1 else width / 2
        y = pad + (100 - index) / 100 * (height - 2 * pad)
        coordinates.append(f"{x:.1f},{y:.1f}")
    return " ".join(coordinates)
