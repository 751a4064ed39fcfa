"""The peer: django-survey-and-report (pinned below), a Django survey app on PyPI, beside the app in
the same run, on SQLite in WAL mode, each served by gunicorn with the same settings (2 sync
workers) and driven by the same load generator (bench.load, 8 concurrent clients).

The peer's survey has the same questions as the app's wave: 16 statements of 1-5 (required), a
comment and the 0-10 recommendation, on one page. Both sides are timed loading the form (GET) and
submitting it (POST, after a GET for the session and CSRF token, as a browser does); every stored
row is counted on both sides afterwards (responses and answers), so a fast error cannot pass for
a fast submit. Reported: ours / peer (requests per second). Target: ours >= 5 x the peer's submit.

The peer lives in a venv of its own, made once under the temporary folder and kept there keyed
by its pins (a later run reuses it; delete the folder to rebuild it). Needs PyPI the first time."""

import argparse
import hashlib
import json
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.bench_submit import _drive, _summary
from bench.common import ROOT, flask_app, free_port, gunicorn, result, scratch_database

PINS = ("django-survey-and-report==1.5.0", "Django==5.2.20", "gunicorn==27.0.1")
PEER_DIR = ROOT / "bench" / "peer"
CONCURRENCY = 8
SUBMIT_TARGET = 5.0


def peer_python():
    """The peer venv's python, made (pip install of PINS) if this machine has none yet."""
    key = hashlib.sha256(" ".join(PINS).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"perception-bench-peer-{key}"
    python = folder / "bin" / "python"
    if not (folder / "installed").exists():
        subprocess.run([os.environ.get("PEER_BASE_PYTHON", "python3"), "-m", "venv", "--clear", str(folder)],
                       check=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PINS],
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"installing the peer ({', '.join(PINS)}) failed: {done.stderr[-2000:]}")
        (folder / "installed").write_text("\n".join(PINS) + "\n")
    return python


def _peer_env(database):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PYTHON"))}
    return env | {"PEER_DATABASE": str(database), "DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(PEER_DIR)}


def _peer_script(python, env, *args):
    done = subprocess.run([str(python), str(PEER_DIR / "seed.py"), *map(str, args)], cwd=PEER_DIR, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


class _PeerServer:
    """gunicorn serving the peer with the app's settings (2 sync workers, loopback)."""

    def __init__(self, python, env):
        self.python, self.env, self.port = python, env, free_port()

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [str(self.python), "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
             "--no-control-socket", "--log-level", "warning", "wsgi:application"],
            cwd=PEER_DIR, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        base, deadline = f"http://127.0.0.1:{self.port}", time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/survey/", timeout=2):  # noqa: S310 (loopback)
                    return base
            except urllib.error.HTTPError as error:
                error.close()
                return base
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise RuntimeError("the peer did not start: " + self.log.read().decode()[-2000:]) from None
                time.sleep(0.2)

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


def _ours(count):
    with scratch_database("sqlite") as env:
        from bench.bench_submit import _seed

        tokens, form = _seed(env, 2 * count)
        with gunicorn("wsgi:app", env) as base:
            get = _summary(_drive({"kind": "get", "base": base, "path": "/s/answer", "tokens": tokens[count:],
                                   "concurrency": CONCURRENCY}), 200)
            post = _summary(_drive({"kind": "submit", "base": base, "tokens": tokens[:count], "form": form,
                                    "concurrency": CONCURRENCY}), 303)
        stored = _stored(env)
    return get, post, stored, sum(name.startswith("item_") for name in form)


def _stored(env):
    app = flask_app(env)
    with app.app_context():
        from perception.core.extensions import db
        from perception.core.models import Answer, Response

        stored = {"responses": db.session.execute(db.select(db.func.count()).select_from(Response)).scalar(),
                  "answers": db.session.execute(db.select(db.func.count()).select_from(Answer)).scalar()}
        db.session.remove()
        db.engine.dispose()
    return stored


def _peer(count, statements):
    python = peer_python()
    with tempfile.TemporaryDirectory(prefix="perception-bench-peer-") as folder:
        env = _peer_env(Path(folder) / "peer.db")
        survey = _peer_script(python, env, statements)
        with _PeerServer(python, env) as base:
            get = _summary(_drive({"kind": "get", "base": base, "path": survey["path"], "count": count,
                                   "concurrency": CONCURRENCY}), 200)
            post = _summary(_drive({"kind": "form", "base": base, "path": survey["path"], "count": count,
                                    "form": survey["form"], "csrf_field": "csrfmiddlewaretoken",
                                    "concurrency": CONCURRENCY}), 302)
        stored = _peer_script(python, env, "count")
    return get, post, stored


def main(quick=False):
    count = 20 if quick else 300  # the peer serves ~20 a second: 300 keeps it near 30 s a side
    ours_get, ours_post, ours_stored, statements = _ours(count)
    peer_get, peer_post, peer_stored = _peer(count, statements)
    rows = []
    for case, ours, peer in (("form (GET)", ours_get, peer_get), ("submit (POST)", ours_post, peer_post)):
        extra = {"p50_ms": ours["p50_ms"], "p99_ms": ours["p99_ms"], "errors": ours["errors"],
                 "peer_p50_ms": peer["p50_ms"], "peer_p99_ms": peer["p99_ms"], "peer_errors": peer["errors"],
                 "requests": count, "statements": statements, "concurrency": CONCURRENCY}
        if case.startswith("submit"):
            extra |= {"stored_responses": ours_stored["responses"], "stored_answers": ours_stored["answers"],
                      "peer_stored_responses": peer_stored["responses"], "peer_stored_answers": peer_stored["answers"],
                      "target_ratio": SUBMIT_TARGET}
        rows.append(result("peer", f"{case} vs django-survey-and-report 1.5.0", "sqlite", ours["rps"], "req/s",
                           peer["rps"], "peer, same gunicorn, SQLite WAL", **extra))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 requests each, to prove the benchmark runs")
    arguments = parser.parse_args()
    from bench.report import print_table

    print_table(main(arguments.quick))
