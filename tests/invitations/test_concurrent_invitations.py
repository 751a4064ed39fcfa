"""Invitations at the same moment (race hunts). One customer invited twice at once (two API posts, or a CSV
upload sent twice) both read "not invited yet" and both invited, two mails each: the check and the insert
are one step now (invitations.service.hold_invitations; tests.helpers.race holds the first call right
after its read). A customer who answers or unsubscribes while the mail worker sends its group keeps it."""

import io
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from perception.accounts.service import create_api_token
from perception.core.extensions import db as _db
from perception.core.models import Invitation, OutboxMessage, utcnow
from perception.invitations import mail as invitation_mail
from perception.invitations.mail import deliver_due
from perception.invitations.service import InvitationRequest, add_invitation
from tests.helpers import answers_for, csrf_token, login, make_survey, make_team, make_user, race

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


def _in_app(app, call):
    with app.app_context():
        try:
            return call()
        finally:
            _db.session.remove()


def _after_the_first_mail(app, monkeypatch, smtp_server, customer_acts):
    """The mail worker's send, with the first mail's customer acting (in a request of their own) the moment
    the server accepted it: before the worker commits its group's results."""
    send, acted = invitation_mail.send_on, {}

    def send_then_act(connection, mail):
        send(connection, mail)
        if not acted:
            message = smtp_server.messages[-1]
            thread = threading.Thread(target=lambda: acted.setdefault("status", _in_app(
                app, lambda: customer_acts(message))))
            thread.start()
            thread.join(30)

    monkeypatch.setattr(invitation_mail, "send_on", send_then_act)
    return acted


def test_an_answer_or_unsubscribe_during_the_workers_group_is_kept(app, db, smtp_server, monkeypatch):
    """A race hunt: the worker wrote "sent" from the state it had read before the group's mails went out,
    over the "answered" (or "unsubscribed") of a customer who acted from the first mail meanwhile: the
    funnel lost the answer, and the next run mailed that customer a reminder."""
    survey, team = make_survey(), make_team()
    for email in ("ana@example.org", "bo@example.org", "cy@example.org"):
        add_invitation(InvitationRequest(survey=survey, team=team, email=email))

    def answers(message):
        browser = app.test_client()
        browser.get(urlsplit(message.link()).path)
        return browser.post("/s/answer", data=answers_for(survey.items) | {"csrf_token": csrf_token(
            browser, "/s/answer")}).status_code

    acted = _after_the_first_mail(app, monkeypatch, smtp_server, answers)
    assert deliver_due().sent == 3 and acted["status"] == 303
    answered = smtp_server.messages[0].to
    monkeypatch.undo()

    def unsubscribes(message):
        return app.test_client().post(urlsplit(message.unsubscribe_url).path).status_code

    again = make_survey("wave-2")
    add_invitation(InvitationRequest(survey=again, team=team, email="dee@example.org"))
    add_invitation(InvitationRequest(survey=again, team=team, email="eve@example.org"))
    smtp_server.clear()
    acted = _after_the_first_mail(app, monkeypatch, smtp_server, unsubscribes)
    assert deliver_due().sent == 2 and acted["status"] == 200
    unsubscribed = smtp_server.messages[0].to
    db.session.expire_all()
    states = dict(db.session.execute(select(Invitation.customer_email, Invitation.state)).all())
    assert states[answered] == "answered" and states[unsubscribed] == "unsubscribed"
    assert sorted(states.values()).count("sent") == 3
    monkeypatch.undo()
    smtp_server.clear()
    later = utcnow() + timedelta(days=app.config["REMINDER_AFTER_DAYS"] + 1)
    deliver_due(clock=lambda: later)
    reminded = {message.to for message in smtp_server.messages}
    assert answered not in reminded and unsubscribed not in reminded and len(reminded) == 3
