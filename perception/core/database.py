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
        # text_lower below: SQLite's own lower() folds ASCII letters only ("Élodie" stays "Élodie").
        dbapi_connection.create_function("perception_lower", 1, _lower, deterministic=True)


def _lower(text):
    return None if text is None else str(text).lower()


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


def take_sqlite_write_lock(connection):
    """On SQLite, take the database's one write lock now, for the rest of the transaction: its driver
    begins a transaction only at the first write, so reads made before it are not protected by it (a
    check that another writer could invalidate before the write). A write that changes nothing takes it.
    PostgreSQL: nothing (callers lock what they need there)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("UPDATE teams SET id = id WHERE 0")


def holds_id(number):
    """Can an id column hold `number`? Asked for an id it cannot hold, the driver overflows (a 500)
    where a lookup should simply find nothing."""
    return 1 <= number <= MAX_ID


def session_id(value):
    """An id kept in a signed session, when an id column can hold it; else None. Only a forged session
    holds another shape (a list, 2**70), which reached a lookup and answered 500 (a robustness hunt)."""
    return value if type(value) is int and holds_id(value) else None


def database_id(value):
    """An id typed by someone (a query string, a form field): the int, when an id column can hold it
    (`holds_id`); else ValueError, so that `request.args.get(name, type=database_id)` ignores it and
    a lookup finds nothing, rather than the driver overflowing (500)."""
    number = int(value)
    if not holds_id(number):
        raise ValueError(f"{value!r} is not a database id")
    return number


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in URLs: an id no database column can hold is simply not found (404), rather
    than an overflow in the driver (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class _PerDialect(FunctionElement):
    """A SQL function written differently per backend: `SQL` maps a dialect's name to the text, with
    {0}, {1}, ... for the compiled arguments. Compiled by `_per_dialect` (registered per subclass)."""

    type = String()
    inherit_cache = True
    SQL: dict = {}


def _per_dialect(element, compiler, **kw):
    template = element.SQL.get(compiler.dialect.name)
    if template is None:
        raise NotImplementedError(f"{element.name} is not defined for the {compiler.dialect.name} dialect")
    return template.format(*(compiler.process(argument, **kw) for argument in element.clauses))


class utc_month(_PerDialect):  # noqa: N801  (reads like the SQL function it stands for)
    """'YYYY-MM' of a timestamp in UTC. UTCDateTime stores UTC text on SQLite (strftime would also
    apply an explicit offset)."""

    name = "utc_month"
    inherit_cache = True
    SQL = {"sqlite": "strftime('%Y-%m', {0})", "postgresql": "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM')"}


class utc_day(_PerDialect):  # noqa: N801
    """'YYYY-MM-DD' of a timestamp in UTC."""

    name = "utc_day"
    inherit_cache = True
    SQL = {"sqlite": "strftime('%Y-%m-%d', {0})", "postgresql": "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"}


class keyed_sha256(_PerDialect):  # noqa: N801
    """keyed_sha256(key, value): the SHA-256 (lowercase hex) of the text `key` followed by `value` as
    text, the same on every backend and as `hashlib.sha256((key + str(value)).encode())`. Keyed with a
    secret, an order and a handle that say nothing of the value's own order
    (perception.core.tokens.row_reference). SQLite's function is registered on connect (above)."""

    name = "keyed_sha256"
    inherit_cache = True
    SQL = {"sqlite": "perception_sha256({0} || {1})",
           "postgresql": "encode(sha256(convert_to(CAST({0} AS TEXT) || CAST({1} AS TEXT), 'UTF8')), 'hex')"}


class text_lower(_PerDialect):  # noqa: N801
    """A text in lower case, every letter and not only ASCII ones, as Python's `str.lower` (SQLite's
    lower() leaves "É" as it is; PostgreSQL's follows the database's locale). SQLite's function is
    registered on connect (above)."""

    name = "text_lower"
    inherit_cache = True
    SQL = {"sqlite": "perception_lower({0})", "postgresql": "lower({0})"}


for _function in (utc_month, utc_day, keyed_sha256, text_lower):
    compiles(_function)(_per_dialect)
