"""`flask backup --out FILE` and `flask restore FILE` (DESIGN section 3). Registered by perception.cli."""

import click
from alembic.script import ScriptDirectory
from flask import current_app

from perception.backups.service import BackupError, backup_sqlite, postgres_commands, restore_sqlite, sqlite_path
from perception.core.extensions import db


def _kilobytes(size):
    return f"{max(1, round(size / 1024))} KB"


def _sqlite_or_explain(file, doing):
    """True on SQLite; on another database, print how to do it with the database's own tools and
    exit non-zero (the app does not copy a PostgreSQL database itself)."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        if sqlite_path(url) is not None:
            return True
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    dump, create, restore = postgres_commands(url, _schema_option(), file)
    click.echo(f"This database is PostgreSQL: {doing} with PostgreSQL's own tools, which take a consistent "
               "snapshot of a live database.\n"
               f"Back up (while the app serves):\n  {dump}\n"
               f"Restore into a new, empty database (stop the app first):\n  {create}\n  {restore}\n"
               "Then run `flask --app wsgi db upgrade` if this version of Perception is newer than the backup.\n"
               "The password is not shown: give it in PGPASSWORD or ~/.pgpass.", err=True)
    raise click.exceptions.Exit(2)


def _schema_option():
    """DATABASE_SCHEMA, as the engine was configured with it (a search_path option), if any."""
    options = current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {}).get("options", "")
    prefix = "-csearch_path="
    return options[len(prefix):] if options.startswith(prefix) else None


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The backup file to write (replaced if it exists; written in full or not at all).")
def backup_command(out):
    """Copy the SQLite database to FILE while the app serves (SQLite's online backup: the copy is the
    database at one moment, whatever is written meanwhile). On PostgreSQL, prints the pg_dump command
    to use instead and exits with status 2."""
    if not _sqlite_or_explain(out, "back up"):
        return
    try:
        copy = backup_sqlite(db.engine, out)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up the database as it was at {copy.at.isoformat(timespec='seconds')} to {copy.path}: "
               f"{copy.responses} responses, migration revision {copy.revision}, {_kilobytes(copy.size)}.")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
def restore_command(file):
    """Fill the configured, EMPTY SQLite database from a backup FILE made by `flask backup` with this
    version of Perception. Refuses a database that holds data. Stop the app while it runs. On
    PostgreSQL, prints the pg_restore commands to use instead and exits with status 2."""
    if not _sqlite_or_explain(file, "restore"):
        return
    heads = set(ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config()).get_heads())
    try:
        copy = restore_sqlite(db.engine, file, heads)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {file} into {copy.path}: {copy.responses} responses, migration revision {copy.revision}.")
