"""Sessions and limits (#13): a session version ends old sessions and copied remember-me cookies;
a login does the same work for unknown and known addresses; failed logins are limited per address
and per account *and* address, with back-off; clients behind TRUSTED_PROXIES load balancers have
limits of their own; an IPv6 client is counted by its /64; an open link takes at most
OPEN_LINK_LINK_LIMIT responses an hour; limits hold for requests sent at the same moment."""

import threading
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import limits.storage.memory
import pytest
from werkzeug.security import check_password_hash

from perception.accounts import login_service
from perception.accounts.queries import user_for_session
from perception.core.extensions import db as _db
from perception.core.extensions import limiter
from perception.core.models import Response, login_hour, utcnow
from perception.core.settings import ConfigError, load_config
from perception.invitations.open_link_service import create_open_link, open_link_url
from perception.web.security import address_key, give_back, take
from tests.conftest import make_app
from tests.helpers import PASSWORD, answers_for, csrf_token, login, make_survey, make_team, make_user, post_form

# ---------------------------------------------------------------------------------------------
# The session version


def _log_in_remembered(client, user):
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    return client.get_cookie("session").value, client.get_cookie("remember_token").value


def _with_cookie(app, name, value):
    browser = app.test_client()
    browser.set_cookie(name, value)
    return browser


def test_keep_me_logged_in_lasts_beyond_the_first_page_and_strong_protection_holds(app, client, db):
    """Flask-Login's "strong" session protection found no browser identifier in a session restored from
    the remember-me cookie and ended it, cookie and all, on the next request (flask-login #248, #685)."""
    leader = make_user("leader")
    _session_cookie, remember_cookie = _log_in_remembered(client, leader)
    browser = _with_cookie(app, "remember_token", remember_cookie)  # the browser was closed and opened again
    for _ in range(3):
        assert browser.get("/leaders/").status_code == 200
    assert browser.get_cookie("remember_token") is not None
    restored = browser.get_cookie("session").value
    elsewhere = app.test_client()  # a copy of the restored session in another browser is still refused
    elsewhere.set_cookie("session", restored)
    assert elsewhere.get("/leaders/", headers={"User-Agent": "Another browser"}).status_code == 302


def test_logout_ends_copies_of_the_session_and_of_the_remember_me_cookie(app, client, db):
    leader = make_user("leader")
    session_cookie, remember_cookie = _log_in_remembered(client, leader)
    # Before logout, a copy of either cookie is as good as the original.
    assert _with_cookie(app, "session", session_cookie).get("/leaders/").status_code == 200
    thief = _with_cookie(app, "remember_token", remember_cookie)
    assert thief.get("/leaders/").status_code == 200

    response = post_form(client, "/logout", {}, form_url="/leaders/")

    assert response.status_code == 302
    assert client.get_cookie("remember_token") is None  # the browser is told to drop it
    assert client.get("/leaders/").status_code == 302
    assert _with_cookie(app, "session", session_cookie).get("/leaders/").status_code == 302
    assert _with_cookie(app, "remember_token", remember_cookie).get("/leaders/").status_code == 302
    assert thief.get("/leaders/").status_code == 302  # the session the copy had made dies as well
    login(client, leader)  # the account itself works as before
    assert client.get("/leaders/").status_code == 200


@pytest.mark.parametrize("change", ["new password", "deactivated"])
def test_a_new_password_or_a_deactivation_ends_every_session(app, client, db, change):
    staff = make_user("staff")
    _session_cookie, remember_cookie = _log_in_remembered(client, staff)
    assert client.get("/staff/").status_code == 200

    if change == "new password":
        staff.set_password("a brand new password")
    else:
        staff.active = False
    db.session.commit()

    assert staff.session_version == 1
    assert client.get("/staff/").status_code == 302
    assert _with_cookie(app, "remember_token", remember_cookie).get("/staff/").status_code == 302


def test_the_user_loader_refuses_a_stale_or_malformed_session_id(app, db):
    user = make_user("leader")
    hour = login_hour(utcnow())
    first = user.get_id()
    assert first == f"{user.id}:0:{hour}"
    assert user_for_session(first) is user

    login_service.end_sessions(user)

    assert user.get_id() == f"{user.id}:1:{hour}"
    assert user_for_session(user.get_id()) is user
    for stale in (first, str(user.id), f"{user.id}:1", f"{user.id}:", f"{user.id}:x:{hour}", "x:1:1", "", None):
        assert user_for_session(stale) is None, stale


def test_a_login_older_than_the_remember_me_duration_is_refused(app, client, db):
    """An attacker's read: the remember-me cookie holds no time, so a copy of it logged in for ever."""
    user = make_user("leader")
    client.set_cookie("remember_token", "")
    remembered = post_form(client, "/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    assert remembered.status_code == 302
    cookie = client.get_cookie("remember_token").value
    session_id = cookie.split("|")[0]
    assert session_id == user.get_id()  # the login's hour in it
    days = app.config["REMEMBER_COOKIE_DURATION"].days
    assert user_for_session(session_id, now=utcnow() + timedelta(days=days - 1)) is user
    assert user_for_session(session_id, now=utcnow() + timedelta(days=days, hours=1)) is None
    assert user_for_session(session_id, now=utcnow() - timedelta(hours=1)) is user  # a server a moment behind
    assert user_for_session(session_id, now=utcnow() - timedelta(hours=3)) is None  # made in the future


# ---------------------------------------------------------------------------------------------
# The same work for unknown and known addresses


@pytest.fixture
def password_checks(monkeypatch):
    """Every password hash the login checks, in order (the real check still decides)."""
    checked = []

    def recording_check(stored_hash, password):
        checked.append(stored_hash)
        return check_password_hash(stored_hash, password)

    monkeypatch.setattr(login_service, "check_password_hash", recording_check)
    return checked


def test_an_unknown_address_costs_one_password_check_like_a_known_one(client, db, password_checks):
    user = make_user("staff", email="known@example.com")

    unknown = post_form(client, "/login", {"email": "nobody@example.com", "password": "wrong"})
    known = post_form(client, "/login", {"email": "known@example.com", "password": "wrong"})

    assert unknown.status_code == known.status_code == 401
    assert password_checks == [login_service.dummy_password_hash(), user.password_hash]
    # The dummy hash is made like an account's: same method and cost parameters.
    assert login_service.dummy_password_hash().split("$")[0] == user.password_hash.split("$")[0]


def test_a_deactivated_account_costs_a_password_check_too(client, db, password_checks):
    user = make_user("staff")
    user.active = False
    db.session.commit()
    assert post_form(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 401
    assert password_checks == [user.password_hash]


# ---------------------------------------------------------------------------------------------
# Failed logins: per address, per account and address, with back-off


def _try_login(client, token, email, password, address):
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_failures_from_other_addresses_do_not_lock_the_owner_out(app, client, db):
    admin = make_user("admin", email="admin@example.com")
    token = csrf_token(client, "/login")

    spread = [_try_login(client, token, admin.email, "guess", f"10.0.0.{index}") for index in range(10)]
    one_address = [_try_login(client, token, admin.email, "guess", "198.51.100.9") for _ in range(25)]

    assert spread == [401] * 10
    assert one_address[:5] == [401] * 5 and set(one_address[5:]) == {429}
    owner = app.test_client()
    owner_token = csrf_token(owner, "/login")
    assert _try_login(owner, owner_token, admin.email, PASSWORD, "192.0.2.10") == 302


def test_repeated_failures_from_one_address_for_one_account_are_refused(app, client, db):
    user = make_user("leader", email="lead@example.com")
    other = make_user("leader", email="other@example.com")
    token = csrf_token(client, "/login")

    statuses = [_try_login(client, token, user.email, "guess", "203.0.113.5") for _ in range(6)]

    assert statuses == [401] * 5 + [429]
    # Locked: even the right password from that address waits.
    assert _try_login(client, token, user.email, PASSWORD, "203.0.113.5") == 429
    # Another account from that address, and this account from elsewhere, are not locked.
    assert _try_login(client, token, other.email, "guess", "203.0.113.5") == 401
    assert _try_login(client, token, user.email, PASSWORD, "203.0.113.6") == 302


@pytest.fixture
def clock(monkeypatch):
    """The rate limits' clock (the in-memory limit storage), moved forward by hand; no waiting."""
    now = {"offset": 0.0}
    real = limits.storage.memory.time.time
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: real() + now["offset"]))

    def advance(seconds):
        now["offset"] += seconds

    return advance


def test_failed_logins_back_off_from_a_minute_to_an_hour(app, client, db, clock):
    user = make_user("leader")
    token = csrf_token(client, "/login")

    def failures(count):
        return [_try_login(client, token, user.email, "guess", "203.0.113.7") for _ in range(count)]

    assert failures(6) == [401] * 5 + [429]
    clock(61)
    assert failures(6) == [401] * 5 + [429]  # a minute later: five more, ten this hour
    clock(61)
    assert failures(1) == [429]  # the hour's limit holds after the minute's has passed
    clock(3600)
    assert _try_login(client, token, user.email, PASSWORD, "203.0.113.7") == 302


# ---------------------------------------------------------------------------------------------
# TRUSTED_PROXIES


@pytest.fixture
def app_with(database, app):
    """Another app on the test's database with some settings changed (the `app` fixture wipes it)."""
    built = []

    def build(**settings):
        other = make_app(database, **settings)
        built.append(other)
        return other

    yield build
    for other in built:
        with other.app_context():
            _db.session.remove()
            _db.engine.dispose()


def _guess(client, index, forwarded_for, proxy="10.0.0.1"):
    """An unknown customer link (link guessing: 30 a minute per client), through one proxy."""
    return client.get(f"/s/guess{index}", headers={"X-Forwarded-For": forwarded_for},
                      environ_base={"REMOTE_ADDR": proxy}).status_code


def test_behind_one_trusted_proxy_every_client_has_its_own_limit(app_with):
    proxied = app_with(TRUSTED_PROXIES=1)
    first, second = proxied.test_client(), proxied.test_client()

    # A client may put anything in X-Forwarded-For; the proxy appends the address it saw.
    statuses = [_guess(first, index, f"192.0.2.{index}, 198.51.100.1") for index in range(31)]

    assert statuses == [404] * 30 + [429]
    assert _guess(second, 99, "198.51.100.2") == 404


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, client, db):
    assert app.config["TRUSTED_PROXIES"] == 0
    statuses = [_guess(client, index, f"198.51.100.{index}") for index in range(31)]
    assert statuses == [404] * 30 + [429]
    assert _guess(app.test_client(), 99, "198.51.100.200") == 429  # same REMOTE_ADDR, same bucket


def test_trusted_proxies_must_be_a_count(monkeypatch, tmp_path):
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    assert load_config(tmp_path)["TRUSTED_PROXIES"] == 0
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    assert load_config(tmp_path)["TRUSTED_PROXIES"] == 2
    for wrong in ("-1", "two"):
        monkeypatch.setenv("TRUSTED_PROXIES", wrong)
        with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
            load_config(tmp_path)


# ---------------------------------------------------------------------------------------------
# IPv6 clients are counted by their /64


@pytest.mark.parametrize(("address", "key"), [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("not an address", "not an address"),
    (None, ""),
])
def test_address_key(address, key):
    assert address_key(address) == key


def _open_link(survey, team="Harbour Street"):
    return urlsplit(open_link_url(create_open_link(survey, make_team(team)))).path


def _answer(app, path, survey, address):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    assert browser.get(path).status_code == 303
    return post_form(browser, "/s/o/answer", answers_for(survey.items)).status_code


def test_open_link_answers_from_one_ipv6_64_are_capped_like_one_address(app, db):
    survey = make_survey()
    path = _open_link(survey)

    statuses = [_answer(app, path, survey, f"2001:db8:5:6::{index + 1:x}") for index in range(40)]

    assert statuses == [303] * 20 + [429] * 20  # OPEN_LINK_RATE_LIMIT, 20 an hour
    assert Response.query.count() == 20
    assert _answer(app, path, survey, "2001:db8:5:7::1") == 303  # the next /64 is someone else


def test_link_guessing_from_one_ipv6_64_is_limited_like_one_address(client, db):
    statuses = [client.get(f"/s/guess{index}", environ_base={"REMOTE_ADDR": f"2001:db8:9:9::{index + 1:x}"}).status_code
                for index in range(31)]
    assert statuses == [404] * 30 + [429]


def test_failed_logins_from_one_ipv6_64_count_as_one_address(app, client, db):
    user = make_user("leader")
    token = csrf_token(client, "/login")
    statuses = [_try_login(client, token, user.email, "guess", f"2001:db8:7:7::{index + 1:x}") for index in range(6)]
    assert statuses == [401] * 5 + [429]


# ---------------------------------------------------------------------------------------------
# A cap per open link


def test_an_open_link_takes_at_most_its_hourly_cap_from_all_addresses_together(app, db):
    app.config["OPEN_LINK_LINK_LIMIT"] = "3 per hour"
    survey = make_survey()
    receipts, counter = _open_link(survey, "Receipts"), _open_link(survey, "Counter")
    # A form sent back for missing answers is not a stored response and does not count.
    browser = app.test_client()
    browser.get(receipts)
    assert post_form(browser, "/s/o/answer", {}).status_code == 400

    statuses = [_answer(app, receipts, survey, f"192.0.2.{index + 1}") for index in range(5)]

    assert statuses == [303, 303, 303, 429, 429]
    assert Response.query.count() == 3
    assert _answer(app, counter, survey, "192.0.2.50") == 303  # another link has a cap of its own


def test_the_open_link_cap_defaults_to_200_an_hour(monkeypatch, tmp_path):
    monkeypatch.delenv("OPEN_LINK_LINK_LIMIT", raising=False)
    assert load_config(tmp_path)["OPEN_LINK_LINK_LIMIT"] == "200 per hour"


# ---------------------------------------------------------------------------------------------
# Requests sent at the same moment (an attacker's read): limits tested before the view and counted
# after it (Flask-Limiter's deduct_when) let through every request that arrived before the first ended.


def _all_at_once(calls):
    """Run `calls` in threads released together; returns their results."""
    go, results = threading.Event(), []

    def run(call):
        go.wait()
        results.append(call())

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join(60)
    return results


def test_answers_sent_at_once_from_one_address_stay_within_its_open_link_limit(app, db, live_server):
    from tests.httpclient import Browser

    app.config["OPEN_LINK_RATE_LIMIT"] = "2 per hour"
    survey, team = make_survey(), make_team()
    path = urlsplit(open_link_url(create_open_link(survey, team))).path
    tabs = []
    for _ in range(20):  # twenty tabs with cookie jars of their own, one address
        browser = Browser(live_server)
        assert browser.get(path)[0] == 303
        tabs.append((browser, browser.csrf_token("/s/o/answer")))
    scores = answers_for(survey.items, 4)
    statuses = _all_at_once([lambda tab=tab: tab[0].post("/s/o/answer", {**scores, "csrf_token": tab[1]})[0]
                             for tab in tabs])
    _db.session.expire_all()
    assert _db.session.query(Response).count() == 2 and sorted(statuses) == [303] * 2 + [429] * 18


def test_password_guesses_sent_at_once_stay_within_the_account_limit(app, db, live_server):
    from tests.httpclient import Browser

    email = make_user("leader").email
    tabs = [Browser(live_server) for _ in range(20)]
    tokens = [tab.csrf_token("/login") for tab in tabs]
    statuses = _all_at_once([
        lambda tab=tab, token=token, index=index: tab.post(
            "/login", {"email": email, "password": f"guess {index}", "csrf_token": token})[0]
        for index, (tab, token) in enumerate(zip(tabs, tokens, strict=True))])
    assert sorted(statuses) == [401] * 5 + [429] * 15  # five checked: the limit per account and address
    assert Browser(live_server).csrf_token("/login")  # the login page itself is not limited


def test_a_count_given_back_after_its_window_ended_gives_no_try_to_the_next(app, clock):
    """Two reviews: a login whose check outlasted its window gave its count back to a later window, as
    -1 there: one failure more (up to twenty with logins sent together)."""
    from flask import g

    rules = (("2 per minute", ("test", "198.51.100.1")),)

    def request(call):
        with app.test_request_context():
            return call()

    counted = request(lambda: take(*rules) and g.limits_taken)  # a slow login's count, in the first window
    clock(61)

    def give_back_late():
        g.limits_taken = counted
        give_back()

    request(give_back_late)  # no window open: nothing to give back
    assert [request(lambda: take(*rules)) for _ in range(3)] == [True, True, False]
    clock(61)
    assert request(lambda: take(*rules))  # a third window, one count in it
    request(give_back_late)  # still nothing to give back there
    assert [request(lambda: take(*rules)) for _ in range(2)] == [True, False]
    with app.test_request_context():
        assert take(("1 per minute", ("other", "x")), *rules) is False  # refused by its second rule...
    assert request(lambda: take(("1 per minute", ("other", "x")))) is True  # ...it kept no count of the first


def test_an_account_is_equal_to_itself_whatever_the_hour(app, db, monkeypatch):
    """A review: UserMixin compared get_id(), which names the hour it is called in."""
    from perception.core.models import people

    user = make_user("staff")
    hours = iter([utcnow(), utcnow() + timedelta(hours=1)])
    monkeypatch.setattr(people, "utcnow", lambda: next(hours))
    assert user == _db.session.get(type(user), user.id)
    assert user != make_user("staff", email="other@example.com")


def test_limits_on_typed_addresses_keep_no_typed_text(app, db, client, caplog):
    """A privacy review: the login's and "Forgot your password?"'s per-address limits were keyed by the
    text typed into the email field, which then sat in the limit storage (Redis when shared) for a day,
    a password typed into that field included, and Flask-Limiter's "exceeded" log line printed it. They
    are keyed by the keyed hash of the address now, and still count an address however it is written."""
    caplog.set_level("INFO")
    make_user("staff", email="victim.person@example.org")
    typed = ["Victim.Person@example.org", "victim.person@example.org ", "VICTIM.PERSON@EXAMPLE.ORG"]
    token = csrf_token(client, "/forgot-password")
    statuses = [client.post("/forgot-password", data={"csrf_token": token, "email": email}).status_code
                for email in typed + ["victim.person@example.org"]]
    assert statuses == [200, 200, 200, 429]  # one count for the one address
    token = csrf_token(client, "/login")
    client.post("/login", data={"csrf_token": token, "email": "tr0ub4dor&3-my-password", "password": "x"})
    stored = " ".join(limiter.storage.storage)  # memory://: Redis keys have the same names
    logged = " ".join(record.getMessage() for record in caplog.records)
    for text in ("victim.person", "tr0ub4dor"):
        assert text not in stored.lower() and text not in logged.lower()
    assert "forgot:" in stored and "login:" in stored
