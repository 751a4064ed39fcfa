"""One link, one response: twenty simultaneous submits against a real threaded server store one
response; the others are told it was already answered; nobody gets an error page."""

import io
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from perception.core.models import Answer, Response, Survey
from perception.reports import service as report_cells
from perception.reports import tally_service
from perception.reports.queries import gap_report, waiting_answers
from perception.responses import csv_import
from perception.responses.csv_import import import_responses
from tests.helpers import PASSWORD, answers_for, make_invitation, make_survey, make_team, make_user
from tests.httpclient import Browser

SUBMITS = 20


def _simultaneously(count, call):
    barrier = threading.Barrier(count)

    def run(_index):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_twenty_concurrent_submits_of_one_link_store_one_response(live_server, db):
    survey = make_survey()
    _invitation, token = make_invitation(survey)
    browser = Browser(live_server)
    assert browser.get(f"/s/{token}")[0] == 303
    form = answers_for(survey.items, 3) | {"csrf_token": browser.csrf_token("/s/answer"), "comment": "once"}

    results = _simultaneously(SUBMITS, lambda: Browser(live_server, browser.cookies).post("/s/answer", form))

    statuses = sorted(status for status, _html in results)
    assert statuses == [200] * (SUBMITS - 1) + [303], statuses
    assert all("You already answered, thank you" in html for status, html in results if status == 200)
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 1
    assert db.session.execute(select(func.count()).select_from(Answer)).scalar() == len(survey.items)
    assert report_cells.drift(db.session, survey.id) == {}


def test_concurrent_submits_of_different_links_all_count_in_the_shared_report_cells(live_server, db):
    """Customers of one team answering at the same moment add to the same report cells: every
    one of them is counted once its batch is complete, none twice (INSERT .. ON CONFLICT DO UPDATE
    and one lock per publication group under concurrency)."""
    survey = make_survey()
    forms = []
    for _ in range(12):
        _invitation, token = make_invitation(survey)
        browser = Browser(live_server)
        assert browser.get(f"/s/{token}")[0] == 303
        forms.append((browser, answers_for(survey.items, 4) | {"csrf_token": browser.csrf_token("/s/answer")}))
    pending = iter(forms)
    lock = threading.Lock()

    def submit():
        with lock:
            browser, form = next(pending)
        return browser.post("/s/answer", form)[0]

    assert _simultaneously(len(forms), submit) == [303] * len(forms)
    db.session.expire_all()
    assert report_cells.drift(db.session, survey.id) == {}
    # Published in whole batches of 5 (no batch formed twice, none left complete): 10 count, 2 wait.
    assert gap_report(survey, min_n=1).to_dict()["dimensions"][0]["customer"]["n"] == len(forms) - len(forms) % 5
    assert waiting_answers(survey)["customer"] == len(forms) % 5


def test_concurrent_first_saves_of_a_staff_rating_store_one_response(live_server, db):
    survey = make_survey()
    staff = make_user("staff")
    browser = Browser(live_server)
    login = {"email": staff.email, "password": PASSWORD, "csrf_token": browser.csrf_token("/login")}
    assert browser.post("/login", login)[0] == 302
    path = f"/staff/surveys/{survey.slug}"
    form = (answers_for(survey.items, 4) | answers_for(survey.items, 3, prefix="predict")
            | {"csrf_token": browser.csrf_token(path)})

    results = _simultaneously(8, lambda: Browser(live_server, browser.cookies).post(path, form))

    assert [status for status, _html in results] == [302] * 8
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 1
    assert db.session.execute(select(func.count()).select_from(Answer)).scalar() == len(survey.items)
    assert report_cells.drift(db.session, survey.id) == {}


def test_an_import_and_concurrent_submits_to_the_same_team_neither_fail_nor_miscount(app, live_server, db,
                                                                                     monkeypatch):
    """An import writes, publishes and counts in the cells of the team and roll-ups that customers
    submitting at the same moment also count in: on PostgreSQL both take the group locks and then the
    cells in one order, so neither waits for the other crosswise (a deadlock would fail one of them)."""
    monkeypatch.setattr(csv_import, "CHUNK", 3)  # many chunks: the import takes its locks step by step
    monkeypatch.setattr(tally_service, "LIMIT", 10)  # and writes cells before its end, too
    survey = make_survey()
    team = make_team("Harbour Street")
    forms = []
    for _ in range(8):
        _invitation, token = make_invitation(survey, team=team)
        browser = Browser(live_server)
        assert browser.get(f"/s/{token}")[0] == 303
        forms.append((browser, answers_for(survey.items, 4) | {"csrf_token": browser.csrf_token("/s/answer")}))
    header = "perspective,team,submitted_at," + ",".join(item.key for item in survey.items)
    lines = [f"customer,{('Harbour Street', 'Quay')[index % 2]},2026-03-{1 + index % 28:02d}T10:00:00Z,"
             + ",".join(str(1 + (index + position) % 5) for position in range(len(survey.items)))
             for index in range(60)]
    data = ("\n".join([header, *lines]) + "\n").encode()
    survey_id, pending, lock = survey.id, iter(forms), threading.Lock()

    def work():
        with lock:
            form = next(pending, None)
        if form is not None:
            return form[0].post("/s/answer", form[1])[0]
        with app.app_context():
            try:
                summary = import_responses(io.BytesIO(data), db.session.get(Survey, survey_id), create_teams=True)
            finally:
                db.session.remove()
            return summary.total

    results = _simultaneously(len(forms) + 1, work)
    assert sorted(results) == [len(lines)] + [303] * len(forms)
    db.session.expire_all()
    assert report_cells.drift(db.session, survey_id) == {}
    assert waiting_answers(survey)["customer"] == (len(forms) + len(lines) // 2) % 5 + (len(lines) // 2) % 5
