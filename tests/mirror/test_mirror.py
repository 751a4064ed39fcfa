"""The staff mirror: private to the staff member, min_n customers before their side shows, admins only
when ADMIN_SEES_MIRRORS allows it."""

import re
from datetime import UTC, datetime

from perception.core.database import clear_data
from perception.core.models import Answer, PredictedAnswer, Response, StaffGuess, Survey, User
from perception.demo.service import DEMO_PASSWORD, seed_demo
from perception.mirror.queries import staff_mirror
from tests.conftest import make_app
from tests.helpers import bank_items, login, make_invitation, make_survey, make_team, make_user

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _setup(db, customers):
    team = make_team("Harbour")
    ben, other = make_user("staff", team=team, name="Ben"), make_user("staff", team=team, name="Other")
    items = bank_items(2)  # trust: two items
    survey = make_survey("wave-1", items=items)
    db.session.add(Response(survey=survey, perspective="staff", team=team, user=ben, submitted_at=NOW,
                            answers=[Answer(item_id=items[0].id, score=5), Answer(item_id=items[1].id, score=4)],
                            predictions=[PredictedAnswer(item_id=items[0].id, score=4),
                                         PredictedAnswer(item_id=items[1].id, score=4)]))
    for index, scores in enumerate(customers):
        if index % 2:  # named on the invitation (as a link sent by the till would); the submit copies it
            invitation, _ = make_invitation(survey, team, staff=ben)
            response = Response(invitation=invitation, staff_id=ben.id)
        else:
            response = Response(staff_id=ben.id)
        response.survey, response.perspective, response.team, response.submitted_at = survey, "customer", team, NOW
        response.answers = [Answer(item_id=item.id, score=score) for item, score in zip(items, scores, strict=True)]
        db.session.add(response)
    # a customer of someone else never counts in Ben's mirror
    db.session.add(Response(survey=survey, perspective="customer", team=team, staff_id=other.id, submitted_at=NOW,
                            answers=[Answer(item_id=items[0].id, score=1), Answer(item_id=items[1].id, score=1)]))
    db.session.commit()
    return survey, ben, other


def test_mirror_figures_hand_worked(app, db):
    # customers' trust scores: 3.5, 2, 4, 4, 1.5 -> mean 3.0; Ben: own 4.5, predicted 4.0
    survey, ben, _ = _setup(db, [(3, 4), (2, 2), (4, 4), (5, 3), (1, 2)])
    mirror = staff_mirror(survey, ben, 5, with_own=True)
    assert mirror.shown and mirror.respondents == 5
    trust = mirror.rows[0]
    assert (trust.own, trust.predicted, trust.customers.mean, trust.customers.n) == (4.5, 4.0, 3.0, 5)
    assert trust.own_minus_customers == 1.5 and trust.predicted_minus_customers == 1.0


def test_staff_member_sees_their_mirror(app, client, db):
    survey, ben, _ = _setup(db, [(3, 4), (2, 2), (4, 4), (5, 3), (1, 2)])
    login(client, ben)
    response = client.get("/staff/surveys/wave-1/mirror")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your mirror" in page and "Only you" in page
    row = re.search(r'<th scope="row">Trust</th>(.*?)</tr>', page, re.S).group(1)
    assert "4.50" in row and "4.00" in row and "3.00" in row and "n = 5" in row and "+1.50" in row


def test_too_few_customers_says_how_many_more_are_needed(app, client, db):
    _survey, ben, _ = _setup(db, [(3, 4), (2, 2), (4, 4)])
    login(client, ben)
    page = client.get("/staff/surveys/wave-1/mirror").get_data(as_text=True)
    assert "3 customers answered about" in page
    assert "at least 2 more customers are needed" in page
    row = re.search(r'<th scope="row">Trust</th>(.*?)</tr>', page, re.S).group(1)
    assert "4.50" in row and "not yet" in row and "3.00" not in row  # own rating yes, customers no


def test_nobody_else_sees_an_individual_mirror(app, client, db):
    _setup(db, [(3, 4)] * 5)
    assert client.get("/staff/surveys/wave-1/mirror").status_code == 302
    login(client, make_user("leader", team=make_team()))
    assert client.get("/staff/surveys/wave-1/mirror").status_code == 403
    assert client.get("/leaders/surveys/wave-1/mirror").status_code == 403
    admin_client = app.test_client()
    login(admin_client, make_user("admin"))
    assert admin_client.get("/leaders/surveys/wave-1/mirror").status_code == 403  # ADMIN_SEES_MIRRORS is off


def test_each_staff_member_sees_only_their_own(app, client, db):
    _survey, _ben, other = _setup(db, [(3, 4)] * 5)
    login(client, other)
    page = client.get("/staff/surveys/wave-1/mirror").get_data(as_text=True)
    assert "1 customer answered about" in page  # only the one customer who named them


def test_admin_sees_a_mirror_when_the_setting_allows(app, db, database):
    survey, ben, _ = _setup(db, [(3, 4)] * 5)
    admin, leader = make_user("admin"), make_user("leader", team=make_team())
    invitation, _token = make_invitation(survey, ben.team, staff=ben)
    db.session.add(StaffGuess(invitation_id=invitation.id, staff_id=ben.id, score=2))  # Ben's own answer too
    db.session.commit()
    allowed = make_app(database, ADMIN_SEES_MIRRORS=True)
    try:
        client = allowed.test_client()
        login(client, admin)
        choose = client.get("/leaders/surveys/wave-1/mirror")
        assert choose.status_code == 200 and "Ben" in choose.get_data(as_text=True)
        page = client.get(f"/leaders/surveys/wave-1/mirror?staff={ben.id}").get_data(as_text=True)
        assert "Mirror of Ben" in page and "ADMIN_SEES_MIRRORS" in page
        # Own answers stay own (DESIGN section 2): the admin sees what Ben's customers said (3.50), never
        # Ben's own rating (4.50) or prediction (4.00), nor their differences from the customers.
        table = page[page.index("<table"):page.index("</table>")]
        assert "3.50" in table
        for own in ("4.50", "4.00", "+1.00", "+0.50", "rated themselves", "predicted customers"):
            assert own not in table, own
        assert "blind guesses" not in page and "2.00" not in page  # nor his guesses
        assert client.get("/leaders/surveys/wave-1/mirror?staff=999999").status_code == 404
        leader_client = allowed.test_client()
        login(leader_client, leader)
        assert leader_client.get(f"/leaders/surveys/wave-1/mirror?staff={ben.id}").status_code == 403
    finally:
        with allowed.app_context():  # the second app's engine: close its connections now, not at GC
            db.session.remove()
            db.engine.dispose()


def test_staff_outside_the_survey_scope_get_404(app, client, db):
    make_survey("wave-1", teams=[make_team("Elsewhere")])
    login(client, make_user("staff", team=make_team("Harbour")))
    assert client.get("/staff/surveys/wave-1/mirror").status_code == 404



def test_how_many_more_tells_nothing_of_anyones_consent_to_contact(app, db):
    """Answers given with consent to contact and without are batched apart (batch_service.group_of), but
    the mirror counts from all waiting answers: a count from the fuller group would change with one
    customer's answer and not another's, and tell a staff member who knows whom they served which of
    them allowed contact (the tenth session's attacker's read)."""
    pages = []
    for consent in (True, False):
        survey, ben, _ = _setup(db, [(3, 4), (2, 2), (4, 4)])
        db.session.add(Response(survey=survey, perspective="customer", team=ben.team, staff_id=ben.id,
                                submitted_at=NOW, contact_consent=consent, answered_with_consent=consent,
                                answers=[Answer(item_id=item.id, score=4) for item in survey.items]))
        db.session.commit()
        reader = app.test_client()
        login(reader, ben)
        page = reader.get("/staff/surveys/wave-1/mirror").get_data(as_text=True)
        pages.append(re.search(r'<p class="notice" role="status">(.*?)</p>', page, re.S).group(1))
        assert "4 customers answered about" in page and "at least 1 more customer is needed" in page
        clear_data(db.session, db.metadata)
    assert pages[0] == pages[1]


def test_a_demo_staff_member_sees_their_mirror(app, client, db):
    seed_demo(now=NOW)
    staff = db.session.query(User).filter_by(email="staff@example.com").one()
    survey = db.session.query(Survey).filter_by(slug="2026-q4").one()
    mirror = staff_mirror(survey, staff, 5, with_own=True)
    assert mirror.respondents >= 5 and mirror.shown and mirror.has_own_rating
    login(client, staff, DEMO_PASSWORD)
    page = client.get("/staff/surveys/2026-q4/mirror").get_data(as_text=True)
    assert f"n = {mirror.rows[0].customers.n}" in page and "more customers are needed" not in page


def test_one_more_customer_changes_nothing_until_their_batch_is_complete(app, client, db):
    survey, ben, _ = _setup(db, [(3, 4), (2, 2), (4, 4), (5, 3), (1, 2)])
    before = staff_mirror(survey, ben, 5, with_own=True)
    items = list(survey.items)
    for added in range(1, 6):
        db.session.add(Response(survey=survey, perspective="customer", team=ben.team, staff_id=ben.id,
                                submitted_at=NOW, answers=[Answer(item_id=item.id, score=5) for item in items]))
        db.session.commit()
        after = staff_mirror(survey, ben, 5, with_own=True)
        if added < 5:
            assert after == before  # a mirror before and after one walk-in answered tells nothing
        else:
            assert after.respondents == before.respondents + 5
    login(client, ben)
    db.session.add(Response(survey=survey, perspective="customer", team=ben.team, staff_id=ben.id,
                            submitted_at=NOW, answers=[Answer(item_id=item.id, score=5) for item in items]))
    db.session.commit()
    page = client.get("/staff/surveys/wave-1/mirror").get_data(as_text=True)
    assert "1 more customer answer about" in page and "waits for their group of 5" in page
