"""Follow-ups change hands when their assignee may no longer see them (perception.followups.handover_service):
an account moved to another team, made staff or deactivated. Left with them, a follow-up stalled: nobody
it was assigned to could open it, and its alert was cancelled unsent."""

import threading

import pytest
from sqlalchemy import event, select, update

from perception.core.models import AuditEvent, FollowUp, FollowUpEvent, OutboxMessage, User
from perception.followups.handover_service import HANDED_OVER, hand_over_stranded
from perception.followups.service import reassign, resolve
from perception.worker.service import JOBS, run_tick
from tests.helpers import (
    answers_for,
    bank_items,
    login,
    make_invitation,
    make_survey,
    make_team,
    make_user,
    open_link,
    post_form,
)
from tests.loop_helpers import followup_of, invite_and_answer


@pytest.fixture
def survey(db):
    return make_survey(items=bank_items())


@pytest.fixture
def admin_client(app, db):
    client = app.test_client()
    admin = make_user("admin", name="Ada")
    login(client, admin)
    client.admin = admin
    return client


def _alerts(db, followup):
    return [(message.sequence, message.status) for message in db.session.execute(
        select(OutboxMessage).where(OutboxMessage.follow_up_id == followup.id, OutboxMessage.kind == "alert")
        .order_by(OutboxMessage.sequence)).scalars()]


def _edit(admin_client, user, role, team):
    return post_form(admin_client, f"/admin/people/{user.id}", {"role": role, "team": str(team.id) if team else ""},
                     form_url=f"/admin/people/{user.id}")


@pytest.mark.parametrize("change", ["moved to another team", "made staff", "deactivated"])
def test_a_follow_up_goes_to_another_leader_of_its_team_when_its_assignee_may_no_longer_see_it(
        app, db, survey, admin_client, change):
    home, away = make_team("Home"), make_team("Away")
    sam = make_user("leader", team=home, name="Sam")
    kim = make_user("leader", team=home, name="Kim")
    followup = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    assert followup.assignee_id == sam.id and _alerts(db, followup) == [(0, "pending")]
    if change == "deactivated":
        done = post_form(admin_client, f"/admin/people/{sam.id}/deactivate", {}, form_url=f"/admin/people/{sam.id}")
    else:
        done = _edit(admin_client, sam, "leader" if change == "moved to another team" else "staff",
                     away if change == "moved to another team" else home)
    assert done.status_code == 302
    db.session.expire_all()
    assert followup.assignee_id == kim.id
    [event] = db.session.execute(select(FollowUpEvent).where(FollowUpEvent.follow_up_id == followup.id,
                                                             FollowUpEvent.kind == "reassigned")).scalars()
    assert (event.assignee_id, event.note, event.actor_id) == (kim.id, HANDED_OVER, admin_client.admin.id)
    assert _alerts(db, followup) == [(0, "cancelled"), (1, "pending")]  # Sam's unsent alert; one to Kim
    [entry] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "followup.reassigned")).scalars()
    assert entry.details["to_assignee_id"] == kim.id and entry.details["handed_over"] is True
    kim_client = app.test_client()
    login(kim_client, kim)
    assert kim_client.get(f"/leaders/followups/{followup.reference}").status_code == 200


def test_without_another_leader_an_admin_takes_it_and_resolved_ones_stay(app, db, survey, admin_client):
    home, away = make_team("Home"), make_team("Away")
    sam = make_user("leader", team=home, name="Sam")
    open_one = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    resolved = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    resolve(resolved, sam, "Called, sorted out.")
    assert _edit(admin_client, sam, "leader", away).status_code == 302
    db.session.expire_all()
    assert open_one.assignee_id == admin_client.admin.id
    assert resolved.assignee_id == sam.id  # history: who resolved it stays


def test_nothing_changes_hands_when_the_assignee_still_sees_it(app, db, survey, admin_client):
    home = make_team("Home")
    sam = make_user("leader", team=home, name="Sam")
    make_user("leader", team=home, name="Kim")
    followup = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    assert _edit(admin_client, sam, "admin", None).status_code == 302  # an admin sees every team
    db.session.expire_all()
    assert followup.assignee_id == sam.id and _alerts(db, followup) == [(0, "pending")]
    assert db.session.execute(select(FollowUpEvent).where(FollowUpEvent.kind == "reassigned")).first() is None


def test_an_admin_made_leader_of_another_team_hands_over_too(app, db, survey, admin_client):
    home, away = make_team("Home"), make_team("Away")  # Home has no leader: its follow-ups go to admins
    bob = make_user("admin", name="Bob")
    followup = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    followup.assignee_id = bob.id
    db.session.commit()
    assert _edit(admin_client, bob, "leader", away).status_code == 302
    db.session.expire_all()
    assert followup.assignee_id == admin_client.admin.id


def _stranded_tick():
    """One worker tick of the sweep alone: its outcome's counts (the tick ends the session: load anew)."""
    [outcome] = run_tick(jobs=[job for job in JOBS if job.name == "stranded follow-ups"])
    assert outcome.error is None, outcome.detail
    return outcome.counts


@pytest.mark.parametrize("change", [{"team_id": "away"}, {"role": "staff"}, {"active": False}],
                         ids=["moved to another team", "made staff", "deactivated"])
def test_the_worker_hands_over_a_follow_up_whose_assignee_changed_past_the_hand_over(app, db, survey, change):
    """However an assignee came to be unable to see a follow-up (here: the account changed past the app,
    as the race below leaves it), the worker's sweep hands it over within its minute."""
    home, away = make_team("Home"), make_team("Away")
    sam = make_user("leader", team=home, name="Sam")
    kim = make_user("leader", team=home, name="Kim")
    followup = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    assert followup.assignee_id == sam.id
    followup_id, kim_id = followup.id, kim.id
    values = {key: away.id if value == "away" else value for key, value in change.items()}
    db.session.execute(update(User).where(User.id == sam.id).values(**values))
    db.session.commit()
    assert _stranded_tick() == {"handed over": 1}
    followup = db.session.get(FollowUp, followup_id)
    assert followup.assignee_id == kim_id
    [event] = db.session.execute(select(FollowUpEvent).where(FollowUpEvent.follow_up_id == followup.id,
                                                             FollowUpEvent.kind == "reassigned")).scalars()
    assert (event.assignee_id, event.note, event.actor_id) == (kim_id, HANDED_OVER, None)
    assert _alerts(db, followup) == [(0, "cancelled"), (1, "pending")]
    assert _stranded_tick() is None  # not due again within its minute
    assert hand_over_stranded() == 0  # and nothing is left to hand over


def test_the_sweep_leaves_follow_ups_their_assignees_may_see(app, db, survey):
    home, away = make_team("Home"), make_team("Away")
    sam = make_user("leader", team=home, name="Sam")
    roaming = make_user("leader", team=None, name="Roaming")  # a leader without a team sees every team
    admin = make_user("admin", name="Ada")
    mine, roamed, admins, resolved = (followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
                                      for _ in range(4))
    roamed.assignee_id, admins.assignee_id = roaming.id, admin.id
    resolve(resolved, sam, "Called, sorted out.")
    ids = [followup.id for followup in (mine, roamed, admins, resolved)]
    expected = [admin.id, roaming.id, admin.id, sam.id]
    db.session.execute(update(User).where(User.id == sam.id).values(team_id=away.id))
    db.session.commit()
    assert _stranded_tick() == {"handed over": 1}  # the open one of Sam's: the resolved one keeps its history
    assert [db.session.get(FollowUp, followup_id).assignee_id for followup_id in ids] == expected


def test_a_leader_moved_while_a_customer_answers_loses_the_follow_up_to_the_sweep(app, db, survey, admin_client):
    """PostgreSQL (SQLite runs one writer at a time, so the move waits for the answer): the answer's INSERT
    gives the follow-up to Sam, the team's first leader as committed when it starts; Sam is moved away
    before it commits, and the move's own hand-over cannot see the follow-up yet. The sweep finds it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    home, away = make_team("Home"), make_team("Away")
    sam = make_user("leader", team=home, name="Sam")
    kim = make_user("leader", team=home, name="Kim")
    invitation, token = make_invitation(survey, home)
    inserted, moved = threading.Event(), threading.Event()
    customer, form = app.test_client(), answers_for(survey.items, 1)  # built here: the thread has its own session

    def hold_after_the_follow_up(_conn, _cursor, statement, _params, _context, _many):
        if threading.current_thread() is answering and "follow_ups" in statement and statement.lstrip().startswith(
                ("WITH", "INSERT")):
            inserted.set()
            moved.wait(timeout=30)

    outcome = {}

    def answer_now():
        assert open_link(customer, token).status_code == 303
        outcome["status"] = post_form(customer, "/s/answer", form).status_code

    answering = threading.Thread(target=answer_now)
    event.listen(db.engine, "after_cursor_execute", hold_after_the_follow_up)
    try:
        answering.start()
        assert inserted.wait(timeout=30)
        assert _edit(admin_client, sam, "leader", away).status_code == 302  # commits; its hand-over saw nothing
        moved.set()
        answering.join(timeout=30)
    finally:
        moved.set()
        event.remove(db.engine, "after_cursor_execute", hold_after_the_follow_up)
    assert outcome == {"status": 303}
    db.session.expire_all()
    followup = followup_of(invitation)
    assert followup.assignee_id == sam.id  # the race: Sam, now of Away, may not open it
    followup_id, kim_id = followup.id, kim.id
    assert _stranded_tick() == {"handed over": 1}
    assert db.session.get(FollowUp, followup_id).assignee_id == kim_id


def test_the_sweep_hands_over_a_follow_up_of_no_team_left_with_a_teams_leader(app, db, survey):
    """A team's leader may not see a follow-up of no team (in_scope): the sweep's rule says so too, not
    "unknown" (SQL's NULL) as a comparison of team ids alone would."""
    home = make_team("Home")
    sam = make_user("leader", team=home, name="Sam")
    admin = make_user("admin", name="Ada")
    followup = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    assert followup.assignee_id == sam.id
    followup_id, admin_id = followup.id, admin.id
    db.session.execute(update(FollowUp).where(FollowUp.id == followup_id).values(team_id=None))
    db.session.commit()
    assert hand_over_stranded() == 1
    assert db.session.get(FollowUp, followup_id).assignee_id == admin_id


@pytest.mark.parametrize("meanwhile", ["reassigned", "resolved"])
def test_what_an_admin_commits_while_the_sweep_works_wins(app, db, survey, meanwhile):
    """PostgreSQL (SQLite runs one writer at a time): the sweep reads a stranded follow-up with no lock;
    an admin reassigns or resolves it before the sweep writes. The sweep leaves it be: no overwritten
    choice, and no hand-over (nor alert) of a resolved follow-up."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    home, away = make_team("Home"), make_team("Away")
    sam = make_user("leader", team=home, name="Sam")
    make_user("leader", team=home, name="Kim")  # the sweep's first choice
    lee, ada = make_user("leader", team=home, name="Lee"), make_user("admin", name="Ada")
    followup = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    followup_id, lee_id, ada_id = followup.id, lee.id, ada.id
    db.session.execute(update(User).where(User.id == sam.id).values(team_id=away.id))  # stranded
    db.session.commit()
    read, resume, outcome = threading.Event(), threading.Event(), {}

    def hold_after_reading(_conn, _cursor, statement, _params, _context, _many):
        if threading.current_thread() is sweeper and statement.lstrip().startswith("SELECT") and (
                "follow_ups.assignee_id =" in statement):
            read.set()
            resume.wait(timeout=30)

    def sweep():
        with app.app_context():
            outcome["handed"] = hand_over_stranded()

    sweeper = threading.Thread(target=sweep)
    event.listen(db.engine, "after_cursor_execute", hold_after_reading)
    try:
        sweeper.start()
        assert read.wait(timeout=30)
        stranded, admin = db.session.get(FollowUp, followup_id), db.session.get(User, ada_id)
        if meanwhile == "reassigned":
            reassign(stranded, admin, lee_id, "Lee knows this customer")
        else:
            resolve(stranded, admin, "Called, sorted out.")
    finally:
        resume.set()
        sweeper.join(timeout=30)
        event.remove(db.engine, "after_cursor_execute", hold_after_reading)
    assert outcome == {"handed": 0}
    db.session.expire_all()
    followup = db.session.get(FollowUp, followup_id)
    kinds = list(db.session.execute(select(FollowUpEvent.kind).where(
        FollowUpEvent.follow_up_id == followup_id).order_by(FollowUpEvent.id)).scalars())
    if meanwhile == "reassigned":
        assert followup.assignee_id == lee_id and kinds == ["opened", "reassigned"]
        assert _alerts(db, followup) == [(0, "cancelled"), (1, "pending")]  # Lee's, left as the admin made it
    else:
        assert followup.state == "resolved" and kinds == ["opened", "state"]
        assert _alerts(db, followup) == [(0, "pending")]  # nothing new queued for a resolved follow-up
