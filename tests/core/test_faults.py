"""Faults: SQLite's "database is locked" never reaches a customer under two gunicorn workers, and a
PostgreSQL restart in the middle of a stream of submits loses nothing that was confirmed."""

import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bench.common import gunicorn
from perception.core.models import Invitation, Response
from tests.helpers import answers_for, make_invitation, make_survey, server_env
from tests.httpclient import Browser


def _prepared_customers(base, survey, count):
    """Customers with the form open in their browser, ready to press Send."""
    customers = []
    for _ in range(count):
        invitation, token = make_invitation(survey)
        browser = Browser(base)
        assert browser.get(f"/s/{token}")[0] == 303
        form = answers_for(survey.items, 2) | {"csrf_token": browser.csrf_token("/s/answer")}
        customers.append((invitation.id, browser, form))
    return customers


def test_sqlite_locking_never_reaches_a_customer_under_two_workers(database, app, db):
    if database["schema"]:
        pytest.skip("SQLite-specific: this run is on PostgreSQL")
    survey = make_survey()
    with gunicorn("wsgi:app", server_env(database), workers=2) as base:
        customers = _prepared_customers(base, survey, 40)
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda customer: customer[1].post("/s/answer", customer[2]), customers))
    assert [status for status, _html in results] == [303] * 40
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 40


def _restart_postgres():
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
                   check=True, capture_output=True, timeout=120)


# The restart kills every open connection, this process's too; the garbage collector may then
# report a killed connection as unclosed. That is the fault under test, not a leak.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_postgres_restart_during_submits_loses_nothing_confirmed(database, app, db):
    if not database["schema"]:
        pytest.skip("PostgreSQL-specific: this run is on SQLite")
    if not (os.environ.get("CI") == "true" or os.environ.get("PERCEPTION_FAULT_TESTS") == "1"):
        pytest.skip("restarts the local PostgreSQL: runs under CI=true or PERCEPTION_FAULT_TESTS=1")
    if shutil.which("pg_ctlcluster") is None:
        pytest.fail("pg_ctlcluster is needed to restart PostgreSQL")
    survey = make_survey()
    outcomes = []
    with gunicorn("wsgi:app", server_env(database), workers=2) as base:
        customers = _prepared_customers(base, survey, 120)
        db.session.remove()
        restarted = threading.Event()

        def submit_steadily():
            for invitation_id, browser, form in customers:
                status, html = browser.post("/s/answer", form)
                outcomes.append((invitation_id, status, html, restarted.is_set()))
                time.sleep(0.02)

        stream = threading.Thread(target=submit_steadily)
        stream.start()
        time.sleep(0.6)
        _restart_postgres()
        restarted.set()
        stream.join(timeout=300)
        # Those told to try again do so, and succeed or learn they were already counted.
        retries = [browser.post("/s/answer", form) for invitation_id, browser, form in customers
                   if any(o[0] == invitation_id and o[1] != 303 for o in outcomes)]

    db.session.remove()
    db.engine.dispose()
    statuses = {status for _id, status, _html, _after in outcomes}
    assert statuses <= {303, 503}, statuses
    assert all("try again" in html for _id, status, html, _after in outcomes if status == 503)
    confirmed = {invitation_id for invitation_id, status, _html, _after in outcomes if status == 303}
    stored = set(db.session.execute(select(Invitation.id).join(Response, Response.invitation_id == Invitation.id))
                 .scalars())
    assert confirmed <= stored
    assert any(status == 303 and after for _id, status, _html, after in outcomes), "the app did not recover"
    assert all(status in (303, 200) for status, _html in retries)
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == len(customers)
