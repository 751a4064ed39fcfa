"""Staff guesses: the staff member named on an invitation is asked once, blind, how that customer
felt; the guess stays its author's own (no page pairs it with the customer's answer)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from perception.core.models import StaffGuess, utcnow
from tests.helpers import bank_items, login, make_invitation, make_survey, make_team, make_user, post_form
from tests.loop_helpers import answer, followup_of


@pytest.fixture
def survey(db):
    return make_survey(items=bank_items())


def guesses(db):
    return db.session.execute(select(func.count()).select_from(StaffGuess)).scalar_one()


def test_staff_guess_once_blind_and_it_stays_their_own(app, db, client, survey):
    team = make_team()
    make_user("leader", team=team)
    ben = make_user("staff", team=team, name="Ben")
    unhappy, unhappy_token = make_invitation(survey, team, name="Lena", staff=ben)
    happy, happy_token = make_invitation(survey, team, name="Omar", staff=ben)
    make_invitation(survey, team, name="Not Ben's", staff=make_user("staff", team=team))
    assert answer(app.test_client(), survey, unhappy_token, score=1, comment="Rude and rushed.").status_code == 303
    assert answer(app.test_client(), survey, happy_token, score=5).status_code == 303

    login(client, ben)
    page = client.get("/staff/interactions").get_data(as_text=True)
    assert "Lena" in page and "Omar" in page and "Not Ben" not in page
    assert "Rude and rushed." not in page and "follow-up" not in page.lower()  # the guess stays blind
    assert post_form(client, "/staff/interactions", {"invitation": str(unhappy.id), "score": "4"}).status_code == 303
    assert post_form(client, "/staff/interactions", {"invitation": str(happy.id), "score": "5"}).status_code == 303
    again = post_form(client, "/staff/interactions", {"invitation": str(unhappy.id), "score": "1"},
                      follow_redirects=True)
    assert "You had already answered for that customer." in again.get_data(as_text=True)
    assert guesses(db) == 2
    assert "Lena" not in client.get("/staff/interactions").get_data(as_text=True)  # asked once

    stored = db.session.execute(select(StaffGuess.invitation_id, StaffGuess.staff_id, StaffGuess.score)).all()
    assert sorted(stored) == sorted([(unhappy.id, ben.id, 4), (happy.id, ben.id, 5)])

    leader_client = app.test_client()
    from perception.core.models import User

    login(leader_client, db.session.execute(select(User).where(User.role == "leader")).scalar_one())
    followup_page = leader_client.get(f"/leaders/followups/{followup_of(unhappy).reference}").get_data(as_text=True)
    # Lena did not allow contact: her answers are shown without the staff member who served her, and
    # without Ben's guess, which is his own answer (DESIGN section 2, "Own answers stay own").
    assert "Rude and rushed." in followup_page
    assert "Ben" not in followup_page and "thought this customer felt" not in followup_page
    # Ben sees his own guesses, as an average, on his mirror (the wave's two: 4 and 5).
    mirror = client.get(f"/staff/surveys/{survey.slug}/mirror").get_data(as_text=True)
    assert "Your blind guesses" in mirror and "2 customers" in mirror and "<strong>4.50</strong> of 5" in mirror


def test_dont_remember_counts_as_asked_and_others_invitations_are_refused(app, db, client, survey):
    team = make_team()
    ben, ines = make_user("staff", team=team, name="Ben"), make_user("staff", team=team, name="Ines")
    mine, _ = make_invitation(survey, team, name="Lena", staff=ben)
    hers, _ = make_invitation(survey, team, name="Omar", staff=ines)
    old, _ = make_invitation(survey, team, name="Long ago", staff=ben, interaction_at=utcnow() - timedelta(days=45))
    login(client, ben)
    page = client.get("/staff/interactions").get_data(as_text=True)
    assert "Long ago" not in page  # older than 30 days: not asked any more
    skipped = post_form(client, "/staff/interactions", {"invitation": str(mine.id), "score": "3", "skip": "1"})
    assert skipped.status_code == 303
    assert db.session.execute(select(StaffGuess)).scalar_one().score is None
    refused = post_form(client, "/staff/interactions", {"invitation": str(hers.id), "score": "2"},
                        follow_redirects=True)
    assert "That interaction is not one of yours." in refused.get_data(as_text=True)
    empty = post_form(client, "/staff/interactions", {"invitation": str(old.id)})
    assert empty.status_code == 400 and "Please choose how you think" in empty.get_data(as_text=True)
    for bad in ("0", "6", "x"):
        assert post_form(client, "/staff/interactions", {"invitation": str(old.id), "score": bad}).status_code == 400
    assert guesses(db) == 1


def test_an_invitation_id_no_column_holds_is_not_one_of_yours(app, db, client, survey):
    login(client, make_user("staff", team=make_team()))
    for bad in ("99999999999999999999", str(2**63), str(2**31), "-1", "0"):
        refused = post_form(client, "/staff/interactions", {"invitation": bad, "score": "3"})
        assert refused.status_code == 303, bad
        assert "That interaction is not one of yours." in client.get("/staff/interactions").get_data(as_text=True)
    assert guesses(db) == 0


def test_only_staff_use_the_interactions_page(app, db, client):
    login(client, make_user("leader", team=make_team()))
    assert client.get("/staff/interactions").status_code == 403
