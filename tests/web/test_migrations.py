"""The migrations have one head, build exactly the models' schema, and go down and up again."""

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from perception.extensions import db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


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
    from tests.conftest import make_app

    if database["schema"]:
        settings = {"url": database["url"], "schema": f"{database['schema']}_upgrade"}
        admin = sa.create_engine(database["url"])
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{settings["schema"]}"'))
    else:
        settings = {"url": f"sqlite:///{tmp_path / 'upgrade.db'}", "schema": None}
    app = make_app(settings)
    try:
        with app.app_context():
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
            db.session.remove()
            db.engine.dispose()
    finally:
        if database["schema"]:
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{settings["schema"]}" CASCADE'))
            admin.dispose()
