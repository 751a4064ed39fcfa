"""Leaders invite customers: one at a time, or 100 from a CSV file, end to end over real SMTP."""

import io
import re
from datetime import UTC, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from perception.core.models import Invitation, OutboxMessage, Response, utcnow
from perception.invitations.csv_import import CsvInvitationError, import_invitations
from perception.invitations.mail import deliver_due
from perception.invitations.service import (
    InvitationError,
    InvitationRequest,
    check_language,
    find_staff_member,
    invite,
)
from tests.helpers import (
    answers_for,
    csrf_token,
    login,
    make_invitation,
    make_survey,
    make_team,
    make_user,
    open_link,
    post_form,
)

HEADER = "email,name,team,interaction_date,staff_email,language\n"


def upload(client, survey, text, filename="customers.csv"):
    page = f"/leaders/surveys/{survey.slug}/invitations"
    return client.post(f"{page}/upload", data={
        "csrf_token": csrf_token(client, page), "file": (io.BytesIO(text.encode()), filename),
    }, content_type="multipart/form-data")


def leader_client(client):
    login(client, make_user("leader", email="lead@example.com"))
    return client


def test_only_leaders_and_admins_see_the_invitation_pages(client, db):
    survey = make_survey()
    assert client.get(f"/leaders/surveys/{survey.slug}/invitations").status_code == 302  # to the login page
    login(client, make_user("staff"))
    assert client.get(f"/leaders/surveys/{survey.slug}/invitations").status_code == 403
    assert client.post(f"/leaders/surveys/{survey.slug}/invitations/upload").status_code in (400, 403)
    assert Invitation.query.count() == 0


def test_one_invitation_by_email_is_queued_with_a_hashed_token_and_an_expiry(client, db, app):
    app.config["INVITATION_TTL_DAYS"] = 10
    survey, team = make_survey(), make_team()
    leader_client(client)
    response = post_form(client, f"/leaders/surveys/{survey.slug}/invitations", {
        "email": "Ana@Example.org", "name": "Ana", "team": team.name, "staff_email": "",
        "interaction_date": utcnow().date().isoformat(), "language": "de", "deliver": "email",
    })
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    invitation = db.session.execute(select(Invitation)).scalar_one()
    assert invitation.customer_email == "ana@example.org" and invitation.language == "de"
    assert invitation.state == "created" and invitation.channel == "email"
    assert len(invitation.token_hash) == 64 and invitation.token_nonce
    assert timedelta(days=9, hours=23) < invitation.expires_at - invitation.created_at <= timedelta(days=10)
    assert [row.kind for row in OutboxMessage.query.all()] == ["invitation"]
    page = client.get(f"/leaders/surveys/{survey.slug}/invitations").get_data(as_text=True)
    assert "queued" in page and "ana@example.org" in page


def test_a_link_shown_to_the_leader_comes_from_base_url_whatever_the_host_header(client, db):
    survey, team = make_survey(), make_team()
    leader_client(client)
    form = {"csrf_token": csrf_token(client, f"/leaders/surveys/{survey.slug}/invitations"), "team": team.name,
            "interaction_date": utcnow().date().isoformat(), "deliver": "none", "name": "Walk-in",
            "staff_email": "", "language": ""}
    # The browser (and its session cookie) now talks to us under a forged Host name.
    client.set_cookie("session", client.get_cookie("session").value, domain="evil.example")
    response = client.post(f"/leaders/surveys/{survey.slug}/invitations", data=form,
                           headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert "evil.example" not in html
    link = html.split('id="new-link" readonly value="')[1].split('"')[0]
    assert link.startswith("http://perception.test/s/")
    assert db.session.execute(select(Invitation)).scalar_one().state == "sent"
    customer = client.application.test_client()
    assert customer.get(urlsplit(link).path).status_code == 303


def test_the_list_never_says_which_named_customer_opened_or_answered(client, app, db):
    survey, team = make_survey(), make_team()
    leader_client(client)
    made = {name: make_invitation(survey, team, email=f"{name.lower()}@example.org", name=name)
            for name in ("Answering", "Opening", "Waiting")}
    for invitation, _token in made.values():
        invitation.state, invitation.sent_at = "sent", utcnow()
    db.session.commit()
    answering, opening = app.test_client(), app.test_client()
    assert open_link(answering, made["Answering"][1]).status_code == 303
    assert post_form(answering, "/s/answer", answers_for(survey.items, 4)).status_code == 303  # no consent
    assert open_link(opening, made["Opening"][1]).status_code == 303
    assert [made[name][0].state for name in ("Answering", "Opening")] == ["answered", "opened"]

    page = client.get(f"/leaders/surveys/{survey.slug}/invitations").get_data(as_text=True)
    rows = {name: next(row for row in re.findall(r"<tr>(.*?)</tr>", page, re.S) if f"{name}</" in row or
                       f"{name} <" in row) for name in made}
    cells = {name: re.findall(r"<td>([^<]*)</td>", row) for name, row in rows.items()}
    assert {cell[-2] for cell in cells.values()} == {"sent"}  # the same for all three: mail and link, nothing more
    for row in rows.values():
        assert "answered" not in row and "opened" not in row


def test_form_errors_are_shown_on_the_fields(client, db):
    survey, team = make_survey(), make_team()
    make_survey("other", teams=[make_team("Riverside")])
    leader_client(client)
    url = f"/leaders/surveys/{survey.slug}/invitations"
    no_email = post_form(client, url, {"team": team.name, "interaction_date": "2026-01-01", "deliver": "email",
                                       "staff_email": "", "language": ""})
    assert no_email.status_code == 400 and "An email address is needed" in no_email.get_data(as_text=True)
    future = post_form(client, url, {"team": team.name, "email": "a@example.org", "deliver": "email",
                                     "staff_email": "", "language": "",
                                     "interaction_date": (utcnow() + timedelta(days=3)).date().isoformat()})
    assert future.status_code == 400 and "cannot be in the future" in future.get_data(as_text=True)
    assert Invitation.query.count() == 0


def test_a_visit_this_morning_is_not_in_the_future_however_early_in_the_utc_day(client, db, monkeypatch):
    # The visit is stored at midday UTC when only its date is known; before midday that moment is
    # still ahead, and a leader inviting this morning's customer must not be told "in the future".
    survey, team = make_survey(), make_team()
    leader_client(client)
    early = utcnow().replace(hour=0, minute=6, second=0, microsecond=0)
    monkeypatch.setattr("perception.invitations.service.utcnow", lambda: early)
    response = post_form(client, f"/leaders/surveys/{survey.slug}/invitations", {
        "email": "early@example.org", "name": "", "team": team.name, "staff_email": "", "language": "",
        "interaction_date": early.date().isoformat(), "deliver": "email"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert db.session.execute(select(Invitation.interaction_at)).scalar_one().replace(tzinfo=UTC) == early


def test_a_date_is_in_the_future_only_when_it_has_begun_nowhere_on_earth(db):
    survey, team = make_survey(), make_team()
    noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    today, tomorrow, after = (noon.date() + timedelta(days=days) for days in (0, 1, 2))
    rows = [f"{name}@example.org,,{team.name},{day.isoformat()},," for name, day in (("a", today), ("b", tomorrow))]
    invitations = import_invitations(survey, HEADER + "\n".join(rows) + "\n", now=noon - timedelta(hours=1))
    # Midday today is still an hour away, and tomorrow has begun at UTC+13 and +14: both are recorded as now.
    assert {invitation.interaction_at.replace(tzinfo=UTC) for invitation in invitations} == {noon - timedelta(hours=1)}
    with pytest.raises(CsvInvitationError) as raised:
        import_invitations(survey, HEADER + f"c@example.org,,{team.name},{after.isoformat()},,\n", now=noon)
    assert [(error.row, error.column) for error in raised.value.errors] == [(2, "interaction_date")]
    assert "in the future" in raised.value.errors[0].message


def _customers(count, team, staff=None):
    day = (utcnow() - timedelta(days=1)).date().isoformat()
    rows = [f"customer{n}@example.org,Customer {n},{team.name},{day},{staff.email if staff and n % 2 else ''},"
            f"{'de' if n % 10 == 0 else ''}" for n in range(count)]
    return HEADER + "\n".join(rows) + "\n"


def test_a_leader_uploads_100_customers_they_get_mail_and_only_non_responders_a_reminder(client, app, db,
                                                                                          runner, smtp_server):
    app.config.update(REMINDER_AFTER_DAYS=3, MAX_REMINDERS=1)
    survey, team = make_survey(), make_team()
    staff = make_user("staff", team=team, name="Kemi Adeyemi")
    leader_client(client)

    uploaded = upload(client, survey, _customers(100, team, staff))

    assert uploaded.status_code == 303, uploaded.get_data(as_text=True)[:3000]
    assert "100 invitations queued" in client.get(uploaded.headers["Location"]).get_data(as_text=True)
    assert Invitation.query.count() == 100 and OutboxMessage.query.count() == 100
    result = runner.invoke(args=["send-invitations"])
    assert result.exit_code == 0 and "sent 100" in result.output
    mails = {mail.to: mail for mail in smtp_server.messages}
    assert len(mails) == 100
    assert "Dear Customer 7," in mails["customer7@example.org"].text
    assert "Kemi Adeyemi looked after you" in mails["customer7@example.org"].text
    assert mails["customer10@example.org"].message["Content-Language"] == "de"

    for n in range(30):  # 30 customers answer from the link in their mail, each in their own browser
        customer = app.test_client()
        assert customer.get(urlsplit(mails[f"customer{n}@example.org"].link()).path).status_code == 303
        assert post_form(customer, "/s/answer", answers_for(survey.items, 4)).status_code == 303
    assert {response.channel for response in Response.query.all()} == {"email"}
    smtp_server.clear()

    report = deliver_due(clock=lambda: utcnow() + timedelta(days=3, hours=1))

    assert report.sent == 70
    reminded = {mail.to for mail in smtp_server.messages}
    assert reminded == {f"customer{n}@example.org" for n in range(30, 100)}
    assert all(mail.message["Subject"].startswith(("Reminder:", "Erinnerung:")) for mail in smtp_server.messages)
    page = client.get(f"/leaders/surveys/{survey.slug}/invitations").get_data(as_text=True)
    assert "<td>100</td>" in page and "<td>30</td>" in page and "30%" in page


def test_a_file_with_problems_invites_nobody_and_names_every_row_and_column(client, db):
    survey, team = make_survey(), make_team()
    other_team = make_team("Riverside")
    stranger = make_user("staff", team=other_team, email="stranger@example.com")
    leader_client(client)
    post_form(client, f"/leaders/surveys/{survey.slug}/invitations", {
        "email": "known@example.org", "team": team.name, "interaction_date": "2026-01-01", "deliver": "email",
        "staff_email": "", "language": ""})
    future = (utcnow() + timedelta(days=5)).date().isoformat()
    text = HEADER + "\n".join([
        f"not-an-email,A,{team.name},2026-01-02,,",               # row 2
        f"twice@example.org,B,{team.name},2026-01-02,,",          # row 3
        f"TWICE@example.org,C,{team.name},2026-01-02,,",          # row 4: duplicate of row 3
        f"known@example.org,D,{team.name},2026-01-02,,",          # row 5: already invited
        "e@example.org,E,Atlantis,2026-01-02,,",                  # row 6
        f"f@example.org,F,{team.name},02/01/2026,,",              # row 7
        f"g@example.org,G,{team.name},{future},,",                # row 8
        f"h@example.org,H,{team.name},2026-01-02,{stranger.email},",  # row 9
        f"i@example.org,I,{team.name},2026-01-02,,klingon please",  # row 10
        f"fine@example.org,J,{team.name},2026-01-02,,",           # row 11 is fine
    ]) + "\n"

    response = upload(client, survey, text)

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nobody was invited: 8 problems in the file" in html
    for row, column, words in ((2, "email", "not a valid email"), (4, "email", "twice in the file (also row 3)"),
                               (5, "email", "already invited"), (6, "team", "no team named"),
                               (7, "interaction_date", "not a date"), (8, "interaction_date", "in the future"),
                               (9, "staff_email", "not in team"), (10, "language", "language tag")):
        assert f"<tr><td>{row}</td><td>{column}</td><td>" in html, (row, column)
        assert words in html.split(f"<tr><td>{row}</td><td>{column}</td><td>")[1].split("</td>")[0], (row, words)
    assert Invitation.query.count() == 1  # only the one made by hand before


def test_a_wrong_header_an_empty_file_and_a_non_utf8_file_are_explained(client, db):
    survey = make_survey()
    leader_client(client)
    wrong = upload(client, survey, "e-mail,name,team\nx@example.org,X,Harbour Street\n").get_data(as_text=True)
    assert "<tr><td>1</td><td>e-mail</td><td>unknown column" in wrong
    assert "<tr><td>1</td><td>email</td><td>required column missing" in wrong
    assert "the file is empty" in upload(client, survey, "").get_data(as_text=True)
    page = f"/leaders/surveys/{survey.slug}/invitations"
    latin1 = client.post(f"{page}/upload", data={
        "csrf_token": csrf_token(client, page), "file": (io.BytesIO("email\nzoë@example.org\n".encode("latin-1")),
                                                         "customers.csv")}, content_type="multipart/form-data")
    assert latin1.status_code == 400 and "CSV UTF-8" in latin1.get_data(as_text=True)
    template = client.get(f"{page}/template.csv")
    assert template.mimetype == "text/csv" and template.get_data(as_text=True).startswith(HEADER)
    assert Invitation.query.count() == 0


def test_a_huge_cell_and_a_nul_are_explained_by_row_not_a_500(app, client, db):
    """A robustness review: a cell over the csv module's limit (131,072 characters) answered 500, and a
    NUL reached PostgreSQL, which refused the write (a 500 too)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    survey, team = make_survey(), make_team("Harbour Street")
    leader_client(client)
    huge = upload(client, survey, HEADER + f"cara@example.org,{'x' * 200_000},{team.name},2026-01-02,,\n")
    assert huge.status_code == 400 and "<tr><td>2</td><td>–</td><td>not readable as CSV" in huge.get_data(as_text=True)
    nul = upload(client, survey, HEADER + f"cara@example.org,Ca\x00ra,{team.name},2026-01-02,,\n")
    assert nul.status_code == 400
    assert "<tr><td>2</td><td>name</td><td>contains the NUL character" in nul.get_data(as_text=True)
    # In an address the lookups ran before the row check, and PostgreSQL refused them (a robustness hunt).
    for column, cells in (("email", f"ca\x00ra@example.org,Cara,{team.name},2026-01-02,,"),
                          ("staff_email", f"cara@example.org,Cara,{team.name},2026-01-02,s\x00@x.org,")):
        refused = upload(client, survey, HEADER + cells + "\n")
        assert refused.status_code == 400
        assert f"<tr><td>2</td><td>{column}</td><td>contains the NUL character" in refused.get_data(as_text=True)
    assert Invitation.query.count() == 0


def test_a_file_whose_lines_end_in_a_carriage_return_alone_is_read(client, db):
    """Excel for Mac's "CSV (Macintosh)" ends lines with CR alone; read split at LF, such a file was "not
    readable as CSV" with the csv module's own words (a robustness hunt). Mixed endings are read too."""
    survey, team = make_survey(), make_team("Harbour Street")
    leader_client(client)
    rows = [f"c{n}@example.org,C {n},{team.name},2026-01-02,," for n in range(3)]
    assert upload(client, survey, "\r".join([HEADER.strip(), *rows]) + "\r").status_code == 303
    mixed = "\r\n".join([HEADER.strip(), rows[0].replace("c0", "d0")]) + "\r" + rows[1].replace("c1", "d1") + "\n"
    assert upload(client, survey, mixed).status_code == 303
    assert Invitation.query.count() == 5


def test_only_the_languages_we_ship_are_accepted_with_a_region_kept():
    assert check_language(" de-AT ") == "de-AT" and check_language("EN") == "EN" and check_language("") is None
    for bad in ("fr", "pt-BR", "klingon please"):
        with pytest.raises(InvitationError, match="language tag we have the survey in") as refused:
            check_language(bad)
        assert refused.value.field == "language"


def test_a_team_leader_is_not_told_when_another_team_invited_the_same_customer(db):
    """DESIGN section 2, "Scope": that another team's customer was invited, and on which day, is that
    team's data. The second invitation is still refused (one per customer and wave); the day is given
    only to someone who may see the first one's team."""
    harbour, quay = make_team("Harbour"), make_team("Quay Road")
    survey = make_survey(teams=[harbour, quay])
    import_invitations(survey, HEADER + "bea@quay.example,Bea,Quay Road,2026-01-02,,\n",
                       created_by=make_user("leader", team=quay))
    day = db.session.execute(select(Invitation.created_at)).scalar_one().strftime("%Y-%m-%d")
    harbour_leader = make_user("leader", team=harbour)
    with pytest.raises(InvitationError) as refused:
        invite(InvitationRequest(survey, harbour, email="bea@quay.example"), created_by=harbour_leader)
    assert str(refused.value) == f"bea@quay.example was already invited to {survey.slug}"
    with pytest.raises(CsvInvitationError) as file_refused:
        import_invitations(survey, HEADER + "bea@quay.example,Bea,Harbour,2026-01-02,,\n", created_by=harbour_leader)
    [problem] = file_refused.value.errors
    assert problem.message == f"bea@quay.example was already invited to {survey.slug}"
    with pytest.raises(InvitationError) as told:  # an admin sees every team: the day helps them
        invite(InvitationRequest(survey, harbour, email="bea@quay.example"), created_by=make_user("admin"))
    assert str(told.value) == f"bea@quay.example was already invited to {survey.slug} on {day}"


def test_to_a_team_leader_another_teams_staff_member_reads_as_an_unknown_address(db):
    """Who works in other teams is those teams' data (DESIGN section 2, "Scope"): a team leader naming
    another team's staff member is told what an unknown address gets; an admin is told which it is."""
    harbour, quay = make_team("Harbour"), make_team("Quay Road")
    survey = make_survey(teams=[harbour, quay])
    make_user("staff", team=quay, email="olu@example.com")
    leader, admin = make_user("leader", team=harbour), make_user("admin")

    def refusal(address, user):
        with pytest.raises(InvitationError) as refused:
            find_staff_member(address, harbour, created_by=user)
        with pytest.raises(CsvInvitationError) as file_refused:
            import_invitations(survey, HEADER + f"c@example.org,C,Harbour,2026-01-02,{address},\n", created_by=user)
        [problem] = file_refused.value.errors
        assert problem.message == str(refused.value)
        return str(refused.value)

    assert refusal("olu@example.com", leader) == (
        "there is no active staff member of Harbour with the email 'olu@example.com'")
    assert refusal("nobody@example.com", leader) == (
        "there is no active staff member of Harbour with the email 'nobody@example.com'")
    assert refusal("olu@example.com", admin) == "staff member olu@example.com is not in team Harbour"
    assert refusal("nobody@example.com", admin) == (
        "there is no active staff member with the email 'nobody@example.com'")


def test_a_team_leaders_file_cannot_test_other_teams_names_or_staff(db):
    """Rows naming another team read like rows naming no team at all, and say nothing about the staff
    member they name (the API's `team` answers the same way)."""
    harbour, quay = make_team("Harbour"), make_team("Quay Road")
    survey = make_survey(teams=[harbour, quay])
    make_user("staff", team=quay, email="olu@example.com")
    leader = make_user("leader", team=harbour)

    def problems(team, staff_email):
        with pytest.raises(CsvInvitationError) as refused:
            import_invitations(survey, HEADER + f"c@example.org,C,{team},2026-01-02,{staff_email},\n",
                               created_by=leader)
        return [(problem.column, problem.message.replace(team, "T")) for problem in refused.value.errors]

    expected = [("team", "you invite for your own team (Harbour) only, not for T")]
    assert problems("Quay Road", "olu@example.com") == expected
    assert problems("Quay Road", "nobody@example.com") == expected
    assert problems("Atlantis", "olu@example.com") == expected
