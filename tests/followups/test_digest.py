"""The digest email (issue #16): queued exactly once per leader and period (a unique index,
also with several workers at once), off means none, each leader's scope, plain text and HTML,
delivered by `flask send-mail` through a real SMTP server."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from perception.core.extensions import db as _db
from perception.core.models import FollowUp, OutboxMessage, Response
from perception.followups.digest_service import period_key, queue_due_digests
from tests.helpers import login, make_team, make_user, post_form
from tests.trend_support import HARBOUR, RIVERSIDE, two_waves

MONDAY = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)  # a week before the next Monday: both in the past


def _digests():
    _db.session.rollback()
    return _db.session.execute(
        select(OutboxMessage.user_id, OutboxMessage.sequence).where(OutboxMessage.kind == "digest")
        .order_by(OutboxMessage.user_id, OutboxMessage.sequence)
    ).all()


@pytest.fixture
def people(app, db):
    return {
        "weekly": make_user("leader", email="weekly@example.com"),
        "daily": make_user("admin", email="daily@example.com"),
        "off": make_user("leader", email="off@example.com"),
        "staff": make_user("staff", email="staff@example.com"),
    }


def test_once_per_user_and_period_however_often_it_is_queued(people, db):
    people["daily"].digest_frequency, people["off"].digest_frequency = "daily", "off"
    db.session.commit()
    assert queue_due_digests(MONDAY) == 2
    assert queue_due_digests(MONDAY + timedelta(hours=5)) == 0
    tuesday = MONDAY + timedelta(days=1)
    assert queue_due_digests(tuesday) == 1  # the daily one; the week is the same
    assert queue_due_digests(MONDAY + timedelta(days=7)) == 2
    weekly, daily = people["weekly"].id, people["daily"].id
    assert _digests() == sorted([(weekly, 202647), (weekly, 202648), (daily, 20261116), (daily, 20261117),
                                 (daily, 20261123)])
    assert period_key("weekly", datetime(2027, 1, 1, tzinfo=UTC)) == 202653  # ISO week of the year it belongs to


def test_several_workers_queueing_at_once_queue_each_digest_once(app, people, db):
    start = threading.Barrier(4)
    counts, errors = [], []

    def worker():
        try:
            with app.app_context():
                start.wait(timeout=30)
                counts.append(queue_due_digests(MONDAY))
                _db.session.remove()
        except Exception as error:  # reported below: a thread's exception would otherwise be lost
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and sum(counts) == 3  # weekly, daily (weekly by default) and off (also weekly now)
    assert len(_digests()) == 3


def test_the_setting_page_switches_the_digest_off_and_a_queued_one_is_cancelled(client, people, db, runner,
                                                                              smtp_server):
    user = people["weekly"]
    assert queue_due_digests(MONDAY) == 3
    login(client, user)
    page = client.get("/leaders/digest")
    assert page.status_code == 200 and re.search(r'<input checked[^>]*value="weekly"', page.get_data(as_text=True))
    assert post_form(client, "/leaders/digest", {"frequency": "sometimes"}).status_code == 400
    assert post_form(client, "/leaders/digest", {"frequency": "off"}).status_code == 302
    db.session.refresh(user)
    assert user.digest_frequency == "off"
    assert queue_due_digests(MONDAY + timedelta(days=7)) == 2  # the two others only
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "digests: sent 4, retry later 0, failed 0, cancelled 1" in result.output  # 2 + 2, theirs cancelled
    assert smtp_server.to(user.email) == []
    row = db.session.execute(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).scalar_one()
    assert row.status == "cancelled" and row.last_error == "digest switched off"


def _overdue_followup(team):
    response = db_response(team)
    _db.session.add(FollowUp(response_id=response.id, team_id=team.id, due_at=MONDAY - timedelta(days=3),
                             opened_at=MONDAY - timedelta(days=4), reasons="overall=2.0"))
    _db.session.commit()


def db_response(team):
    return _db.session.execute(
        select(Response).where(Response.team_id == team.id, Response.perspective == "customer").limit(1)
    ).scalar_one()


def test_each_leader_gets_their_scope_in_plain_text_and_html(app, db, runner, smtp_server):
    two_waves()
    _overdue_followup(make_team(HARBOUR))
    admin = make_user("admin", email="boss@example.com", name="Boss")
    river = make_user("leader", team=make_team(RIVERSIDE), email="river@example.com", name="River")
    assert queue_due_digests(MONDAY) == 2
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "digests: sent 2" in result.output, result.output

    [boss_mail] = smtp_server.to(admin.email)
    assert boss_mail.message["Subject"].startswith("Your weekly care gap digest: the whole business")
    text, html = boss_mail.text, boss_mail.html
    for part in (text, html):
        assert "Boss" in part and "2026-q4" in part
        assert f"{HARBOUR}: the gap on" in part or f"{HARBOUR}: customers" in part  # the largest change
        assert "1 overdue" in part
        assert "http://perception.test/leaders/trend" in part
        assert "http://perception.test/leaders/digest" in part
        assert "Response rate" in part
    assert "<a href=\"http://perception.test/leaders/surveys/2026-q4/dashboard\"" in html

    [river_mail] = smtp_server.to(river.email)
    assert "Riverside branch" in river_mail.message["Subject"]
    for part in (river_mail.text, river_mail.html):
        assert HARBOUR not in part  # a team's leader sees their team only
        assert "0 overdue" in part
        assert "withheld" in part  # 3 customer answers wait for their batch: no figure
    assert runner.invoke(args=["send-mail"]).output.count("digests: sent 0") == 1  # nothing twice


def test_new_follow_ups_are_counted_by_whole_days(app, db, runner, smtp_server):
    """The digest's count of new follow-ups takes whole UTC days, from the day its period starts to the
    day before it is sent: a bound at the digest's hour would tell whether a customer answered before
    or after that hour (No consent, no link); consecutive digests count each follow-up once."""
    from perception.followups.digest_service import new_followup_count

    two_waves()
    team = make_team(HARBOUR)
    leader = make_user("leader", team=team)
    response = db_response(team)
    since, now = MONDAY - timedelta(days=7), MONDAY  # a weekly digest queued on MONDAY at 06:00
    for hours in (-2, 2):  # on the first day, before and after the digest's hour
        _db.session.add(FollowUp(response_id=response.id, team_id=team.id, opened_at=since + timedelta(hours=hours),
                                 due_at=since + timedelta(days=2), reasons="overall=2.0"))
        _db.session.flush()
        response = _db.session.execute(select(Response).where(
            Response.team_id == team.id, Response.perspective == "customer", Response.id > response.id
        ).limit(1)).scalar_one()
    _db.session.add(FollowUp(response_id=response.id, team_id=team.id, opened_at=now - timedelta(hours=1),
                             due_at=now + timedelta(days=2), reasons="overall=2.0"))  # today: the next digest's
    _db.session.commit()
    assert new_followup_count(leader, since, now) == 2
    assert new_followup_count(leader, now, now + timedelta(days=7)) == 1
    assert queue_due_digests(MONDAY) >= 1
    assert runner.invoke(args=["send-mail"]).exit_code == 0
    [mail] = smtp_server.to(leader.email)
    # Sent weeks after it was queued (the test runs after MONDAY): still the days before MONDAY only, so
    # the next digest's days do not overlap them.
    assert "Follow-ups: 2 opened from 09 Nov 2026 to 15 Nov 2026, " in mail.text
