"""Import speed and memory (`make bench`; alone: `python -m bench.bench_import [--rows N ...] [--db D]`).

Generates a CSV of N rows (16 items, 200 teams by default, every row a distinct named respondent: the most work
for the "already stored?" check), imports it into a fresh database in this process, and reports rows
per second and the growth of the process's peak memory during the import (bench/peak.py), then imports
the same file again (every row skipped). The baseline, measured in the same run and database: the
same rows and answers written by one bare executemany each into two plain tables (no checks, no
report cells). Issue 17's target: 10,000 rows a second, memory flat in the file's size."""

import argparse
import csv
import itertools
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.common import databases, flask_app, scratch_database
from bench.peak import peak_mb, reset_peak

ITEMS = 16
TEAMS = 200


def write_file(path, rows, item_keys, seed=2026, teams=TEAMS):
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["perspective", "respondent", "team", "submitted_at", *item_keys, "comment", "nps"])
        for index in range(rows):
            moment = start + timedelta(seconds=rng.randrange(365 * 86400))
            scores = [str(rng.randint(1, 5)) for _ in item_keys]
            writer.writerow(["customer", f"customer{index}@example.net", f"Branch {index % teams:03d}",
                             moment.isoformat(), *scores, "", str(rng.randint(0, 10))])


def bare_insert(engine, path, item_count):
    """Rows per second of the baseline: the file's rows and answers inserted with one executemany each."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    counter = itertools.count(1)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE bench_bare_rows (id INTEGER PRIMARY KEY, respondent TEXT, "
                                   "team TEXT, submitted_at TEXT)"))
        connection.execute(sa.text("CREATE TABLE bench_bare_answers (row_id INTEGER, item INTEGER, score INTEGER)"))
        ids = [next(counter) for _ in rows]
        connection.execute(sa.text("INSERT INTO bench_bare_rows VALUES (:id, :respondent, :team, :at)"),
                           [{"id": i, "respondent": row[1], "team": row[2], "at": row[3]}
                            for i, row in zip(ids, rows, strict=True)])
        connection.execute(sa.text("INSERT INTO bench_bare_answers VALUES (:row, :item, :score)"),
                           [{"row": i, "item": item, "score": int(row[4 + item])}
                            for i, row in zip(ids, rows, strict=True) for item in range(item_count)])
    elapsed = time.perf_counter() - started
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE bench_bare_answers"))
        connection.execute(sa.text("DROP TABLE bench_bare_rows"))
    return len(rows) / elapsed


def run(kind, rows, teams=TEAMS):
    """[(label, rows/s, CPU rows/s, peak memory growth MB, imported, skipped)] and the baseline's rows/s."""
    results = []
    with scratch_database(kind) as env, tempfile.TemporaryDirectory() as folder:
        app = flask_app(env)
        with app.app_context():
            from perception.core.extensions import db
            from perception.core.models import Dimension, Item, Survey
            from perception.responses.csv_import import import_responses

            items = list(db.session.execute(
                db.select(Item).join(Dimension).order_by(Dimension.position, Item.position)).scalars())[:ITEMS]
            survey = Survey(slug="bench-import", title="Import benchmark", status="open", items=items)
            db.session.add(survey)
            db.session.commit()
            path = os.path.join(folder, "import.csv")
            write_file(path, rows, [item.key for item in items], teams=teams)
            for label in ("first import", "same file again"):
                before = reset_peak()
                started, cpu = time.perf_counter(), time.process_time()
                with open(path, "rb") as stream:
                    summary = import_responses(stream, survey, create_teams=True)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
                # max: a read of VmHWM just after the reset can come out a page or two under the VmRSS read with it
                results.append((label, rows / elapsed, rows / cpu, max(0.0, peak_mb() - before), summary.total,
                                summary.skipped))
            db.session.remove()
            baseline = bare_insert(db.engine, path, len(items))
            db.engine.dispose()
    return results, baseline


def measure(kind, rows, teams=TEAMS):
    results, baseline = run(kind, rows, teams)
    return [{"benchmark": "import", "case": f"{label}, {rows:,} rows", "database": kind, "value": speed,
             "unit": "rows/s", "baseline": baseline, "baseline_name": "bare executemany", "ratio": speed / baseline,
             "higher_is_better": True, "cpu_rows_per_s": cpu_speed, "peak_rss_growth_mb": growth,
             "imported": imported, "skipped": skipped, "target_rows_per_s": 10_000}
            for label, speed, cpu_speed, growth, imported, skipped in results]


def main(quick=False):
    """`make bench`: SQLite 50,000 rows, PostgreSQL 20,000 (2,000 each with --quick)."""
    sizes = {"sqlite": 2_000, "postgresql": 2_000} if quick else {"sqlite": 50_000, "postgresql": 20_000}
    return [row for kind in databases() for row in measure(kind, sizes[kind])]


def command_line():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--teams", type=int, default=TEAMS, help="teams the rows spread over (fewer: denser cells)")
    arguments = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    rows = [row for size in arguments.rows for row in measure(arguments.db, size, arguments.teams)]
    from bench.report import print_table

    print_table(rows)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    command_line()
