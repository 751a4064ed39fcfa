"""Backing up and restoring the database.

SQLite: `backup_sqlite` copies the live database with SQLite's online backup API (Python's
`sqlite3.Connection.backup`) in a single step, that is inside one read transaction: the copy is the
database as it was at one moment, whatever other connections write meanwhile (in WAL mode they go on
writing while it runs). It is written in a private folder next to the target and renamed into place, so
FILE is whole or absent (a symlink at FILE is replaced, not followed), and it is created readable by its
owner alone (0600). FILE may not be the database or one of
the files SQLite keeps beside it (-wal, -shm, -journal). `restore_sqlite` copies a backup into the
configured database with the same API, only when that database is empty (no rows beyond the item
bank that the migrations seed) and the backup was made at the revision of this code's migrations.

PostgreSQL: `pg_dump` and `pg_restore` do this job better than the app could (a consistent snapshot
of a live database, parallel restore); `postgres_commands` builds their command lines from
DATABASE_URL, without the password."""

import os
import shlex
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from perception.core.database import ITEM_BANK_TABLES
from perception.core.models import utcnow
from perception.core.private_files import check_replaceable, create_private


class BackupError(RuntimeError):
    """A backup or restore refused, with a message that says why and what to do."""


@dataclass(frozen=True)
class Copy:
    path: Path
    revision: str
    responses: int
    size: int
    at: object


def sqlite_path(url):
    """The file of a SQLite URL; None for another database. An in-memory database has no file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file::memory:"):
        raise BackupError("The database is in memory: there is nothing on disk to back up or restore into.")
    return Path(parsed.database).resolve()


def _revision(connection, what):
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        raise BackupError(f"{what} is not a Perception database (it has no migration revision).") from None
    if len(rows) != 1:
        raise BackupError(f"{what} has {len(rows)} migration revisions; expected exactly one.")
    return rows[0][0]


def _summary(connection, path, what, at):
    revision = _revision(connection, what)
    responses = connection.execute("SELECT count(*) FROM responses").fetchone()[0]
    return Copy(path, revision, responses, path.stat().st_size if path.exists() else 0, at)


def _check(connection, what):
    try:
        result = connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{what} is not a readable SQLite database ({error}).") from None
    if result != "ok":
        raise BackupError(f"{what} is damaged: {result}")


def _companions(database):
    """The files SQLite keeps beside a live database (write-ahead log, its index, rollback journal)."""
    return {database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal")}


def _create_private(path):
    """Create the empty file `path` readable and writable by its owner alone (0600), before any data
    goes in: a backup holds personal data and secrets. SQLite gives its journal beside it the same
    mode, and the rename into place keeps it."""
    try:
        os.close(create_private(path))
    except OSError as error:
        raise BackupError(f"Cannot create the backup in {path.parent}: {error.strerror}. Choose a file in a "
                          "folder that exists and that you can write to.") from None


def backup_sqlite(engine, out):
    """Copy the live SQLite database of `engine` to the file `out`; returns a Copy.

    FILE is the path as given, not resolved: a symlink left at it is replaced by the copy, never written
    through (resolved, a link to the operator's ~/.bashrc had the copy renamed over that file). The copy
    is written in a folder of its own made beside FILE (0700, tempfile.mkdtemp) and renamed into place:
    SQLite opens its file by name, and in a shared folder someone could put a file of theirs at that
    name between its private creation and that open (an attacker's read)."""
    source_path = sqlite_path(str(engine.url))
    target = Path(os.path.abspath(out))
    resolved = target.resolve()  # compared only: what is written is `target` itself
    if resolved == source_path:
        raise BackupError("The backup file cannot be the database itself. Choose another file.")
    if resolved in _companions(source_path):
        raise BackupError(f"The backup file cannot be {target.name}: SQLite keeps part of the live database in "
                          "it. Choose another file.")
    if target.is_dir():
        raise BackupError(f"{out} is a folder. Give a file name, e.g. {Path(out) / 'perception-backup.db'}.")
    try:
        check_replaceable(target)  # /dev/null had been renamed over as root (a robustness hunt)
    except OSError as error:
        raise BackupError(f"Cannot write {out}: {error.strerror}. Give the name of a new or a regular file.") \
            from None
    try:
        folder = Path(tempfile.mkdtemp(prefix=".perception-backup-", dir=target.parent))
    except OSError as error:
        raise BackupError(f"Cannot create the backup in {target.parent}: {error.strerror}. Choose a file in a "
                          "folder that exists and that you can write to.") from None
    partial = folder / "copy.db"
    raw = engine.raw_connection()
    try:
        _create_private(partial)
        destination = sqlite3.connect(partial)
        try:
            at = utcnow()
            raw.driver_connection.backup(destination)  # pages=-1: all in one step, one consistent moment
            destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            _check(destination, "The copy")
            copy = _summary(destination, target, "The database", at)
        finally:
            destination.close()
        for live in (source_path, *_companions(source_path)):  # the database (or a file of it) by another name
            if target.exists() and live.exists() and os.path.samefile(target, live):
                raise BackupError(f"The backup file cannot be {live.name} (it is that very file): SQLite keeps "
                                  "the live database in it. Choose another file.")
        try:
            os.replace(partial, target)
        except OSError as error:
            raise BackupError(f"Cannot write {out}: {error.strerror}. Choose a file you may write.") from None
    finally:
        raw.close()
        shutil.rmtree(folder, ignore_errors=True)
    return Copy(target, copy.revision, copy.responses, target.stat().st_size, copy.at)


def _rows_beyond_item_bank(connection):
    """The tables of the target that hold rows (the seeded item bank aside)."""
    tables = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return [name for name in tables if name not in ITEM_BANK_TABLES
            and connection.execute(_first_row(name)).fetchone() is not None]


def _first_row(table):
    quoted = table.replace('"', '""')
    return f'SELECT 1 FROM "{quoted}" LIMIT 1'  # noqa: S608  (a table name from sqlite_master, quoted)


def restore_sqlite(engine, backup_file, revisions):
    """Fill the empty SQLite database of `engine` from `backup_file`, made at one of `revisions`
    (this code's migration heads). The app must not be serving this database meanwhile."""
    source_path = Path(backup_file).resolve()
    if not source_path.is_file():
        raise BackupError(f"There is no file {backup_file}.")
    target_path = sqlite_path(str(engine.url))
    if target_path == source_path:
        raise BackupError("The backup file is the configured database itself.")
    source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True)
    try:
        _check(source, f"{backup_file}")
        revision = _revision(source, str(backup_file))
        if revision not in revisions:
            raise BackupError(
                f"{backup_file} was made at migration revision {revision}, but this version of Perception is at "
                f"{', '.join(sorted(revisions))}. Restore it with the version of Perception that made it (then run "
                "`flask db upgrade`), or take a backup with this version.")
        engine.dispose()  # no pooled connection of this process keeps the old file open
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(target_path, timeout=30)
        try:
            filled = _rows_beyond_item_bank(target)
            if filled:
                raise BackupError(
                    f"The database {target_path} is not empty (rows in {', '.join(filled[:5])}"
                    f"{' and more' if len(filled) > 5 else ''}); restore only fills an empty database. "
                    "Point DATABASE_URL at a new file (or move this one away) and run restore again.")
            # New, or made by `db upgrade` (the item bank only): 0600 before the backup's data goes in, as
            # the backup itself is (SQLite gives its journal the database's mode).
            os.chmod(target_path, 0o600)
            source.backup(target)
            copy = _summary(target, target_path, str(backup_file), utcnow())
        finally:
            target.close()
    finally:
        source.close()
    return copy


def postgres_commands(url, schema, file):
    """(backup, restore) command lines for the PostgreSQL database of `url`; never the password."""
    parsed = make_url(url)
    connection = []
    if parsed.host:
        connection.append(f"--host={parsed.host}")
    if parsed.port:
        connection.append(f"--port={parsed.port}")
    if parsed.username:
        connection.append(f"--username={parsed.username}")
    database = parsed.database or "postgres"
    dump = ["pg_dump", "--format=custom", "--no-owner", *connection]
    if schema:
        dump.append(f"--schema={schema}")
    dump += [f"--file={file}", database]
    restore = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", *connection,
               f"--dbname={database}", str(file)]
    create = ["createdb", *connection, database]
    return shlex.join(dump), shlex.join(create), shlex.join(restore)
