"""Export: `flask export-responses` streams a survey's answers as CSV, at 100k and 1M answers.

Speed is answers written per second (and MB/s), against a plain dump of the same answer rows
in the same run on the same database (`COPY ... TO STDOUT CSV` on PostgreSQL, a SELECT written
with csv.writer on SQLite). Both run as separate processes, each measured alone (bench/peak.py).
Target: peak RSS < 150 MB, flat from 100k to 1M answers."""

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

from bench import dataset
from bench.common import PYTHON, databases, flask_app, result, scratch_database
from bench.peak import run_measured

SIZES = (100_000, 1_000_000)
RSS_TARGET_MB = 150


def plain_dump(out):
    """The baseline: every answer row of the database, as CSV, with the database's own tools."""
    app = flask_app(dict(os.environ))
    with app.app_context():
        from perception.core.extensions import db

        raw = db.engine.raw_connection()
        try:
            with open(out, "w", newline="") as handle:
                cursor = raw.cursor()
                if db.engine.dialect.name == "postgresql":
                    statement = "COPY (SELECT response_id, item_id, score FROM answers) TO STDOUT WITH CSV"
                    with cursor.copy(statement) as copy:
                        for block in copy:
                            handle.write(bytes(block).decode())
                else:
                    writer = csv.writer(handle)
                    cursor.execute("SELECT response_id, item_id, score FROM answers")
                    while rows := cursor.fetchmany(5000):
                        writer.writerows(rows)
        finally:
            raw.close()


def _measure_size(env, database, answers, folder):
    export_file, dump_file = Path(folder, "export.csv"), Path(folder, "dump.csv")
    seconds, rss = run_measured([PYTHON, "-m", "flask", "--app", "wsgi", "export-responses", "--survey", dataset.SLUG,
                         "--out", str(export_file)], env)
    base_seconds, base_rss = run_measured([PYTHON, "-m", "bench.bench_export", "--dump", str(dump_file)], env)
    megabytes = export_file.stat().st_size / 1e6
    base_megabytes = dump_file.stat().st_size / 1e6
    with export_file.open() as handle:
        lines = sum(1 for _ in handle) - 1
    return result("export", f"export-responses CSV, {answers:,} answers", database, answers / seconds, "answers/s",
                  answers / base_seconds, "plain dump", mb_per_s=megabytes / seconds, mb=megabytes,
                  peak_rss_mb=rss, rss_target_mb=RSS_TARGET_MB, csv_rows=lines,
                  baseline_mb_per_s=base_megabytes / base_seconds, baseline_rss_mb=base_rss)


def measure(database, sizes):
    rows = []
    with scratch_database(database) as env, tempfile.TemporaryDirectory(prefix="perception-export-") as folder:
        app = flask_app(env)
        info = dataset.prepare(app)
        for answers in sizes:
            dataset.grow_to(app, info, answers, cells=False)
            rows.append(_measure_size(env, database, answers, folder))
        with app.app_context():
            from perception.core.extensions import db

            db.engine.dispose()
    if len(rows) > 1:
        rows[-1]["rss_growth"] = rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
    return rows


def main(quick=False):
    sizes = (10_000,) if quick else SIZES
    return [row for database in databases() for row in measure(database, sizes)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k answers only, to prove the benchmark runs")
    parser.add_argument("--dump", help=argparse.SUPPRESS)  # the baseline's own process
    arguments = parser.parse_args()
    if arguments.dump:
        plain_dump(arguments.dump)
        sys.exit(0)
    from bench.report import print_table

    print_table(main(arguments.quick))
