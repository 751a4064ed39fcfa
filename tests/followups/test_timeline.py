"""The relationship timeline: every invitation, answer and follow-up of one customer in time
order, with the trend of their care score; consent and team scope decide what is shown."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from perception.core.models import Invitation, Response, utcnow
from tests.helpers import bank_items, login, make_survey, make_team, make_user, post_form
from tests.loop_helpers import followup_of, invite_and_answer, page_post

EMAIL = "kofi@example.net"


@pytest.fixture
def survey(db):
    return make_survey(items=bank_items())


def backdate(db, invitation, days):
    """Move an invitation and its answer `days` into the past (as if they happened then)."""
    moment = utcnow() - timedelta(days=days)
    invitation.created_at = invitation.sent_at = invitation.opened_at = moment
    response = db.session.execute(select(Response).where(Response.invitation_id == invitation.id)).scalar_one()
    response.submitted_at = moment + timedelta(minutes=5)
    db.session.commit()


def test_admin_finds_a_customer_by_email_and_sees_every_interaction_in_order(app, db, client):
    home, away = make_team("Harbour Street"), make_team("Riverside")
    first_wave, second_wave = make_survey("wave-1", items=bank_items()), make_survey("wave-2", items=bank_items())
    old = invite_and_answer(app.test_client(), first_wave, home, score=2, email=EMAIL, name="Kofi", consent="yes",
                            comment="Nobody called back.")
    backdate(db, old, 60)
    hidden = invite_and_answer(app.test_client(), second_wave, away, score=3, email=EMAIL, name="Kofi", consent="no",
                               comment="Secret grumble.")
    backdate(db, hidden, 30)
    recent = invite_and_answer(app.test_client(), second_wave, home, score=4, email=EMAIL.upper(), consent="yes")
    login(client, make_user("admin"))
    html = post_form(client, "/leaders/customers", {"search-action": "search", "search-email": EMAIL}
                     ).get_data(as_text=True)
    assert "Kofi" in html and "Nobody called back." in html
    assert "Secret grumble." not in html and "not even that they answered" in html
    # Care index: 2 -> 25, 4 -> 75: improving by 50 points; the anonymous answer is not in the trend.
    assert "From 25 to 75 on the care index" in html and "improving" in html and "+50 points" in html
    titles = re.findall(r"<strong>([^<]+)</strong>", html[html.find('class="timeline"'):])
    assert titles.index("Answered “Wave wave-1”") < titles.index("Answered “Wave wave-2”")
    # The answer given without consent is not even listed, nor that its survey was opened.
    assert titles.count("Answered “Wave wave-2”") == 1 and titles.count("Opened the survey") == 2
    assert titles.count("Invited to “Wave wave-2”") == 2
    assert titles.count("Follow-up opened") == 1  # the low, consented answer opened one
    assert "Harbour Street" in html and "Riverside" in html
    assert "<polyline points=" in html and EMAIL not in client.get("/leaders/customers").get_data(as_text=True)
    assert recent.customer_email == EMAIL  # addresses are stored normalised


def test_a_leader_reaches_the_timeline_from_a_consented_follow_up_and_sees_their_team_only(app, db, client, survey):
    home, away = make_team("Harbour Street"), make_team("Riverside")
    leader = make_user("leader", team=home)
    elsewhere = invite_and_answer(app.test_client(), survey, away, score=4, email=EMAIL, consent="yes",
                                  comment="Riverside was lovely.")
    backdate(db, elsewhere, 10)
    low = invite_and_answer(app.test_client(), survey, home, score=1, email=EMAIL, name="Kofi", consent="yes")
    followup = followup_of(low)
    login(client, leader)
    path = f"/leaders/followups/{followup.reference}"
    page_post(client, path, "contact", {"channel": "meeting", "outcome": "reached", "note": "Met at the branch."})
    assert f'href="/leaders/followups/{followup.reference}/timeline"' in client.get(path).get_data(as_text=True)
    html = client.get(f"{path}/timeline").get_data(as_text=True)
    assert "Showing interactions with Harbour Street only." in html
    assert "Riverside was lovely." not in html
    assert "Meeting: spoke with the customer" in html and "Met at the branch." in html
    assert "One answered survey so far: care index 0 of 100." in html
    assert client.get("/leaders/customers").status_code == 403  # search by email is for admins


def test_no_timeline_without_consent_or_without_an_email(app, db, client, survey):
    team = make_team()
    leader = make_user("leader", team=team)
    silent = followup_of(invite_and_answer(app.test_client(), survey, team, email=EMAIL, consent="no"))
    phone_only = followup_of(invite_and_answer(app.test_client(), survey, team, consent="yes", phone="0161 496 0000"))
    login(client, leader)
    assert client.get(f"/leaders/followups/{silent.reference}/timeline").status_code == 404
    assert client.get(f"/leaders/followups/{phone_only.reference}/timeline").status_code == 404
    assert db.session.execute(select(Invitation).where(Invitation.customer_email == EMAIL)).scalar_one()


def test_search_form_refuses_a_bad_address(app, db, client):
    login(client, make_user("admin"))
    response = post_form(client, "/leaders/customers", {"search-action": "search", "search-email": "kofi"})
    assert response.status_code == 400 and "Please enter a valid email address." in response.get_data(as_text=True)
