"""One mail pipeline: every mail is an outbox row first (invitations, reminders, follow-up alerts,
re-survey links), written by one composer and sent by `flask send-mail`, exactly once."""

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from perception.core.extensions import db
from perception.core.models import FollowUp, Invitation, OutboxMessage, RecoveryRequest
from tests.core.test_migrations import _empty_database
from tests.helpers import bank_items, login, make_invitation, make_survey, make_team, make_user
from tests.loop_helpers import followup_of, invite_and_answer, page_post


@pytest.fixture
def survey(db):
    return make_survey("wave-1", items=bank_items(8))


def rows(**where):
    return list(db.session.execute(select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)).scalars())


def test_an_unhappy_answer_queues_its_alert_and_send_mail_sends_every_kind_once(app, db, runner, survey,
                                                                                  smtp_server):
    team = make_team()
    leader = make_user("leader", team=team)
    invitation = invite_and_answer(app.test_client(), survey, team, score=1, email="kim@example.net")
    followup = followup_of(invitation)
    [alert] = rows(follow_up_id=followup.id)
    assert (alert.kind, alert.status, alert.sequence, alert.invitation_id) == ("alert", "pending", 0, None)
    other, _token = make_invitation(survey, team, email="noor@example.net")
    db.session.add(OutboxMessage(invitation_id=other.id, kind="invitation", status="pending", attempts=0))
    db.session.commit()

    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "send-mail: sent 1" in result.output and "alerts and re-surveys: sent 1" in result.output
    assert [mail.to for mail in smtp_server.messages] == ["noor@example.net", leader.email]
    db.session.expire_all()
    assert {row.status for row in rows()} == {"sent"}
    assert db.session.get(FollowUp, followup.id).notified_at is not None
    again = runner.invoke(args=["send-mail"])
    assert "sent 0" in again.output and "alerts and re-surveys: sent 0" in again.output
    assert len(smtp_server.messages) == 2
    assert "same as send-mail" in runner.invoke(args=["send-invitations", "--help"]).output


def test_reassigning_cancels_the_unsent_alert_and_queues_one_for_the_new_assignee(app, db, client, survey,
                                                                                   smtp_server):
    team = make_team()
    first, second = make_user("leader", team=team), make_user("leader", team=team)
    followup = followup_of(invite_and_answer(app.test_client(), survey, team))
    smtp_server.refuse(second.email, "451 4.3.0 Try later")  # the new assignee's alert must wait
    login(client, first)
    assert page_post(client, f"/leaders/followups/{followup.reference}", "reassign",
                     {"assignee": str(second.id)}).status_code == 303
    first_alert, second_alert = rows(follow_up_id=followup.id)
    assert (first_alert.status, first_alert.last_error) == ("cancelled", "reassigned")
    assert (second_alert.sequence, second_alert.status, second_alert.attempts) == (1, "pending", 1)
    assert smtp_server.to(first.email) == []


def test_a_resurvey_that_could_not_go_out_is_not_sent_later_by_the_worker(app, db, client, runner, survey,
                                                                          smtp_server):
    team = make_team()
    leader = make_user("leader", team=team)
    invitation = invite_and_answer(app.test_client(), survey, team, email="lena@example.net", consent="yes")
    followup = followup_of(invitation)
    login(client, leader)
    path = f"/leaders/followups/{followup.reference}"
    assert page_post(client, path, "resolve", {"note": "Called."}).status_code == 303
    smtp_server.refuse("lena@example.net", "451 4.3.0 Try later")
    assert page_post(client, path, "recovery", {}).status_code == 400
    recovery = db.session.execute(select(RecoveryRequest)).scalar_one()
    [mail] = rows(recovery_id=recovery.id)
    assert (mail.kind, mail.status) == ("recovery", "cancelled")
    runner.invoke(args=["send-mail"])
    assert smtp_server.to("lena@example.net") == []
    assert page_post(client, path, "recovery", {}).status_code == 303
    assert [row.status for row in rows(recovery_id=recovery.id)] == ["cancelled", "sent"]
    assert len(smtp_server.to("lena@example.net")) == 1


def test_the_database_allows_one_subject_per_row(db, survey):
    invitation, _token = make_invitation(survey, make_team())
    db.session.add(OutboxMessage(kind="alert", status="pending", attempts=0))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(OutboxMessage(invitation_id=invitation.id, follow_up_id=None, kind="nonsense", attempts=0))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Invitation, invitation.id) is not None


def test_migration_0007_moves_pending_alerts_into_the_outbox(tmp_path, database):
    with _empty_database(tmp_path, database, "outbox"):
        upgrade(revision="0006")
        with db.engine.begin() as connection:
            run = connection.execute
            run(sa.text("INSERT INTO teams (id, name, created_at) VALUES (1, 'T', '2026-01-01')"))
            run(sa.text("INSERT INTO users (id, email, name, role, team_id, password_hash, active, created_at) "
                        "VALUES (1, 'l@example.com', 'L', 'leader', 1, 'x', true, '2026-01-01')"))
            run(sa.text("INSERT INTO surveys (id, slug, title, status, ask_nps, created_at) "
                        "VALUES (1, 's', 'S', 'open', true, '2026-01-01')"))
            for response_id in (1, 2):
                run(sa.text(f"INSERT INTO responses (id, survey_id, perspective, team_id, submitted_at, channel) "
                            f"VALUES ({response_id}, 1, 'customer', 1, '2026-01-02', 'link')"))
            for followup_id, notified in ((1, "NULL"), (2, "'2026-01-02'")):
                run(sa.text(f"INSERT INTO follow_ups (id, response_id, team_id, state, reasons, opened_at, due_at, "
                            f"assignee_id, notified_at, notify_attempts) VALUES ({followup_id}, {followup_id}, 1, "
                            f"'open', 'overall:1', '2026-01-02', '2026-01-04', 1, {notified}, 0)"))
        upgrade()
        with db.engine.connect() as connection:
            moved = connection.execute(sa.text("SELECT follow_up_id, kind, status FROM outbox_messages")).all()
        assert [tuple(row) for row in moved] == [(1, "alert", "pending")]
