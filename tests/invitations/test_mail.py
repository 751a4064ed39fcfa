"""The outbox over real SMTP (aiosmtpd on loopback): what arrives, reminders, failures, unsubscribing."""

import logging
import socket
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from perception.core.models import Invitation, MailSuppression, OutboxMessage, Response, utcnow
from perception.core.outbox import CUSTOMER_KINDS, claim_due, release_rows_claimed_before
from perception.invitations.mail import deliver_due
from perception.invitations.service import InvitationError, InvitationRequest, invite
from tests.helpers import answers_for, make_survey, make_team, make_user, post_form


def queue(survey, team, email, **fields):
    invitation, _token = invite(InvitationRequest(survey=survey, team=team, email=email, **fields))
    return invitation


def answer_link(client, survey, link):
    """Open a link from a mail and answer, as the customer would."""
    response = client.get(urlsplit(link).path)
    assert response.status_code == 303, response.status_code
    assert response.headers["Location"].endswith("/s/answer")
    return post_form(client, "/s/answer", answers_for(survey.items, 4))


def at(days=0, **delta):
    moment = utcnow() + timedelta(days=days, **delta)
    return lambda: moment


def outbox(invitation):
    return list(OutboxMessage.query.filter_by(invitation_id=invitation.id).order_by(OutboxMessage.id))


def test_invitation_mail_has_both_parts_headers_personal_text_and_a_working_link(app, db, client, runner,
                                                                                   smtp_server):
    team = make_team("Harbour <Street>")
    staff = make_user("staff", team=team, name="Kemi Adeyemi")
    survey = make_survey()
    visit = utcnow().replace(year=2026, month=3, day=14) if utcnow().month > 3 else utcnow() - timedelta(days=1)
    invitation = queue(survey, team, "Ana@Example.org", name="Ana <script>alert(1)</script>", staff=staff,
                       interaction_at=visit)

    result = runner.invoke(args=["send-invitations"])

    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["ana@example.org"]
    headers = mail.message
    assert headers["From"] == "Care Team <care@perception.test>"
    assert "ana@example.org" in headers["To"]
    assert headers["Subject"] == "How did we treat you at Harbour <Street>?"
    assert headers["Message-ID"].endswith("@perception.test>")
    unsubscribe_url = mail.unsubscribe_url
    assert unsubscribe_url.startswith("http://perception.test/s/unsubscribe/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers.get_content_type() == "multipart/alternative"
    day = f"{visit.day} {visit:%B %Y}"
    text, html = mail.text, mail.html
    assert "Dear Ana <script>alert(1)</script>," in text
    assert f"our Harbour <Street> team on {day}, where Kemi Adeyemi looked after you" in text
    assert "<script>" not in html and "Dear Ana &lt;script&gt;alert(1)&lt;/script&gt;," in html
    assert "Harbour &lt;Street&gt;" in html and day in html
    link = mail.link()
    assert link.startswith("http://perception.test/s/") and f'href="{link}"' in html
    assert unsubscribe_url in text and unsubscribe_url in html
    token = link.rsplit("/", 1)[1]
    db.session.refresh(invitation)
    assert invitation.state == "sent" and invitation.sent_at is not None
    assert token not in repr(db.session.execute(select(Invitation.__table__)).all())
    assert [row.status for row in outbox(invitation)] == ["sent"]

    assert answer_link(client, survey, link).status_code == 303
    response = db.session.execute(select(Response)).scalar_one()
    assert response.channel == "email" and response.invitation_id == invitation.id
    db.session.refresh(invitation)
    assert invitation.state == "answered"


def test_one_reminder_goes_only_to_those_who_did_not_answer(app, db, client, smtp_server):
    app.config.update(REMINDER_AFTER_DAYS=3, MAX_REMINDERS=1)
    survey, team = make_survey(), make_team()
    answered = queue(survey, team, "answered@example.org", name="Ann")
    unsubscribed = queue(survey, team, "gone@example.org")
    opened = queue(survey, team, "opened@example.org")
    silent = queue(survey, team, "silent@example.org", name="Sil")
    assert deliver_due().sent == 4
    first_links = {mail.to: mail.link() for mail in smtp_server.messages}
    assert answer_link(client, survey, first_links["answered@example.org"]).status_code == 303
    client.get(urlsplit(first_links["opened@example.org"]).path)
    gone = smtp_server.to("gone@example.org")[0].unsubscribe_url
    assert client.post(urlsplit(gone).path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    smtp_server.clear()

    assert deliver_due(clock=at(days=2)).sent == 0  # too early

    report = deliver_due(clock=at(days=3, minutes=1))
    assert report.reminders_queued == 2 and report.sent == 2
    reminded = sorted(mail.to for mail in smtp_server.messages)
    assert reminded == ["opened@example.org", "silent@example.org"]
    reminder = smtp_server.to("silent@example.org")[0]
    assert reminder.message["Subject"].startswith("Reminder:")
    assert "Dear Sil," in reminder.text and "still love to hear from you" in reminder.text
    assert reminder.link() == first_links["silent@example.org"]  # the same link as the first mail

    assert deliver_due(clock=at(days=10)).sent == 0  # at most MAX_REMINDERS
    for invitation, state in ((answered, "answered"), (unsubscribed, "unsubscribed"), (silent, "sent")):
        db.session.refresh(invitation)
        assert invitation.state == state
    db.session.refresh(silent)
    assert silent.reminders_sent == 1
    assert opened.id and answer_link(client, survey, reminder.link()).status_code == 303


def test_a_reminder_queued_before_the_customer_answered_is_cancelled(app, db, client, smtp_server):
    survey, team = make_survey(), make_team()
    invitation = queue(survey, team, "late@example.org")
    deliver_due()
    link = smtp_server.messages[0].link()
    smtp_server.clear()
    app.config.update(SMTP_PORT=_closed_port())  # the reminder is queued but cannot go out yet
    deliver_due(clock=at(days=4))
    assert [row.kind for row in outbox(invitation)] == ["invitation", "reminder"]
    answer_link(client, survey, link)
    app.config.update(SMTP_PORT=smtp_server.port)

    report = deliver_due(clock=at(days=5))

    assert report.sent == 0 and report.cancelled == 1
    assert smtp_server.messages == []
    assert outbox(invitation)[-1].status == "cancelled"


def test_a_temporary_failure_is_retried_with_backoff_then_delivered(app, db, smtp_server):
    app.config.update(MAIL_RETRY_SECONDS=60)
    invitation = queue(make_survey(), make_team(), "busy@example.org")
    smtp_server.refuse("busy@example.org", "451 4.3.0 Mailbox busy, try later", "452 4.2.2 Over quota for now")

    first = deliver_due(clock=at(0))
    assert first.retried == 1 and first.sent == 0
    [row] = outbox(invitation)
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at >= utcnow() + timedelta(seconds=55)
    assert deliver_due(clock=at(0)).handled == 0  # not due yet

    second = deliver_due(clock=at(minutes=2))
    assert second.retried == 1
    db.session.refresh(row)
    assert row.attempts == 2 and row.next_attempt_at > utcnow() + timedelta(minutes=3)  # 2 minutes later: doubled

    third = deliver_due(clock=at(minutes=10))
    assert third.sent == 1
    assert [mail.to for mail in smtp_server.messages] == ["busy@example.org"]
    db.session.refresh(invitation)
    assert invitation.state == "sent"


def test_a_permanent_failure_marks_the_invitation_bounced_and_suppresses_the_address(app, db, smtp_server):
    survey, team = make_survey(), make_team()
    invitation = queue(survey, team, "nobody@example.org")
    other = queue(survey, team, "fine@example.org")
    smtp_server.refuse("nobody@example.org", "550 5.1.1 No such user", forever=True)

    report = deliver_due()

    assert report.bounced == 1 and report.sent == 1
    db.session.refresh(invitation)
    db.session.refresh(other)
    assert invitation.state == "bounced" and invitation.bounced_at is not None and other.state == "sent"
    assert outbox(invitation)[0].status == "failed" and "550" in outbox(invitation)[0].last_error
    assert db.session.execute(select(func.count()).select_from(MailSuppression)).scalar() == 1
    assert deliver_due(clock=at(days=30)).handled == 0  # no reminder for a bounce
    second = make_survey("wave-2")
    with pytest.raises(InvitationError) as error:
        queue(second, team, "nobody@example.org")
    assert error.value.field == "email"


def test_too_many_temporary_failures_give_up(app, db, smtp_server):
    app.config.update(MAIL_MAX_ATTEMPTS=2, MAIL_RETRY_SECONDS=1)
    invitation = queue(make_survey(), make_team(), "flaky@example.org")
    smtp_server.refuse("flaky@example.org", "421 4.7.0 Slow down", forever=True)
    deliver_due(clock=at(0))
    assert deliver_due(clock=at(hours=1)).failed == 1
    assert outbox(invitation)[0].status == "failed"
    db.session.refresh(invitation)
    assert invitation.state == "created"


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_leaves_everything_queued_and_the_command_fails(app, db, runner):
    survey, team = make_survey(), make_team()
    invitations = [queue(survey, team, f"c{number}@example.org") for number in range(3)]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_closed_port())

    result = runner.invoke(args=["send-invitations"])

    assert result.exit_code == 1
    assert "cannot reach the SMTP server" in result.output
    rows = [outbox(invitation)[0] for invitation in invitations]
    assert {row.status for row in rows} == {"pending"}
    assert all(row.attempts == 1 and row.next_attempt_at > utcnow() for row in rows)


def test_unsubscribe_asks_first_then_stops_all_survey_mail(app, db, client, smtp_server):
    survey, team = make_survey(), make_team()
    invitation = queue(survey, team, "stop@example.org")
    deliver_due()
    url = smtp_server.messages[0].unsubscribe_url
    path = urlsplit(url).path

    page = client.get(path)
    assert page.status_code == 200 and "Stop survey emails?" in page.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.state == "sent"  # a GET (a mail scanner following links) changes nothing

    done = client.post(path)
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.state == "unsubscribed" and invitation.unsubscribed_at is not None
    assert "You are unsubscribed" in client.get(path).get_data(as_text=True)
    # The survey link now says why it is closed, not "This survey has closed".
    survey_page = client.get(urlsplit(smtp_server.messages[0].link()).path)
    text = survey_page.get_data(as_text=True)
    assert survey_page.status_code == 410 and "You unsubscribed from our survey emails" in text
    assert "This survey has closed" not in text
    with pytest.raises(InvitationError):
        queue(make_survey("wave-2"), team, "stop@example.org")
    assert client.get("/s/unsubscribe/forged-value").status_code == 404
    assert client.post(path[:-3] + "abc").status_code == 404


def test_expired_invitations_and_closed_surveys_get_no_mail(app, db, smtp_server):
    app.config.update(INVITATION_TTL_DAYS=14)
    survey, team = make_survey(), make_team()
    invitation = queue(survey, team, "old@example.org")
    report = deliver_due(clock=at(days=15))
    assert report.sent == 0 and report.expired == 1
    db.session.refresh(invitation)
    assert invitation.state == "expired"
    assert outbox(invitation)[0].status == "cancelled"

    closing = make_survey("closing", closes_at=utcnow() + timedelta(days=1))
    queue(closing, team, "late@example.org")
    assert deliver_due(clock=at(days=2)).cancelled == 1
    assert smtp_server.messages == []


def test_no_mail_or_reminder_goes_out_for_a_team_the_wave_no_longer_covers(app, db, smtp_server):
    """A review: such a link answers "this survey has closed", yet its invitation and reminders went out."""
    app.config.update(REMINDER_AFTER_DAYS=3, MAX_REMINDERS=1)
    team, other = make_team("Harbour Street"), make_team("Quay Road")
    survey = make_survey(teams=[team])
    waiting, mailed = queue(survey, team, "waiting@example.org"), queue(survey, team, "mailed@example.org")
    outbox(waiting)[0].next_attempt_at = utcnow() + timedelta(hours=1)  # queued, not yet due
    db.session.commit()
    assert deliver_due().sent == 1 and [mail.to for mail in smtp_server.messages] == ["mailed@example.org"]
    survey.teams = [other]  # an admin changed the wave's teams
    db.session.commit()
    report = deliver_due(clock=at(days=3, minutes=1))
    assert report.sent == 0 and report.reminders_queued == 0 and report.cancelled == 1
    assert outbox(waiting)[0].status == "cancelled" and len(outbox(mailed)) == 1


def test_send_invitations_help_and_limit(app, db, runner, smtp_server):
    assert "--loop" in runner.invoke(args=["send-invitations", "--help"]).output
    survey, team = make_survey(), make_team()
    for number in range(5):
        queue(survey, team, f"c{number}@example.org")
    result = runner.invoke(args=["send-invitations", "--limit", "2"])
    assert result.exit_code == 0 and "sent 2" in result.output
    assert len(smtp_server.messages) == 2
    assert "sent 3" in runner.invoke(args=["send-invitations"]).output
    assert len({mail.to for mail in smtp_server.messages}) == 5


def test_a_customer_with_language_de_gets_the_mail_in_german(app, db, smtp_server):
    team = make_team("Filiale Hafenstraße")
    visit = utcnow() - timedelta(days=1)
    queue(make_survey(), team, "jonas@example.de", name="Jonas", language="de-AT", interaction_at=visit)

    deliver_due()

    [mail] = smtp_server.messages
    assert mail.message["Subject"] == "Wie haben wir Sie bei Filiale Hafenstraße behandelt?"
    assert mail.message["Content-Language"] == "de-AT"
    text = mail.text.replace("\r\n", "\n")
    greeting = f"Guten Tag Jonas,\n\ndanke für Ihren Besuch bei unserem Team Filiale Hafenstraße am {visit:%d.%m.%Y}"
    assert greeting in text
    assert '<html lang="de-AT">' in mail.html and "Sagen Sie uns, wie wir Sie behandelt haben" in mail.html
    assert "Keine Umfrage-E-Mails mehr" in mail.text and mail.unsubscribe_url in mail.text


def test_an_interrupted_run_still_records_what_the_server_accepted(app, db, smtp_server, monkeypatch):
    """Results are committed per group of rows; Ctrl-C in the middle of a group must not lose the
    rows already accepted (they would go out again once their claim goes stale)."""
    from perception.invitations import mail

    survey, team = make_survey(), make_team()
    invitations = [queue(survey, team, f"c{number}@example.org") for number in range(5)]
    real_send, calls = mail.SmtpConnection.send, []

    def send(connection, message):
        calls.append(message)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_send(connection, message)

    monkeypatch.setattr(mail.SmtpConnection, "send", send)
    with pytest.raises(KeyboardInterrupt):
        deliver_due()

    assert len(smtp_server.messages) == 2
    db.session.expire_all()
    statuses = [outbox(invitation)[0].status for invitation in invitations]
    assert statuses == ["sent", "sent", "sending", "sending", "sending"]
    monkeypatch.setattr(mail.SmtpConnection, "send", real_send)
    assert deliver_due(clock=at(hours=1)).sent == 3  # the interrupted claim handed back, not the sent rows
    assert sorted(received.to for received in smtp_server.messages) == [f"c{number}@example.org" for number in range(5)]


def test_a_late_result_does_not_overwrite_rows_another_worker_took_back(app, db, smtp_server, monkeypatch):
    """Worker A is sending its batch when its claims are handed back (it took longer than STALE_CLAIM)
    and worker B claims the rows. A's results, committed after, must not overwrite B's claims."""
    from perception.invitations import mail

    survey, team = make_survey(), make_team()
    invitations = [queue(survey, team, f"c{number}@example.org") for number in range(3)]
    real_send, claimed_by_b = mail.SmtpConnection.send, []

    def take_back():
        with app.app_context():
            release_rows_claimed_before(OutboxMessage, utcnow() + timedelta(days=1))
            claimed_by_b.extend(row.claim_token for row in claim_due(10, utcnow(), CUSTOMER_KINDS))

    def send(connection, message):
        if not claimed_by_b:
            other_worker = threading.Thread(target=take_back)
            other_worker.start()
            other_worker.join(timeout=60)
        real_send(connection, message)

    monkeypatch.setattr(mail.SmtpConnection, "send", send)
    deliver_due()

    assert len(smtp_server.messages) == 3 and len(set(claimed_by_b)) == 1 and len(claimed_by_b) == 3
    db.session.expire_all()
    rows = [outbox(invitation)[0] for invitation in invitations]
    assert [(row.status, row.claim_token, row.attempts) for row in rows] == [("sending", claimed_by_b[0], 0)] * 3


@pytest.mark.parametrize("reply", ["550 5.1.1 <ada.lovelace@example.org>: Recipient address rejected: User unknown",
                                   "450 4.2.0 <ada.lovelace@example.org>: Recipient address rejected: Greylisted"])
def test_a_refusal_quoting_the_address_leaves_it_out_of_the_log_and_the_outbox(app, db, smtp_server, caplog, reply):
    """A robustness review: servers quote the address in their reply, and the reply went to the log
    (and with the mail, as its last error)."""
    address = "ada.lovelace@example.org"
    invite(InvitationRequest(survey=make_survey(), team=make_team(), email=address))
    smtp_server.refuse(address, reply, forever=True)
    caplog.set_level(logging.INFO)
    deliver_due()
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("perception"))
    assert "failure" in logged and address not in logged, logged  # (the test's SMTP server logs its own)
    error = db.session.execute(select(OutboxMessage.last_error)).scalar_one()
    assert error.startswith(reply[:3]) and "<[address]>: Recipient address rejected" in error
