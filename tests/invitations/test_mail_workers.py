"""Two real `flask --app wsgi send-invitations` processes on one outbox: every mail exactly once.

The SMTP server holds the first message until both processes are connected, so the two really
deliver at the same time (each holding claimed rows) whatever the machine's speed."""

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from perception.core.models import OutboxMessage
from perception.invitations.service import InvitationRequest, add_invitation
from tests.helpers import make_survey, make_team, server_env

ROOT = Path(__file__).resolve().parents[2]
MAILS = 60


def test_two_processes_deliver_every_mail_exactly_once(app, db, database, smtp_server):
    survey, team = make_survey(), make_team()
    for number in range(MAILS):
        add_invitation(InvitationRequest(survey=survey, team=team, email=f"c{number}@example.org"), commit=False)
    db.session.commit()
    db.session.remove()
    smtp_server.hold_until(2)
    env = server_env(database, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port), SMTP_STARTTLS="",
                     MAIL_FROM="Care <care@perception.test>", MAIL_BATCH_SIZE="7")
    flask = str(Path(sys.executable).with_name("flask"))

    workers = [subprocess.Popen([flask, "--app", "wsgi", "send-invitations"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [worker.communicate(timeout=180) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert smtp_server.session_count == 2
    received = Counter(mail.to for mail in smtp_server.messages)
    assert len(received) == MAILS and set(received.values()) == {1}
    sent_per_worker = [int(out.split("sent ")[1].split(",")[0]) for out, _err in outputs]
    assert sum(sent_per_worker) == MAILS and min(sent_per_worker) > 0, outputs
    statuses = db.session.execute(select(OutboxMessage.status)).scalars().all()
    assert statuses == ["sent"] * MAILS
    assert all(mail.link().startswith("http://perception.test/s/") for mail in smtp_server.messages)


def test_a_looping_worker_delivers_what_is_queued_later_and_stops_cleanly_on_sigterm(app, db, database,
                                                                                      smtp_server):
    survey, team = make_survey(), make_team()
    db.session.remove()
    env = server_env(database, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port), SMTP_STARTTLS="",
                     MAIL_FROM="Care <care@perception.test>")
    worker = subprocess.Popen([str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "send-invitations",
                               "--loop", "--interval", "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        add_invitation(InvitationRequest(survey=survey, team=team, email="later@example.org"))
        db.session.remove()
        deadline = time.monotonic() + 60  # a bound for a slow machine, not a measurement
        while not smtp_server.messages and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert [mail.to for mail in smtp_server.messages] == ["later@example.org"]
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert "sent 1" in out
