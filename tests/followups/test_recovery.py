"""Recovery: a resolved follow-up of a consenting customer gets a two-question re-survey by real
SMTP; the link works once; leaders see the score before versus after, per dimension and team."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from perception.core.models import OutboxMessage, RecoveryRequest, utcnow
from perception.core.tokens import hash_token
from perception.followups.mail import deliver_followup_mail
from perception.invitations.service import suppress
from perception.surveys.bank_service import Wording, edit_item
from tests.helpers import bank_items, login, make_survey, make_team, make_user, post_form
from tests.loop_helpers import followup_of, invite_and_answer, page_post

LINK_RE = re.compile(r"https?://\S+/s/r/[A-Za-z0-9_-]{40,}")


@pytest.fixture
def survey(db):
    return make_survey(items=bank_items())


def resolved_followup(app, client, survey, team, leader, consent="yes", email="lena@example.net", **answers):
    invitation = invite_and_answer(app.test_client(), survey, team, email=email, name="Lena", consent=consent,
                                   **answers)
    followup = followup_of(invitation)
    login(client, leader)
    path = f"/leaders/followups/{followup.reference}"
    assert page_post(client, path, "resolve", {"note": "Called and apologised."}).status_code == 303
    return followup, path


def test_resurvey_goes_out_once_and_the_answer_shows_in_the_recovery_report(app, db, client, survey, smtp_server):
    team = make_team("Riverside")
    leader = make_user("leader", team=team)
    worst = survey.items[3]
    scores = {item.key: 2 for item in survey.items} | {worst.key: 1}
    followup, path = resolved_followup(app, client, survey, team, leader, scores=scores, nps=3)
    assert page_post(client, path, "recovery", {}).status_code == 303
    [mail] = smtp_server.to("lena@example.net")
    assert mail.message["Subject"] == "Did we put things right?"
    assert "Dear Lena" in mail.text
    link = LINK_RE.search(mail.text).group(0)
    token = link.rsplit("/", 1)[1]
    recovery = db.session.execute(select(RecoveryRequest)).scalar_one()
    assert recovery.token_hash == hash_token(token) and token not in recovery.token_nonce
    assert recovery.item_id == worst.id and recovery.state == "sent"
    again = page_post(client, path, "recovery", {}, must_show=False)
    assert again.status_code == 400 and "already sent" in again.get_data(as_text=True)

    customer = app.test_client()
    opened = customer.get(urlsplit(link).path)
    assert opened.status_code == 303 and token not in opened.headers["Location"]
    form = customer.get("/s/r/answer").get_data(as_text=True)
    assert worst.customer_text in form
    assert post_form(customer, "/s/r/answer", {"score": "4", "nps": "8"}).status_code == 303
    assert "Thank you" in customer.get("/s/r/thanks").get_data(as_text=True)
    db.session.refresh(recovery)
    assert (recovery.state, recovery.score, recovery.nps) == ("answered", 4, 8)
    assert app.test_client().get(urlsplit(link).path).status_code == 410  # one link, one answer

    page = client.get(path).get_data(as_text=True)
    assert f"{worst.dimension.name} 4 of 5" in page
    report = re.sub(r">\s+<", "><", client.get("/leaders/followups/recovery").get_data(as_text=True))
    dimension_items = [item for item in survey.items if item.dimension_id == worst.dimension_id]
    before = sum(scores[item.key] for item in dimension_items) / len(dimension_items)
    assert f"<th scope=\"row\">{worst.dimension.name}</th><td>1</td><td>{before:.2f}</td><td>4.00</td>" in report
    assert "<th scope=\"row\">Riverside</th><td>1</td>" in report
    assert "<td>3.00</td><td>8.00</td><td>+5.00</td>" in report  # recommend, 0-10


def test_no_resurvey_without_consent_or_before_resolution(app, db, client, survey, smtp_server):
    team = make_team()
    leader = make_user("leader", team=team)
    followup, path = resolved_followup(app, client, survey, team, leader, consent="no")
    refused = page_post(client, path, "recovery", {}, must_show=False)
    assert refused.status_code == 400 and "did not allow us to contact them" in refused.get_data(as_text=True)
    open_one = followup_of(invite_and_answer(app.test_client(), survey, team, email="x@example.net", consent="yes"))
    early = page_post(client, f"/leaders/followups/{open_one.reference}", "recovery", {}, must_show=False)
    assert early.status_code == 400 and "once the follow-up is resolved" in early.get_data(as_text=True)
    assert smtp_server.messages == []


@pytest.mark.parametrize("reason", ["unsubscribed", "bounced"])
def test_no_resurvey_to_an_address_on_the_suppression_list(app, db, client, survey, smtp_server, reason):
    """An unsubscribe or a bounce after the answer stops the re-survey too, not only survey mail (a review)."""
    team = make_team()
    leader = make_user("leader", team=team)
    _followup, path = resolved_followup(app, client, survey, team, leader, email="Lena@Example.net")
    suppress("lena@example.net", reason)
    db.session.commit()
    refused = page_post(client, path, "recovery", {}, must_show=False)
    assert refused.status_code == 400 and "suppression list" in refused.get_data(as_text=True)
    assert smtp_server.messages == [] and db.session.execute(select(RecoveryRequest)).first() is None


def test_a_queued_resurvey_to_an_address_suppressed_since_is_cancelled(app, db, client, survey, smtp_server):
    team = make_team()
    leader = make_user("leader", team=team)
    followup, _path = resolved_followup(app, client, survey, team, leader)
    recovery = RecoveryRequest(follow_up_id=followup.id, item_id=survey.items[0].id, token_nonce="n" * 43,
                               token_hash=hash_token("t" * 43), state="created", created_at=utcnow(),
                               expires_at=utcnow() + timedelta(days=7))
    db.session.add(recovery)
    db.session.flush()
    db.session.add(OutboxMessage(recovery_id=recovery.id, kind="recovery", sequence=0, status="pending", attempts=0,
                                 next_attempt_at=utcnow(), created_at=utcnow()))
    suppress("lena@example.net", "unsubscribed")  # between the queueing and the send
    db.session.commit()
    report = deliver_followup_mail(recovery_ids=[recovery.id])
    assert report.sent == 0 and smtp_server.messages == []
    message = db.session.execute(select(OutboxMessage).where(OutboxMessage.recovery_id == recovery.id)).scalar_one()
    assert message.status == "cancelled" and "suppression list" in message.last_error


def test_unknown_and_expired_resurvey_links(app, db, client, survey, smtp_server):
    team = make_team()
    leader = make_user("leader", team=team)
    _followup, path = resolved_followup(app, client, survey, team, leader)
    page_post(client, path, "recovery", {})
    link = LINK_RE.search(smtp_server.messages[0].text).group(0)
    assert app.test_client().get("/s/r/" + "x" * 43).status_code == 404
    assert app.test_client().get("/s/r/answer").status_code == 404
    recovery = db.session.execute(select(RecoveryRequest)).scalar_one()
    recovery.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert app.test_client().get(urlsplit(link).path).status_code == 410


def test_a_mail_failure_is_shown_and_can_be_retried(app, db, client, survey, smtp_server):
    team = make_team()
    leader = make_user("leader", team=team)
    _followup, path = resolved_followup(app, client, survey, team, leader)
    smtp_server.refuse("lena@example.net", "451 4.3.0 Try later")
    failed = page_post(client, path, "recovery", {})
    assert failed.status_code == 400 and "could not be sent" in failed.get_data(as_text=True)
    assert db.session.execute(select(RecoveryRequest)).scalar_one().state == "created"
    assert page_post(client, path, "recovery", {}).status_code == 303
    assert db.session.execute(select(RecoveryRequest)).scalar_one().state == "sent"
    assert len(smtp_server.to("lena@example.net")) == 1


def test_the_resurvey_asks_the_wording_the_customers_wave_asked(app, db, client, survey, smtp_server):
    """An admin rewords the item after the customer answered: the re-survey still asks the statement
    the customer scored, so "before" and "after" answer the same question."""
    team = make_team("Riverside")
    leader = make_user("leader", team=team)
    worst = survey.items[3]
    asked = worst.customer_text
    scores = {item.key: 2 for item in survey.items} | {worst.key: 1}
    _followup, path = resolved_followup(app, client, survey, team, leader, scores=scores)
    reworded = "A brand new statement about this, written after the wave."
    wording = Wording(reworded, worst.staff_text, worst.leader_text, {})
    assert edit_item(worst, wording, make_user("admin")) == "reworded"
    assert page_post(client, path, "recovery", {}).status_code == 303
    [mail] = smtp_server.to("lena@example.net")
    customer = app.test_client()
    assert customer.get(urlsplit(LINK_RE.search(mail.text).group(0)).path).status_code == 303
    form = customer.get("/s/r/answer").get_data(as_text=True)
    assert asked in form and reworded not in form


def test_a_name_stored_with_a_bare_carriage_return_never_reaches_the_smtp_data(app, db, client, survey,
                                                                               smtp_server):
    """A name stored before names were cleaned on input kept a bare CR, and the re-survey mail put it
    into both body parts unchanged: "<CR>.<CR><LF>MAIL FROM:..." reached the relay (SMTP smuggling)."""
    team = make_team("Riverside")
    followup, path = resolved_followup(app, client, survey, team, make_user("leader", team=team))
    followup.response.invitation.customer_name = "Lena\r.\r\nMAIL FROM:<ceo@perception.test>\r\nDATA\rx"
    db.session.commit()
    recorder, data = smtp_server._recorder, []
    relay = recorder.handle_DATA

    async def keep_data(server, session, envelope):
        data.append(envelope.original_content)
        return await relay(server, session, envelope)

    recorder.handle_DATA = keep_data
    assert page_post(client, path, "recovery", {}).status_code == 303
    [sent] = data
    assert b"\r" not in sent.replace(b"\r\n", b"") and b"\nMAIL FROM:" not in sent, sent[:400]
    [mail] = smtp_server.to("lena@example.net")
    assert "Dear Lena . MAIL FROM:<ceo@perception.test> DATA x" in mail.text
