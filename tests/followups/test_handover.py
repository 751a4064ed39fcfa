"""Follow-ups change hands when their assignee may no longer see them (perception.followups.handover_service):
an account moved to another team, made staff or deactivated. Left with them, a follow-up stalled: nobody
it was assigned to could open it, and its alert was cancelled unsent."""

import pytest
from sqlalchemy import select

from perception.core.models import AuditEvent, FollowUpEvent, OutboxMessage
from perception.followups.handover_service import HANDED_OVER
from perception.followups.service import resolve
from tests.helpers import bank_items, login, make_survey, make_team, make_user, post_form
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
    assert kim_client.get(f"/leaders/followups/{followup.id}").status_code == 200


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
