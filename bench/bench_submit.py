"""Submit throughput: the real customer submit path (session lookup of the invitation, validation,
response + answers in one transaction, redirect to the thank-you page) under gunicorn with two
workers, against a bare Flask route inserting one row on the same database under the same gunicorn.
Target: at least 0.5 of the baseline's requests per second, on SQLite (WAL) and PostgreSQL.

A second reference is measured in the same run, the floor (bench.floor_app): a bare Flask app with
Flask-WTF (CSRF on), a signed cookie session, a form of the same fields and one response row plus
its answer rows inserted with Core, driven the same way. The app against the floor tells how much
of the gap to the bare insert is the framework, forms and CSRF, and how much is the app's own."""

import argparse
import json
import subprocess
import tempfile
from collections import Counter

from bench.common import PYTHON, ROOT, analyze, databases, flask_app, gunicorn, percentile, result

CONCURRENCY = 8
# Each server first takes a tenth as many requests untimed (its workers warm, the tables non-empty),
# then the app's database is analysed, as autovacuum would have by then: a scratch PostgreSQL schema
# grown from empty without statistics plans the report-cell statement for empty tables, and its
# time then grows with every response stored (1.2 -> 4 ms a submit over 900 submits; 0.5 ms flat
# with statistics). The timed requests follow.
WARM_FRACTION = 10


def _seed(env, count):
    app = flask_app(env)
    with app.app_context():
        from perception.core.extensions import db
        from perception.core.models import Item, Survey, Team
        from perception.invitations.service import create_invitation

        items = list(db.session.execute(db.select(Item).order_by(Item.id)).scalars())
        survey = Survey(slug="bench", title="Bench", status="open", items=items, ask_nps=True)
        team = Team(name="Bench team")
        db.session.add_all([survey, team])
        tokens = [create_invitation(survey, team)[1] for _ in range(count)]
        db.session.commit()
        form = {f"item_{item.key}": str(1 + index % 5) for index, item in enumerate(items)}
        form |= {"comment": "Benchmark comment", "nps": "8"}
        db.session.remove()
        db.engine.dispose()
    return tokens, form


def _drive(job):
    with tempfile.TemporaryDirectory() as folder:
        job_path, out_path = f"{folder}/job.json", f"{folder}/out.json"
        with open(job_path, "w") as handle:
            json.dump(job, handle)
        subprocess.run([PYTHON, "-m", "bench.load", job_path, out_path], cwd=ROOT, check=True)
        with open(out_path) as handle:
            return json.load(handle)


def _summary(outcome, ok_status):
    statuses = Counter(outcome["statuses"])
    count = len(outcome["statuses"])
    return {
        "requests": count,
        "rps": count / outcome["elapsed_s"],
        "p50_ms": 1000 * percentile(outcome["latencies_s"], 0.5),
        "p99_ms": 1000 * percentile(outcome["latencies_s"], 0.99),
        "errors": count - statuses.get(ok_status, 0),
    }


def measure(database, count):
    from bench.common import scratch_database

    warm = count // WARM_FRACTION
    with scratch_database(database) as env:
        tokens, form = _seed(env, count + warm)
        baseline_env = env | {"BENCH_BASELINE_SERVE": "1"}
        from bench import baseline_app

        _with_env(baseline_env, baseline_app.create_table)
        with gunicorn("bench.baseline_app:app", baseline_env) as base:
            job = {"kind": "baseline", "base": base, "path": "/insert", "concurrency": CONCURRENCY}
            _drive(job | {"count": warm})
            baseline = _summary(_drive(job | {"count": count}), 303)
        floor_env = env | {"BENCH_FLOOR_SERVE": "1", "FLOOR_ITEM_KEYS": ",".join(_item_keys(form))}
        from bench import floor_app

        _with_env(floor_env, floor_app.create_tables)
        with gunicorn("bench.floor_app:app", floor_env) as base:
            job = {"kind": "form", "base": base, "path": "/form", "form": form, "concurrency": CONCURRENCY}
            _drive(job | {"count": warm})
            floor = _summary(_drive(job | {"count": count}), 303)
        with gunicorn("wsgi:app", env) as base:
            job = {"kind": "submit", "base": base, "form": form, "concurrency": CONCURRENCY}
            _drive(job | {"tokens": tokens[count:]})
            _analyze(env)
            app = _summary(_drive(job | {"tokens": tokens[:count]}), 303)
        stored = _stored_responses(env)
    return [
        result("submit", "customer submit vs bare insert", database, app["rps"], "req/s", baseline["rps"],
               "bare Flask insert", p50_ms=app["p50_ms"], p99_ms=app["p99_ms"], errors=app["errors"],
               baseline_p50_ms=baseline["p50_ms"], baseline_p99_ms=baseline["p99_ms"],
               baseline_errors=baseline["errors"], requests=count, warm_requests=warm, stored_responses=stored,
               target_ratio=0.5),
        result("submit", "customer submit vs floor", database, app["rps"], "req/s", floor["rps"],
               "Flask-WTF form + CSRF + session + Core insert", p50_ms=app["p50_ms"], p99_ms=app["p99_ms"],
               errors=app["errors"], baseline_p50_ms=floor["p50_ms"], baseline_p99_ms=floor["p99_ms"],
               baseline_errors=floor["errors"], floor_vs_bare_insert=floor["rps"] / baseline["rps"]),
    ]


def _analyze(env):
    app = flask_app(env)
    with app.app_context():
        from perception.core.extensions import db

        with db.engine.begin() as connection:
            analyze(connection)
        db.engine.dispose()


def _item_keys(form):
    return [name.removeprefix("item_") for name in form if name.startswith("item_")]


def _with_env(env, call):
    import os

    previous = dict(os.environ)
    os.environ.update(env)
    try:
        return call()
    finally:
        os.environ.clear()
        os.environ.update(previous)


def _stored_responses(env):
    app = flask_app(env)
    with app.app_context():
        from perception.core.extensions import db
        from perception.core.models import Response

        count = db.session.execute(db.select(db.func.count()).select_from(Response)).scalar()
        db.session.remove()
        db.engine.dispose()
    return count


def main(quick=False):
    # 600 timed submits a server (the p99 is then the 6th slowest): 1000 took `make bench` past its 10 minutes
    # on a machine three times slower than the one that chose it.
    count = 60 if quick else 600
    return [row for database in databases() for row in measure(database, count)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds, to prove the benchmark runs")
    arguments = parser.parse_args()
    from bench.report import print_table

    print_table(main(arguments.quick))
