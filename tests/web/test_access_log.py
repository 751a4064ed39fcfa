"""A customer link never reaches a log line (README "A short tour"): the request logs of werkzeug
(flask run, the test server) and gunicorn (access and error log) print /s/<redacted>."""

import logging
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import free_port
from perception.web.logs import redact
from tests.helpers import make_invitation, make_survey, make_team, server_env

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("Zq9-secret_token_AAAA", "Zq9-recovery_token_BBBB", "Zq9-open_token_CCCC", "Zq9-unsub.token-DDDD")
PATHS = (f"/s/{SECRETS[0]}", f"/s/r/{SECRETS[1]}", f"/s/o/{SECRETS[2]}?lang=de", f"/s/unsubscribe/{SECRETS[3]}",
         "/s/answer", "/s/r/thanks")


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_redact_keeps_the_pages_without_a_secret():
    assert redact('"GET /s/abc123 HTTP/1.1" 303 -') == '"GET /s/<redacted> HTTP/1.1" 303 -'
    assert redact("http://perception.test/s/r/abc?lang=de") == "http://perception.test/s/r/<redacted>?lang=de"
    for kept in ("/s/answer", "/s/thanks", "/s/r/answer", "/s/o/answer?lang=de", "/leaders/surveys/s/dashboard"):
        assert redact(kept) == kept


def test_an_address_in_a_query_is_redacted_and_other_values_kept():
    """A robustness review: the admins' search forms are GET forms (/admin/people?q=..., audit ?actor=)."""
    line = '"GET /admin/people?q=ada.lovelace%40example.org&role=staff HTTP/1.1" 200 -'
    assert redact(line) == '"GET /admin/people?q=<redacted>&role=staff HTTP/1.1" 200 -'
    assert redact("/admin/audit?actor=ada@example.org") == "/admin/audit?actor=<redacted>"
    assert redact("q=ada%40example.org&role=staff") == "q=<redacted>&role=staff"  # gunicorn's %(q)s atom
    assert redact("/admin/audit?action=survey.opened&page=2") == "/admin/audit?action=survey.opened&page=2"


def test_free_text_searches_are_redacted_whatever_they_hold():
    """A privacy review: a name typed into the people search (or a part of an address into the audit
    log's "who") reached the access log, and so did the search kept in a login's `next`."""
    line = '"GET /admin/people?q=Zelda+Quuxington&role=staff HTTP/1.1" 200 -'
    assert redact(line) == '"GET /admin/people?q=<redacted>&role=staff HTTP/1.1" 200 -'
    assert redact("/admin/audit?actor=zelda.staff&target_id=7") == "/admin/audit?actor=<redacted>&target_id=<redacted>"
    assert redact("/login?next=%2Fadmin%2Fpeople%3Fq%3DZelda") == "/login?next=<redacted>"
    assert redact("/leaders/?queue=open&sequence=2") == "/leaders/?queue=open&sequence=2"


def test_the_werkzeug_request_log_shows_no_customer_link(app, db, live_server, caplog):
    _invitation, token = make_invitation(make_survey(), make_team())
    caplog.set_level(logging.INFO, logger="werkzeug")
    for path in (f"/s/{token}", *PATHS, "/admin/people?q=ada.lovelace%40example.org"):
        assert _get(live_server + path) < 500
    lines = "\n".join(record.getMessage() for record in caplog.records if record.name == "werkzeug")
    assert "/admin/people?q=<redacted>" in lines and "lovelace" not in lines
    assert "GET /s/<redacted> HTTP" in lines and "GET /s/answer HTTP" in lines and "/s/r/thanks" in lines
    for secret in (token, *SECRETS):
        assert secret not in lines


def test_the_gunicorn_access_and_error_logs_show_no_customer_link(app, database, tmp_path):
    _invitation, token = make_invitation(make_survey(), make_team())
    port, access, errors = free_port(), tmp_path / "access.log", tmp_path / "error.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
               "--no-control-socket", "--access-logfile", str(access), "--error-logfile", str(errors),
               "--access-logformat", '%(h)s "%(r)s" %(U)s %(q)s %({raw_uri}e)s %(s)s "%(f)s"', "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=server_env(database), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while _get_or_none(f"http://127.0.0.1:{port}/") is None:
            assert process.poll() is None and time.monotonic() < deadline, errors.read_text()[-2000:]
            time.sleep(0.2)
        for path in (f"/s/{token}", *PATHS):
            assert _get(f"http://127.0.0.1:{port}{path}") < 500
    finally:
        process.terminate()
        process.wait(timeout=20)
    logged = access.read_text() + errors.read_text()
    assert '"GET /s/<redacted> HTTP/1.1" /s/<redacted>  /s/<redacted> ' in logged
    assert "/s/o/<redacted> lang=de /s/o/<redacted>?lang=de" in logged and '"GET /s/answer HTTP/1.1"' in logged
    for secret in (token, *SECRETS):
        assert secret not in logged


def _get_or_none(url):
    try:
        return _get(url)
    except OSError:
        return None
