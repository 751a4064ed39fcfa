"""Mail throughput: `send-invitations` delivering 1,000 queued invitations (claim, render text + HTML,
send, record) in one process to a local aiosmtpd server (in a process of its own), against bare
smtplib sending messages of the same size over one connection to the same server (no database, no
templates)."""

import argparse
import contextlib
import smtplib
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from bench.common import PYTHON, ROOT, databases, flask_app, result, scratch_database


class _Server:
    def __init__(self, port, log):
        self.port, self.log = port, log

    def received(self):
        lines = Path(self.log).read_text().splitlines()
        return [(int(size), rcpt) for size, rcpt in (line.split(" ", 1) for line in lines)]

    def clear(self):
        Path(self.log).write_text("")


@contextlib.contextmanager
def smtp_server():
    with tempfile.TemporaryDirectory(prefix="perception-smtp-") as folder:
        log = Path(folder) / "received.log"
        log.write_text("")
        process = subprocess.Popen([PYTHON, "-m", "bench.smtp_counter", str(log)], cwd=ROOT,
                                   stdout=subprocess.PIPE, text=True)
        try:
            yield _Server(int(process.stdout.readline()), log)
        finally:
            process.terminate()
            process.wait(timeout=20)


def _seed(app, count):
    with app.app_context():
        from perception.extensions import db
        from perception.invitations import InvitationRequest, add_invitation
        from perception.models import Item, Survey, Team, User

        items = list(db.session.execute(db.select(Item).order_by(Item.id)).scalars())
        team = Team(name="Harbour Street branch")
        staff = User(email="kemi@example.com", name="Kemi Adeyemi", role="staff", team=team,
                     password_hash="!")  # noqa: S106  (no password: this account cannot log in)
        survey = Survey(slug="bench-mail", title="Bench", status="open", items=items, ask_nps=True)
        db.session.add_all([team, staff, survey])
        for number in range(count):
            add_invitation(InvitationRequest(survey=survey, team=team, staff=staff, email=f"c{number}@example.org",
                                             name=f"Customer {number}"), commit=False)
        db.session.commit()
        db.session.remove()


def _deliver(app, server):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_STARTTLS=False, SMTP_USER=None,
                      MAIL_BATCH_SIZE=100)
    with app.app_context():
        from perception.extensions import db
        from perception.mail import deliver_due

        start = time.perf_counter()
        report = deliver_due()
        elapsed = time.perf_counter() - start
        db.session.remove()
        db.engine.dispose()
    return report, elapsed


def _bare_smtplib(server, count, size):
    body = "x" * size
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port) as smtp:
        for number in range(count):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "a@bench", f"b{number}@example.org", "bench"
            message.set_content(body)
            smtp.send_message(message)
    return time.perf_counter() - start


def measure(database, count):
    with scratch_database(database) as env, smtp_server() as server:
        app = flask_app(env)
        _seed(app, count)
        report, elapsed = _deliver(app, server)
        received = server.received()
        size = sum(size for size, _rcpt in received) // max(len(received), 1)
        server.clear()
        bare = _bare_smtplib(server, count, size)
    return [result("mail", "send-invitations, 1 process", database, report.sent / elapsed, "emails/s",
                   count / bare, "bare smtplib, same server", mails=count, delivered=len(received),
                   distinct_recipients=len({rcpt for _size, rcpt in received}), mean_message_bytes=size)]


def main(quick=False):
    count = 50 if quick else 1000
    return [row for database in databases() for row in measure(database, count)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds, to prove the benchmark runs")
    arguments = parser.parse_args()
    from bench.report import print_table

    print_table(main(arguments.quick))
