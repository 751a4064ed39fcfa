"""A chain's data set for the chain-scale benchmark: 2,000 teams x 24 months, 3 customers and one
staff rating per team and month (16 items), loaded past the ORM in seconds (or the answers of a
few of the teams, their report cells copied to the others: `load(genuine=...)`).

Publication (DESIGN section 2: answers enter the figures in batches of MIN_N per group) follows the
app's own rule, `perception.insights.batches`, applied while the rows are generated, so the load
writes `published_at` at once; `report_cells.rebuild` then counts the published answers in the
report cells with the app's own statement (timed: what `flask report-cells` costs at that size).
"""

import random
import time
from datetime import UTC, datetime, timedelta

from bench.common import analyze

ITEMS = 16
FIRST_MONTH = datetime(2024, 1, 1, tzinfo=UTC)
SLUG = "bench-chain"
LEADER_EMAIL, LEADER_PASSWORD = "chain-leader@bench.invalid", "bench-leader-password"
PER_MONTH = (("customer", 3, 3.9), ("staff", 1, 4.2))  # (perspective, responses per team and month, mean)


def _month_start(index):
    return datetime(FIRST_MONTH.year + index // 12, index % 12 + 1, 1, tzinfo=UTC)


def prepare(app, teams):
    """The survey (the first 16 items of the bank, scoped to `teams` new teams) and a leader."""
    with app.app_context():
        from perception.core.extensions import db
        from perception.core.models import Dimension, Item, Survey, Team, User

        items = list(db.session.execute(
            db.select(Item).join(Dimension).order_by(Dimension.position, Item.position)).scalars())[:ITEMS]
        connection = db.session.connection()
        connection.execute(Team.__table__.insert(), [{"name": f"Branch {number:04d}"} for number in range(teams)])
        team_ids = list(db.session.execute(db.select(Team.id).order_by(Team.id)).scalars())
        survey = Survey(slug=SLUG, title="Chain benchmark", status="open", items=items, ask_nps=True)
        leader = User(email=LEADER_EMAIL, name="Chain leader", role="leader")
        leader.set_password(LEADER_PASSWORD)
        db.session.add_all([survey, leader])
        db.session.flush()
        from perception.core.models import survey_teams

        connection.execute(survey_teams.insert(), [{"survey_id": survey.id, "team_id": team_id}
                                                   for team_id in team_ids])
        db.session.commit()
        info = {"survey_id": survey.id, "item_ids": [item.id for item in items], "team_ids": team_ids,
                "leader_id": leader.id}
        db.session.remove()
    return info


def _rows(info, months, min_n, rng):
    """(response rows, answer rows) with `published_at` set by the app's batch rule."""
    from perception.insights import batches

    responses, answers, next_id = [], [], 1
    for team_offset, team_id in enumerate(info["team_ids"]):
        # A team's own level, so that gaps differ from branch to branch.
        lift = (team_offset % 7 - 3) / 10
        for perspective, count, mean in PER_MONTH:
            group = []
            for month in range(months):
                start = _month_start(month)
                for _ in range(count):
                    moment = start + timedelta(days=rng.randrange(28), seconds=rng.randrange(86400))
                    group.append([next_id, info["survey_id"], perspective, team_id, moment, None])
                    for item_id in info["item_ids"]:
                        score = min(5, max(1, round(rng.gauss(mean + (lift if perspective == "customer" else 0),
                                                              0.9))))
                        answers.append((next_id, item_id, score))
                    next_id += 1
            group.sort(key=lambda row: (row[4], row[0]))
            published = {}
            for stamp, ids in batches([(row[0], row[4]) for row in group], min_n):
                published.update(dict.fromkeys(ids, stamp))
            for row in group:
                row[5] = published.get(row[0])
            responses.extend(group)
    return responses, answers


def load(app, info, months=24, genuine=None):
    """Load the rows and count them in the report cells; adds `responses`, `answers`, `cells`,
    `load_s` and `cells_rebuild_s` to `info`.

    `genuine`: answers are loaded for that many teams only, and the other teams get copies of
    their cells (team k has team k % genuine's), the roll-ups over every team recomputed from
    all of them. Reports read nothing but the cells, so they see a chain of every team; loading
    and counting 3 million answers would take `make bench` minutes on a shared machine."""
    started = time.perf_counter()
    rng = random.Random("perception-chain")  # the same rows on every run
    every_team = info["team_ids"]
    loaded = dict(info, team_ids=every_team[:genuine] if genuine else every_team)
    responses, answers = _rows(loaded, months, app.config["MIN_N"], rng)
    with app.app_context():
        from perception.core.extensions import db
        from perception.reports import service as report_cells

        raw = db.engine.raw_connection()
        try:
            if db.engine.dialect.name == "postgresql":
                _copy_postgresql(raw, responses, answers)
            else:
                _insert_sqlite(raw, responses, answers)
            raw.commit()
        finally:
            raw.close()
        with db.engine.begin() as connection:
            analyze(connection)
        info["load_s"] = time.perf_counter() - started
        started = time.perf_counter()
        report_cells.rebuild(db.session, info["survey_id"])
        db.session.commit()
        info["cells_rebuild_s"] = time.perf_counter() - started
        if genuine and genuine < len(every_team):
            _copy_cells(db, info["survey_id"], every_team, genuine)
        with db.engine.begin() as connection:
            analyze(connection)
        info["cells"] = report_cells.cell_total(db.session, info["survey_id"])
        db.session.remove()
        db.engine.dispose()
    info["responses"], info["answers"] = len(responses), len(answers)
    return info


def _copy_postgresql(raw, responses, answers):
    cursor = raw.cursor()
    with cursor.copy("COPY responses (id, survey_id, perspective, team_id, submitted_at, published_at, channel, "
                     "contact_consent) FROM STDIN") as copy:
        for row in responses:
            copy.write_row((*row, "link", False))
    with cursor.copy("COPY answers (response_id, item_id, score) FROM STDIN") as copy:
        for row in answers:
            copy.write_row(row)
    cursor.execute("SELECT setval(pg_get_serial_sequence('responses', 'id'), (SELECT max(id) FROM responses))")


def _text(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if moment is not None else None  # UTCDateTime on SQLite


def _insert_sqlite(raw, responses, answers):
    cursor = raw.cursor()
    cursor.executemany(
        "INSERT INTO responses (id, survey_id, perspective, team_id, submitted_at, published_at, channel, "
        "contact_consent) VALUES (?, ?, ?, ?, ?, ?, 'link', 0)",
        [(*row[:4], _text(row[4]), _text(row[5])) for row in responses])
    cursor.executemany("INSERT INTO answers (response_id, item_id, score) VALUES (?, ?, ?)", answers)


def _copy_cells(db, survey_id, team_ids, genuine):
    """Give team k the cells of team k % genuine (every month and its roll-up over the months), and
    make the roll-ups over every team those of all of them.

    The copies are written in primary-key order, and the roll-ups are the genuine teams' cells, each
    weighted by how many teams have them, added up before the copies exist (a sum over 300,000 cells
    instead of 3 million): the set-up took 36 s of the chain benchmark's SQLite run, 26 s now."""
    from sqlalchemy import text

    from perception.core.models import ReportCell

    columns = "perspective, kind, subject_id, score_sum, answered"
    source_columns = ", ".join(f"c.{name}" for name in columns.split(", "))
    weights = [{"team": team_ids[index], "weight": len(range(index, len(team_ids), genuine))}
               for index in range(genuine)]
    (by_month,) = [index for index in ReportCell.__table__.indexes if index.name == "ix_report_cells_by_month"]
    rebuild_index = db.engine.dialect.name == "postgresql"
    with db.engine.begin() as connection:
        if rebuild_index:
            by_month.drop(connection)
        connection.execute(text("CREATE TEMPORARY TABLE chain_weights (team INTEGER PRIMARY KEY, weight INTEGER)"))
        connection.execute(text("INSERT INTO chain_weights (team, weight) VALUES (:team, :weight)"), weights)
        connection.execute(text(
            f"CREATE TEMPORARY TABLE chain_rollup AS SELECT c.survey_id, c.month, {source_columns}, "  # noqa: S608
            "SUM(c.respondents * w.weight) AS respondents "
            "FROM report_cells c JOIN chain_weights w ON w.team = c.team_id "
            f"WHERE c.survey_id = :survey GROUP BY c.survey_id, c.month, {source_columns}"), {"survey": survey_id})
        connection.execute(text("CREATE TEMPORARY TABLE chain_copies (source INTEGER, target INTEGER)"))
        connection.execute(text("INSERT INTO chain_copies (source, target) VALUES (:source, :target)"),
                           [{"source": team_ids[index % genuine], "target": team_ids[index]}
                            for index in range(genuine, len(team_ids))])
        connection.execute(text(
            f"INSERT INTO report_cells (survey_id, team_id, month, {columns}, respondents) "  # noqa: S608
            f"SELECT c.survey_id, m.target, c.month, {columns}, c.respondents FROM report_cells c "
            "JOIN chain_copies m ON m.source = c.team_id WHERE c.survey_id = :survey "
            "ORDER BY m.target, c.month, c.perspective, c.kind, c.subject_id, c.score_sum, c.answered"),
            {"survey": survey_id})
        connection.execute(text("DELETE FROM report_cells WHERE survey_id = :survey AND team_id = -1"),
                           {"survey": survey_id})
        connection.execute(text(
            f"INSERT INTO report_cells (survey_id, team_id, month, {columns}, respondents) "  # noqa: S608
            f"SELECT survey_id, -1, month, {columns}, respondents FROM chain_rollup"))
        for table in ("chain_copies", "chain_rollup", "chain_weights"):
            connection.execute(text(f"DROP TABLE {table}"))
        if rebuild_index:
            by_month.create(connection)
        analyze(connection)
