"""Engine settings per backend, and the SQL functions written differently per backend."""

import hashlib

from sqlalchemy import String, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from werkzeug.routing import IntegerConverter


def configure_engine(engine):
    if engine.dialect.name != "sqlite":
        return
    if getattr(engine, "_perception_configured", False):
        return
    engine._perception_configured = True

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets readers and one writer work together; the busy timeout makes writers queue
        # instead of failing with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # keyed_sha256 below: PostgreSQL has sha256() built in.
        dbapi_connection.create_function("perception_sha256", 1, _sha256, deterministic=True)


def _sha256(text):
    return None if text is None else hashlib.sha256(str(text).encode()).hexdigest()


ITEM_BANK_TABLES = frozenset({"alembic_version", "dimensions", "items", "item_versions"})


def clear_data(session, metadata):
    """Delete every row except the item bank, children before parents, in one transaction."""
    for table in reversed(metadata.sorted_tables):
        if table.name not in ITEM_BANK_TABLES:
            session.execute(table.delete())
    session.commit()


MAX_ID = 2**31 - 1  # the largest id an INTEGER primary key holds on PostgreSQL (SQLite: 2**63 - 1)


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in URLs: an id no database column can hold is simply not found (404), rather
    than an overflow in the driver (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class utc_month(FunctionElement):  # noqa: N801  (reads like the SQL function it stands for)
    """'YYYY-MM' of a timestamp in UTC."""

    type = String()
    name = "utc_month"
    inherit_cache = True


@compiles(utc_month, "sqlite")
def _utc_month_sqlite(element, compiler, **kw):
    # UTCDateTime stores UTC text on SQLite; strftime would also apply an explicit offset.
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(utc_month, "postgresql")
def _utc_month_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(utc_month)
def _utc_month_other(element, compiler, **kw):
    raise NotImplementedError(f"utc_month is not defined for the {compiler.dialect.name} dialect")


class utc_day(FunctionElement):  # noqa: N801
    """'YYYY-MM-DD' of a timestamp in UTC."""

    type = String()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m-%d', {compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(utc_day)
def _utc_day_other(element, compiler, **kw):
    raise NotImplementedError(f"utc_day is not defined for the {compiler.dialect.name} dialect")


class keyed_sha256(FunctionElement):  # noqa: N801
    """keyed_sha256(key, value): the SHA-256 (lowercase hex) of the text `key` followed by `value` as
    text, the same on every backend and as `hashlib.sha256((key + str(value)).encode())`. Keyed with a
    secret, an order and a handle that say nothing of the value's own order
    (perception.core.tokens.row_reference)."""

    type = String()
    name = "keyed_sha256"
    inherit_cache = True


@compiles(keyed_sha256, "sqlite")
def _keyed_sha256_sqlite(element, compiler, **kw):
    key, value = element.clauses
    return f"perception_sha256({compiler.process(key, **kw)} || {compiler.process(value, **kw)})"


@compiles(keyed_sha256, "postgresql")
def _keyed_sha256_postgresql(element, compiler, **kw):
    key, value = element.clauses
    text = f"CAST({compiler.process(key, **kw)} AS TEXT) || CAST({compiler.process(value, **kw)} AS TEXT)"
    return f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"


@compiles(keyed_sha256)
def _keyed_sha256_other(element, compiler, **kw):
    raise NotImplementedError(f"keyed_sha256 is not defined for the {compiler.dialect.name} dialect")
