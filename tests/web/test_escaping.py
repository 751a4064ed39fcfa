"""HTML and script typed by people (comments, customer and staff names, team names, survey titles)
is shown as text on every page and in every email; JSON in <script> blocks cannot close the
element; CSV cells that a spreadsheet would run as a formula are neutralised."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from perception.core.csv_cells import FORMULA_START
from perception.core.models import FollowUp, Invitation, Response, Survey, Team, User, utcnow
from perception.demo.service import DEMO_PASSWORD, seed_demo
from perception.invitations.mail import deliver_due
from perception.invitations.service import InvitationRequest, invite
from tests.accounts.test_auth import ROUTES
from tests.helpers import answers_for, login, make_survey, make_team, make_user, open_link, post_form

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
PAYLOAD = SCRIPT + ATTRIBUTE
# What must never reach a page unescaped: an element an attacker controls.
RAW = ("<script>alert(1)", "<img src=x onerror")
ESCAPED = ("&lt;script&gt;alert(1)", "\\u003cscript\\u003ealert(1)")  # HTML text, JSON in a script block
JSON_BLOCK_RE = re.compile(r'<script type="application/json"[^>]*>(.*?)</script>', re.S)
FORMULAS = ["=HYPERLINK(\"http://evil.example\")", "+1+cmd", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1"]


def assert_escaped(html, where, shown=True):
    for raw in RAW:
        assert raw not in html, f"{raw!r} unescaped on {where}"
    for block in JSON_BLOCK_RE.findall(html):
        assert "<" not in block, f"a '<' inside a JSON script block on {where} could close the element"
    if shown:
        assert any(text in html for text in ESCAPED), f"the payload is not shown at all on {where}"


@pytest.fixture
def hostile_demo(app, db):
    """The demo data with people's text replaced by payloads."""
    seed_demo(now=datetime(2026, 5, 20, tzinfo=UTC))
    app.config["ADMIN_SEES_MIRRORS"] = True
    first_team = db.session.execute(select(Team).order_by(Team.id)).scalars().first()
    first_team.name = ("T " + PAYLOAD)[:120]
    db.session.execute(update(Survey).values(title=Survey.title + " " + PAYLOAD))
    db.session.execute(update(User).where(User.role == "staff").values(name=PAYLOAD))
    db.session.execute(update(Invitation).values(customer_name=PAYLOAD))
    responses = list(db.session.execute(select(Response).where(Response.perspective == "customer")
                                        .order_by(Response.id)).scalars())
    for index, response in enumerate(responses):
        response.comment = FORMULAS[index // 3 % len(FORMULAS)] if index % 3 == 0 else f"Comment {index} {PAYLOAD}"
    db.session.commit()
    return db.session.execute(select(Survey).where(Survey.status == "closed")).scalars().first()


def _walk(client, survey, role, pages):
    for path in pages:
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            response.close()  # a download not read: closing it ends its stream (as a server does)
            continue
        assert_escaped(response.get_data(as_text=True), f"{path} as {role}", shown=False)
        yield path


def test_every_leader_and_staff_page_shows_payloads_as_text(app, db, hostile_demo):
    slug = hostile_demo.slug
    followups = list(db.session.execute(
        select(FollowUp.reference).join(Response, Response.id == FollowUp.response_id)
        .where(Response.comment.contains("alert")).order_by(FollowUp.id).limit(3)).scalars())
    extra = ["/me", "/leaders/followups/?view=all", "/leaders/customers?q=customer",
             *(f"/leaders/followups/{i}" for i in followups), *(f"/leaders/followups/{i}/timeline" for i in followups),
             f"/leaders/surveys/{slug}/board/comments?untagged=", f"/leaders/surveys/{slug}/invitations?state=all"]
    staff_extra = ["/staff/", f"/staff/surveys/{slug}/board/comments?untagged="]
    walked = {}
    for role, email in (("admin", "admin@example.com"), ("leader", "leader@example.com"),
                        ("staff", "staff@example.com")):
        client = app.test_client()
        login(client, db.session.execute(select(User).where(User.email == email)).scalar_one(), DEMO_PASSWORD)
        pages = [path.replace("wave-1", slug) for path in ROUTES] + (staff_extra if role == "staff" else extra)
        walked[role] = list(_walk(client, hostile_demo, role, pages))
    # The walk means something only if the pages that show people's text were reached and showed it.
    for must in ("/leaders/", f"/leaders/surveys/{slug}/dashboard", f"/leaders/surveys/{slug}/board/comments",
                 f"/leaders/surveys/{slug}/invitations", "/leaders/followups/?view=all"):
        assert must in walked["leader"], must
    leader = app.test_client()  # an admin sees every team's follow-ups
    login(leader, db.session.execute(select(User).where(User.email == "admin@example.com")).scalar_one(),
          DEMO_PASSWORD)
    for path in ("/leaders/", f"/leaders/surveys/{slug}/dashboard", f"/leaders/surveys/{slug}/board/comments?untagged=",
                 f"/leaders/surveys/{slug}/invitations", *(f"/leaders/followups/{i}" for i in followups[:1])):
        assert_escaped(leader.get(path).get_data(as_text=True), path)
    assert followups, "the demo has follow-ups to show"


def test_the_dashboard_hover_text_is_escaped_json(client, db, hostile_demo):
    login(client, db.session.execute(select(User).where(User.email == "leader@example.com")).scalar_one(),
          DEMO_PASSWORD)
    html = client.get(f"/leaders/surveys/{hostile_demo.slug}/dashboard").get_data(as_text=True)
    texts = [text for block in JSON_BLOCK_RE.findall(html) for text in _strings(json.loads(block))]
    shown = [text for text in texts if "alert(1)" in text]
    assert shown, "the team name is in the charts (axis labels and hover text)"
    # Plotly draws labels and hover text as HTML, so the decoded strings must be escaped too.
    assert all("<" not in text and "&lt;script&gt;" in text for text in shown), shown[:3]
    assert_escaped(html, "dashboard")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item)


def test_the_customer_form_shows_title_and_team_as_text(client, db):
    team = make_team("T " + PAYLOAD)
    survey = make_survey(title="Wave " + PAYLOAD, teams=[team])
    _, token = invite(InvitationRequest(survey=survey, team=team, email="ana@example.org", name=PAYLOAD,
                                        deliver="none"))
    db.session.commit()
    assert open_link(client, token).status_code == 303
    assert_escaped(client.get("/s/answer").get_data(as_text=True), "the customer form")
    refused = post_form(client, "/s/answer", {"comment": PAYLOAD})  # no scores: the form comes back
    assert refused.status_code == 400
    assert_escaped(refused.get_data(as_text=True), "the re-shown customer form")
    done = post_form(client, "/s/answer", answers_for(survey.items) | {"comment": PAYLOAD}, follow_redirects=True)
    assert_escaped(done.get_data(as_text=True), "the thank-you page", shown=False)


def test_invitation_and_reminder_emails_show_payloads_as_text(app, db, runner, smtp_server):
    app.config.update(REMINDER_AFTER_DAYS=3, MAX_REMINDERS=1)
    team = make_team("T " + PAYLOAD)
    staff = make_user("staff", team=team, name=PAYLOAD)
    survey = make_survey(title="Wave " + PAYLOAD, teams=[team])
    invite(InvitationRequest(survey=survey, team=team, email="ana@example.org", name=PAYLOAD, staff=staff))
    db.session.commit()
    result = runner.invoke(args=["send-invitations"])
    assert result.exit_code == 0 and "sent 1" in result.output, result.output
    later = utcnow() + timedelta(days=3, minutes=1)
    assert deliver_due(clock=lambda: later).sent == 1
    first, reminder = smtp_server.messages
    assert reminder.message["Subject"].startswith("Reminder:")
    for mail in (first, reminder):
        assert_escaped(mail.html, f"the email {mail.message['Subject']!r}")
        assert "\n" not in mail.message["Subject"]


def test_csv_exports_neutralise_formula_cells(app, db, hostile_demo):
    client = app.test_client()
    login(client, db.session.execute(select(User).where(User.email == "leader@example.com")).scalar_one(),
          DEMO_PASSWORD)
    db.session.execute(update(Team).where(Team.id == db.session.execute(
        select(Team.id).order_by(Team.id.desc())).scalars().first()).values(name="=1+2"))
    db.session.commit()
    seen = set()
    for path in ("export.csv", "gap.csv", "invitations/template.csv"):
        response = client.get(f"/leaders/surveys/{hostile_demo.slug}/{path}")
        assert response.status_code == 200, path
        for row in csv.reader(io.StringIO(response.get_data(as_text=True), newline="")):
            for cell in row:
                if cell and cell[0] in FORMULA_START:
                    float(cell)  # only a number may start like a formula; anything else must be quoted
                seen.update(formula for formula in (*FORMULAS, "=1+2") if cell == "'" + formula)
    assert seen == {*FORMULAS, "=1+2"}, {*FORMULAS, "=1+2"} - seen  # every payload reached a file, quoted
