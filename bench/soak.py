"""`make soak`: mixed load against gunicorn with two workers on PostgreSQL (SQLite with --sqlite):
customers opening links and submitting, staff saving their ratings, leaders reading their pages.
At the end the number of stored customer responses must equal the number of confirmed submits, and
every error is counted; the exit status is non-zero if anything is off."""

import argparse
import queue
import re
import sys
import threading
import time
from collections import Counter

from bench.common import flask_app, gunicorn, scratch_database
from bench.load import _call

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "soak-password-1"


def _seed(env, invitations, staff_count):
    app = flask_app(env)
    with app.app_context():
        from perception.core.extensions import db
        from perception.core.models import Item, Survey, Team, User
        from perception.invitations.service import create_invitation

        items = list(db.session.execute(db.select(Item).order_by(Item.id)).scalars())
        survey = Survey(slug="soak", title="Soak", status="open", items=items)
        team = Team(name="Soak team")
        users = [User(email=f"staff{i}@soak.test", name=f"Staff {i}", role="staff", team=team)
                 for i in range(staff_count)]
        users.append(User(email="leader@soak.test", name="Leader", role="leader", team=team))
        users[0].set_password(PASSWORD)
        for user in users[1:]:
            user.password_hash = users[0].password_hash
        db.session.add_all([survey, team, *users])
        tokens = [create_invitation(survey, team)[1] for _ in range(invitations)]
        db.session.commit()
        customer_form = {f"item_{item.key}": str(1 + i % 5) for i, item in enumerate(items)} | {"comment": "soak"}
        staff_form = {f"item_{item.key}": "4" for item in items} | {f"predict_{item.key}": "3" for item in items}
        emails = [user.email for user in users]
        db.session.remove()
        db.engine.dispose()
    return tokens, customer_form, staff_form, emails


def _form_post(base, page, cookie, form, expected):
    status, html, cookie = _call(base, "GET", page, cookie=cookie)
    if status != 200:
        return f"GET {page} {status}", cookie
    body = "&".join(f"{k}={v}" for k, v in (form | {"csrf_token": CSRF.search(html).group(1)}).items())
    status, _html, cookie = _call(base, "POST", page, body, cookie)
    return ("ok" if status == expected else f"POST {page} {status}"), cookie


def _login(base, email):
    outcome, cookie = _form_post(base, "/login", None, {"email": email, "password": PASSWORD}, 302)
    if outcome != "ok":
        raise RuntimeError(f"login failed: {outcome}")
    return cookie


def run(database, seconds, customers=4, staff=2, leaders=1):
    tally, lock = Counter(), threading.Lock()
    stop = time.monotonic() + seconds

    def count(key):
        with lock:
            tally[key] += 1

    with scratch_database(database) as env:
        tokens, customer_form, staff_form, emails = _seed(env, invitations=int(seconds * 60) + 200, staff_count=20)
        pending = queue.SimpleQueue()
        for token in tokens:
            pending.put(token)
        with gunicorn("wsgi:app", env, workers=2) as base:
            def customer():
                while time.monotonic() < stop:
                    try:
                        token = pending.get_nowait()
                    except queue.Empty:
                        count("customer: ran out of invitations")
                        return
                    status, _html, cookie = _call(base, "GET", f"/s/{token}")
                    if status != 303:
                        count(f"error: open link {status}")
                        continue
                    outcome, _cookie = _form_post(base, "/s/answer", cookie, customer_form, 303)
                    count("customer submit confirmed" if outcome == "ok" else f"error: {outcome}")

            def staff_member(email):
                cookie = _login(base, email)
                while time.monotonic() < stop:
                    outcome, cookie = _form_post(base, "/staff/surveys/soak", cookie, staff_form, 302)
                    count("staff save confirmed" if outcome == "ok" else f"error: {outcome}")

            def leader():
                cookie = _login(base, "leader@soak.test")
                pages = ["/leaders/", "/leaders/surveys/soak/dashboard"]
                while time.monotonic() < stop:
                    for page in pages:
                        status, _html, cookie = _call(base, "GET", page, cookie=cookie)
                        if status == 404 and page.endswith("dashboard"):
                            pages.remove(page)  # a tree without the dashboard yet
                        count("leader page read" if status == 200 else f"error: GET {page} {status}")

            workers = [threading.Thread(target=customer) for _ in range(customers)]
            workers += [threading.Thread(target=staff_member, args=(emails[i],)) for i in range(staff)]
            workers += [threading.Thread(target=leader) for _ in range(leaders)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        stored = _stored(env)
    return tally, stored, staff


def _stored(env):
    app = flask_app(env)
    with app.app_context():
        from perception.core.extensions import db
        from perception.core.models import Response

        rows = dict(db.session.execute(
            db.select(Response.perspective, db.func.count()).group_by(Response.perspective)).all())
        db.session.remove()
        db.engine.dispose()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--sqlite", action="store_true", help="soak SQLite instead of PostgreSQL")
    arguments = parser.parse_args()
    database = "sqlite" if arguments.sqlite else "postgresql"
    started = time.monotonic()
    tally, stored, staff = run(database, arguments.seconds)
    elapsed = time.monotonic() - started
    errors = sum(value for key, value in tally.items() if key.startswith("error"))
    confirmed = tally["customer submit confirmed"]
    print(f"soak on {database}, {elapsed:.0f} s with gunicorn (2 workers)")
    for key, value in sorted(tally.items()):
        print(f"  {key:<40} {value:>8}")
    print(f"  {'stored customer responses':<40} {stored.get('customer', 0):>8}")
    print(f"  {'stored staff responses':<40} {stored.get('staff', 0):>8}")
    print(f"  {'errors':<40} {errors:>8}")
    consistent = stored.get("customer", 0) == confirmed and stored.get("staff", 0) == staff
    print("consistent: stored responses equal confirmed submits" if consistent else "INCONSISTENT")
    return 0 if consistent and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
