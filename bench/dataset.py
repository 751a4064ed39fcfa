"""Seeded bulk data for the scale benchmarks: one survey of 16 items, 3 teams, 12 months.

Responses and answers are bulk-loaded past the ORM (COPY on PostgreSQL, executemany in one
transaction on SQLite), so a million answers load in seconds. `grow_to` adds rows until the
answers table holds the asked number, so 10k -> 100k -> 1M reuse what is already there.
"""

import random
import time
from datetime import UTC, datetime, timedelta

from bench.common import analyze

ITEMS_PER_RESPONSE = 16
TEAMS = ("North Quay", "Market Square", "Station Road")
PERSPECTIVES = (("customer", 0.8), ("staff", 0.15), ("leader", 0.05))
FIRST_DAY = datetime(2025, 1, 1, tzinfo=UTC)
SLUG = "bench-scale"
LEADER_EMAIL, LEADER_PASSWORD = "leader@bench.invalid", "bench-leader-password"


def prepare(app):
    """Create the survey, its teams and a leader account; return {'survey_id', 'item_ids', 'leader_id'}."""
    with app.app_context():
        from perception.core.extensions import db
        from perception.core.models import Dimension, Item, Survey, Team, User

        items = list(db.session.execute(
            db.select(Item).join(Dimension).order_by(Dimension.position, Item.position)).scalars())
        if len(items) < ITEMS_PER_RESPONSE:
            raise RuntimeError(f"the item bank has {len(items)} items, the benchmark needs {ITEMS_PER_RESPONSE}")
        items = items[:ITEMS_PER_RESPONSE]
        teams = [Team(name=name) for name in TEAMS]
        survey = Survey(slug=SLUG, title="Scale benchmark", status="open", items=items, teams=teams,
                        ask_nps=True)
        leader = User(email=LEADER_EMAIL, name="Bench leader", role="leader")
        leader.set_password(LEADER_PASSWORD)
        db.session.add_all([*teams, survey, leader])
        db.session.commit()
        info = {"survey_id": survey.id, "item_ids": [item.id for item in items], "team_ids": [t.id for t in teams],
                "leader_id": leader.id, "responses": 0}
        db.session.remove()
    return info


def _responses(info, first_id, count, rng):
    names = [name for name, _ in PERSPECTIVES]
    weights = [weight for _, weight in PERSPECTIVES]
    for response_id in range(first_id, first_id + count):
        perspective = rng.choices(names, weights)[0]
        moment = FIRST_DAY + timedelta(days=rng.randrange(365), seconds=rng.randrange(86400))
        scores = [min(5, max(1, round(rng.gauss(3.9 if perspective == "customer" else 4.2, 0.9))))
                  for _ in info["item_ids"]]
        yield (response_id, info["survey_id"], perspective, rng.choice(info["team_ids"]), moment, scores)


def grow_to(app, info, answers, cells=True):
    """Add seeded responses until the survey holds `answers` answers (16 per response); with
    `cells`, count them in the report cells (reports read those; an export does not)."""
    wanted = answers // ITEMS_PER_RESPONSE
    count = wanted - info["responses"]
    if count <= 0:
        return
    rng = random.Random(f"perception-bench-{info['responses']}")  # same rows on every run
    rows = list(_responses(info, info["responses"] + 1, count, rng))
    with app.app_context():
        from perception.core.extensions import db
        from perception.reports import service as report_cells

        raw = db.engine.raw_connection()
        try:
            if db.engine.dialect.name == "postgresql":
                _copy_postgresql(raw, rows, info["item_ids"])
            else:
                _insert_sqlite(raw, rows, info["item_ids"])
            raw.commit()
        finally:
            raw.close()
        with db.engine.begin() as connection:
            analyze(connection)  # what autovacuum / a DBA would have done by now
        if cells:
            # Rows loaded past the app are counted in the report cells as an operator would after
            # a bulk load: `flask report-cells` (report_cells.rebuild), timed for the notes.
            started = time.perf_counter()
            report_cells.rebuild(db.session, info["survey_id"])
            db.session.commit()
            info["cells_rebuild_s"] = time.perf_counter() - started
            info["cells"] = report_cells.cell_total(db.session, info["survey_id"])
            db.session.remove()
        db.engine.dispose()
    info["responses"] = wanted


def _copy_postgresql(raw, rows, item_ids):
    cursor = raw.cursor()
    with cursor.copy("COPY responses (id, survey_id, perspective, team_id, submitted_at, channel, contact_consent) "
                     "FROM STDIN") as copy:
        for response_id, survey_id, perspective, team_id, moment, _ in rows:
            copy.write_row((response_id, survey_id, perspective, team_id, moment, "link", False))
    with cursor.copy("COPY answers (response_id, item_id, score) FROM STDIN") as copy:
        for row in rows:
            for item_id, score in zip(item_ids, row[5], strict=True):
                copy.write_row((row[0], item_id, score))
    cursor.execute("SELECT setval(pg_get_serial_sequence('responses', 'id'), (SELECT max(id) FROM responses))")


def _insert_sqlite(raw, rows, item_ids):
    cursor = raw.cursor()
    # UTCDateTime stores naive UTC text on SQLite.
    cursor.executemany(
        "INSERT INTO responses (id, survey_id, perspective, team_id, submitted_at, channel, contact_consent) "
        "VALUES (?, ?, ?, ?, ?, 'link', 0)",
        [(r[0], r[1], r[2], r[3], r[4].strftime("%Y-%m-%d %H:%M:%S.%f")) for r in rows])
    cursor.executemany("INSERT INTO answers (response_id, item_id, score) VALUES (?, ?, ?)",
                       ((r[0], item_id, score) for r in rows for item_id, score in zip(item_ids, r[5], strict=True)))
