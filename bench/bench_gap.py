"""Gap report at scale: `gap_report` for a whole survey, by team and by month, and the leaders'
dashboard page, at 10k, 100k and 1M answers (warm, best of N), on SQLite and PostgreSQL.

Reports read the report cells (perception/reports/service.py), which the app fills as answers are
written; the bulk-loaded rows are counted in them with `report_cells.rebuild` after each load
(the `cells_rebuild_s` note: what `flask report-cells` costs an operator at that size).

Baselines, timed on the same database in the same run: `SELECT count(*) FROM answers` and a
plain `SELECT item_id, avg(score) FROM answers GROUP BY item_id`; the ratio is against the
GROUP BY. Targets: the 1M-answer report under 0.5 s on both databases, and growth from 100k to
1M answers at most linear (time ratio <= 10). A missed target prints the query plan."""

import argparse
import re
import sys
import time

from bench import dataset
from bench.common import databases, flask_app, result, scratch_database, timed

SIZES = (10_000, 100_000, 1_000_000)
TARGET_S = 0.5
CASES = (("whole survey", {}), ("by team", {"by": "team"}), ("by month", {"by": "month"}))


def _repeat(answers):
    return 3 if answers >= 1_000_000 else 5


def best_of(call, repeat, slow_s=2.0):
    """Best wall time of `repeat` warm calls; a call slower than `slow_s` is timed once after its
    warm-up, so a missed target cannot push `make bench` past its 10 minutes."""
    started = time.perf_counter()
    call()
    if time.perf_counter() - started > slow_s:
        repeat = 1
    return timed(call, repeat, warm=False)["best_s"]


def _baselines(app, repeat):
    from perception.core.extensions import db

    with db.engine.connect() as connection:
        count = timed(lambda: connection.exec_driver_sql("SELECT count(*) FROM answers").scalar(), repeat)
        group = timed(lambda: connection.exec_driver_sql(
            "SELECT item_id, avg(score) FROM answers GROUP BY item_id").all(), repeat)
    return count["best_s"], group["best_s"]


def leader_client(app):
    """A test client logged in as the benchmark's leader, through the real login form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "email": dataset.LEADER_EMAIL,
                                           "password": dataset.LEADER_PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"bench leader login failed with {response.status_code}")
    return client


def _explain(app, survey, options):
    """Print the plan of the report's statement (stderr), for a missed target."""
    from perception.core.extensions import db
    from perception.reports.histogram_queries import cells_statement

    statement = cells_statement(survey.id, by=options.get("by"))
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    with db.engine.connect() as connection:
        plan = connection.exec_driver_sql(prefix + sql).all()
    print(f"-- plan of the gap report {options or '(whole survey)'}:", file=sys.stderr)
    for row in plan:
        print("   ", " ".join(str(cell) for cell in row), file=sys.stderr)


def _measure_size(app, info, database, answers, previous):
    from perception.core.extensions import db
    from perception.core.models import Survey
    from perception.reports.queries import gap_report

    repeat = _repeat(answers)
    rows = []
    with app.app_context():
        count_s, group_s = _baselines(app, repeat)
        survey = db.session.get(Survey, info["survey_id"])
        for case, options in CASES:
            best = best_of(lambda options=options: gap_report(survey, **options), repeat)
            extra = {"count_star_s": count_s, "target_s": TARGET_S if answers >= 1_000_000 else None,
                     "report_cells": info["cells"], "cells_rebuild_s": info["cells_rebuild_s"]}
            if previous.get(case):
                extra["growth"] = best / previous[case]
                extra["size_growth"] = answers / previous["answers"]
            previous[case] = best
            if answers >= 1_000_000 and (best > TARGET_S or extra.get("growth", 0) > extra.get("size_growth", 1)):
                _explain(app, survey, options)
            rows.append(result("gap", f"report {case}, {answers:,} answers", database, best, "s", group_s,
                               "GROUP BY item_id", higher_is_better=False, **extra))
        db.session.remove()
    client = leader_client(app)
    url = f"/leaders/surveys/{dataset.SLUG}/dashboard"

    def render():
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    best = best_of(render, repeat)
    rows.append(result("gap", f"dashboard page, {answers:,} answers", database, best, "s", group_s,
                       "GROUP BY item_id", higher_is_better=False, count_star_s=count_s))
    previous["answers"] = answers
    return rows


def measure(database, sizes):
    rows = []
    with scratch_database(database) as env:
        app = flask_app(env)
        info = dataset.prepare(app)
        previous = {}
        for answers in sizes:
            dataset.grow_to(app, info, answers)
            rows.extend(_measure_size(app, info, database, answers, previous))
        with app.app_context():
            from perception.core.extensions import db

            db.engine.dispose()
    return rows


def main(quick=False):
    sizes = SIZES[:1] if quick else SIZES
    return [row for database in databases() for row in measure(database, sizes)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k answers only, to prove the benchmark runs")
    arguments = parser.parse_args()
    from bench.report import print_table

    print_table(main(arguments.quick))
