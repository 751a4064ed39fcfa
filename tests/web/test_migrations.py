"""The migrations have one head, build exactly the models' schema, and go down and up again."""

from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from perception.core.extensions import db
from perception.core.tokens import API_SCOPES

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@contextmanager
def _empty_database(tmp_path, database, name):
    """An app on a database of its own (a fresh schema on PostgreSQL, a file on SQLite) with
    nothing migrated yet; dropped afterwards."""
    from tests.conftest import make_app

    admin = None
    if database["schema"]:
        settings = {"url": database["url"], "schema": f"{database['schema']}_{name}"}
        admin = sa.create_engine(database["url"])
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{settings["schema"]}"'))
    else:
        settings = {"url": f"sqlite:///{tmp_path / f'{name}.db'}", "schema": None}
    try:
        app = make_app(settings)
        with app.app_context():
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        if admin is not None:
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{settings["schema"]}" CASCADE'))
            admin.dispose()


def _script():
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_migrations_have_exactly_one_head():
    assert len(_script().get_heads()) == 1


def test_upgraded_database_matches_the_models(app):
    # The test database was built by `flask db upgrade` (see conftest), on SQLite or PostgreSQL.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
        head = _script().get_current_head()
        assert context.get_current_revision() == head


def test_item_bank_is_installed(app):
    dimensions = db.session.execute(sa.text("SELECT key FROM dimensions")).scalars().all()
    assert {"trust", "respect", "understanding", "appreciation", "honest_communication", "kindness",
            "personal_attention", "attentiveness"} <= set(dimensions)
    assert db.session.execute(sa.text("SELECT count(*) FROM items")).scalar() >= 16


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    from tests.conftest import make_app

    app = make_app({"url": f"sqlite:///{tmp_path / 'fresh.db'}", "schema": None})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = sa.inspect(db.engine).get_table_names()
        assert tables == ["alembic_version"]
        upgrade()
        with db.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
        db.session.remove()
        db.engine.dispose()


def test_upgrading_keeps_existing_answers(tmp_path, database):
    """Data written at the first schema survives every later migration (SQLite rebuilds tables in
    batch mode; PostgreSQL alters them in place)."""
    with _empty_database(tmp_path, database, "upgrade"):
        upgrade(revision="0002")
        with db.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO teams (id, name, created_at) VALUES (1, 'T', '2026-01-01')"))
            connection.execute(sa.text(
                "INSERT INTO surveys (id, slug, title, status, ask_nps, created_at) "
                "VALUES (1, 's', 'S', 'open', true, '2026-01-01')"))
            connection.execute(sa.text(
                "INSERT INTO responses (id, survey_id, perspective, team_id, submitted_at, channel) "
                "VALUES (1, 1, 'customer', 1, '2026-01-02', 'link')"))
            connection.execute(sa.text(
                "INSERT INTO answers (response_id, item_id, score) SELECT 1, id, 3 FROM items"))
            before = connection.execute(sa.text("SELECT count(*) FROM answers")).scalar()
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM answers")).scalar() == before > 0
            assert connection.execute(sa.text("SELECT count(*) FROM responses")).scalar() == 1


def test_upgrading_fills_the_report_cells_from_existing_answers(tmp_path, database):
    """Migration 0006 counts the responses already stored in the report cells, exactly as the
    app would have (only the survey's items; predictions of staff; no team = 0; UTC months)."""
    from perception.reports.service import drift

    with _empty_database(tmp_path, database, "cells"):
        upgrade(revision="0005")
        with db.engine.begin() as connection:
            run = connection.execute
            run(sa.text("INSERT INTO teams (id, name, created_at) VALUES (1, 'T', '2026-01-01')"))
            run(sa.text("INSERT INTO surveys (id, slug, title, status, ask_nps, created_at) "
                        "VALUES (1, 's', 'S', 'open', true, '2026-01-01')"))
            run(sa.text("INSERT INTO survey_items (survey_id, item_id) SELECT 1, id FROM items WHERE id % 2 = 0"))
            for response_id, perspective, team, moment in (
                    (1, "customer", "1", "2026-01-31 23:30:00"), (2, "customer", "NULL", "2026-02-01 00:10:00"),
                    (3, "staff", "1", "2026-02-03 12:00:00"), (4, "leader", "NULL", "2026-03-01 08:00:00"),
                    (5, "customer", "1", "2026-03-02 08:00:00"),
                    # with 1 and 5, a whole batch of team 1's customers (migration 0010 publishes it)
                    (6, "customer", "1", "2026-03-03 08:00:00"), (7, "customer", "1", "2026-03-04 08:00:00"),
                    (8, "customer", "1", "2026-03-05 08:00:00")):
                run(sa.text(f"INSERT INTO responses (id, survey_id, perspective, team_id, submitted_at, channel) "
                            f"VALUES ({response_id}, 1, '{perspective}', {team}, '{moment}', 'link')"))
                if response_id != 5:  # one response without answers
                    run(sa.text(f"INSERT INTO answers (response_id, item_id, score) "
                                f"SELECT {response_id}, id, 1 + (id + {response_id}) % 5 FROM items"))
            run(sa.text("INSERT INTO predicted_answers (response_id, item_id, score) SELECT 3, id, 2 FROM items"))
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM report_cells")).scalar() > 0
        assert drift(db.session, 1) == {}


def test_upgrading_publishes_existing_answers_in_batches(tmp_path, database):
    """Migration 0010 forms the batches of the answers already stored: per survey, team, staff
    member served and perspective, MIN_N (5) at a time in order of submission, each dated by its
    last answer; the report cells then hold the published answers by month of publication."""
    from perception.reports.service import drift

    with _empty_database(tmp_path, database, "batches"):
        upgrade(revision="0009")
        with db.engine.begin() as connection:
            run = connection.execute
            run(sa.text("INSERT INTO teams (id, name, created_at) VALUES (1, 'T', '2026-01-01')"))
            run(sa.text("INSERT INTO surveys (id, slug, title, status, ask_nps, created_at) "
                        "VALUES (1, 's', 'S', 'open', true, '2026-01-01')"))
            run(sa.text("INSERT INTO survey_items (survey_id, item_id) SELECT 1, id FROM items"))
            # Seven customers of team 1 (submitted out of id order), two leaders without a team.
            days = {1: "2026-01-20", 2: "2026-01-05", 3: "2026-01-31", 4: "2026-02-02", 5: "2026-01-10",
                    6: "2026-02-10", 7: "2026-02-11"}
            rows = [(rid, "customer", "1", f"{day} 12:00:00") for rid, day in days.items()]
            rows += [(8, "leader", "NULL", "2026-01-03 12:00:00"), (9, "leader", "NULL", "2026-01-04 12:00:00")]
            for response_id, perspective, team, moment in rows:
                run(sa.text(f"INSERT INTO responses (id, survey_id, perspective, team_id, submitted_at, channel) "
                            f"VALUES ({response_id}, 1, '{perspective}', {team}, '{moment}', 'link')"))
                run(sa.text(f"INSERT INTO answers (response_id, item_id, score) "
                            f"SELECT {response_id}, id, 1 + (id + {response_id}) % 5 FROM items"))
        upgrade()
        with db.engine.connect() as connection:
            published = dict(connection.execute(sa.text(
                "SELECT id, published_at FROM responses WHERE published_at IS NOT NULL")).all())
            # Month "*" holds the roll-ups over every month (migration 0017).
            months = connection.execute(sa.text(
                "SELECT DISTINCT month FROM report_cells WHERE month <> '*'")).scalars().all()
        # In order of submission: 2, 5, 1, 3, 4 form the batch, dated by 4 (2 February); 6, 7 and the
        # two leaders wait.
        assert set(published) == {1, 2, 3, 4, 5}
        assert {str(value)[:10] for value in published.values()} == {"2026-02-02"}
        assert months == ["2026-02"]
        assert drift(db.session, 1) == {}  # the roll-ups that 0017 added from the cells included


def test_tokens_made_before_scopes_keep_every_scope(tmp_path, database):
    """Migration 0009: a token made before tokens had scopes may still do everything it could."""
    with _empty_database(tmp_path, database, "scopes"):
        upgrade(revision="0008")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO users (id, email, name, password_hash, role, active, created_at) "
                "VALUES (1, 'lead@example.com', 'Lead', 'x', 'leader', true, '2026-01-01')"))
            connection.execute(sa.text(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at) "
                "VALUES (1, 1, 'till', 'abc', 'pcp_abc', '2026-01-01')"))
        upgrade()
        with db.engine.connect() as connection:
            scopes = connection.execute(sa.text("SELECT scopes FROM api_tokens WHERE id = 1")).scalar_one()
        assert set(scopes.split()) == set(API_SCOPES)
