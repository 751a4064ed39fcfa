"""Fixtures: a real database (SQLite file, or PostgreSQL when TEST_DATABASE_URL / DATABASE_URL
names one), migrated once per run with Alembic; every test starts from the item bank alone.

On PostgreSQL each run works in a schema of its own, dropped at the end, so parallel runs do not
disturb each other."""

import os
import threading
import uuid

import pytest
import sqlalchemy as sa
from flask import g, request_started
from jinja2 import BytecodeCache
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from perception import create_app
from perception.core.database import clear_data
from perception.core.extensions import db as _db
from perception.core.extensions import limiter
from perception.core.settings import engine_options


def _database_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url and url.startswith("postgresql"):
        return url, f"test_{uuid.uuid4().hex[:12]}"
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db"), None


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """Create the schema once per run by running the real migrations."""
    url, schema = _database_url(tmp_path_factory)
    if schema:
        admin = sa.create_engine(url, pool_pre_ping=True)
        try:
            with admin.begin() as connection:
                connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        except sa.exc.OperationalError as error:
            admin.dispose()
            pytest.exit(f"PostgreSQL at {url} is unreachable: {error.orig}", returncode=3)
    settings = {"url": url, "schema": schema}
    app = make_app(settings)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        bank = {table: [dict(row._mapping) for row in _db.session.execute(sa.select(_db.metadata.tables[table]))]
                for table in BANK_TABLES}
        _db.session.remove()
        _db.engine.dispose()
    settings["bank"] = bank
    yield settings
    if schema:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_app(settings, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": settings["url"],
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(settings["url"], settings["schema"]),
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": "http://perception.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Every login checks a password hash; scrypt's cost (0.1 s) is for attackers, not for the suite.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    app = create_app(config)
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    # Tests hold an app context open (for db access) and Flask reuses it for test-client requests;
    # give every request a fresh `g`, as in production, so nothing cached (CSRF token, current
    # user) leaks from one request to the next.
    request_started.connect(_fresh_g, app)
    return app


_werkzeug_compile_builder = Rule._compile_builder
_BUILDERS = {}


def _shared_compile_builder(self, append_unknown=True):
    """Werkzeug compiles two URL-building functions per rule (ast, then compile()) for every app: 70 of
    the 79 ms each test spent building its app, on a suite that builds some 1,500 apps from the same
    rules. A builder is made from the rule's text, defaults, converters and `append_unknown` alone and
    takes the rule as `self` when called, so every app's copy of a rule can share one."""
    key = (self.rule, self.subdomain, self.host, self.merge_slashes, self.map.host_matching, append_unknown,
           tuple(sorted((self.defaults or {}).items())),
           tuple(sorted((name, type(converter)) for name, converter in self._converters.items())))
    builder = _BUILDERS.get(key)
    if builder is None:
        builder = _BUILDERS[key] = _werkzeug_compile_builder(self, append_unknown)
    return builder


Rule._compile_builder = _shared_compile_builder


class _CompiledTemplates(BytecodeCache):
    """Every test builds its own app, so its own Jinja environment: without a shared cache each test
    compiled the templates it rendered again (a sixth of the suite's time). Jinja keys each entry
    by template name and checks the source's checksum, so an edited template is compiled afresh."""

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _CompiledTemplates()


def _fresh_g(sender, **extra):
    g.__dict__.clear()


# The item bank as migrated, restored after every test: rows tests added go, rows they changed
# (reworded, translated, retired, renamed) get their migrated values back.
BANK_TABLES = ("dimensions", "items", "item_versions")


def _wipe():
    """Delete every row but the item bank, and put the bank back as it was migrated."""
    clear_data(_db.session, _db.metadata)
    for name in reversed(BANK_TABLES):  # children first
        table = _db.metadata.tables[name]
        _db.session.execute(table.delete().where(table.c.id.not_in([row["id"] for row in _bank[name]])))
    for name in BANK_TABLES:
        table = _db.metadata.tables[name]
        now = {row.id: dict(row._mapping) for row in _db.session.execute(sa.select(table))}
        for row in _bank[name]:
            if now.get(row["id"]) != row:
                _db.session.execute(table.update().where(table.c.id == row["id"]).values(row))
    _db.session.commit()


_bank = {}


@pytest.fixture
def app(database):
    _bank.update(database["bank"])
    app = make_app(database)
    with app.app_context():
        _wipe()
        limiter.reset()
        yield app
        _db.session.remove()
        _wipe()
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return _db


def _whole_bodies(app):
    """The app with each response body read whole and its iterable closed before the server writes it.

    Werkzeug's development server closes a body (a static file's, say) only after it has drained the
    request socket; when the browser drops the connection first (Chromium abandons a favicon as it
    navigates), the draining raises and the file stays open until the garbage collector finds it, in
    whichever later test is running, where `filterwarnings = error` turns the ResourceWarning into a
    failure of that test."""

    def serve(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return serve


@pytest.fixture
def live_server(app):
    """The test's app served by a real threaded WSGI server on a free loopback port."""
    server = make_server("127.0.0.1", 0, _whole_bodies(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def shared_redis():
    """An empty Redis database for rate limits shared between app servers (flushed before and after)."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        client.close()
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {url} is unreachable and CI=true")
        pytest.skip(f"Redis at {url} is unreachable")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def pytest_collection_modifyitems(config, items):
    """A module marked `pure` reads no database, so the PostgreSQL pass (scripts/test.sh) leaves it out
    with `-m "not pure"`; the mark may not hide a test that asks for the database, even through a fixture."""
    hidden = [item.nodeid for item in items
              if item.get_closest_marker("pure") and "database" in getattr(item, "fixturenames", ())]
    if hidden:
        raise pytest.UsageError("marked pure but asks for the database (so it would never run on PostgreSQL): "
                                + ", ".join(hidden))


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    return "database: " + ("PostgreSQL" if url.startswith("postgresql") else "SQLite")


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback (tests/smtp.py); the app's SMTP settings point at it."""
    from tests.smtp import running_smtp_server

    with running_smtp_server(app) as server:
        yield server
