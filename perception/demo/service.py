"""A realistic demo: three teams, staff who believe they care more than their customers feel,
two survey waves, a few hundred customer responses spread over months."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from perception.accounts.team_service import add_teams
from perception.core.database import clear_data
from perception.core.extensions import db
from perception.core.models import (
    Answer,
    Dimension,
    Invitation,
    Item,
    PredictedAnswer,
    Response,
    Survey,
    Team,
    User,
    utcnow,
)
from perception.demo.board_service import tag_demo_comments
from perception.demo.followups_service import add_closed_loop
from perception.invitations.queries import invitation_link, survey_link
from perception.invitations.service import create_invitation
from perception.reports import service as report_cells

DEMO_PASSWORD = "care-demo-2026"
# (role, login, what they see). The first leader has no team, so sees the whole business; the second
# leads Riverside branch and sees that team only (DESIGN section 2, "Scope").
DEMO_LOGINS = (
    ("admin", "admin@example.com", "everything, and finds or erases customers"),
    ("leader", "leader@example.com", "the whole business"),
    ("leader", "team.leader@example.com", "Riverside branch only"),
    ("staff", "staff@example.com", "their own ratings, board and mirror"),
)
TEAM_LEADER_EMAIL = "team.leader@example.com"
DEMO_CUSTOMER = "Demo customer"  # the name on the invitation whose link seed-demo and demo-info print
TEAMS = {
    # name: customer-perceived care level (1-5 scale) for the team
    "Harbour Street branch": 3.9,
    "Riverside branch": 3.4,
    "Customer contact centre": 2.9,
}


# How customers feel each dimension compared with the team's level; staff barely see these differences.
CUSTOMER_DIMENSION_SHIFT = {
    "trust": 0.1,
    "respect": 0.2,
    "understanding": -0.2,
    "appreciation": -0.3,
    "honest_communication": -0.4,
    "kindness": 0.3,
    "personal_attention": -0.6,
    "attentiveness": -0.5,
}
STAFF_NAMES = [
    "Amira Haddad", "Ben Okafor", "Chloe Martin", "Dev Patel", "Elena Rossi", "Finn Gallagher",
    "Grace Liu", "Hugo Silva", "Ines Moreau", "Jonas Berg", "Kemi Adeyemi", "Liam Byrne",
    "Maya Cohen", "Noah Schmidt", "Olga Petrova", "Pablo Ruiz", "Quinn Taylor", "Rosa Jansen",
]
# The first is the head of customer care (no team); the next three lead a team each (Riverside branch,
# the contact centre, Harbour Street); the last four are regional managers without a team. Five
# leaders without a team make one whole batch of leader ratings (answers count five at a time), so the
# leaders' side of the gap shows from the first visit; each team leader's rating waits for its batch.
LEADER_NAMES = ["Sam Whitfield", "Tara Novak", "Uma Reddy", "Victor Lam", "Wendy Adler", "Yusuf Demir",
                "Xavier Dubois", "Zara Ahmed"]
TEAM_OF_LEADER = {1: "Riverside branch", 2: "Customer contact centre", 3: "Harbour Street branch"}
CUSTOMER_NAMES = [
    "Alex", "Bea", "Carlos", "Dana", "Eli", "Fatima", "George", "Hana", "Ivan", "Julia", "Kofi", "Lena",
    "Marek", "Nora", "Omar", "Priya", "Rahul", "Sofia", "Tom", "Valentina", "Wei", "Zoe",
]
GOOD_COMMENTS = [
    "They remembered me from last time and asked how the move went. Lovely.",
    "Patient with all my questions, never made me feel stupid.",
    "Honest about the delay and called me back exactly when promised.",
    "Felt like a real conversation, not a script.",
    "Quick, friendly and they actually listened.",
]
MIXED_COMMENTS = [
    "Fine, but I had to explain my situation three times.",
    "Friendly enough, but nobody told me the fee until the end.",
    "Helpful in the end, though I waited a long time without anyone noticing.",
    "OK. It felt a bit rushed.",
]
BAD_COMMENTS = [
    "I felt like a ticket number. Nobody looked up from the screen.",
    "I was passed between four people and each one started from scratch.",
    "They promised a call back that never came.",
    "Polite words, but it was clear nobody cared whether my problem got solved.",
    "I was told it was my fault before anyone had even checked.",
]


class DemoError(RuntimeError):
    pass


def database_is_empty():
    return all(
        db.session.execute(select(func.count()).select_from(model)).scalar() == 0
        for model in (User, Survey, Response, Team)
    )


def has_demo_accounts():
    emails = [email for _role, email, _sees in DEMO_LOGINS]
    return db.session.execute(select(func.count()).select_from(User).where(User.email.in_(emails))).scalar() > 0


def _quarter_start(moment):
    return datetime(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1, tzinfo=UTC)


def _previous_quarter_start(start):
    month = start.month - 3
    return datetime(start.year - (month < 1), month + 12 * (month < 1), 1, tzinfo=UTC)


def _quarter_label(start):
    return f"{start.year}-q{(start.month - 1) // 3 + 1}"


def _score(rng, level):
    return max(1, min(5, round(rng.gauss(level, 0.7))))


def seed_demo(force=False, seed=2026, now=None):
    if not database_is_empty():
        if not force:
            raise DemoError("the database is not empty; seed-demo leaves it alone (use --force to erase it and reseed)")
        clear_data(db.session, db.metadata)
    rng = random.Random(seed)
    now = now or utcnow()
    items = list(db.session.execute(select(Item).join(Dimension).order_by(Dimension.position, Item.position)).scalars())
    if not items:
        raise DemoError("the item bank is empty: run `flask --app wsgi db upgrade` first")

    teams, _refused = add_teams(TEAMS)  # made as every team is, audit event included; the database is empty
    staff_by_team = {name: [] for name in TEAMS}
    users = []
    for index, full_name in enumerate(STAFF_NAMES):
        team_name = list(TEAMS)[index % len(TEAMS)]
        email = "staff@example.com" if index == 0 else full_name.lower().replace(" ", ".") + "@example.com"
        staff_by_team[team_name].append(User(email=email, name=full_name, role="staff", team=teams[team_name]))
        users.append(staff_by_team[team_name][-1])
    leaders = []
    for index, full_name in enumerate(LEADER_NAMES):
        email = {0: "leader@example.com", 1: TEAM_LEADER_EMAIL}.get(
            index, full_name.lower().replace(" ", ".") + "@example.com")
        team = teams[TEAM_OF_LEADER[index]] if index in TEAM_OF_LEADER else None
        leaders.append(User(email=email, name=full_name, role="leader", team=team))
    users += leaders
    users.append(User(email="admin@example.com", name="Ada Admin", role="admin"))
    users[0].set_password(DEMO_PASSWORD)
    for user in users[1:]:  # one scrypt hash serves every demo account: seeding stays fast
        user.password_hash = users[0].password_hash
    db.session.add_all(users)

    current = _quarter_start(now)
    previous = _previous_quarter_start(current)
    waves = [
        Survey(slug=_quarter_label(previous), title=f"Care check {_quarter_label(previous).upper()}", status="closed",
               opens_at=previous, closes_at=current, items=items),
        Survey(slug=_quarter_label(current), title=f"Care check {_quarter_label(current).upper()}", status="open",
               opens_at=current, closes_at=current + timedelta(days=92), items=items),
    ]
    db.session.add_all(waves)
    db.session.flush()

    customer_responses = 0
    for wave_index, wave in enumerate(waves):
        period_end = min(wave.closes_at, now)
        improvement = 0.15 * wave_index
        for team_name, level in TEAMS.items():
            team = teams[team_name]
            count = 60
            for _ in range(count):
                submitted = wave.opens_at + (period_end - wave.opens_at) * rng.random()
                customer_responses += _add_customer_response(
                    rng, wave, team, rng.choice(staff_by_team[team_name]), items, level + improvement, submitted
                )
            for member in staff_by_team[team_name]:
                _add_self_rating(rng, wave, member, items, 4.3 + rng.uniform(-0.3, 0.2), predict=level + 0.6)
        for leader in leaders:
            _add_self_rating(rng, wave, leader, items, 4.4 + rng.uniform(-0.2, 0.3))
    for _ in range(30):  # invited, not answered yet: the funnel has something to show
        sent = now - timedelta(days=rng.randint(0, 10))
        invitation, _token = create_invitation(waves[1], teams[rng.choice(list(TEAMS))], now=sent)
        invitation.state, invitation.sent_at = rng.choice(["sent", "sent", "opened"]), sent

    add_closed_loop(rng, now)  # follow-ups, consent, re-surveys and staff guesses
    db.session.flush()
    _batch_by_consent(waves)
    tag_demo_comments(rng, leaders[0])  # the support-vs-erode board tells a story from the first visit
    db.session.commit()
    link = fresh_demo_link()
    return {
        "teams": len(teams),
        "users": len(users),
        "surveys": len(waves),
        "customer_responses": customer_responses,
        "link": link,
    }


def _batch_by_consent(waves):
    """Form the customers' batches again now that their consent is known (add_closed_loop decides it
    after the answers were written and published): a batch holds answers given with consent, or
    without, never both (perception.reports.batch_service.group_of). As for rows loaded past the app,
    the answers are unpublished and report_cells.rebuild publishes them in batches and counts them."""
    for wave in waves:
        db.session.execute(update(Response).where(Response.survey_id == wave.id, Response.perspective == "customer")
                           .values(published_at=None))
        report_cells.rebuild(db.session, wave.id)


def _add_customer_response(rng, wave, team, staff, items, level, submitted):
    person = rng.gauss(0, 0.5)
    scores = {
        item.id: _score(rng, level + person + CUSTOMER_DIMENSION_SHIFT.get(item.dimension.key, 0)) for item in items
    }
    mean = sum(scores.values()) / len(scores)
    number = rng.randint(1000, 9999)
    invitation, _token = create_invitation(
        wave, team, email=f"customer{number}.{team.id}@example.net", name=rng.choice(CUSTOMER_NAMES),
        staff=staff, interaction_at=submitted - timedelta(hours=rng.randint(1, 48)),
        now=submitted - timedelta(hours=1),
    )
    invitation.state = "answered"
    invitation.sent_at = invitation.opened_at = invitation.answered_at = submitted
    comments = GOOD_COMMENTS if mean >= 3.8 else MIXED_COMMENTS if mean >= 2.8 else BAD_COMMENTS
    db.session.add(
        Response(
            survey=wave, perspective="customer", team=team, invitation=invitation, staff_id=staff.id,
            submitted_at=submitted, channel="link",
            comment=rng.choice(comments) if rng.random() < 0.45 else None,
            nps=max(0, min(10, round((mean - 1) * 2.5 + rng.gauss(0, 1.2)))) if rng.random() < 0.97 else None,
            answers=[Answer(item_id=item_id, score=score) for item_id, score in scores.items()],
        )
    )
    return 1


def _add_self_rating(rng, wave, user, items, level, predict=None):
    submitted = wave.opens_at + timedelta(days=rng.randint(1, 20), hours=rng.randint(8, 17))
    response = Response(
        survey=wave, perspective=user.perspective, team=user.team, user=user, respondent=user.email,
        submitted_at=submitted, channel="self",
        answers=[Answer(item_id=item.id, score=_score(rng, level)) for item in items],
    )
    if predict is not None:
        response.predictions = [PredictedAnswer(item_id=item.id, score=_score(rng, predict)) for item in items]
    db.session.add(response)


def fresh_demo_link(now=None):
    """The link of the open demo wave's "Demo customer": the same unanswered invitation every time
    (its link is rebuilt from its nonce), so `demo-info` adds no row to the funnel; a new invitation
    only once the previous one was answered, expired or closed."""
    now = now or utcnow()
    survey = db.session.execute(
        select(Survey).where(Survey.status == "open").order_by(Survey.opens_at.desc())
    ).scalars().first()
    team = db.session.execute(select(Team).order_by(Team.id)).scalars().first()
    if survey is None or team is None:
        raise DemoError("there is no open survey and team to make a link for; run seed-demo first")
    waiting = db.session.execute(
        select(Invitation).where(
            Invitation.survey_id == survey.id, Invitation.customer_name == DEMO_CUSTOMER,
            Invitation.customer_email.is_(None), Invitation.state.in_(("created", "sent", "opened")),
            Invitation.expires_at > now,
        ).order_by(Invitation.id.desc())
    ).scalars().first()
    link = invitation_link(waiting) if waiting is not None else None
    if link is not None:
        return link
    _invitation, token = create_invitation(survey, team, name=DEMO_CUSTOMER, now=now)
    db.session.commit()
    return survey_link(token)
