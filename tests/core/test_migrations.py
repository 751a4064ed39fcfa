"""The migrations have one head, build exactly the models' schema, and go down and up again."""

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
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


def test_tables_declared_without_rowid_are_so_on_sqlite(app):
    """compare_metadata does not see SQLite's WITHOUT ROWID: a model and the migrations could part."""
    if db.engine.dialect.name != "sqlite":
        return
    declared = {table.name for table in db.metadata.sorted_tables
                if table.dialect_options["sqlite"]["with_rowid"] is False}
    assert {"answers", "predicted_answers"} <= declared
    stored = dict(db.session.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
    assert {name for name in declared if stored[name].rstrip().endswith("WITHOUT ROWID")} == declared
    assert not [name for name, sql in stored.items() if name not in declared and sql.rstrip().endswith("WITHOUT ROWID")]


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


def test_migration_0019_keeps_every_row_and_constraint_both_ways(tmp_path, database):
    """0019 rebuilds answers, predicted_answers, outbox_messages and responses on SQLite (and swaps
    unique constraints for partial unique indexes on both databases): every row stays, the answers'
    CHECK and ON DELETE CASCADE hold, an outbox row still cannot be queued twice for its subject, and
    the downgrade gives all of it back."""
    counts = "SELECT (SELECT count(*) FROM responses), (SELECT count(*) FROM answers), " \
             "(SELECT count(*) FROM predicted_answers), (SELECT count(*) FROM outbox_messages)"
    outbox = ("INSERT INTO outbox_messages (invitation_id, user_id, kind, sequence, status, attempts, next_attempt_at, "
              "created_at) VALUES ({}, {}, 'reminder', 1, 'pending', 0, '2026-01-03', '2026-01-03')")
    with _empty_database(tmp_path, database, "writes"):
        upgrade(revision="0018")
        with db.engine.begin() as connection:
            run = connection.execute
            run(sa.text("INSERT INTO teams (id, name, created_at) VALUES (1, 'T', '2026-01-01')"))
            run(sa.text("INSERT INTO users (id, email, name, password_hash, role, active, created_at) "
                        "VALUES (1, 'lead@example.com', 'Lead', 'x', 'leader', true, '2026-01-01')"))
            run(sa.text("INSERT INTO surveys (id, slug, title, status, ask_nps, created_at) "
                        "VALUES (1, 's', 'S', 'open', true, '2026-01-01')"))
            run(sa.text("INSERT INTO invitations (id, survey_id, token_hash, team_id, state, created_at, channel, "
                        "reminders_sent) VALUES (1, 1, 'h', 1, 'answered', '2026-01-01', 'link', 0)"))
            run(sa.text("INSERT INTO responses (id, survey_id, perspective, team_id, invitation_id, submitted_at, "
                        "channel) VALUES (1, 1, 'customer', 1, 1, '2026-01-02', 'link')"))
            run(sa.text("INSERT INTO responses (id, survey_id, perspective, team_id, user_id, submitted_at, channel) "
                        "VALUES (2, 1, 'staff', 1, 1, '2026-01-02', 'self')"))
            run(sa.text("INSERT INTO answers (response_id, item_id, score) SELECT r.id, i.id, 1 + i.id % 5 "
                        "FROM responses r, items i"))
            run(sa.text("INSERT INTO predicted_answers (response_id, item_id, score) SELECT 2, id, 3 FROM items"))
            run(sa.text(outbox.format(1, "NULL")))
            run(sa.text(outbox.format("NULL", 1)))
            before = run(sa.text(counts)).one()
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text(counts)).one() == before
        for statement in (outbox.format(1, "NULL"), outbox.format("NULL", 1),  # queued twice for one subject
                          "UPDATE answers SET score = 6 WHERE response_id = 1",
                          "INSERT INTO responses (survey_id, perspective, invitation_id, submitted_at, channel) "
                          "VALUES (1, 'customer', 1, '2026-01-03', 'link')",
                          "INSERT INTO responses (survey_id, perspective, user_id, submitted_at, channel) "
                          "VALUES (1, 'staff', 1, '2026-01-03', 'self')"):
            with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
                connection.execute(sa.text(statement))
        with db.engine.begin() as connection:  # rows without the column never conflict
            for _ in range(2):
                connection.execute(sa.text("INSERT INTO responses (survey_id, perspective, team_id, submitted_at, "
                                           "channel) VALUES (1, 'customer', 1, '2026-01-03', 'import')"))
            connection.execute(sa.text("DELETE FROM responses WHERE id > 2"))
        downgrade(revision="0018")
        with db.engine.begin() as connection:
            assert connection.execute(sa.text(counts)).one() == before
            connection.execute(sa.text("DELETE FROM responses WHERE id = 1"))  # its answers go with it
            assert connection.execute(sa.text("SELECT count(*) FROM answers WHERE response_id = 1")).scalar() == 0
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM responses WHERE id = 2"))
            assert connection.execute(sa.text(counts)).one() == (0, 0, 0, 2)


def test_migration_0020_keeps_stored_webhook_keys_and_downgrades_without_derived_ones(tmp_path, database):
    """0020: endpoints added before keep signing with their stored key; going back removes the
    endpoints whose key is derived (the older code could not sign for them) and keeps the others."""
    from perception.webhooks.service import signing_secret

    with _empty_database(tmp_path, database, "webhook_keys"):
        upgrade(revision="0019")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO webhook_endpoints (url, events, secret, active, created_at) "
                "VALUES ('https://crm.example.com/a', ' followup.opened ', 'whsec_old', true, '2026-01-01')"))
            old_id = connection.execute(sa.text("SELECT id FROM webhook_endpoints")).scalar_one()
        upgrade()
        from perception.core.models import WebhookEndpoint
        from perception.webhooks.service import add_endpoint

        assert signing_secret(db.session.get(WebhookEndpoint, old_id)) == "whsec_old"
        added, _secret = add_endpoint("https://93.184.216.34/b", ["followup.opened"])
        added_id = added.id
        db.session.remove()
        downgrade(revision="0019")
        with db.engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id, secret FROM webhook_endpoints ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(old_id, "whsec_old")] and added_id != old_id
        upgrade()


def test_migration_0021_redacts_the_response_ids_of_comment_tags_and_keeps_the_log_append_only(tmp_path, database):
    """0021: a comment-tag entry written before names no response id any more (ids tell the order answers
    came in); every other entry is as it was, and the log still refuses an UPDATE afterwards."""
    with _empty_database(tmp_path, database, "audit_redaction"):
        upgrade(revision="0020")
        insert = sa.text("INSERT INTO audit_events (at, action, target_type, target_id, details) "
                         "VALUES ('2026-01-01 10:00:00', :action, :kind, :ident, '{}')")
        entries = [("comment.tagged", "responses", "17"), ("comment.untagged", "responses", "18"),
                   ("team.renamed", "teams", "3"), ("comment.tagged", "comments", "ab" * 32)]
        with db.engine.begin() as connection:
            for action, kind, ident in entries:
                connection.execute(insert, {"action": action, "kind": kind, "ident": ident})
        upgrade()
        with db.engine.connect() as connection:
            rows = [tuple(row) for row in connection.execute(sa.text(
                "SELECT action, target_type, target_id FROM audit_events ORDER BY id"))]
        assert rows == [("comment.tagged", "comments", None), ("comment.untagged", "comments", None),
                        ("team.renamed", "teams", "3"), ("comment.tagged", "comments", "ab" * 32)]
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE audit_events SET action = 'x'"))


def test_migration_0023_moves_the_due_times_of_follow_ups_without_consent_to_the_day_clock(tmp_path, database):
    """0023: a follow-up stored without the customer's consent becomes due its hours after the end of the
    UTC day it opened (the minute gave away the answer's); one with consent keeps its due time; the
    downgrade puts both back."""
    from datetime import UTC, datetime, timedelta

    from tests.helpers import bank_items, make_survey, make_team

    opened = datetime(2026, 3, 4, 15, 12, 30, tzinfo=UTC)
    when = sa.DateTime(timezone=True)
    with _empty_database(tmp_path, database, "followup_clock"):
        upgrade(revision="0022")
        survey, team = make_survey(items=bank_items(4)), make_team()  # tables 0022 already has as they are
        survey_id, team_id = survey.id, team.id
        db.session.commit()
        db.session.remove()
        responses = sa.table("responses", sa.column("id"), sa.column("survey_id"), sa.column("perspective"),
                             sa.column("team_id"), sa.column("submitted_at", when), sa.column("channel"),
                             sa.column("contact_consent"))
        follow_ups = sa.table("follow_ups", sa.column("response_id"), sa.column("team_id"), sa.column("state"),
                              sa.column("reasons"), sa.column("opened_at", when), sa.column("due_at", when))
        with db.engine.begin() as connection:
            for response_id, consent in ((1, False), (2, True)):
                connection.execute(responses.insert().values(
                    id=response_id, survey_id=survey_id, perspective="customer", team_id=team_id, submitted_at=opened,
                    channel="link", contact_consent=consent))
                connection.execute(follow_ups.insert().values(
                    response_id=response_id, team_id=team_id, state="open", reasons="overall=1.0", opened_at=opened,
                    due_at=opened + timedelta(hours=48)))

        def due_times():
            with db.engine.connect() as connection:
                found = dict(connection.execute(sa.select(follow_ups.c.response_id, follow_ups.c.due_at)).all())
            return [found[1].replace(tzinfo=UTC) if found[1].tzinfo is None else found[1],
                    found[2].replace(tzinfo=UTC) if found[2].tzinfo is None else found[2]]

        upgrade()
        end_of_6_march = datetime(2026, 3, 7, tzinfo=UTC) - timedelta(microseconds=1)  # 48 h after 5 March began
        assert due_times() == [end_of_6_march, opened + timedelta(hours=48)]
        downgrade(revision="0022")
        assert due_times() == [opened + timedelta(hours=48)] * 2
        upgrade()


def test_migration_0024_keeps_the_consent_given_with_each_answer(tmp_path, database):
    """0024: responses.answered_with_consent starts as each response's contact_consent, and goes away again
    on the way down."""
    from datetime import UTC, datetime

    from tests.helpers import bank_items, make_survey

    with _empty_database(tmp_path, database, "consent_groups"):
        upgrade(revision="0023")
        survey_id = make_survey(items=bank_items(4)).id
        db.session.commit()
        db.session.remove()
        with db.engine.begin() as connection:
            for response_id, consent in ((1, False), (2, True)):
                connection.execute(sa.text(
                    "INSERT INTO responses (id, survey_id, perspective, submitted_at, channel, contact_consent) "
                    "VALUES (:id, :survey, 'customer', :at, 'link', :consent)"),
                    {"id": response_id, "survey": survey_id, "at": datetime(2026, 3, 4, tzinfo=UTC),
                     "consent": consent})
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id, answered_with_consent FROM responses ORDER BY id")).all()
        assert [(row[0], bool(row[1])) for row in rows] == [(1, False), (2, True)]
        downgrade(revision="0023")
        with db.engine.connect() as connection:
            columns = {column["name"] for column in sa.inspect(connection).get_columns("responses")}
        assert "answered_with_consent" not in columns and "contact_consent" in columns
        upgrade()


def test_migration_0025_gives_every_follow_up_its_own_reference(tmp_path, database):
    """0025: each follow-up stored before gets a reference of its own (pages, mails and webhooks name a
    follow-up by it); the column goes again on the way down."""
    from datetime import UTC, datetime

    from tests.helpers import bank_items, make_survey

    with _empty_database(tmp_path, database, "followup_references"):
        upgrade(revision="0024")
        survey_id = make_survey(items=bank_items(4)).id
        db.session.commit()
        db.session.remove()
        at = datetime(2026, 3, 4, tzinfo=UTC)
        with db.engine.begin() as connection:
            for response_id in (1, 2, 3):
                connection.execute(sa.text(
                    "INSERT INTO responses (id, survey_id, perspective, submitted_at, channel) "
                    "VALUES (:id, :survey, 'customer', :at, 'link')"),
                    {"id": response_id, "survey": survey_id, "at": at})
                connection.execute(sa.text(
                    "INSERT INTO follow_ups (response_id, state, reasons, opened_at, due_at, notify_attempts) "
                    "VALUES (:id, 'open', 'overall=1.0', :at, :at, 0)"), {"id": response_id, "at": at})
        upgrade()
        with db.engine.connect() as connection:
            references = connection.execute(sa.text("SELECT reference FROM follow_ups")).scalars().all()
        assert len(set(references)) == 3 and all(re.fullmatch(r"[a-z][a-z2-9]{11}", ref) for ref in references)
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE follow_ups SET reference = :ref"), {"ref": references[0]})
        downgrade(revision="0024")
        with db.engine.connect() as connection:
            columns = {column["name"] for column in sa.inspect(connection).get_columns("follow_ups")}
        assert "reference" not in columns
        upgrade()


def test_migration_0026_renames_what_pending_webhook_bodies_name(tmp_path, database):
    """0026: a delivery queued before 0025 and not yet sent names its follow-up by the reference (id,
    url, text) and no longer carries the rows' reference of its answer; sent ones stay as they were."""
    import json

    from perception.webhooks.service import add_endpoint
    from tests.helpers import make_survey

    row_reference = "ab" * 32
    with _empty_database(tmp_path, database, "pending_webhooks"):
        upgrade(revision="0025")
        endpoint_id = add_endpoint("https://crm.example.com/hooks", ["followup.opened"])[0].id
        db.session.commit()
        db.session.remove()
        url = "https://perception.example/leaders/followups/7"
        opened = {"type": "followup.opened", "created_at": "2026-12-06",
                  "data": {"follow_up": {"id": 7, "state": "open", "url": url},
                           "response": {"id": row_reference, "survey": "wave-1"}},
                  "text": f"Follow-up #7 opened for Harbour (wave-1): Overall 1.0 of 5. {url}"}
        received = {"type": "response.received", "created_at": "2026-12-06",
                    "data": {"response": {"id": row_reference, "survey": "wave-1"}}, "text": "New customer answer."}
        survey_id = make_survey().id  # a survey, one response and its follow-up, number 7
        db.session.commit()
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO responses (id, survey_id, perspective, submitted_at, channel) "
                                       "VALUES (1, :survey, 'customer', '2026-12-06 10:00:00', 'link')"),
                               {"survey": survey_id})
            connection.execute(sa.text("INSERT INTO follow_ups (id, reference, response_id, state, reasons, "
                                       "opened_at, due_at, notify_attempts) VALUES (7, 'kref7abcdefg', 1, 'open', "
                                       "'', '2026-12-06 10:00:00', '2026-12-08 10:00:00', 0)"))
            for index, (event, status) in enumerate(((opened, "pending"), (received, "pending"),
                                                     (opened, "delivered"))):
                connection.execute(sa.text(
                    "INSERT INTO webhook_deliveries (delivery_id, endpoint_id, event_type, body, status, attempts, "
                    "next_attempt_at, created_at) VALUES (:delivery, :endpoint, :type, :body, :status, 0, "
                    "'2026-12-07 00:00:00', '2026-12-06 10:00:00')"),
                    {"delivery": f"evt_{index}", "endpoint": endpoint_id, "type": event["type"],
                     "body": json.dumps(event), "status": status})
        upgrade()
        with db.engine.connect() as connection:
            bodies = [json.loads(body) for body in connection.execute(sa.text(
                "SELECT body FROM webhook_deliveries ORDER BY delivery_id")).scalars()]
        new_url = "https://perception.example/leaders/followups/kref7abcdefg"
        assert bodies[0]["data"]["follow_up"] == {"id": "kref7abcdefg", "state": "open", "url": new_url}
        assert bodies[0]["text"] == f"Follow-up #kref7abcdefg opened for Harbour (wave-1): Overall 1.0 of 5. {new_url}"
        assert bodies[0]["data"]["response"] == {"survey": "wave-1"} == bodies[1]["data"]["response"]
        assert bodies[2] == opened  # delivered: history
