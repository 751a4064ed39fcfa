"""Scale-out (README "Scale-out"): two app servers (gunicorn on two ports) on one database and one
Redis behave as one application: a customer who answered through one server is "already answered"
through the other, and the link-guessing limit (30 unknown links per minute and address on
/s/<token>) is counted across both."""


import pytest
from sqlalchemy import func, select

from bench.common import gunicorn
from perception.core.models import Response
from tests.helpers import answers_for, make_invitation, make_survey, server_env
from tests.httpclient import Browser


@pytest.fixture
def two_servers(database, app, shared_redis):
    env = server_env(database, RATELIMIT_ENABLED="true", RATELIMIT_STORAGE_URI=shared_redis)
    with gunicorn("wsgi:app", env, workers=1) as first, gunicorn("wsgi:app", env, workers=1) as second:
        assert first != second
        yield first, second


def test_a_customer_answered_through_one_server_is_already_answered_through_the_other(two_servers, db):
    first, second = two_servers
    survey = make_survey()
    _invitation, token = make_invitation(survey)
    # The same customer opens the form on both servers (two tabs behind a load balancer).
    on_first, on_second = Browser(first), Browser(second)
    assert on_first.get(f"/s/{token}")[0] == 303
    assert on_second.get(f"/s/{token}")[0] == 303
    form_first = answers_for(survey.items, 5) | {"csrf_token": on_first.csrf_token("/s/answer")}
    form_second = answers_for(survey.items, 1) | {"csrf_token": on_second.csrf_token("/s/answer")}

    assert on_first.post("/s/answer", form_first)[0] == 303
    status, html = on_second.post("/s/answer", form_second)
    assert status == 200 and "already answered" in html
    status, html = Browser(second).get(f"/s/{token}")
    assert status == 410 and "already answered" in html
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 1


def test_link_guessing_is_limited_across_both_servers(two_servers):
    first, second = two_servers
    statuses = [Browser(first if index % 2 else second).get(f"/s/guess-{index}")[0] for index in range(31)]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429
    # The limit holds on whichever server the next guess reaches.
    assert Browser(first).get("/s/guess-next")[0] == 429
