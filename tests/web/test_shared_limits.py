"""Rate limits shared through Redis: two app servers count against one limit."""


from perception.core.extensions import limiter
from tests.conftest import make_app


def test_two_app_servers_share_the_link_guessing_limit(database, shared_redis):
    first = make_app(database, RATELIMIT_STORAGE_URI=shared_redis)
    second = make_app(database, RATELIMIT_STORAGE_URI=shared_redis)
    statuses = []
    for index in range(31):
        app = first if index % 2 else second
        with app.app_context():
            statuses.append(app.test_client().get(f"/s/guess{index}").status_code)
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429
    with first.app_context():
        limiter.reset()
        from perception.core.extensions import db

        db.session.remove()
        db.engine.dispose()
    with second.app_context():
        from perception.core.extensions import db

        db.session.remove()
        db.engine.dispose()
