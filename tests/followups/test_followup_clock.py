"""A follow-up's clock: for a customer who did not allow contact, nothing measured from the follow-up's
opening (its due time and "overdue", the refusal of an early contact, the time to first contact)
tells more than the day of the answer (DESIGN section 2, "No consent, no link"). Each was an oracle
for the minute a no-consent customer answered (tenth session's attacker's read)."""

import re
from datetime import timedelta

import pytest

import perception.responses.service as responses_service
from perception.core.models import next_utc_midnight, utcnow
from perception.followups.erasure_service import erase_customer
from perception.followups.queries import is_overdue, team_figures
from tests.helpers import bank_items, login, make_survey, make_team, make_user
from tests.loop_helpers import followup_of, invite_and_answer, page_post

DUE = timedelta(hours=48)  # FOLLOWUP_DUE_HOURS' default
TICK = timedelta(microseconds=1)  # a day-clock due time ends its day: queries.due_time


@pytest.fixture
def survey(db):
    return make_survey(items=bank_items())


def _day(days_ago):
    return (utcnow() - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


def _answered_at(app, monkeypatch, survey, team, moment, consent, email=None):
    """The follow-up of an unhappy answer given at `moment` (the submit's clock set to it)."""
    monkeypatch.setattr(responses_service, "utcnow", lambda: moment)
    invitation = invite_and_answer(app.test_client(), survey, team, score=1, consent=consent, email=email)
    monkeypatch.undo()
    return followup_of(invitation)


def _contact(client, followup, at, outcome="reached"):
    """Record a phone contact at `at` through the follow-up's page (the leader logged in)."""
    return page_post(client, f"/leaders/followups/{followup.reference}", "contact",
                     {"channel": "phone", "outcome": outcome, "at": at.strftime("%Y-%m-%dT%H:%M")})


def test_without_consent_the_due_time_is_the_same_for_any_minute_of_the_day(app, db, survey, monkeypatch):
    team = make_team()
    make_user("leader", team=team)
    day = _day(5)
    morning = _answered_at(app, monkeypatch, survey, team, day + timedelta(hours=9, minutes=37), "no")
    evening = _answered_at(app, monkeypatch, survey, team, day + timedelta(hours=23, minutes=59), "no")
    consented = _answered_at(app, monkeypatch, survey, team, day + timedelta(hours=9, minutes=37), "yes")
    assert morning.due_at == evening.due_at == day + timedelta(days=1) + DUE - TICK
    assert consented.due_at == day + timedelta(hours=9, minutes=37) + DUE  # with consent: from the minute
    # "Overdue" turns on at the same instant for both, whatever minute each customer answered.
    for moment, expected in ((morning.due_at - timedelta(seconds=1), False), (morning.due_at, True)):
        assert is_overdue(morning, moment) is is_overdue(evening, moment) is expected


def test_a_refused_contact_time_tells_the_day_not_the_minute(app, db, client, survey, monkeypatch):
    team = make_team()
    leader = make_user("leader", team=team)
    day = _day(3)
    unconsented = _answered_at(app, monkeypatch, survey, team, day + timedelta(hours=15, minutes=12), "no")
    consented = _answered_at(app, monkeypatch, survey, team, day + timedelta(hours=15, minutes=12), "yes")
    login(client, leader)

    def contact(followup, at):
        page = _contact(client, followup, at, "message")
        return page.status_code, page.get_data(as_text=True)

    status, page = contact(unconsented, day - timedelta(minutes=1))
    assert status == 400 and "The contact cannot be before the day the follow-up was opened." in page
    # Any time of the day itself is taken, before the answer's minute too: a refusal cannot find it.
    assert contact(unconsented, day + timedelta(hours=9))[0] == 303
    status, page = contact(consented, day + timedelta(hours=9))
    assert status == 400 and "The contact cannot be before the follow-up was opened." in page
    assert contact(consented, day + timedelta(hours=15, minutes=12))[0] == 303


def test_time_to_first_contact_runs_from_the_end_of_the_day_without_consent(app, db, client, survey, monkeypatch):
    team = make_team()
    leader = make_user("leader", team=team)
    day = _day(4)
    early = _answered_at(app, monkeypatch, survey, team, day + timedelta(hours=9, minutes=37), "no")
    late = _answered_at(app, monkeypatch, survey, team, day + timedelta(hours=21, minutes=5), "no")
    login(client, leader)
    for followup, at in ((early, day + timedelta(days=1, hours=3)), (late, day + timedelta(hours=22))):
        page = _contact(client, followup, at)
        assert page.status_code == 303, page.get_data(as_text=True)[:2000]
    # 3 h after the day ended, and a contact the same day counts 0 h: the median is 1.5 h whatever the
    # minutes the two customers answered at (from those minutes it would have been 9.15 h).
    [(_name, figures)] = team_figures(leader)
    assert figures.median_hours_to_contact == 1.5
    assert (figures.contacted_in_time, figures.settled) == (2, 2)
    listing = client.get("/leaders/followups/").get_data(as_text=True)
    assert re.search(r"<td>1\.5 h</td>", listing)


def test_erasure_moves_a_consenting_customers_follow_ups_to_the_day_clock_once(app, db, survey, monkeypatch):
    team = make_team()
    make_user("leader", team=team)
    moment = _day(2) + timedelta(hours=10, minutes=11)
    consented = _answered_at(app, monkeypatch, survey, team, moment, "yes", email="erase.me@example.com")
    second_wave = make_survey("wave-2", items=bank_items())
    unconsented = _answered_at(app, monkeypatch, second_wave, team, moment, "no", email="erase.me@example.com")
    assert consented.due_at == moment + DUE and unconsented.due_at == next_utc_midnight(moment) + DUE - TICK
    erase_customer("erase.me@example.com", "test")
    db.session.refresh(consented)
    db.session.refresh(unconsented)
    # Both on the day clock now; the one already on it did not move again.
    assert consented.due_at == unconsented.due_at == next_utc_midnight(moment) + DUE - TICK


def test_the_page_shows_the_day_a_follow_up_is_due_by_and_lists_its_history_by_day(app, db, client, survey,
                                                                                   monkeypatch):
    """Due at the end of a day, shown as that day; and a contact dated earlier the same day than the answer
    is listed after "Opened", as one dated later would be: the order tells nothing the day does not."""
    team = make_team()
    leader = make_user("leader", team=team)
    day = _day(3)
    followups = [_answered_at(app, monkeypatch, survey, team, day + timedelta(hours=hour), "no") for hour in (8, 16)]
    login(client, leader)
    pages = []
    for followup in followups:
        url = f"/leaders/followups/{followup.reference}"
        posted = _contact(client, followup, day + timedelta(hours=12), "no_answer")
        assert posted.status_code == 303, posted.get_data(as_text=True)[:2000]
        page = client.get(url).get_data(as_text=True)
        due_day = f"{day + timedelta(days=2):%d %b %Y}"
        assert f"due {due_day}" in page
        history = page[page.index("<h2>History</h2>"):]
        pages.append([line for line in ("Opened", "Phone call") if line in history])
        assert history.index("Opened") < history.index("Phone call")
    assert pages[0] == pages[1]
