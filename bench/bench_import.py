"""Import speed and memory: `python -m bench.bench_import [--rows N ...] [--db sqlite|postgresql]`.

Generates a CSV of N rows (16 items, 200 teams by default, every row a distinct named respondent: the most work
for the "already stored?" check), imports it into a fresh database in this process, and prints rows
per second and the growth of the process's peak memory (ru_maxrss) during the import, then imports
the same file again (every row skipped). Not part of `make bench` (issue 17's import target:
10,000 rows a second, memory flat in the file's size)."""

import argparse
import csv
import os
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta

from bench.common import flask_app, scratch_database

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


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(kind, rows, teams=TEAMS):
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
                before = peak_mb()
                started, cpu = time.perf_counter(), time.process_time()
                with open(path, "rb") as stream:
                    summary = import_responses(stream, survey, create_teams=True)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
                print(f"{kind:10} {rows:>7} rows  {label:16} {elapsed:6.2f} s  {rows / elapsed:>8,.0f} rows/s  "
                      f"(CPU {cpu:5.2f} s: {rows / cpu:>8,.0f} rows per CPU second)  "
                      f"imported {summary.total:>7}  skipped {summary.skipped:>7}  "
                      f"peak memory +{peak_mb() - before:5.1f} MB (now {peak_mb():.0f} MB)")
            db.session.remove()
            db.engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--teams", type=int, default=TEAMS, help="teams the rows spread over (fewer: denser cells)")
    arguments = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    for rows in arguments.rows:
        run(arguments.db, rows, arguments.teams)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
