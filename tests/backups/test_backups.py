"""`flask backup` / `flask restore`: a backup of the SQLite database taken while answers are being
submitted is the database at one moment, and restored into an empty database it gives exactly the
gap report the source gave at that moment; restore refuses a database with data or a backup of
another migration revision; on PostgreSQL both commands explain pg_dump / pg_restore."""

import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from perception.backups import service as backup_service
from perception.backups.service import sqlite_path
from perception.core.models import Response, Survey, Team
from perception.reports.queries import gap_json, gap_report
from perception.reports.service import drift
from tests.conftest import make_app
from tests.helpers import bank_items, make_responses, make_survey, make_team

SUBMITS_AFTER_BACKUP = 5


def gap_text(survey):
    return json.dumps(gap_json(gap_report(survey), survey, None), allow_nan=False)


def response_count(db):
    return db.session.execute(select(func.count()).select_from(Response)).scalar_one()


def submit_until_backed_up(app, db, survey_id, team_id, started, backed_up, gaps, errors):
    """Submit customer answers one commit at a time, noting the gap JSON after each; go on until the
    backup is done, then a few more, so the backup ran between writes."""
    try:
        with app.app_context():
            survey, team = db.session.get(Survey, survey_id), db.session.get(Team, team_id)
            after = 0
            for index in range(5000):
                make_responses(survey, 1, team=team, scores=1 + index % 5)
                gaps[response_count(db)] = gap_text(survey)
                if index == 9:
                    started.set()
                if backed_up.is_set():
                    after += 1
                    if after == SUBMITS_AFTER_BACKUP:
                        break
            db.session.remove()
    except Exception as error:  # handed to the test thread, which fails with it
        errors.append(error)
    finally:
        started.set()


@pytest.fixture
def other_database(tmp_path):
    """Apps on other SQLite files (the restore targets), their engines disposed at the end."""
    apps = []

    def make(name):
        apps.append(make_app({"url": f"sqlite:///{tmp_path / name}", "schema": None}))
        return apps[-1]

    yield make
    for other in apps:
        with other.app_context():
            other.extensions["sqlalchemy"].session.remove()
            other.extensions["sqlalchemy"].engine.dispose()


def test_a_backup_during_submits_restores_to_the_gap_of_its_moment(app, db, runner, tmp_path, other_database):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's online backup; on PostgreSQL the commands explain pg_dump (tested below)")
    team = make_team()
    survey = make_survey(items=bank_items(), teams=[team])
    make_responses(survey, 5, perspective="staff", team=team, scores=5)
    gaps, errors = {response_count(db): gap_text(survey)}, []
    started, backed_up = threading.Event(), threading.Event()
    writer = threading.Thread(target=submit_until_backed_up,
                              args=(app, db, survey.id, team.id, started, backed_up, gaps, errors))
    writer.start()
    assert started.wait(timeout=120)
    backup = tmp_path / "backup.db"
    result = runner.invoke(args=["backup", "--out", str(backup)])
    backed_up.set()
    writer.join(timeout=300)
    assert not writer.is_alive() and errors == []
    assert result.exit_code == 0, result.output
    final = response_count(db)

    restored = other_database("restored.db")
    with restored.app_context():
        target = restored.test_cli_runner()
        assert target.invoke(args=["db", "upgrade"]).exit_code == 0  # an empty database: the item bank only
        done = target.invoke(args=["restore", str(backup)])
        assert done.exit_code == 0, done.output
        restored_db = restored.extensions["sqlalchemy"]
        count = response_count(restored_db)
        # Writes went on before and after the backup, and it holds a whole number of them.
        assert 15 <= count <= final - SUBMITS_AFTER_BACKUP and f"{count} responses" in result.output
        assert f"{count} responses" in done.output
        assert drift(restored_db.session, survey.id) == {}  # the report cells agree with the answers
        gap = target.invoke(args=["gap", "--survey", "wave-1", "--json"])
        assert gap.exit_code == 0, gap.output
        assert json.loads(gap.output) == json.loads(gaps[count])
        # Each answer changes the JSON (its "waiting" counts), so equal JSON names the backup's moment.
        assert json.loads(gaps[count]) != json.loads(gaps[count + 1])

        refused = target.invoke(args=["restore", str(backup)])
        assert refused.exit_code == 1 and "is not empty" in refused.output and "answers" in refused.output
        assert response_count(restored_db) == count


def test_restore_refuses_a_backup_of_another_revision_and_a_file_that_is_no_backup(db, runner, tmp_path,
                                                                                   other_database):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    backup = tmp_path / "backup.db"
    assert runner.invoke(args=["backup", "--out", str(backup)]).exit_code == 0
    with sqlite3.connect(backup) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    connection.close()
    (tmp_path / "notes.txt").write_text("not a database " * 100)
    target = other_database("empty.db")
    with target.app_context():
        cli = target.test_cli_runner()
        old = cli.invoke(args=["restore", str(backup)])
        assert old.exit_code == 1 and "made at migration revision 0001" in old.output
        junk = cli.invoke(args=["restore", str(tmp_path / "notes.txt")])
        assert junk.exit_code == 1 and "not a readable SQLite database" in junk.output
        assert cli.invoke(args=["restore", str(tmp_path / "missing.db")]).exit_code == 1
    assert not (tmp_path / "empty.db").exists() or (tmp_path / "empty.db").stat().st_size == 0


def test_a_backup_is_readable_by_its_owner_alone_whatever_the_umask(db, runner, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    backup = tmp_path / "backup.db"
    backup.write_bytes(b"an older backup")
    backup.chmod(0o644)
    umask = os.umask(0o022)
    try:
        result = runner.invoke(args=["backup", "--out", str(backup)])
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["backup.db"]  # no partial or journal left
    missing = runner.invoke(args=["backup", "--out", str(tmp_path / "no-such-folder" / "backup.db")])
    assert missing.exit_code == 1 and "Cannot create the backup in" in missing.output, missing.output


def test_a_backup_replaces_a_symlink_at_file_and_writes_in_a_folder_of_its_own(db, runner, tmp_path,
                                                                                 monkeypatch):
    """An attacker's read: FILE was resolved, so a symlink left at a guessable name in a shared folder
    (perception-$(date +%F).db) had the copy renamed over the file it pointed to (an operator's ~/.bashrc);
    and the copy, made 0600, was opened again by name in that folder, where anyone could put a file of
    theirs in its place first. The link is replaced now, and SQLite opens the copy in a 0700 folder."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    shared, home = tmp_path / "shared", tmp_path / "home"
    shared.mkdir(mode=0o777)
    home.mkdir()
    bashrc = home / ".bashrc"
    bashrc.write_text("export PATH=/usr/bin\n")
    planted = shared / "perception-2026-12-07.db"
    planted.symlink_to(bashrc)
    opened_in = []
    connect = sqlite3.connect
    monkeypatch.setattr(backup_service.sqlite3, "connect", lambda path, *args, **kwargs: (
        opened_in.append(stat.S_IMODE(Path(path).parent.stat().st_mode)), connect(path, *args, **kwargs))[1])
    result = runner.invoke(args=["backup", "--out", str(planted)])
    assert result.exit_code == 0, result.output
    assert bashrc.read_text() == "export PATH=/usr/bin\n"
    assert not planted.is_symlink() and planted.read_bytes().startswith(b"SQLite format 3\x00")
    assert stat.S_IMODE(planted.stat().st_mode) == 0o600 and opened_in == [0o700]
    assert sorted(path.name for path in shared.iterdir()) == ["perception-2026-12-07.db"]  # nothing left beside


def test_a_backup_refuses_the_database_under_another_name_and_a_file_it_may_not_replace(db, runner, tmp_path,
                                                                                        monkeypatch):
    """A review: FILE was compared with the database by path only (a hard link or a bind mount is the
    same file under another name, and the copy would have been renamed over it), and a rename the
    system refused was a traceback."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    live = sqlite_path(str(db.engine.url))
    alias = tmp_path / "alias.db"
    os.link(live, alias)
    refused = runner.invoke(args=["backup", "--out", str(alias)])
    assert refused.exit_code == 1 and "it is that very file" in refused.output, refused.output
    assert os.path.samefile(alias, live) and sorted(path.name for path in tmp_path.iterdir()) == ["alias.db"]

    def refuse(_source, _target):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(backup_service.os, "replace", refuse)
    denied = runner.invoke(args=["backup", "--out", str(tmp_path / "theirs.db")])
    assert denied.exit_code == 1 and "Cannot write" in denied.output and "Operation not permitted" in denied.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["alias.db"]  # no copy left behind


@pytest.mark.parametrize("upgraded_first", [False, True])
def test_a_restore_into_a_new_file_keeps_it_private(db, runner, tmp_path, other_database, upgraded_first):
    """An attacker's read: a restore into a database file not made yet created it 0644, and the private
    backup became a database any local account could read (addresses, password hashes)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    backup = tmp_path / "backup.db"
    assert runner.invoke(args=["backup", "--out", str(backup)]).exit_code == 0
    restored = other_database("restored.db")
    umask = os.umask(0o022)
    try:
        with restored.app_context():
            if upgraded_first:  # as the README allows: the file is then made 0644 by the upgrade
                assert restored.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
            done = restored.test_cli_runner().invoke(args=["restore", str(backup)])
    finally:
        os.umask(umask)
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE((tmp_path / "restored.db").stat().st_mode) == 0o600


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_a_backup_may_not_overwrite_the_database_or_its_companion_files(db, runner, suffix):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    live = sqlite_path(str(db.engine.url))
    target = live.with_name(live.name + suffix)
    before = target.read_bytes() if target.exists() else None
    result = runner.invoke(args=["backup", "--out", str(target)])
    assert result.exit_code == 1 and "Choose another file" in result.output, result.output
    assert (target.read_bytes() if target.exists() else None) == before
    assert not target.with_name(target.name + ".partial").exists()


def test_on_postgresql_both_commands_explain_pg_dump_and_pg_restore(database):
    settings = dict(database, url="postgresql+psycopg://alice:s3cret@db.example:5433/care", schema="tenant_a")
    postgres = make_app(settings)  # no connection is made: the commands only explain
    with postgres.app_context():
        cli = postgres.test_cli_runner()
        backup = cli.invoke(args=["backup", "--out", "care.dump"])
        restore = cli.invoke(args=["restore", "care.dump"])
    assert backup.exit_code == 2
    assert ("pg_dump --format=custom --no-owner --host=db.example --port=5433 --username=alice --schema=tenant_a "
            "--file=care.dump care") in backup.output
    assert restore.exit_code == 2
    assert "createdb --host=db.example --port=5433 --username=alice care" in restore.output
    assert ("pg_restore --no-owner --exit-on-error --single-transaction --host=db.example --port=5433 "
            "--username=alice --dbname=care care.dump") in restore.output
    assert "s3cret" not in backup.output + restore.output and "PGPASSWORD" in restore.output
