"""Staff rate themselves and predict customers; leaders rate the business."""

from datetime import timedelta

from sqlalchemy import func, select

from perception.core.extensions import db as _db
from perception.core.models import Response, Survey, Team, User, utcnow
from perception.reports.queries import gap_report
from perception.reports.service import drift
from perception.responses import service
from perception.responses.service import PUBLISHED_RATING
from tests.helpers import answers_for, login, make_survey, make_team, make_user, post_form


def _staff_data(items, own, predicted):
    return answers_for(items, own) | answers_for(items, predicted, prefix="predict")


def test_staff_sees_open_surveys_for_their_team_only(client, db):
    mine, other = make_team("Mine"), make_team("Other")
    make_survey("for-mine", teams=[mine])
    make_survey("for-other", teams=[other])
    make_survey("for-all")
    login(client, make_user("staff", team=mine))
    html = client.get("/staff/").get_data(as_text=True)
    assert "for-mine" in html and "for-all" in html
    assert "for-other" not in html
    assert client.get("/staff/surveys/for-other").status_code == 404


def test_staff_rates_predicts_saves_and_edits(client, db):
    survey = make_survey()
    staff = make_user("staff")
    login(client, staff)
    page = client.get(f"/staff/surveys/{survey.slug}").get_data(as_text=True)
    for item in survey.items:
        assert item.staff_text in page
        assert item.customer_text in page  # the prediction question quotes the customer's wording
    response = post_form(client, f"/staff/surveys/{survey.slug}", _staff_data(survey.items, 5, 4))
    assert response.status_code == 302
    stored = db.session.execute(select(Response)).scalar_one()
    assert stored.perspective == "staff" and stored.user_id == staff.id and stored.team_id == staff.team_id
    assert {a.score for a in stored.answers} == {5}
    assert {p.score for p in stored.predictions} == {4}

    changed = _staff_data(survey.items, 5, 4) | {f"item_{survey.items[0].key}": "2"}
    post_form(client, f"/staff/surveys/{survey.slug}", changed)
    db.session.expire_all()
    stored = db.session.execute(select(Response)).scalar_one()
    assert sorted(a.score for a in stored.answers) == [2] + [5] * (len(survey.items) - 1)
    assert stored.updated_at is not None
    page = client.get(f"/staff/surveys/{survey.slug}").get_data(as_text=True)
    assert "Your changes are saved." in page
    assert f'<input checked id="item_{survey.items[0].key}-1"' in page


def test_staff_must_predict_every_item(client, db):
    survey = make_survey()
    login(client, make_user("staff"))
    response = post_form(client, f"/staff/surveys/{survey.slug}", answers_for(survey.items, 4))
    assert response.status_code == 400
    assert "Please predict your customers" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 0


def test_closed_survey_cannot_be_changed(client, db):
    survey = make_survey(status="closed")
    login(client, make_user("staff"))
    page = client.get(f"/staff/surveys/{survey.slug}")
    assert "can no longer change" in page.get_data(as_text=True)
    post_form(client, f"/staff/surveys/{survey.slug}", _staff_data(survey.items, 4, 4))
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 0


def test_survey_past_its_close_date_cannot_be_changed(client, db):
    survey = make_survey(closes_at=utcnow() - timedelta(days=1))
    login(client, make_user("staff"))
    post_form(client, f"/staff/surveys/{survey.slug}", _staff_data(survey.items, 4, 4))
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 0


def test_leader_rates_the_business_with_leader_wordings(client, db):
    survey = make_survey()
    leader = make_user("leader", team=make_team())
    login(client, leader)
    page = client.get(f"/leaders/surveys/{survey.slug}/rate").get_data(as_text=True)
    for item in survey.items:
        assert item.leader_text in page
    assert "predict_" not in page
    post_form(client, f"/leaders/surveys/{survey.slug}/rate", answers_for(survey.items, 5))
    stored = db.session.execute(select(Response)).scalar_one()
    assert stored.perspective == "leader"
    assert stored.predictions == []


def test_bad_scores_are_rejected_for_staff(client, db):
    survey = make_survey()
    login(client, make_user("staff"))
    data = _staff_data(survey.items, 4, 4) | {f"predict_{survey.items[0].key}": "9"}
    response = post_form(client, f"/staff/surveys/{survey.slug}", data)
    assert response.status_code == 400
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 0


def test_unknown_survey_is_404(client, db):
    login(client, make_user("leader", team=make_team()))
    assert client.get("/leaders/surveys/nope/rate").status_code == 404


def test_staff_cannot_open_a_draft_wave_by_its_slug(app, client, db):
    """An attacker's read: drafts belong to those who prepare waves. The staff home page and the API
    hid them, but the rating page, the board and the mirror showed a draft's title and statements to a
    staff member who typed its slug."""
    team = make_team()
    staff = make_user("staff", team=team)
    make_survey("2027-restructure", status="draft", title="Planned restructuring", teams=[team])
    login(client, staff)
    for path in ("/staff/surveys/2027-restructure", "/staff/surveys/2027-restructure/board",
                 "/staff/surveys/2027-restructure/mirror"):
        response = client.get(path)
        assert response.status_code == 404 and "Planned restructuring" not in response.get_data(as_text=True), path
    leader = app.test_client()
    login(leader, make_user("leader", team=team))
    assert leader.get("/leaders/surveys/2027-restructure").status_code == 200  # its preparers still see it


def test_a_rating_given_before_a_role_change_stays_as_it_was(app, client, db):
    """A staff rating still waiting for its batch keeps its perspective when its author is made a
    leader; the leaders' form (no predictions) may not rewrite it, or the batch it completes would
    publish fewer predictions than staff ratings (the tenth session's attacker's read)."""
    from perception.accounts.people_service import update_user
    from perception.core.models import PredictedAnswer, User

    survey = make_survey()
    team = make_team()
    admin, member = make_user("admin"), make_user("staff", team=team)
    login(client, member)
    assert post_form(client, f"/staff/surveys/{survey.slug}", _staff_data(survey.items, 4, 5)).status_code == 302
    update_user(db.session.get(User, member.id), "leader", team, actor=admin)
    db.session.commit()
    client = app.test_client()
    login(client, member)
    url = f"/leaders/surveys/{survey.slug}/rate"
    page = client.get(url).get_data(as_text=True)
    assert "was given as staff, before your role changed, so it can no longer change." in page
    assert "Save my changes" not in page and "<fieldset class=\"plain\" disabled>" in page
    # A form kept open from before (or posted by hand) is refused all the same.
    refused = post_form(client, url, answers_for(survey.items, 1), follow_redirects=True)
    assert "was given as staff, before your role changed, so it can no longer change." in refused.get_data(as_text=True)
    db.session.expire_all()
    response = db.session.execute(select(Response)).scalar_one()
    assert response.perspective == "staff" and {answer.score for answer in response.answers} == {4}
    predictions = db.session.execute(select(func.count()).select_from(PredictedAnswer)).scalar_one()
    assert predictions == len(survey.items)


def test_a_rating_whose_batch_completes_during_its_save_stays_as_published(app, client, db, monkeypatch):
    """An attacker's read: the save read "not yet published" apart from its write, so a colleague's
    rating that completed the batch in between published the old answers and the save then rewrote
    them inside the published figures (n the same, the mean moved by one person's edit). The check now
    holds to the commit: the save is refused and the figures stay."""
    team = make_team("Harbour")
    survey = make_survey("wave-1")
    items = list(survey.items)
    colleagues = [make_user("staff", team=team) for _ in range(4)]
    member = make_user("staff", team=team)
    for user in colleagues[:3]:
        browser = app.test_client()
        login(browser, user)
        assert post_form(browser, "/staff/surveys/wave-1", _staff_data(items, 4, 4)).status_code == 302
    login(client, member)
    assert post_form(client, "/staff/surveys/wave-1", _staff_data(items, 1, 1)).status_code == 302
    read, save, seen = service.own_response, service.save_self_assessment, {}

    def read_then_a_colleague_completes_the_batch(survey_, user):
        found = read(survey_, user)
        if user.id == member.id and not seen:
            with app.app_context():  # a session and connection of its own, as another request's
                wave, last = _db.session.get(Survey, survey_.id), _db.session.get(User, colleagues[3].id)
                save(wave, last, {item.id: 4 for item in wave.items}, {item.id: 4 for item in wave.items})
                seen["figures"] = gap_report(wave, team=_db.session.get(Team, team.id)).to_dict()["items"]
        return found

    monkeypatch.setattr(service, "own_response", read_then_a_colleague_completes_the_batch)
    page = post_form(client, "/staff/surveys/wave-1", _staff_data(items, 1, 1) | {f"item_{items[0].key}": "5"},
                     follow_redirects=True)
    assert PUBLISHED_RATING in page.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.execute(select(Response).where(Response.user_id == member.id)).scalar_one()
    assert stored.published_at is not None and {answer.score for answer in stored.answers} == {1}
    assert gap_report(survey, team=team).to_dict()["items"] == seen["figures"]
    assert drift(db.session, survey.id) == {}
