"""Shared pieces of the benchmarks: scratch databases, gunicorn servers, timing and the result format.

Every speed figure is reported with a baseline measured in the same run on the same database, so
the ratio means something on a noisy shared machine."""

import atexit
import contextlib
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url():
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return url
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()


@contextlib.contextmanager
def scratch_database(kind):
    """Yield the environment for a migrated, empty database of `kind` ('sqlite' or 'postgresql')."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_SCHEMA")}
    env.update({"SECRET_KEY": "bench-secret", "BASE_URL": "http://bench.invalid", "RATELIMIT_ENABLED": "false",
                "PYTHONWARNINGS": "ignore"})
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="perception-bench-") as folder:
            _copy_sqlite(_migrated_sqlite_template(env), f"{folder}/bench.db")
            env["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
            yield env
        return
    url = postgres_url()
    if url is None:
        raise RuntimeError("PostgreSQL is not reachable")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    env.update({"DATABASE_URL": url, "DATABASE_SCHEMA": schema})
    try:
        migrate(env)
        yield env
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


_SQLITE_TEMPLATE = []  # [path]: the one migrated, empty SQLite file of this process


def _migrated_sqlite_template(env):
    """A migrated, empty SQLite file, made once per process and copied for every scratch database
    (`flask db upgrade` takes 3 s a time on a slow machine, and `--quick` asks for ten of them)."""
    if not _SQLITE_TEMPLATE:
        folder = tempfile.mkdtemp(prefix="perception-bench-template-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        migrate(env | {"DATABASE_URL": f"sqlite:///{folder}/template.db"})
        _SQLITE_TEMPLATE.append(f"{folder}/template.db")
    return _SQLITE_TEMPLATE[0]


def _copy_sqlite(source, target):
    """Copy with SQLite's online backup, so a WAL file beside the source cannot be left behind."""
    with contextlib.closing(sqlite3.connect(source)) as reader, contextlib.closing(sqlite3.connect(target)) as writer:
        reader.backup(writer)


def analyze(connection):
    """Table statistics, as autovacuum or a DBA would have gathered them by now. On PostgreSQL only
    the app's tables in this schema: a bare ANALYZE covers the whole database, other schemas (a test
    run, another benchmark) included, and deadlocks with their own ANALYZE."""
    if connection.dialect.name != "postgresql":
        connection.exec_driver_sql("ANALYZE")
        return
    from perception.core.extensions import db

    tables = ", ".join(connection.dialect.identifier_preparer.quote(table.name) for table in db.metadata.sorted_tables)
    connection.exec_driver_sql(f"ANALYZE {tables}")


def migrate(env):
    subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)


def flask_app(env):
    """A Perception app in this process, bound to the scratch database described by `env`."""
    previous = dict(os.environ)
    os.environ.update(env)
    try:
        from perception import create_app

        return create_app({"RATELIMIT_ENABLED": False})
    finally:
        os.environ.clear()
        os.environ.update(previous)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app_spec, env, workers=2):
    """Serve `app_spec` (module:callable) with gunicorn on a free loopback port."""
    port = free_port()
    command = [PYTHON, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
               "--no-control-socket", "--log-level", "warning", app_spec]
    base = f"http://127.0.0.1:{port}"
    # A file, not a pipe: a chatty server can never block on a full pipe.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            _wait_until_serving(base, process, log)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)
            if os.environ.get("SERVER_LOG"):  # keep the server's log for a person to read
                log.seek(0)
                Path(os.environ["SERVER_LOG"]).write_bytes(log.read())


def _wait_until_serving(base, process, log):
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/bench-ready", timeout=2):  # noqa: S310 (loopback)
                return
        except urllib.error.HTTPError as error:
            error.close()
            return  # the server answers: ready
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("gunicorn did not start: " + log.read().decode()[-2000:]) from None
            time.sleep(0.2)


@contextlib.contextmanager
def counted_statements(engine):
    """Collect the SQL statements sent to `engine` inside the block: `with ... as seen: len(seen)`."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed(call, repeat=5, warm=True):
    """Best and median wall time of `repeat` calls (after one warm-up call unless `warm` is False)."""
    if warm:
        call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {"best_s": min(times), "median_s": statistics.median(times)}


def result(benchmark, case, database, value, unit, baseline=None, baseline_name=None, higher_is_better=True,
           **extra):
    """One row of the results table."""
    row = {"benchmark": benchmark, "case": case, "database": database, "value": value, "unit": unit,
           "baseline": baseline, "baseline_name": baseline_name, "higher_is_better": higher_is_better}
    if baseline:
        row["ratio"] = value / baseline
    row.update(extra)
    return row


def databases():
    kinds = ["sqlite"]
    if os.environ.get("BENCH_DATABASES") == "sqlite":  # make test's quick run: SQLite only (see its test)
        return kinds
    if postgres_url():
        kinds.append("postgresql")
    elif os.environ.get("CI") == "true":
        raise RuntimeError("PostgreSQL is unreachable and CI=true")
    return kinds
