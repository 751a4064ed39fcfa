"""SQL statements per page are capped, and do not grow with the data: an N+1 regression fails here.

Each page is requested twice, with little data and with several times more surveys, teams,
items and responses; the number of statements must be the same both times and within the cap.
The caps are the counts measured when this test was written (bench/bench_pages.py prints them)."""


import pytest

from bench.common import counted_statements
from perception.core.extensions import db as _db
from perception.core.models import Answer, Response, Survey, Team, User
from tests.helpers import (
    answers_for,
    bank_items,
    csrf_token,
    login,
    make_invitation,
    make_survey,
    make_team,
    make_user,
)

# Each submit reads the unpublished answers of its group with one more statement (answers enter the
# figures in batches: report_cells.publish; on PostgreSQL one more, the group's lock). The rating
# form and the dashboard count the answers waiting for their batch (one statement each). A customer
# submit learns whether any webhook endpoint is active with its link, so without one it asks
# no endpoints (perception.core.webhooks_outbox.emit).
CAPS = {"customer form": 1, "customer submit": 5, "thank-you page": 1, "staff rating form": 6,
        "staff rating submit": 11, "leaders index": 4, "dashboard": 11}
LOCKING = {"staff rating submit"}  # + 1 on PostgreSQL (pg_advisory_xact_lock)
# On PostgreSQL the customer submit writes its response, answers and the invitation's "answered" in
# one statement that also takes its group's lock (perception/responses/service.py), two fewer than on SQLite.
FEWER_ON_POSTGRESQL = {"customer submit": 2}


def statements():
    return counted_statements(_db.engine)


def _populate(scale, items):
    """`scale` teams, surveys and responses per perspective (answers on every item)."""
    teams = [make_team(f"Team {scale}-{index}") for index in range(scale)]
    surveys = [make_survey(f"extra-{scale}-{index}", items=items, teams=teams) for index in range(scale)]
    for survey in [*surveys]:
        for index in range(scale * 3):
            _db.session.add(Response(survey_id=survey.id, perspective=("customer", "staff", "leader")[index % 3],
                                     team_id=teams[index % scale].id, channel="import",
                                     answers=[Answer(item_id=item.id, score=1 + index % 5) for item in items]))
    _db.session.commit()


def _counts(app, ids):
    survey, staff, leader = (_db.session.get(model, id_) for model, id_ in zip((Survey, User, User), ids, strict=True))
    items, slug = list(survey.items), survey.slug
    counts = {}
    customer = app.test_client()
    _, token = make_invitation(survey, staff.team)
    assert customer.get(f"/s/{token}").status_code == 303
    form = answers_for(items) | {"csrf_token": csrf_token(customer, "/s/answer"), "nps": "9"}
    pages = [
        ("customer form", customer, "get", "/s/answer", None, 200),
        ("customer submit", customer, "post", "/s/answer", form, 303),
        ("thank-you page", customer, "get", "/s/thanks", None, 200),
    ]
    staff_client, leader_client = app.test_client(), app.test_client()
    login(staff_client, staff)
    login(leader_client, leader)
    rating = answers_for(items, 4) | answers_for(items, 3, prefix="predict")
    rating["csrf_token"] = csrf_token(staff_client, f"/staff/surveys/{slug}")
    pages += [
        ("staff rating form", staff_client, "get", f"/staff/surveys/{slug}", None, 200),
        ("staff rating submit", staff_client, "post", f"/staff/surveys/{slug}", rating, 302),
        ("leaders index", leader_client, "get", "/leaders/", None, 200),
        ("dashboard", leader_client, "get", f"/leaders/surveys/{slug}/dashboard", None, 200),
    ]
    for name, client, method, url, data, status in pages:
        # Tests share one app context with the requests; a fresh session per request is production's case.
        _db.session.remove()
        with statements() as seen:
            response = client.post(url, data=data) if method == "post" else client.get(url)
        assert response.status_code == status, (name, response.status_code)
        counts[name] = len(seen)
    return counts


@pytest.fixture
def people(db):
    items = bank_items(6)
    team = make_team("Counted")
    survey = make_survey("counted", items=items, teams=[team])
    return survey.id, make_user("staff", team=team).id, make_user("leader").id, items, team.id


def test_statements_per_page_are_capped_and_do_not_grow_with_the_data(app, db, people):
    survey_id, staff_id, leader_id, items, team_id = people
    _populate(1, items)
    small = _counts(app, (survey_id, staff_id, leader_id))
    # A second staff member: the first has rated already.
    staff_two = make_user("staff", team=_db.session.get(Team, team_id)).id
    _populate(4, bank_items())
    large = _counts(app, (survey_id, staff_two, leader_id))
    assert large == small, "a page's statement count grew with the data (N+1?)"
    postgresql = _db.engine.dialect.name == "postgresql"
    caps = {name: cap + ((name in LOCKING) - FEWER_ON_POSTGRESQL.get(name, 0) if postgresql else 0)
            for name, cap in CAPS.items()}
    over = {name: count for name, count in small.items() if count > caps[name]}
    assert not over, f"statements above the cap {caps}: {over} (all: {small})"
