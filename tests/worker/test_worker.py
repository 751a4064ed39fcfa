"""`flask worker`: one `--once` delivers a signed followup.opened after an unhappy answer (and the
assignee's alert); periodic jobs run once per period among several workers; overdue follow-ups are
announced once each; a long tick claims each batch at its own time, so a second worker takes none of
it back; the loop prints a health line and stops cleanly on SIGTERM."""

import asyncio
import json
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from perception.core.models import FollowUp, OutboxMessage, WebhookDelivery, utcnow
from perception.core.webhooks_outbox import emit
from perception.invitations.service import InvitationRequest, add_invitation
from perception.webhooks.service import add_endpoint
from perception.worker import service as worker_service
from perception.worker.service import JOBS, Job, run_tick, take_turn
from tests.helpers import bank_items, make_survey, make_team, make_user, server_env
from tests.loop_helpers import followup_of, invite_and_answer
from tests.webhook_receiver import running_receiver, signature_ok

ROOT = Path(__file__).resolve().parents[2]
JOB = {job.name: job for job in JOBS}


class SteppedClock:
    """The workers' clock in a test: it stands still until the test moves it (a mail or a POST "takes"
    minutes), so a long tick is played out without waiting."""

    def __init__(self):
        self.now, self.lock = utcnow(), threading.Lock()

    def __call__(self):
        with self.lock:
            return self.now

    def advance(self, delta):
        with self.lock:
            self.now += delta


def test_one_worker_once_delivers_a_signed_followup_opened_after_an_unhappy_answer(app, db, client, runner,
                                                                                   smtp_server):
    survey, team = make_survey(items=bank_items()), make_team()
    make_user("leader", team=team)
    with running_receiver() as receiver:
        _endpoint, secret = add_endpoint(receiver.url, ["followup.opened"])
        invitation = invite_and_answer(client, survey, team, score=1, email="dana@example.org",
                                       name="Dana Kowalski", consent="no")
        assert receiver.requests == []  # queued in the answer's transaction, sent by the worker
        followup_reference = followup_of(invitation).reference
        result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    [(headers, body)] = receiver.requests
    assert signature_ok(secret, headers["Perception-Signature"], body)
    event = json.loads(body)
    assert event["type"] == "followup.opened"
    assert event["data"]["follow_up"]["id"] == followup_reference
    assert "dana" not in body.decode().lower()
    lines = result.output.splitlines()
    assert [line.split(":")[1].strip() for line in lines[:-1]] == [job.name for job in JOBS]
    assert "webhooks: delivered 1" in result.output and "follow-up mail: sent 1" in result.output
    assert lines[-1].startswith("worker health ") and " ok; " in lines[-1]
    assert "dana" not in result.output.lower()
    # The assignee's alert went out in the same tick (beside the leader's first weekly digest).
    subjects = [message.message["Subject"] for message in smtp_server.messages]
    assert sum("needs a follow-up" in subject for subject in subjects) == 1, subjects
    assert "digest mail: sent 1" in result.output


def test_a_periodic_job_runs_once_per_period_whichever_worker_asks(app, db):
    job, now = Job("probe", timedelta(minutes=1), lambda clock: {}), utcnow()
    assert take_turn(job, now) is True
    assert take_turn(job, now + timedelta(seconds=59)) is False  # another worker, same period
    assert take_turn(job, now + timedelta(seconds=60)) is True
    assert take_turn(Job("every tick", timedelta(0), lambda clock: {}), now) is True


def test_overdue_follow_ups_are_announced_once_each(app, db, client):
    survey, team = make_survey(items=bank_items()), make_team()
    add_endpoint("https://crm.example.com/hooks", ["followup.overdue"])
    invitation = invite_and_answer(client, survey, team, score=1)
    due = followup_of(invitation).due_at
    overdue = [job for job in JOBS if job.name == "overdue follow-ups"]

    def announced():
        return db.session.execute(
            select(WebhookDelivery.body).where(WebhookDelivery.event_type == "followup.overdue")).scalars().all()

    run_tick(due - timedelta(minutes=5), jobs=overdue)
    assert announced() == []
    [outcome] = run_tick(due + timedelta(minutes=1), jobs=overdue)
    assert outcome.counts == {"announced": 1}
    run_tick(due + timedelta(hours=1), jobs=overdue)
    [body] = announced()
    assert "is overdue" in json.loads(body)["text"]
    assert db.session.execute(select(FollowUp.overdue_announced_at)).scalar_one() is not None


def test_a_failing_job_is_reported_and_the_others_still_run(app, db):
    def broken(clock):
        raise RuntimeError("boom")

    outcomes = run_tick(jobs=[Job("broken", timedelta(0), broken), Job("fine", timedelta(0), lambda clock: {"n": 1})])
    assert [(o.job, o.error, o.counts) for o in outcomes] == [
        ("broken", "RuntimeError", None), ("fine", None, {"n": 1})]


def test_a_long_tick_claims_each_mail_batch_at_its_time_so_another_worker_takes_none_back(app, db, smtp_server,
                                                                                         monkeypatch):
    """Each mail takes 5 minutes; 15 minutes into worker A's tick (STALE_CLAIM), worker B's tick starts
    and hands back the claims older than STALE_CLAIM. A claimed the row it is sending a moment ago; a
    claim stamped with the tick's start made B send it a second time."""
    app.config["MAIL_BATCH_SIZE"] = 1
    survey, team = make_survey(), make_team()
    for number in range(6):
        add_invitation(InvitationRequest(survey=survey, team=team, email=f"c{number}@example.org"), commit=False)
    db.session.commit()
    db.session.remove()
    clock = SteppedClock()  # after the rows are queued: they are due at its start
    monkeypatch.setattr(worker_service, "utcnow", clock)
    recorder, calls, ticks_of_b = smtp_server._recorder, [], []
    relay = recorder.handle_DATA

    def worker_b():
        with app.app_context():
            ticks_of_b.append(run_tick(jobs=[JOB["invitations"]]))

    async def slow_relay(server, session, envelope):
        clock.advance(timedelta(minutes=5))
        calls.append(envelope)
        if len(calls) == 4:  # A's fourth mail, 20 minutes into its tick: B's tick runs meanwhile
            await asyncio.get_running_loop().run_in_executor(None, worker_b)
        return await relay(server, session, envelope)

    recorder.handle_DATA = slow_relay
    [tick_of_a] = run_tick(jobs=[JOB["invitations"]])
    [[tick_of_b]] = ticks_of_b
    received = Counter(mail.to for mail in smtp_server.messages)
    assert received == Counter({f"c{number}@example.org": 1 for number in range(6)}), (tick_of_a, tick_of_b)
    assert tick_of_a.counts["sent"] == 4 and tick_of_b.counts["sent"] == 2
    assert set(db.session.execute(select(OutboxMessage.status)).scalars()) == {"sent"}


def test_a_long_tick_claims_each_delivery_at_its_time_and_signs_it_when_sent(app, db, monkeypatch):
    """Each POST takes 2 minutes; 8 minutes into worker A's tick, worker B's tick hands back the claims
    older than STALE_CLAIM (5 minutes): none of A's, which claims each batch when it takes it. Every
    signature's `t` is the moment of its POST, not the tick's start."""
    app.config["WEBHOOK_BATCH_SIZE"] = 1
    lock, arrivals, ticks_of_b = threading.Lock(), [], []
    with running_receiver() as receiver:
        add_endpoint(receiver.url, ["followup.opened"])
        for number in range(6):
            emit("followup.opened", {"n": number}, "line")
        db.session.commit()
        db.session.remove()
        clock = SteppedClock()  # after the rows are queued: they are due at its start
        monkeypatch.setattr(worker_service, "utcnow", clock)

        def slow_receiver(headers, _body):
            signed = dict(part.split("=", 1) for part in headers["Perception-Signature"].split(","))["t"]
            with lock:
                arrivals.append((int(clock().timestamp()), int(signed)))
                clock.advance(timedelta(minutes=2))
                place = len(arrivals)
            if place == 4:  # A's fourth POST: B's tick runs meanwhile
                with app.app_context():
                    ticks_of_b.append(run_tick(jobs=[JOB["webhooks"]]))

        receiver.on_request = slow_receiver
        [tick_of_a] = run_tick(jobs=[JOB["webhooks"]])
    [[tick_of_b]] = ticks_of_b
    received = Counter(json.loads(body)["id"] for body in receiver.bodies())
    assert sorted(received.values()) == [1] * 6, (tick_of_a, tick_of_b)
    assert tick_of_a.counts["delivered"] == 4 and tick_of_b.counts["delivered"] == 2
    assert [signed for _arrived, signed in arrivals] == [arrived for arrived, _signed in arrivals]


def test_the_loop_prints_a_health_line_and_stops_cleanly_on_sigterm(app, db, database):
    db.session.remove()
    env = server_env(database, SMTP_HOST="127.0.0.1", SMTP_PORT="1")
    worker = subprocess.Popen([str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "worker",
                               "--interval", "60"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().startswith("worker: started")
        health = worker.stdout.readline()
        assert health.startswith("worker health ") and "webhooks: delivered 0" in health
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert out.strip().endswith("worker: stopped")
