"""Rate limits shared through Redis: two app servers count against one limit."""

import os

import pytest
import redis

from perception.extensions import limiter
from tests.conftest import make_app

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_storage():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable and CI=true")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


def test_two_app_servers_share_the_link_guessing_limit(database, redis_storage):
    first = make_app(database, RATELIMIT_STORAGE_URI=redis_storage)
    second = make_app(database, RATELIMIT_STORAGE_URI=redis_storage)
    statuses = []
    for index in range(31):
        app = first if index % 2 else second
        with app.app_context():
            statuses.append(app.test_client().get(f"/s/guess{index}").status_code)
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429
    with first.app_context():
        limiter.reset()
        from perception.extensions import db

        db.session.remove()
        db.engine.dispose()
    with second.app_context():
        from perception.extensions import db

        db.session.remove()
        db.engine.dispose()
