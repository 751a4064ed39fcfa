"""Reading follow-ups within a user's scope: the lists, counts and figures of the leaders' pages,
who a follow-up may go to, and the answers and identity shown beside it."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from perception.accounts.scope import account_sees_team, in_scope, team_condition
from perception.core.extensions import db
from perception.core.models import (
    Dimension,
    FollowUp,
    Response,
    Team,
    User,
    next_utc_midnight,
    start_of_utc_day,
    utcnow,
)
from perception.core.tokens import derive_token
from perception.insights.loop import FollowupTimes, decode_reasons, followup_figures
from perception.surveys.queries import wave_wordings


def visible_condition(user):
    """The follow-ups `user` sees and acts on: those of the teams in their scope (perception.accounts.scope).
    Admins and leaders without a team see all; a team's leader their team's only, even one assigned to
    them from another team (an admin passes it on)."""
    return team_condition(user, FollowUp.team_id)


def sees_followup(user, followup):
    """`visible_condition` for one loaded follow-up, with the role `followup_for` asks for: may `user`
    (as they are now: role and team change) see it, and be told about it?"""
    return user.role in ("leader", "admin") and in_scope(user, followup.team_id)


def account_sees_followup(users, followups):
    """`sees_followup` as SQL over many accounts and follow-ups at once (rows of `users` and
    `followups`, the tables or aliases of them); never NULL, so its negation holds too."""
    return and_(users.c.role.in_(("leader", "admin")), account_sees_team(users, followups.c.team_id))


def followup_url(followup):
    """The follow-up's page, as mails and webhooks link to it (by its reference, never its id)."""
    return f"{current_app.config['BASE_URL']}/leaders/followups/{followup.reference}"


def followup_for(user, reference):
    """The follow-up named `reference` if `user` may see it, else None (the view answers 404, never
    403: a reference must not tell a leader that another team's follow-up exists)."""
    if user.role not in ("leader", "admin"):
        return None
    return db.session.execute(
        select(FollowUp).where(FollowUp.reference == reference, visible_condition(user))
    ).scalar_one_or_none()


VIEWS = ("open", "overdue", "mine", "resolved", "all")


def list_followups(user, view="open", team_id=None, now=None, limit=200):
    now = now or utcnow()
    query = select(FollowUp).where(visible_condition(user))
    if view == "open":
        query = query.where(FollowUp.state != "resolved")
    elif view == "overdue":
        query = query.where(FollowUp.state == "open", FollowUp.first_contact_at.is_(None), FollowUp.due_at <= now)
    elif view == "mine":
        query = query.where(FollowUp.assignee_id == user.id, FollowUp.state != "resolved")
    elif view == "resolved":
        query = query.where(FollowUp.state == "resolved")
    if team_id is not None:
        query = query.where(FollowUp.team_id == team_id)
    # Ties (a day's follow-ups without consent fall due at the same moment) by the random reference:
    # by id, the list gave the order in which the day's low answers came.
    order = (FollowUp.resolved_at.desc(),) if view == "resolved" else (FollowUp.due_at,)
    return list(db.session.execute(query.order_by(*order, FollowUp.reference).limit(limit)).scalars())


def overdue_count(user, now=None):
    return db.session.execute(
        select(func.count()).select_from(FollowUp).where(
            visible_condition(user), FollowUp.state == "open", FollowUp.first_contact_at.is_(None),
            FollowUp.due_at <= (now or utcnow()),
        )
    ).scalar_one()


def is_overdue(followup, now=None):
    return followup.state == "open" and followup.first_contact_at is None and followup.due_at <= (now or utcnow())


def assignable_users(followup):
    """Who a follow-up may be given to: the active leaders of its team, and the active admins."""
    condition = User.role == "admin"
    if followup.team_id is not None:
        condition = or_(condition, and_(User.role == "leader", User.team_id == followup.team_id))
    return list(db.session.execute(
        select(User).where(User.active.is_(True), condition).order_by(User.role.desc(), User.name, User.id)
    ).scalars())


def clock_start(opened_at, consent):
    """When a follow-up's clock starts: the moment it opened (its answer's) when the customer allowed
    contact; else the end of the day it opened, so that nothing measured from it (its due time and with
    it "overdue", the time to first contact) tells more than the day of the answer (DESIGN section 2,
    "No consent, no link"; found by the tenth session's attacker's read)."""
    return opened_at if consent else next_utc_midnight(opened_at)


def due_time(opened_at, consent, hours):
    """When a follow-up opened at `opened_at` falls due: `hours` (a timedelta) after its clock starts.
    Without consent a microsecond earlier, so that a due time at a midnight is shown, where pages show
    days only, as the day it ends ("due 08 Dec": by the end of 08 Dec), not the next."""
    due = clock_start(opened_at, consent) + hours
    return due if consent else due - timedelta(microseconds=1)


def history(followup):
    """The follow-up's events in the order its page lists them: by time, or without consent by day
    and then in the order they were recorded, since a contact may be dated any time of the day it
    opened (earliest_contact) and its place before or after "Opened" would give the minute away."""
    if followup.response.contact_consent:
        return list(followup.events)
    return sorted(followup.events, key=lambda event: (event.at.date(), event.id))


def earliest_contact(followup):
    """The earliest time a contact of `followup` may be recorded at: a minute before it opened, or
    without consent the start of the day it opened (a refusal must not give away the minute)."""
    if followup.response.contact_consent:
        return followup.opened_at - timedelta(minutes=1)
    return start_of_utc_day(followup.opened_at)


def team_figures(user, now=None):
    """[(team name, FollowupFigures)] for every team whose follow-ups `user` sees, by name. Times are
    measured from each follow-up's clock_start."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Team.name, FollowUp.opened_at, Response.contact_consent, FollowUp.due_at, FollowUp.first_contact_at,
               FollowUp.state)
        .join(Team, Team.id == FollowUp.team_id).join(Response, Response.id == FollowUp.response_id)
        .where(visible_condition(user))
    ).all()
    by_team = {}
    for name, opened, consent, due, contact, state in rows:
        by_team.setdefault(name, []).append(FollowupTimes(clock_start(opened, consent), due, contact, state))
    return [(name, followup_figures(records, now)) for name, records in sorted(by_team.items())]


def customer_identity(response):
    """Name, email and phone of the customer, only when they allowed contact; else None."""
    if not response.contact_consent:
        return None
    invitation = response.invitation
    return {
        "name": invitation.customer_name if invitation else None,
        "email": (invitation.customer_email if invitation else None) or _email_like(response.respondent),
        "phone": response.contact_phone,
    }


def served_by(response):
    """The staff member who served the customer, shown beside their answers only when they allowed
    contact (DESIGN section 2, "No consent, no link"); else None."""
    return response.staff if response.contact_consent else None


def _email_like(text):
    return text if text and "@" in text else None


def answers_of(response):
    """[(dimension name, item wording for customers, score)] in survey order."""
    rows = sorted(response.answers, key=lambda a: (a.item.dimension.position, a.item.position, a.item.id))
    asked = wave_wordings(response.survey_id)  # the wording of the wave they answered, not today's
    return [(answer.item.dimension.name, asked.get(answer.item_id, answer.item.customer_text), answer.score)
            for answer in rows]


def consented_response(followup_id):
    return db.session.execute(
        select(Response).join(FollowUp, FollowUp.response_id == Response.id)
        .where(FollowUp.id == followup_id, Response.contact_consent.is_(True))
    ).scalar_one_or_none()


def reason_lines(followup):
    """The rule's reasons in words: ["Overall 2.3 of 5", "Respect 1.5 of 5", "Recommend 3 of 10"]."""
    names = dict(db.session.execute(select(Dimension.key, Dimension.name)).all())
    lines = []
    for reason in decode_reasons(followup.reasons):
        if reason.kind == "overall":
            lines.append(f"Overall {reason.value:.3g} of 5")
        elif reason.kind == "dimension":
            lines.append(f"{names.get(reason.key, reason.key)} {reason.value:.3g} of 5")
        elif reason.kind == "nps":
            lines.append(f"Likely to recommend {reason.value:.0f} of 10")
    return lines


# --- The re-survey link and where it goes (perception.followups.recovery_service) ------------

RECOVERY_PURPOSE = "recovery"  # what a re-survey link's token is derived for


def customer_email(response):
    invitation = response.invitation
    email = invitation.customer_email if invitation else None
    if not email and response.respondent and "@" in response.respondent:
        email = response.respondent
    return email


def recovery_link(recovery):
    return f"{current_app.config['BASE_URL']}/s/r/{derive_token(recovery.token_nonce, RECOVERY_PURPOSE)}"
