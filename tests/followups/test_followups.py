"""Follow-ups end to end: a low response opens one, its assignee is told by real SMTP, records a
phone call and resolves it; consent decides whether anyone sees who answered."""

import email
import re
from email import policy

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from perception.accounts.people_service import update_user
from perception.core.models import (
    FollowUp,
    FollowUpEvent,
    Invitation,
    OutboxMessage,
    RecoveryRequest,
    Response,
    StaffGuess,
    Team,
    User,
    utcnow,
)
from perception.demo.service import DEMO_PASSWORD, fresh_demo_link, seed_demo
from perception.followups.mail import alert_message, deliver_followup_mail
from perception.followups.service import insert_followup
from perception.web.mail import MailWriter
from tests.helpers import (
    bank_items,
    csrf_token,
    login,
    make_invitation,
    make_survey,
    make_team,
    make_user,
    open_link,
    post_form,
)
from tests.loop_helpers import FOLLOWUP_URL_RE, answer, followup_of, invite_and_answer, page_post


@pytest.fixture
def survey(db):
    return make_survey(items=bank_items())


def count(model):
    from perception.core.extensions import db

    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_on_the_demo_a_low_response_reaches_its_leader_who_calls_and_resolves(app, db, client, runner, smtp_server):
    seed_demo()
    before = count(FollowUp)
    # The demo itself shows the loop at work: follow-ups in every state, re-surveys, staff guesses.
    states = set(db.session.execute(select(FollowUp.state)).scalars())
    assert states == {"open", "contacted", "resolved"}
    assert count(RecoveryRequest) > 0 and count(StaffGuess) > 0
    token = fresh_demo_link().rsplit("/", 1)[1]
    invitation = db.session.execute(select(Invitation).order_by(Invitation.id.desc())).scalars().first()
    survey = invitation.survey
    customer = app.test_client()
    sent = answer(customer, survey, token, score=1, consent="yes", phone="+44 20 7946 0958",
                  comment="Nobody looked up from the screen.", nps=2)
    assert sent.status_code == 303
    assert count(FollowUp) == before + 1
    followup = followup_of(invitation)
    leader = db.session.execute(select(User).where(User.role == "leader", User.team_id == invitation.team_id)
                                .order_by(User.id)).scalars().first()
    assert followup.assignee_id == leader.id and followup.state == "open"
    assert (followup.due_at - followup.opened_at).total_seconds() == 48 * 3600

    result = runner.invoke(args=["send-followup-alerts"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    [mail] = smtp_server.to(leader.email)
    assert "needs a follow-up" in mail.message["Subject"]
    assert "+44 20 7946 0958" not in mail.text and "Nobody looked up" not in mail.text  # no identity, no comment
    url = FOLLOWUP_URL_RE.search(mail.text)
    assert url and url.group(1) == followup.reference
    path = f"/leaders/followups/{followup.reference}"
    assert runner.invoke(args=["send-followup-alerts"]).output.startswith("send-followup-alerts: sent 0")

    login(client, leader, password=DEMO_PASSWORD)
    page = client.get(path).get_data(as_text=True)
    assert "+44 20 7946 0958" in page and "Nobody looked up from the screen." in page
    assert "Overall 1 of 5" in page and "Likely to recommend 2 of 10" in page

    called = page_post(client, path, "contact", {"channel": "phone", "outcome": "reached",
                                                 "note": "Apologised; booked a meeting with the branch manager."})
    assert called.status_code == 303
    db.session.refresh(followup)
    assert followup.state == "contacted" and followup.first_contact_at is not None
    resolved = page_post(client, path, "resolve", {"note": "Meeting held, fee refunded."})
    assert resolved.status_code == 303
    db.session.refresh(followup)
    assert followup.state == "resolved" and followup.resolved_at is not None
    history = client.get(path).get_data(as_text=True)
    assert "Phone call: spoke with the customer" in history
    assert "Contacted → Resolved" in history and "Meeting held, fee refunded." in history
    kinds = [event.kind for event in followup.events]
    assert kinds == ["opened", "contact", "state", "state"]


def test_without_consent_nobody_sees_who_answered(app, db, client, runner, survey, smtp_server):
    team = make_team()
    leader = make_user("leader", team=team)
    served = make_user("staff", team=team, name="Bartholomew Served")
    invitation = invite_and_answer(app.test_client(), survey, team, score=2, email="dana.k@example.net",
                                   name="Dana Kowalski", staff=served, consent="no",
                                   comment="I felt like a ticket number.")
    followup = followup_of(invitation)
    db.session.add(StaffGuess(invitation_id=invitation.id, staff_id=served.id, score=4))
    db.session.commit()
    runner.invoke(args=["send-followup-alerts"])
    [mail] = smtp_server.to(leader.email)
    login(client, leader)
    page = client.get(f"/leaders/followups/{followup.reference}").get_data(as_text=True)
    listing = client.get("/leaders/followups/").get_data(as_text=True)
    for text in (page, listing, mail.text, mail.html, str(mail.message)):
        assert "dana.k@example.net" not in text and "Kowalski" not in text
    assert "I felt like a ticket number." in page  # the comment is shown, not who wrote it
    assert "did not allow contact" in page
    assert client.get(f"/leaders/followups/{followup.reference}/timeline").status_code == 404
    # Nor the staff member who served them, nor a time finer than the day (the day itself is shown).
    assert "Bartholomew" not in page and "thought this customer felt" not in page  # nor his guess: his own answer
    for text in (page, listing):
        body = text[text.index("<main"):]
        assert re.search(r"\d\d:\d\d", body) is None, re.findall(r".{40}\d\d:\d\d.{10}", body)
    # The alert mail neither: its due time is the answer's time plus FOLLOWUP_DUE_HOURS.
    for text in (mail.message["Subject"], mail.text, mail.html):
        assert re.search(r"\d\d:\d\d", text) is None, re.findall(r".{40}\d\d:\d\d.{10}", text)
    assert f"needs a follow-up by {followup.due_at:%d %b}" in mail.message["Subject"]
    day = followup.response.submitted_at.strftime("%d %b %Y")
    assert f"answered {day}" in page


def test_with_consent_the_page_shows_time_and_staff(app, db, client, survey):
    team = make_team()
    leader = make_user("leader", team=team)
    served = make_user("staff", team=team, name="Bartholomew Served")
    invitation = invite_and_answer(app.test_client(), survey, team, score=2, email="ed@example.net", staff=served,
                                   consent="yes")
    login(client, leader)
    followup = followup_of(invitation)
    page = client.get(f"/leaders/followups/{followup.reference}").get_data(as_text=True)
    moment = followup.response.submitted_at.strftime("%d %b %Y, %H:%M")
    assert f"answered {moment} UTC" in page and "served by Bartholomew Served" in page


def test_consent_with_name_and_email_shows_them_to_the_assignee(app, db, client, survey):
    team = make_team()
    leader = make_user("leader", team=team)
    invitation = invite_and_answer(app.test_client(), survey, team, score=2, email="omar@example.net", name="Omar",
                                   consent="yes")
    login(client, leader)
    page = client.get(f"/leaders/followups/{followup_of(invitation).reference}").get_data(as_text=True)
    assert "omar@example.net" in page and "Omar" in page


def test_a_content_customer_opens_no_follow_up_and_each_rule_part_does(app, db, survey):
    team = make_team()
    quiet = invite_and_answer(app.test_client(), survey, team, score=4, nps=9)
    assert followup_of(quiet) is None
    nps_only = invite_and_answer(app.test_client(), survey, team, score=4, nps=6)
    assert followup_of(nps_only).reasons == "nps=6"
    first = survey.items[0]
    dimension_only = invite_and_answer(app.test_client(), survey, team, score=4,
                                       scores={item.key: 1 for item in survey.items
                                               if item.dimension_id == first.dimension_id})
    assert followup_of(dimension_only).reasons == f"dimension:{first.dimension.key}=1"


def test_the_rule_follows_the_settings(app, db, survey):
    app.config.update(ALERT_OVERALL_MAX=4.0, ALERT_DIMENSION_MAX=-1, ALERT_NPS_MAX=-1)
    invitation = invite_and_answer(app.test_client(), survey, make_team(), score=4, nps=0)
    assert followup_of(invitation).reasons == "overall=4"


def test_one_response_never_opens_two_follow_ups(app, db, survey):
    team = make_team()
    invitation, token = make_invitation(survey, team)
    customer = app.test_client()
    assert open_link(customer, token).status_code == 303
    # The form as loaded in the tab: a double click sends it twice.
    data = {f"item_{item.key}": "1" for item in survey.items} | {"csrf_token": csrf_token(customer, "/s/answer")}
    assert customer.post("/s/answer", data=data).status_code == 303
    assert customer.post("/s/answer", data=data).status_code == 200
    assert count(FollowUp) == 1
    response_id = followup_of(invitation).response_id
    with pytest.raises(IntegrityError):  # the UNIQUE constraint refuses a second one at once
        insert_followup(response_id, team.id, "overall=1", utcnow(), False)
    db.session.rollback()
    assert count(FollowUp) == 1


def test_assignee_is_the_teams_first_active_leader_else_an_admin_else_nobody(app, db, survey):
    team = make_team("Riverside")
    lonely = invite_and_answer(app.test_client(), survey, team)
    assert followup_of(lonely).assignee_id is None
    admin = make_user("admin")
    second = invite_and_answer(app.test_client(), survey, team)
    assert followup_of(second).assignee_id == admin.id
    retired = make_user("leader", team=team)
    retired.active = False
    current = make_user("leader", team=team)
    make_user("leader", team=make_team("Elsewhere"))
    third = invite_and_answer(app.test_client(), survey, team)
    assert followup_of(third).assignee_id == current.id


def test_leaders_see_only_their_teams_follow_ups_and_ids_of_others_are_404(app, db, client, survey):
    home, away = make_team("Home"), make_team("Away")
    leader = make_user("leader", team=home)
    make_user("leader", team=away)
    mine = followup_of(invite_and_answer(app.test_client(), survey, home))
    theirs = followup_of(invite_and_answer(app.test_client(), survey, away))
    login(client, leader)
    listing = client.get("/leaders/followups/?view=all").get_data(as_text=True)
    assert f"#{mine.reference}" in listing and f"#{theirs.reference}" not in listing
    assert client.get(f"/leaders/followups/{mine.reference}").status_code == 200
    for path in (f"/leaders/followups/{theirs.reference}", f"/leaders/followups/{theirs.reference}/timeline",
                 "/leaders/followups/999999"):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, f"/leaders/followups/{mine.reference}")
    stolen = client.post(f"/leaders/followups/{theirs.reference}",
                         data={"note-csrf_token": token, "note-action": "note", "note-note": "peeking"})
    assert stolen.status_code == 404
    assert count(FollowUpEvent) == 2  # the two "opened" lines only
    admin_client = app.test_client()
    login(admin_client, make_user("admin"))
    assert admin_client.get(f"/leaders/followups/{theirs.reference}").status_code == 200
    staff_client = app.test_client()
    login(staff_client, make_user("staff", team=home))
    assert staff_client.get(f"/leaders/followups/{mine.reference}").status_code == 403


def test_an_admins_team_filter_with_an_id_no_column_holds_shows_every_team_not_an_error(app, db, client, survey):
    home, away = make_team("Home"), make_team("Away")
    mine = followup_of(invite_and_answer(app.test_client(), survey, home))
    theirs = followup_of(invite_and_answer(app.test_client(), survey, away))
    login(client, make_user("admin"))
    for team in ("99999999999999999999", str(2**63), str(2**31), "-1", "x"):  # hand-typed in the address bar
        listing = client.get(f"/leaders/followups/?view=all&team={team}")
        assert listing.status_code == 200, team
        assert f"#{mine.reference}" in listing.get_data(as_text=True), team  # not a team's id: no team filter
    only_away = client.get(f"/leaders/followups/?view=all&team={away.id}").get_data(as_text=True)
    assert f"#{theirs.reference}" in only_away and f"#{mine.reference}" not in only_away


def test_overdue_list_and_team_figures(app, db, client, survey):
    from datetime import timedelta

    team = make_team("Harbour Street")
    leader = make_user("leader", team=team)
    # Customers who allowed contact: their follow-ups' clocks start at the minute they answered
    # (without consent, at the end of that day: tests/followups/test_followup_clock.py).
    late, quick, fresh = (followup_of(invite_and_answer(app.test_client(), survey, team, consent="yes"))
                          for _ in range(3))
    now = utcnow()
    for followup in (late, quick):
        followup.opened_at, followup.due_at = now - timedelta(hours=60), now - timedelta(hours=12)
    db.session.commit()
    login(client, leader)
    path = f"/leaders/followups/{quick.reference}"
    when = (now - timedelta(hours=57)).strftime("%Y-%m-%dT%H:%M")
    assert page_post(client, path, "contact", {"channel": "phone", "outcome": "reached", "at": when}).status_code == 303
    overdue = client.get("/leaders/followups/?view=overdue").get_data(as_text=True)
    assert f"#{late.reference}" in overdue
    assert f"#{quick.reference}" not in overdue and f"#{fresh.reference}" not in overdue
    listing = client.get("/leaders/followups/").get_data(as_text=True)
    assert "1 overdue" in listing
    # Settled: late (past due, no contact) and quick (contacted 3 h after opening); fresh is not due yet.
    assert "50% <span class=\"muted\">(1 of 2)</span>" in listing
    assert "3.0 h" in listing


def test_a_no_answer_attempt_does_not_count_as_contact(app, db, client, survey):
    team = make_team()
    leader = make_user("leader", team=team)
    followup = followup_of(invite_and_answer(app.test_client(), survey, team))
    login(client, leader)
    path = f"/leaders/followups/{followup.reference}"
    assert page_post(client, path, "contact", {"channel": "phone", "outcome": "no_answer"}).status_code == 303
    db.session.refresh(followup)
    assert followup.state == "open" and followup.first_contact_at is None


def test_forms_refuse_bad_input_with_messages_not_errors(app, db, client, survey):
    team = make_team()
    leader = make_user("leader", team=team)
    followup = followup_of(invite_and_answer(app.test_client(), survey, team))
    login(client, leader)
    path = f"/leaders/followups/{followup.reference}"
    missing = page_post(client, path, "contact", {"note": "called"})
    assert missing.status_code == 400
    assert "Please choose how you contacted the customer." in missing.get_data(as_text=True)
    future = page_post(client, path, "contact", {"channel": "email", "outcome": "sent", "at": "2999-01-01T10:00"})
    assert future.status_code == 400 and "cannot be in the future" in future.get_data(as_text=True)
    bad_channel = page_post(client, path, "contact", {"channel": "pigeon", "outcome": "sent"})
    assert bad_channel.status_code == 400
    no_note = page_post(client, path, "resolve", {"note": "  "})
    assert no_note.status_code == 400 and "Please write a short note." in no_note.get_data(as_text=True)
    outsider = make_user("leader", team=make_team("Other"))
    wrong = page_post(client, path, "reassign", {"assignee": str(outsider.id)})
    assert wrong.status_code == 400 and "Choose a leader of this team" in wrong.get_data(as_text=True)
    assert client.post(path, data={"bogus": "1"}).status_code == 400
    no_csrf = client.post(path, data={"note-action": "note", "note-note": "hi"})
    assert no_csrf.status_code == 400
    db.session.refresh(followup)
    assert followup.state == "open" and [event.kind for event in followup.events] == ["opened"]


def test_reassigning_tells_the_new_assignee_by_email(app, db, client, survey, smtp_server):
    team = make_team()
    first, second = make_user("leader", team=team, name="Sam"), make_user("leader", team=team, name="Tara")
    followup = followup_of(invite_and_answer(app.test_client(), survey, team))
    login(client, first)
    path = f"/leaders/followups/{followup.reference}"
    moved = page_post(client, path, "reassign", {"assignee": str(second.id), "note": "You know this customer."})
    assert moved.status_code == 303
    db.session.refresh(followup)
    assert followup.assignee_id == second.id and followup.notified_at is not None
    [mail] = smtp_server.to(second.email)
    assert f"/leaders/followups/{followup.reference}" in mail.text
    page = client.get(path).get_data(as_text=True)
    assert "Passed to Tara" in page and "You know this customer." in page
    reopened = page_post(client, path, "resolve", {"note": "Sorted."})
    assert reopened.status_code == 303
    assert page_post(client, path, "reopen", {"note": "Customer wrote again."}).status_code == 303
    db.session.refresh(followup)
    assert followup.state == "open" and followup.resolved_at is None


@pytest.mark.parametrize("change", ["moved to another team", "now staff"])
def test_an_alert_waiting_for_a_leader_who_may_no_longer_see_the_follow_up_is_not_sent(app, db, survey, smtp_server,
                                                                                        change):
    """DESIGN section 2, "Scope": the alert carries the customer's low scores; a leader moved to another
    team (or made staff) after the follow-up was given to them must not get it by mail."""
    home, away = make_team("Home"), make_team("Away")
    sam = make_user("leader", team=home, name="Sam")
    followup = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    assert followup.assignee_id == sam.id and followup.notified_at is None  # the alert waits for the mail run
    update_user(sam, "leader" if change == "moved to another team" else "staff", away)
    report = deliver_followup_mail()
    assert smtp_server.to(sam.email) == [] and report.sent == 0 and report.cancelled == 1
    db.session.refresh(followup)
    assert followup.notified_at is None
    [alert] = db.session.execute(select(OutboxMessage).where(OutboxMessage.follow_up_id == followup.id)).scalars()
    assert alert.status == "cancelled" and alert.last_error == "the assignee may no longer see it"
    kept = make_user("leader", team=home, name="Kim")  # a leader of the team still gets their alert
    other = followup_of(invite_and_answer(app.test_client(), survey, home, score=1))
    db.session.execute(update(FollowUp).where(FollowUp.id == other.id).values(assignee_id=kept.id))
    db.session.commit()
    assert deliver_followup_mail().sent == 1 and len(smtp_server.to(kept.email)) == 1


def test_an_unreachable_mail_server_keeps_the_alert_pending(app, db, runner, survey):
    import socket

    team = make_team()
    make_user("leader", team=team)
    followup = followup_of(invite_and_answer(app.test_client(), survey, team))
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=probe.getsockname()[1])
    result = runner.invoke(args=["send-followup-alerts"])
    assert result.exit_code == 1 and "retry later 1" in result.output
    db.session.refresh(followup)
    assert followup.notified_at is None and followup.notify_attempts == 1 and followup.notify_error


def test_consent_question_validation(app, db, survey):
    invitation, token = make_invitation(survey, make_team())
    customer = app.test_client()
    unanswered = answer(customer, survey, token, score=4, phone="+44 20 7946 0958")
    assert unanswered.status_code == 400
    assert "Please tell us whether we may contact you" in unanswered.get_data(as_text=True)
    refused = post_form(customer, "/s/answer", {**{f"item_{i.key}": "4" for i in survey.items},
                                                "contact_consent": "no", "contact_phone": "0123 456 789"})
    assert refused.status_code == 400 and "leave the phone number empty" in refused.get_data(as_text=True)
    letters = post_form(customer, "/s/answer", {**{f"item_{i.key}": "4" for i in survey.items},
                                                "contact_consent": "yes", "contact_phone": "call me maybe"})
    assert letters.status_code == 400 and "Please write a phone number" in letters.get_data(as_text=True)
    ok = post_form(customer, "/s/answer", {**{f"item_{i.key}": "4" for i in survey.items},
                                           "contact_consent": "yes", "contact_phone": " (020) 7946-0958 "})
    assert ok.status_code == 303
    stored = db.session.execute(select(Response)).scalar_one()
    assert stored.contact_consent is True and stored.contact_phone == "(020) 7946-0958"


def test_an_open_link_response_opens_a_follow_up_with_only_the_phone_it_was_given(app, db, client, survey):
    from perception.invitations.open_link_service import create_open_link, open_link_url

    team = make_team()
    leader = make_user("leader", team=team)
    link = create_open_link(survey, team, "Counter")
    customer = app.test_client()
    assert customer.get(open_link_url(link).replace("http://perception.test", "")).status_code == 303
    data = {**{f"item_{i.key}": "1" for i in survey.items}, "contact_consent": "yes", "contact_phone": "0161 496 0000"}
    assert post_form(customer, "/s/o/answer", data).status_code == 303
    followup = db.session.execute(select(FollowUp)).scalar_one()
    assert followup.team_id == team.id and followup.assignee_id == leader.id
    login(client, leader)
    assert "0161 496 0000" in client.get(f"/leaders/followups/{followup.reference}").get_data(as_text=True)


def test_the_event_history_is_deleted_with_nothing_else(app, db, survey):
    # Sanity of the schema: events cascade with their follow-up, follow-ups with their response.
    followup = followup_of(invite_and_answer(app.test_client(), survey, make_team()))
    assert count(FollowUpEvent) == 1
    db.session.delete(db.session.get(Response, followup.response_id))
    db.session.commit()
    assert count(FollowUp) == 0 and count(FollowUpEvent) == 0 and count(Team) == 1


def test_the_alert_subject_starts_on_its_header_line_and_reads_back_whole(app, db, survey):
    team = make_team("Kundenkontaktzentrum" * 3)  # one long word: the subject must fold before it
    make_user("leader", team=team)
    followup = followup_of(invite_and_answer(app.test_client(), survey, team, score=1, consent="yes"))
    mail = alert_message(MailWriter(), followup)
    assert mail.data.startswith(b"Subject: A customer of")
    written = email.message_from_bytes(mail.data, policy=policy.default)
    assert written["Subject"] == f"A customer of {team.name} needs a follow-up by {followup.due_at:%d %b %H:%M} UTC"


def test_follow_ups_are_named_by_references_that_count_nothing(app, db, client):
    """An attacker's read: follow-ups were named by their id, which counts up across the business, so
    the leader of one team read between two of their own follow-ups how many low answers the other
    teams had had (and could open one of their own through their open link to read it at any moment)."""
    ours, theirs = make_team("Harbour Street"), make_team("Quay Road")
    leader = make_user("leader", team=ours)
    survey = make_survey(items=bank_items())
    first = followup_of(invite_and_answer(app.test_client(), survey, ours, score=1, email="ada@harbour.example"))
    for index in range(3):  # three unhappy customers of the other team
        invite_and_answer(app.test_client(), survey, theirs, score=1, email=f"c{index}@quay.example")
    second = followup_of(invite_and_answer(app.test_client(), survey, ours, score=1, email="bo@harbour.example"))
    login(client, leader)
    listing = client.get("/leaders/followups/?view=all").get_data(as_text=True)
    shown = set(re.findall(r'href="/leaders/followups/([a-z0-9]+)"', listing)) - {"recovery"}
    assert shown == {first.reference, second.reference}
    for reference in shown:
        assert re.fullmatch(r"[a-z][a-z2-9]{11}", reference) and not reference.isdigit()
    assert f"#{first.id}<" not in listing and f"#{second.id}<" not in listing
    assert client.get(f"/leaders/followups/{second.id}").status_code == 404  # ids open nothing
    page = client.get(f"/leaders/followups/{second.reference}").get_data(as_text=True)
    assert f"Follow-up #{second.reference}" in page
    assert first.reference != second.reference
