"""Two leaders acting on one follow-up at the same moment (a race hunt). tests.helpers.race holds the
first request right after a read and lets the second run meanwhile: the follow-up was resolved twice
(two state events, two followup.resolved webhooks), and a re-survey sent twice answered 500."""

import re

import pytest
from sqlalchemy import func, select

from perception.core.models import FollowUpEvent, RecoveryRequest, WebhookDelivery
from perception.webhooks.service import add_endpoint
from tests.helpers import bank_items, login, make_survey, make_team, make_user, race
from tests.loop_helpers import followup_of, invite_and_answer, page_post


@pytest.fixture
def survey(db):
    return make_survey(items=bank_items())


def _leaders(app, team):
    """Two leaders of `team`, each logged in in a browser of their own."""
    browsers = [app.test_client(), app.test_client()]
    for browser, name in zip(browsers, ("Sam", "Kim"), strict=True):
        login(browser, make_user("leader", team=team, name=name))
    return browsers


def _post(browser, path, form, data):
    html = browser.get(path).get_data(as_text=True)
    token = re.search(rf'id="{form}-csrf_token" name="{form}-csrf_token" type="hidden" value="([^"]+)"', html)
    payload = {f"{form}-csrf_token": token.group(1), f"{form}-action": form}
    payload |= {f"{form}-{key}": value for key, value in data.items()}
    return lambda: browser.post(path, data=payload)


def _count(db, *where):
    db.session.expire_all()
    return db.session.execute(select(func.count()).where(*where)).scalar_one()


def test_two_leaders_resolving_at_once_resolve_it_once(app, db, survey):
    app.config["PERCEPTION_ENV"] = "development"
    add_endpoint("http://127.0.0.1:9/hook", ["followup.resolved"])
    team = make_team("Home")
    followup = followup_of(invite_and_answer(app.test_client(), survey, team, score=1))
    path = f"/leaders/followups/{followup.reference}"
    first_leader, second_leader = _leaders(app, team)
    first, second = race(db.engine, lambda statement: "FROM follow_ups" in statement and "reference" in statement,
                         _post(first_leader, path, "resolve", {"note": "Called, sorted."}),
                         _post(second_leader, path, "resolve", {"note": "Called too."}))
    assert sorted([first.status_code, second.status_code]) == [303, 400]
    assert "already resolved" in (first if first.status_code == 400 else second).get_data(as_text=True)
    assert _count(db, FollowUpEvent.follow_up_id == followup.id, FollowUpEvent.to_state == "resolved") == 1
    assert _count(db, WebhookDelivery.event_type == "followup.resolved") == 1


def test_two_leaders_sending_the_resurvey_at_once_send_it_once_without_an_error(app, db, survey, smtp_server):
    team = make_team("Riverside")
    invitation = invite_and_answer(app.test_client(), survey, team, email="lena@example.net", name="Lena",
                                   consent="yes")
    path = f"/leaders/followups/{followup_of(invitation).reference}"
    first_leader, second_leader = _leaders(app, team)
    assert page_post(first_leader, path, "resolve", {"note": "Called and apologised."}).status_code == 303
    # The first is held after its second read of the re-surveys (it found none, and will make one).
    first, second = race(db.engine, lambda statement: statement.lstrip().startswith("SELECT")
                         and "FROM recovery_requests" in statement,
                         _post(first_leader, path, "recovery", {}), _post(second_leader, path, "recovery", {}), nth=2)
    # Which one wins depends on how soon the second ends (it holds no lock): one sends, one is told.
    assert sorted([first.status_code, second.status_code]) == [303, 400]
    told = first if first.status_code == 400 else second
    assert "sent from another page a moment ago" in told.get_data(as_text=True)
    assert len(smtp_server.to("lena@example.net")) == 1 and _count(db, RecoveryRequest.id.is_not(None)) == 1
