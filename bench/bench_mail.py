"""Mail throughput and exactly-once: `flask --app wsgi send-invitations` delivering a queue of
invitations (claim, render text + HTML, send, record) to a local aiosmtpd server in a process of
its own (bench/smtp_counter.py), once with one sender process and once, on a fresh queue of new
invitations, with two sender processes started at the same time.

Counts: 2,000 invitations per run on PostgreSQL (the scale-out database, where two senders make
sense; the rate is steady long before: on one machine 5,000 gave 226 and 350 a second and 2,000 gave
257 and 344, and 5,000 took `make bench` past its 10 minutes on that machine, three times slower
than earlier ones); 1,000 on SQLite (one writer at a time anyway).
--quick: 50 per run on each database.

emails/s is the rate at the server, from the first invitation it received to the last (the start-up
of the Flask command, about 2-3 s per process here, left out as it is from the baseline);
`end_to_end` divides by the wall time of the command(s) instead, start-up included (`wall_s`).
Baseline, measured in the same run against the same server: bare smtplib sending pre-written
messages of the same size over one connection (no database, no templates, no MIME writing), i.e.
what this server and smtplib allow at most; `bare_two_connections` is the same from two processes
at once, which shows whether the server itself is the limit for two senders.

Exactly-once is checked, not assumed: every invitation's address must reach the server exactly once,
every outbox row must be `sent`, and the senders' own counts must add up (with both senders having
sent some). A violation raises, so `make bench` fails.
"""

import argparse
import contextlib
import multiprocessing
import smtplib
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import PYTHON, ROOT, databases, flask_app, result, scratch_database

COUNTS = {"postgresql": 2_000, "sqlite": 1_000}
QUICK_COUNT = 50
BARE_COUNT = 2_000  # enough for a steady rate; the baseline need not send the whole queue


class _Server:
    def __init__(self, port, log):
        self.port, self.log = port, log

    def received(self):
        """[(arrival, size, recipients)] of every message the server accepted since the last clear()."""
        lines = Path(self.log).read_text().splitlines()
        return [(float(when), int(size), rcpt) for when, size, rcpt in (line.split(" ", 2) for line in lines)]

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


def _seed(app, count, prefix):
    """Queue `count` invitations (one outbox row each) to <prefix><n>@example.org."""
    with app.app_context():
        from perception.core.extensions import db
        from perception.core.models import Item, Survey, Team, User
        from perception.invitations.service import InvitationRequest, add_invitation

        survey = db.session.execute(db.select(Survey).where(Survey.slug == "bench-mail")).scalar_one_or_none()
        if survey is None:
            items = list(db.session.execute(db.select(Item).order_by(Item.id)).scalars())
            team = Team(name="Harbour Street branch")
            staff = User(email="kemi@example.com", name="Kemi Adeyemi", role="staff", team=team,
                         password_hash="!")  # noqa: S106  (no password: this account cannot log in)
            survey = Survey(slug="bench-mail", title="Bench", status="open", items=items, ask_nps=True)
            db.session.add_all([team, staff, survey])
        else:
            team = db.session.execute(db.select(Team)).scalar_one()
            staff = db.session.execute(db.select(User)).scalar_one()
        for number in range(count):
            request = InvitationRequest(survey=survey, team=team, staff=staff, email=f"{prefix}{number}@example.org",
                                        name=f"Customer {number}", language="de" if number % 5 == 0 else None)
            add_invitation(request, commit=False)
            if number % 2000 == 1999:
                db.session.commit()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _send_invitations(env, server, processes):
    """Run `processes` send-invitations commands at once; (wall seconds, [sent by each])."""
    env = dict(env, SMTP_HOST="127.0.0.1", SMTP_PORT=str(server.port), SMTP_STARTTLS="", SMTP_USER="",
               MAIL_FROM="Care Team <care@bench.invalid>")
    command = [PYTHON, "-m", "flask", "--app", "wsgi", "send-invitations"]
    start = time.perf_counter()
    workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(processes)]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    elapsed = time.perf_counter() - start
    for worker, (out, err) in zip(workers, outputs, strict=True):
        if worker.returncode != 0:
            raise RuntimeError(f"send-invitations failed ({worker.returncode}): {out[-500:]} {err[-2000:]}")
    return elapsed, [int(out.split("sent ", 1)[1].split(",", 1)[0]) for out, _err in outputs]


def _outbox_statuses(app):
    with app.app_context():
        from perception.core.extensions import db
        from perception.core.models import OutboxMessage

        statuses = Counter(db.session.execute(db.select(OutboxMessage.status)).scalars())
        db.session.remove()
        db.engine.dispose()
    return statuses


def _check_exactly_once(received, prefix, count, statuses, sent_by, processes):
    """Every address exactly once at the server, the outbox all sent, the senders' counts adding up."""
    per_address = Counter(rcpt for _when, _size, rcpt in received)
    expected = {f"{prefix}{number}@example.org" for number in range(count)}
    problems = []
    if set(per_address) != expected:
        missing, unexpected = len(expected - set(per_address)), len(set(per_address) - expected)
        problems.append(f"{missing} addresses missing, {unexpected} unexpected")
    duplicates = sum(times - 1 for times in per_address.values())
    if duplicates:
        problems.append(f"{duplicates} duplicate deliveries")
    if statuses != Counter({"sent": statuses.get("sent", 0)}) or statuses["sent"] < count:
        problems.append(f"outbox not all sent: {dict(statuses)}")
    # Both senders must have worked, or the two-process figure means nothing (a tiny --quick
    # queue may all go to the sender that starts first: one claim batch holds it).
    if sum(sent_by) != count or (processes > 1 and count >= 2000 and min(sent_by) == 0):
        problems.append(f"senders report {sent_by} for {count} invitations")
    if problems:
        raise RuntimeError(f"exactly-once violated with {processes} process(es): " + "; ".join(problems))
    return duplicates


def _bare_smtplib(port, count, size, prefix="bare"):
    """(start, end) on the monotonic clock of bare smtplib sending `count` pre-written messages of
    `size` bytes over one connection."""
    body = ("x" * 76 + "\r\n") * max(size // 78, 1)
    start = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for number in range(count):
            recipient = f"{prefix}{number}@example.org"
            smtp.sendmail("care@bench.invalid", [recipient],
                          f"From: care@bench.invalid\r\nTo: {recipient}\r\nSubject: bench\r\n\r\n{body}".encode())
    return start, time.monotonic()


def _bare_two_connections(port, count, size):
    """Messages per second for two processes each running _bare_smtplib at once (timed from the
    first start to the last end, so the start-up of the processes does not count)."""
    half = count // 2
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        spans = pool.starmap(_bare_smtplib, [(port, half, size, "bare-a"), (port, half, size, "bare-b")])
    return 2 * half / (max(end for _start, end in spans) - min(start for start, _end in spans))


def measure(database, count):
    rows = []
    with scratch_database(database) as env, smtp_server() as server:
        env = {key: value for key, value in env.items() if not key.startswith(("SMTP_", "MAIL_"))}
        app = flask_app(env)
        runs = {}
        for processes, prefix in ((1, "one"), (2, "two")):
            _seed(app, count, prefix)
            server.clear()
            elapsed, sent_by = _send_invitations(env, server, processes)
            received = server.received()
            statuses = _outbox_statuses(app)
            runs[processes] = (elapsed, sent_by, received,
                               _check_exactly_once(received, prefix, count, statuses, sent_by, processes))
        size = sum(size for _when, size, _rcpt in runs[1][2]) // len(runs[1][2])
        bare_count = min(count, BARE_COUNT)
        server.clear()
        start, end = _bare_smtplib(server.port, bare_count, size)
        bare_rate = bare_count / (end - start)
        bare_two = _bare_two_connections(server.port, bare_count, size)
    for processes, (elapsed, sent_by, received, duplicates) in runs.items():
        arrivals = [when for when, _size, _rcpt in received]
        sending = (len(arrivals) - 1) / max(max(arrivals) - min(arrivals), 1e-9)  # first to last mail
        rows.append(result("mail", f"send-invitations, {processes} process{'es' if processes > 1 else ''}", database,
                           sending, "emails/s", bare_rate, "bare smtplib, same server", mails=count,
                           delivered=len(received), duplicates=duplicates, exactly_once=True,
                           sent_per_process="+".join(map(str, sent_by)), wall_s=round(elapsed, 1),
                           end_to_end=round(count / elapsed, 1), mean_message_bytes=size,
                           bare_two_connections=round(bare_two, 1)))
    return rows


def main(quick=False):
    return [row for database in databases()
            for row in measure(database, QUICK_COUNT if quick else COUNTS[database])]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds, to prove the benchmark runs")
    arguments = parser.parse_args()
    from bench.report import print_table

    started = time.monotonic()
    print_table(main(arguments.quick))
    print(f"\nmail benchmark took {time.monotonic() - started:.0f} s")
