"""Erasing a customer: afterwards their address, name and phone number are nowhere in the
database (every column of every table is scanned), the gap report is identical, and an audit
line says who erased how much, without the address."""

import hashlib
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from perception.accounts.service import create_api_token
from perception.core.models import (
    ErasureRecord,
    FollowUp,
    IdempotencyKey,
    Invitation,
    MailSuppression,
    OutboxMessage,
    RecoveryRequest,
    Response,
    StaffGuess,
    WebhookDelivery,
    next_utc_midnight,
    utcnow,
)
from perception.core.suppression import is_suppressed
from perception.core.tokens import email_hash
from perception.followups.erasure_service import erase_customer
from perception.invitations.open_link_service import create_open_link, open_link_url
from perception.invitations.service import suppress
from perception.web.customer import LINK_CHECK_KEY
from perception.webhooks.delivery_service import deliver_due_webhooks
from perception.webhooks.service import add_endpoint
from tests.helpers import (
    answers_for,
    bank_items,
    csrf_token,
    login,
    make_invitation,
    make_survey,
    make_team,
    make_user,
    post_form,
    race,
)
from tests.loop_helpers import answer, followup_of, invite_and_answer, page_post
from tests.webhook_receiver import running_receiver, signature_ok

EMAIL = "priyanka.sharma@example.org"
PHONE = "+44 7700 900123"
EXACT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture
def survey(db):
    return make_survey(items=bank_items())


def traces(db, needles):
    """(table, column, needle) for every column of every table holding one of `needles`, in any case."""
    found = []
    inspector = sa.inspect(db.engine)
    with db.engine.connect() as connection:
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                for needle in needles:
                    hits = connection.execute(sa.text(
                        f'SELECT count(*) FROM "{table}" WHERE lower(CAST("{column["name"]}" AS TEXT)) LIKE :needle'
                    ), {"needle": f"%{needle.lower()}%"}).scalar()
                    if hits:
                        found.append((table, column["name"], needle))
    return found


def dump(db):
    """Every row of every table of the database (by the database's own catalogue, not the models),
    every column as text, one line per row."""
    lines = []
    inspector = sa.inspect(db.engine)
    with db.engine.connect() as connection:
        for table in inspector.get_table_names():
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):
                lines.append(table + ": " + " | ".join("" if value is None else str(value) for value in row))
    return "\n".join(lines)


def found_in_dump(text, email, names, phone_digits):
    """What of the customer the dump still holds: the address (any case), a name (any case) or the
    phone's last nine digits with any separators between them."""
    found = [needle for needle in [email, *names] if needle.lower() in text.lower()]
    digits = re.compile(r"[\s./()+-]*".join(phone_digits[-9:]))
    found += [match.group(0) for match in digits.finditer(text)]
    return found


def gap_json(runner, survey):
    result = runner.invoke(args=["gap", "--survey", survey.slug, "--by", "team", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def seed_customer(app, client, survey):
    """A customer who answered (low, with consent and phone), was followed up, sent a re-survey,
    was invited again (mail failed with their address in the error), and mentioned elsewhere."""
    team = make_team("Harbour Street")
    leader = make_user("leader", team=team)
    staff = make_user("staff", team=team, name="Ben Okafor")
    for score in (4, 5, 4, 3, 5):  # other customers, so the gap report has figures
        invite_and_answer(app.test_client(), survey, team, score=score)
    invitation = invite_and_answer(
        app.test_client(), survey, team, score=1, email=EMAIL, name="Priyanka Sharma", staff=staff, consent="yes",
        phone=PHONE, comment=f"Write to me at {EMAIL.upper()}, Priyanka Sharma. Or call 07700 900123.",
    )
    from perception.core.extensions import db

    db.session.add(StaffGuess(invitation_id=invitation.id, staff_id=staff.id, score=4))
    followup = followup_of(invitation)
    login(client, leader)
    path = f"/leaders/followups/{followup.reference}"
    page_post(client, path, "contact", {"channel": "phone", "outcome": "reached",
                                        "note": "Rang 07700 900 123; Priyanka was upset about the fee."})
    page_post(client, path, "resolve", {"note": f"Refund confirmed by mail to {EMAIL}."})
    db.session.add(RecoveryRequest(follow_up_id=followup.id, item_id=survey.items[0].id, token_hash="f" * 64,
                                   token_nonce="n", state="sent", expires_at=utcnow()))
    second, _token = make_invitation(make_survey("wave-2", items=bank_items(4)), team, email=EMAIL,
                                     name="Priyanka Sharma")
    db.session.add(OutboxMessage(invitation=second, kind="invitation", status="pending",
                                 last_error=f"451 4.2.0 <{EMAIL}>: mailbox busy"))
    invite_and_answer(app.test_client(), survey, team, score=4, comment=f"I came with {EMAIL} last week.")
    db.session.add(Response(survey_id=survey.id, perspective="customer", team_id=team.id, respondent=EMAIL.upper(),
                            channel="import", answers=[]))
    db.session.commit()
    # At the counter she answered again through the open (QR) link, giving her phone written otherwise.
    walk_in = app.test_client()
    assert walk_in.get(open_link_url(create_open_link(survey, team, "Counter")).removeprefix(
        "http://perception.test")).status_code == 303
    answers = {**{f"item_{item.key}": "1" for item in survey.items}, "contact_consent": "yes",
               "contact_phone": "07700-900-123", "comment": "Still waiting for the refund."}
    assert post_form(walk_in, "/s/o/answer", answers).status_code == 303
    open_answer = db.session.execute(select(Response).where(Response.channel == "open")).scalar_one()
    open_followup = db.session.execute(select(FollowUp).where(FollowUp.response_id == open_answer.id)).scalar_one()
    page_post(client, f"/leaders/followups/{open_followup.reference}", "contact",
              {"channel": "phone", "outcome": "message", "note": "Left a message on 0770 090 0123."})
    # A till sent her number in its Idempotency-Key; and she unsubscribed before keyed hashes.
    other, _token = make_invitation(survey, team, email="someone.else@example.org")
    db.session.add(IdempotencyKey(user_id=leader.id, key="till-7:447700900123", request_hash="0" * 64,
                                  invitation_id=other.id))
    db.session.add(MailSuppression(email_hash=hashlib.sha256(EMAIL.encode()).hexdigest(), reason="unsubscribed"))
    db.session.commit()
    return invitation, followup, second


def test_erase_customer_command_leaves_no_trace_and_no_figure_moves(app, db, client, runner, survey):
    invitation, followup, second = seed_customer(app, client, survey)
    needles = [EMAIL, "Priyanka", "Sharma", "900123", "900 123", "900-123", "0900 0123", "7700900123"]
    assert {table for table, _column, _needle in traces(db, needles)} >= {
        "invitations", "responses", "follow_up_events", "outbox_messages", "idempotency_keys"}
    legacy_hash = hashlib.sha256(EMAIL.encode()).hexdigest()
    before_dump = dump(db)
    assert set(found_in_dump(before_dump, EMAIL, ["Priyanka", "Sharma"], "447700900123")) >= {
        EMAIL, "Priyanka", "Sharma", "700-900-123", "70 090 0123"} and legacy_hash in before_dump
    before = gap_json(runner, survey)

    result = runner.invoke(args=["erase-customer", EMAIL.upper(), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Erased: 2 invitation(s)" in result.output and "2 response(s) given with consent" in result.output
    db.session.expire_all()

    assert traces(db, needles) == []
    after_dump = dump(db)  # every table, every column, as the database holds it
    assert found_in_dump(after_dump, EMAIL, ["Priyanka", "Sharma"], "447700900123") == []
    assert legacy_hash not in after_dump  # the suppression list keeps a keyed hash only...
    assert db.session.get(MailSuppression, email_hash(EMAIL)).reason == "unsubscribed"
    assert is_suppressed(EMAIL)  # ...and still stops her mail
    open_answer = db.session.execute(select(Response).where(Response.channel == "open")).scalar_one()
    assert (open_answer.contact_phone, open_answer.contact_consent) == (None, False)
    assert open_answer.comment == "Still waiting for the refund." and len(open_answer.answers) == len(survey.items)
    assert db.session.execute(select(IdempotencyKey)).first() is None
    assert gap_json(runner, survey) == before
    assert db.session.get(Invitation, invitation.id).state == "answered"  # the answer still counts
    assert db.session.get(Invitation, second.id).state == "created"  # its link is dead (a new hash), its state kept
    invitation_mail = select(OutboxMessage).where(OutboxMessage.invitation_id.is_not(None))
    assert db.session.execute(invitation_mail).scalar_one().status == "cancelled"
    assert db.session.execute(select(RecoveryRequest)).scalar_one().state == "expired"
    response = db.session.get(Response, followup.response_id)
    assert response.contact_consent is False and response.contact_phone is None
    assert len(response.answers) == len(survey.items) and response.comment.startswith("Write to me at [erased]")
    assert db.session.get(FollowUp, followup.id).state == "resolved"
    record = db.session.execute(select(ErasureRecord)).scalar_one()
    assert record.actor.startswith("command line") and (record.invitations, record.responses) == (2, 2)
    assert record.follow_ups == 2 and record.fields_cleared >= 8
    assert EMAIL not in record.subject_hash and len(record.subject_hash) == 64

    page = client.get(f"/leaders/followups/{followup.reference}").get_data(as_text=True)
    assert "did not allow contact" in page and "Priyanka" not in page


def test_the_command_asks_first_refuses_nonsense_and_reports_an_empty_result(app, db, runner):
    asked = runner.invoke(args=["erase-customer", EMAIL], input="n\n")
    assert asked.exit_code == 1 and "Aborted" in asked.output
    assert db.session.execute(select(ErasureRecord)).first() is None
    bad = runner.invoke(args=["erase-customer", "not-an-address", "--yes"])
    assert bad.exit_code == 2 and "is not an email address" in bad.output
    empty = runner.invoke(args=["erase-customer", "nobody@example.org", "--yes"])
    assert empty.exit_code == 0 and "No customer data was found" in empty.output
    assert "Audit line #" in empty.output
    assert "keeping their answers anonymously" in runner.invoke(args=["erase-customer", "--help"]).output


def test_an_account_with_the_same_address_is_left_alone(app, db, runner, survey):
    team = make_team()
    staff = make_user("staff", team=team, email="ben@example.org")
    invite_and_answer(app.test_client(), survey, team, score=4, email="ben@example.org")
    result = runner.invoke(args=["erase-customer", "ben@example.org", "--yes"])
    assert result.exit_code == 0 and "A user account has this address" in result.output
    db.session.refresh(staff)
    assert staff.email == "ben@example.org" and staff.active


def test_admins_erase_from_the_customers_page_and_others_cannot(app, db, client, survey):
    team = make_team()
    invite_and_answer(app.test_client(), survey, team, score=4, email=EMAIL, name="Priyanka Sharma", consent="yes")
    leader_client = app.test_client()
    login(leader_client, make_user("leader", team=team))
    assert leader_client.get("/leaders/customers").status_code == 403
    admin = make_user("admin", name="Ada")
    login(client, admin)
    unconfirmed = post_form(client, "/leaders/customers", {"erase-action": "erase", "erase-email": EMAIL})
    assert unconfirmed.status_code == 400 and "Please confirm." in unconfirmed.get_data(as_text=True)
    assert db.session.execute(select(ErasureRecord)).first() is None
    found = post_form(client, "/leaders/customers", {"search-action": "search", "search-email": EMAIL})
    assert "Priyanka Sharma" in found.get_data(as_text=True)
    erased = post_form(client, "/leaders/customers", {"erase-action": "erase", "erase-email": EMAIL,
                                                      "erase-confirm": "y"}, follow_redirects=True)
    html = erased.get_data(as_text=True)
    assert "Erased: 1 invitation(s)" in html and f"admin {admin.email}" in html
    assert traces(db, [EMAIL, "Priyanka"]) == []
    again = post_form(client, "/leaders/customers", {"search-action": "search", "search-email": EMAIL})
    assert "Nothing to show for that address." in again.get_data(as_text=True)


def test_the_suppression_list_keeps_keyed_hashes_and_honours_plain_ones_until_replaced(app, db):
    address = "old.customer@example.org"
    plain = hashlib.sha256(address.encode()).hexdigest()
    keyed = email_hash(address.upper())
    assert len(keyed) == 64 and keyed != plain
    app.config["SECRET_KEY"] = "another-secret"
    assert email_hash(address) != keyed  # keyed from SECRET_KEY: a list of addresses cannot be checked alone
    app.config["SECRET_KEY"] = "test-secret-key"
    assert email_hash(address) == keyed

    db.session.add(MailSuppression(email_hash=plain, reason="bounced"))  # a row from before keyed hashes
    db.session.commit()
    assert is_suppressed(address.title())  # still stops the mail
    suppress(address, "unsubscribed")  # suppressed again: the plain row is replaced by the keyed one
    db.session.commit()
    assert [row.email_hash for row in db.session.execute(select(MailSuppression)).scalars()] == [keyed]
    assert is_suppressed(address) and not is_suppressed("someone.new@example.org")
    suppress("someone.new@example.org", "bounced")
    db.session.commit()
    assert db.session.get(MailSuppression, hashlib.sha256(b"someone.new@example.org").hexdigest()) is None
    assert is_suppressed("someone.new@example.org")


@pytest.mark.parametrize("name", ["Elodie Martin", "Élodie Martin", "Øyvind Hansen"])
def test_the_sweep_finds_a_full_name_that_starts_with_a_letter_beyond_ascii(app, db, runner, survey, name):
    """Another customer names her in his comment: the sweep blanks it whatever her name's letters
    (SQLite's lower() folds ASCII only, so "Élodie Martin" escaped its prefilter: an attacker's read)."""
    team = make_team("Harbour Street")
    invite_and_answer(app.test_client(), survey, team, score=4, email="customer@example.org", name=name)
    invite_and_answer(app.test_client(), survey, team, score=4, comment=f"I came with my wife {name} on Monday.")
    result = runner.invoke(args=["erase-customer", "customer@example.org", "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert [line[:160] for line in dump(db).splitlines() if name.lower() in line.lower()] == []


def test_her_webhook_bodies_lose_a_one_word_name_too(app, db, runner, survey):
    """A consenting customer's payloads carry her name beside her address: erased, both go, even a name
    of one word, which the sweep of every table leaves (a single word may be any word). (Bodies sent
    already: those still to go are written again as without consent, the test above.)"""
    add_endpoint("http://127.0.0.1:9/hook", ["response.received", "followup.opened"])
    invite_and_answer(app.test_client(), survey, make_team("Harbour Street"), score=1, email="priyanka@example.org",
                      name="Priyanka", consent="yes", phone="+44 7700 900123")
    db.session.execute(sa.update(WebhookDelivery).values(status="delivered"))
    db.session.commit()
    before = [delivery.body for delivery in db.session.execute(select(WebhookDelivery)).scalars()]
    assert len(before) == 2 and all('"name":"Priyanka"' in body for body in before), before
    assert runner.invoke(args=["erase-customer", "priyanka@example.org", "--yes"]).exit_code == 0
    db.session.expire_all()
    after = [delivery.body for delivery in db.session.execute(select(WebhookDelivery)).scalars()]
    assert not any(word in body for body in after for word in ("Priyanka", "priyanka@", "7700")), after
    assert all('"name":"[erased]"' in body for body in after), after


def test_her_webhook_deliveries_not_sent_yet_go_out_as_without_consent(app, db, survey):
    """DESIGN section 2, "No consent, no link": erased, her answer has no consent any more. Deliveries
    queued before, not sent yet (the receiver was down), went out with the minute of her answer, the
    staff member who served her and `contact_consent: true`. They go out as an answer's given without
    consent: days only, nobody named, `response.received` without scores and held until the next UTC
    midnight. Each keeps its id (a receiver that took an earlier try drops the retry as a duplicate)."""
    team = make_team("Harbour Street")
    with running_receiver(statuses=[503, 503]) as receiver:
        _endpoint, secret = add_endpoint(receiver.url, ["response.received", "followup.opened"])
        invite_and_answer(app.test_client(), survey, team, score=1, email=EMAIL, name="Priyanka Sharma",
                          staff=make_user("staff", team=team, name="Sam Server"), consent="yes", phone=PHONE)
        assert deliver_due_webhooks().retry == 2
        first_tries = {json.loads(body)["type"]: json.loads(body)["id"] for body in receiver.bodies()}
        now = utcnow()
        erase_customer(EMAIL, "tests", now=now)
        held = db.session.execute(select(WebhookDelivery.next_attempt_at)
                                  .where(WebhookDelivery.event_type == "response.received")).scalar_one()
        assert held == next_utc_midnight(now)
        assert deliver_due_webhooks(clock=lambda: held + timedelta(hours=1)).delivered == 2
        retries = receiver.requests[2:]
    events = {}
    for headers, body in retries:
        assert signature_ok(secret, headers["Perception-Signature"], body)
        text = body.decode()
        assert not EXACT_TIME.search(text) and "Sam Server" not in text and "Priyanka" not in text, text
        events[json.loads(body)["type"]] = json.loads(body)
    assert {kind: event["id"] for kind, event in events.items()} == first_tries
    received, opened = events["response.received"], events["followup.opened"]
    assert set(received["data"]["response"]) == {"id", "survey", "team", "channel", "submitted_at",
                                                 "contact_consent"}
    assert received["data"]["response"]["contact_consent"] is False and "overall" not in received["text"]
    submitted_at = db.session.execute(select(Response.submitted_at)).scalar_one()
    assert received["created_at"] == received["data"]["response"]["submitted_at"] == f"{submitted_at:%Y-%m-%d}"
    assert opened["data"]["response"]["contact_consent"] is False and "customer" not in opened["data"]["response"]
    assert opened["data"]["response"]["scores"]["overall"] == 1  # a follow-up event keeps them, as the page does
    due_at = db.session.execute(select(FollowUp.due_at)).scalar_one()  # as the erasure moved it
    assert opened["data"]["follow_up"]["due_at"] == f"{due_at:%Y-%m-%d}"


def test_an_imported_answer_is_found_by_an_address_in_capitals_beyond_ascii(app, db, survey):
    """Imported rows keep `respondent` as written; SQLite's lower() left "É" as it was, so the erasure did
    not count the row as theirs (an attacker's read: only the later sweep blanked it)."""
    db.session.add(Response(survey=survey, perspective="customer", team=make_team("Harbour Street"),
                            respondent="ÉLODIE@EXAMPLE.ORG", submitted_at=utcnow(), channel="import"))
    db.session.commit()
    result = erase_customer("élodie@example.org", "tests")
    assert (result.responses, result.fields_cleared) == (0, 1)  # found; not counted: given without consent
    assert db.session.execute(select(Response.respondent)).scalar_one() is None


def test_erasing_a_customer_who_gave_no_consent_changes_no_anonymous_row_and_tells_nothing_of_their_answer(
        app, db, client, runner):
    """An attacker's read: the admin who erases a customer knows who they are. Blanking each part of
    their name ("Will", "Green") out of a comment that named nobody changed one anonymous row of the
    export, which was theirs; and the result counted their follow-ups, and so said whether they had
    answered low. Without consent, only what names the customer by itself goes (address, phone, full name)."""
    survey, team = make_survey(items=bank_items(4)), make_team()
    customers = [("ann@example.org", "Ann Lee", "Quick and friendly."),
                 ("will@example.org", "Will Green", "Will definitely come back, Green tea was great."),
                 ("cat@example.org", "Cat Moss", "Fine."), ("dan@example.org", "Dan Ford", "They listened."),
                 ("eve@example.org", "Eve Hart", "Thanks, Eve Hart here, call me on eve@example.org.")]
    for index, (email, name, comment) in enumerate(customers):
        invite_and_answer(client, survey, team, score=1 if index == 1 else 4, email=email, name=name, consent="no",
                          comment=comment)
    login(client, make_user("admin"))

    def export():
        return client.get(f"/leaders/surveys/{survey.slug}/export.csv").get_data(as_text=True)

    before = export()
    assert before.count("\n") == 6  # the header and one published batch of five
    result = runner.invoke(args=["erase-customer", "will@example.org", "--yes"])
    assert result.exit_code == 0 and "0 follow-up(s)" in result.output, result.output
    assert export() == before
    assert db.session.execute(select(ErasureRecord)).scalar_one().follow_ups == 0
    # What named the customer by itself goes, as it always did: that row named them before already.
    assert runner.invoke(args=["erase-customer", "eve@example.org", "--yes"]).exit_code == 0
    after = export()
    assert "Eve Hart" not in after and "eve@example.org" not in after and "Thanks, [erased] here" in after


def test_without_consent_a_low_and_a_high_answer_are_erased_alike(app, db, client):
    """A review of the fix above: a follow-up note naming the customer was blanked and counted, so one
    field more told the admin that a follow-up, and so a low answer, existed. It is still blanked."""
    survey, team = make_survey(items=bank_items(4)), make_team()
    low = invite_and_answer(app.test_client(), survey, team, score=1, email="low@example.org", name="Lou Wood",
                            consent="no", comment="I am Lou Wood and it was slow.")
    invite_and_answer(app.test_client(), survey, team, score=5, email="high@example.org", name="Hal Eng",
                      consent="no", comment="I am Hal Eng and it was fine.")
    followup = followup_of(low)
    login(client, make_user("leader", team=team))
    page_post(client, f"/leaders/followups/{followup.reference}", "note",
              {"note": "She wrote 'I am Lou Wood'; discussed in the team."})
    erased = [erase_customer(email, "test") for email in ("low@example.org", "high@example.org")]
    assert len({(result.invitations, result.responses, result.follow_ups, result.fields_cleared)
                for result in erased}) == 1
    notes = [event.note for event in db.session.get(FollowUp, followup.id).events if event.note]
    assert notes == ["She wrote 'I am [erased]'; discussed in the team."]


def test_erasing_tells_nothing_of_whether_a_customer_answered_without_consent(app, db, client):
    """An attacker's read: no page says person by person whether a customer answered without consent,
    but the erasure's result (its message, the recent erasures every admin sees, the audit line)
    counted the answer. A customer who answered without consent and one who never did erase alike."""
    survey, team = make_survey(items=bank_items(4)), make_team()
    invite_and_answer(app.test_client(), survey, team, score=5, email="answered@example.org", name="Ann Lee",
                      consent="no")
    make_invitation(survey, team, email="silent@example.org", name="Sam Ray")
    erased = [erase_customer(email, "test") for email in ("answered@example.org", "silent@example.org")]
    assert erased[0].summary().split(" Audit")[0] == erased[1].summary().split(" Audit")[0]
    records = db.session.execute(select(ErasureRecord).order_by(ErasureRecord.id)).scalars().all()
    assert len({(r.invitations, r.responses, r.follow_ups, r.fields_cleared) for r in records}) == 1


def test_erasing_closes_answered_and_unanswered_links_alike(app, db, client):
    """An attacker's read: erasure moved an unanswered invitation to "expired" (state and expiry) and left
    an answered one as it was, so the invitation's API record, the leaders' list of latest invitations and
    the team's funnel told whoever read them afterwards whether the customer had answered. Now every link
    of theirs gets a hash no token leads to, and nothing a reader sees of the invitation changes."""
    survey, team = make_survey(items=bank_items(4)), make_team()
    leader = make_user("leader", team=team)
    answered, answered_token = make_invitation(survey, team, email="ann@example.org", name="Ann Lee")
    silent, silent_token = make_invitation(survey, team, email="sam@example.org", name="Sam Ray")
    for invitation in (answered, silent):  # both handed out ("Show me the link")
        invitation.state, invitation.sent_at = "sent", invitation.created_at
    db.session.commit()
    assert answer(app.test_client(), survey, answered_token, 5, consent="no").status_code == 303
    token = create_api_token(leader, "probe")[1]
    headers = {"Authorization": f"Bearer {token}"}

    def seen():
        records = [client.get(f"/api/v1/invitations/{i.id}", headers=headers).get_json() for i in (answered, silent)]
        return [{key: record[key] for key in ("state", "expires_at", "created_at")} for record in records]

    def funnel():
        return client.get(f"/api/v1/surveys/{survey.slug}/funnel", headers=headers).get_json()

    before, funnel_before = seen(), funnel()
    assert before[0]["state"] == before[1]["state"] == "sent"
    for email in ("ann@example.org", "sam@example.org"):
        erase_customer(email, "test")
    db.session.expire_all()
    assert seen() == before and funnel() == funnel_before
    for link in (answered_token, silent_token):
        assert app.test_client().get(f"/s/{link}").status_code == 404  # both links are dead


def test_a_form_opened_before_the_erasure_no_longer_answers(app, db):
    """A review of the change above: the customer's session holds the invitation, not the link, so a form
    opened before the erasure still stored an answer after it (phone and all). The session keeps the
    start of the link's hash too, and a link replaced since is unknown."""
    survey, team = make_survey(items=bank_items(4)), make_team()
    invitation, token = make_invitation(survey, team, email="priya@example.org", name="Priya")
    browser = app.test_client()
    assert browser.get(f"/s/{token}").status_code == 303
    form = answers_for(survey.items, 1) | {"csrf_token": csrf_token(browser, "/s/answer"), "contact_consent": "yes",
                                           "contact_phone": "+44 7700 900123"}
    erase_customer("priya@example.org", "test")
    assert browser.get("/s/answer").status_code == 404
    assert browser.post("/s/answer", data=form).status_code == 404
    with browser.session_transaction() as session:  # a session from before the check holds none
        session.pop(LINK_CHECK_KEY)
    assert browser.post("/s/answer", data=form).status_code == 404  # its customer opens the link again
    db.session.expire_all()
    assert db.session.execute(select(Response)).first() is None
    assert db.session.get(Invitation, invitation.id).state != "answered"


@pytest.mark.parametrize("held", ["submit", "erasure"])
def test_a_submit_at_the_moment_of_the_erasure_stores_nothing(app, db, held):
    """A race hunt: a submit whose link check passed just before the erasure committed stored its answer
    after it, phone, consent and comment included; and an erasure reading answers unlocked missed one
    committed meanwhile. Either call held right after its read of the invitations, the other run
    meanwhile: the erasure locks the invitations first, and the submit stores only while its link is
    the one it checked."""
    survey, team = make_survey(items=bank_items(4)), make_team()
    invitation, token = make_invitation(survey, team, email="priya@example.org", name="Priya Shah")
    browser = app.test_client()
    assert browser.get(f"/s/{token}").status_code == 303
    form = answers_for(survey.items, 1) | {"csrf_token": csrf_token(browser, "/s/answer"), "contact_consent": "yes",
                                           "contact_phone": "+44 7700 900123", "comment": "Priya here, 07700 900123"}

    def erase():
        with app.app_context():
            try:
                return erase_customer("priya@example.org", "test")
            finally:
                db.session.remove()

    calls = {"submit": lambda: browser.post("/s/answer", data=form), "erasure": erase}
    other = "erasure" if held == "submit" else "submit"
    results = dict(zip((held, other), race(db.engine, lambda statement: "FROM invitations" in statement,
                                             calls[held], calls[other]), strict=True))
    assert results["erasure"].invitations == 1 and results["submit"].status_code == 404
    db.session.expire_all()
    assert db.session.execute(select(Response)).first() is None
    assert db.session.get(Invitation, invitation.id).state != "answered"
    assert db.session.execute(select(FollowUp)).first() is None
