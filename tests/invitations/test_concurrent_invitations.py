"""One customer invited twice at the same moment (a race hunt): two API posts, or a CSV upload sent twice,
both read "not invited yet" and both invited, two mails each. The check and the insert are one step now
(invitations.service.hold_invitations); tests.helpers.race holds the first call right after its read."""

import io

import pytest
from sqlalchemy import func, select

from perception.accounts.service import create_api_token
from perception.core.models import Invitation, OutboxMessage
from tests.helpers import csrf_token, login, make_survey, make_team, make_user, race

BODY = {"survey": "wave-1", "team": "Harbour Street", "email": "cara@example.org", "name": "Cara",
        "interaction_at": "2026-01-02T10:00:00Z"}


def _read_of_earlier_invitations(statement):
    return statement.lstrip().startswith("SELECT") and "FROM invitations" in statement and "customer_email" in statement


def _count(db, model, *where):
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.mark.parametrize("keys", [(None, None), ("till-1:r-1", "till-2:r-1"), ("till-1:r-1", "till-1:r-1")])
def test_two_api_posts_for_one_customer_make_one_invitation(app, db, keys):
    make_survey(), make_team("Harbour Street")
    token = create_api_token(make_user("leader", email="lead@example.com"), "tests")[1]

    def post(key):
        headers = {"Authorization": f"Bearer {token}"} | ({"Idempotency-Key": key} if key else {})
        return lambda: app.test_client().post("/api/v1/invitations", json=BODY, headers=headers)

    first, second = race(db.engine, _read_of_earlier_invitations, post(keys[0]), post(keys[1]))
    # A retry with the same key gets the first call's invitation; any other second call is "already invited".
    assert (first.status_code, second.status_code) == (201, 200 if keys[0] and keys[0] == keys[1] else 409)
    assert _count(db, Invitation, Invitation.customer_email == "cara@example.org") == 1
    assert _count(db, OutboxMessage, OutboxMessage.kind == "invitation") == 1


def test_a_csv_upload_sent_twice_invites_each_customer_once(app, db):
    survey, team = make_survey(), make_team()
    leader = make_user("leader", team=team)
    data = "\n".join(["email,name,team,interaction_date"] + [
        f"customer{n}@example.org,Customer {n},{team.name},2026-01-02" for n in range(3)]).encode()
    page = f"/leaders/surveys/{survey.slug}/invitations"
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        login(browser, leader)
    tokens = [csrf_token(browser, page) for browser in browsers]

    def upload(index):
        return lambda: browsers[index].post(f"{page}/upload", content_type="multipart/form-data", data={
            "csrf_token": tokens[index], "file": (io.BytesIO(data), "customers.csv")})

    first, second = race(db.engine, _read_of_earlier_invitations, upload(0), upload(1))
    assert first.status_code == 303 and second.status_code == 400
    assert "already invited" in second.get_data(as_text=True)
    assert _count(db, Invitation) == 3 and _count(db, OutboxMessage, OutboxMessage.kind == "invitation") == 3
