"""Data builders and client helpers shared by the tests."""

import re
import threading
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import event, select

from perception.core.extensions import db
from perception.core.models import Answer, Dimension, Item, PredictedAnswer, Response, Survey, Team, User, utcnow
from perception.invitations.service import create_invitation

PASSWORD = "correct horse battery"
_password_hashes = {}


def make_team(name="Harbour Street"):
    team = db.session.execute(select(Team).where(Team.name == name)).scalar_one_or_none()
    if team is None:
        team = Team(name=name)
        db.session.add(team)
        db.session.commit()
    return team


def make_user(role="staff", team=None, email=None, password=PASSWORD, name=None):
    if role == "staff" and team is None:
        team = make_team()
    email = email or f"{role}{db.session.query(User).count() + 1}@example.com"
    user = User(email=email, name=name or email.split("@")[0], role=role, team=team)
    if password not in _password_hashes:  # hashing is slow on purpose; do it once per password
        user.set_password(password)
        _password_hashes[password] = user.password_hash
    user.password_hash = _password_hashes[password]
    db.session.add(user)
    db.session.commit()
    return user


def bank_items(limit=None):
    items = list(db.session.execute(select(Item).join(Dimension).order_by(Dimension.position, Item.position)).scalars())
    return items[:limit] if limit else items


def make_survey(slug="wave-1", status="open", items=None, teams=(), ask_nps=True, **fields):
    now = utcnow()
    survey = Survey(
        slug=slug, title=fields.pop("title", f"Wave {slug}"), status=status,
        opens_at=fields.pop("opens_at", now - timedelta(days=10)),
        closes_at=fields.pop("closes_at", now + timedelta(days=30)),
        items=list(items) if items is not None else bank_items(4), teams=list(teams), ask_nps=ask_nps, **fields,
    )
    db.session.add(survey)
    db.session.commit()
    return survey


def make_invitation(survey, team=None, **fields):
    invitation, token = create_invitation(survey, team or make_team(), **fields)
    db.session.commit()
    return invitation, token


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url):
    response = client.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1)


def post_form(client, url, data, follow_redirects=False, form_url=None):
    """GET the form for its CSRF token, then POST `data` like a browser would."""
    payload = {"csrf_token": csrf_token(client, form_url or url)}
    payload.update(data)
    return client.post(url, data=payload, follow_redirects=follow_redirects)


class _FormFields(HTMLParser):
    def __init__(self, form_class):
        super().__init__()
        self.form_class, self.inside, self.fields = form_class, False, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = self.form_class in (attrs.get("class") or "").split()
        elif self.inside and tag == "input" and attrs.get("name") and "disabled" not in attrs:
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            if attrs.get("type") in ("submit", "button", "file"):
                return
            self.fields.setdefault(attrs["name"], []).append(attrs.get("value", "on"))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def form_fields(html, form_class):
    """What a browser sends for the form of class `form_class` as the page shows it, untouched: every
    named input's value, ticked boxes only ({name: [values]}; inputs only, no select or textarea)."""
    parser = _FormFields(form_class)
    parser.feed(html)
    return parser.fields


def login(client, user, password=PASSWORD):
    response = post_form(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def answers_for(items, score=4, prefix="item"):
    return {f"{prefix}_{item.key}": str(score) for item in items}


def open_link(client, token):
    """Open a customer link as the customer would; returns the redirect response."""
    return client.get(f"/s/{token}")


def server_env(database, **settings):
    """Environment for a separate server process (gunicorn, a CLI) on the test's own database."""
    import os

    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DATABASE_SCHEMA")}
    env.update({"DATABASE_URL": database["url"], "SECRET_KEY": "test-secret-key", "BASE_URL": "http://perception.test",
                "RATELIMIT_ENABLED": "false", "PYTHONWARNINGS": "ignore"})
    if database["schema"]:
        env["DATABASE_SCHEMA"] = database["schema"]
    env.update(settings)
    return env


def make_responses(survey, count, perspective="customer", team=None, scores=None, submitted_at=None, staff=None,
                   predictions=None, channel="import", **fields):
    """`count` responses written through the ORM (the session hook counts them and publishes the
    batches they complete, as the app does). `scores`: {item: score} or one score for every item of
    the survey; `submitted_at`: one moment, or a function of the index."""
    items = list(survey.items)
    made = []
    for index in range(count):
        given = scores if isinstance(scores, dict) else dict.fromkeys(items, 4 if scores is None else scores)
        moment = submitted_at(index) if callable(submitted_at) else (submitted_at or utcnow())
        response = Response(
            survey=survey, perspective=perspective, team=team, staff_id=staff.id if staff is not None else None,
            submitted_at=moment, channel=channel,
            answers=[Answer(item_id=item.id, score=score) for item, score in given.items()],
            predictions=[PredictedAnswer(item_id=item.id, score=score) for item, score in (predictions or {}).items()],
            **fields,
        )
        db.session.add(response)
        made.append(response)
    db.session.commit()
    return made


def answered_one_by_one(survey, team, day, count=10):
    """`count` customers of `team` answering one after the other on `day` (each with a comment saying
    when); the comments in the order they answered."""
    for index in range(count):
        make_responses(survey, 1, team=team, submitted_at=day + timedelta(minutes=40 * index),
                       comment=f"answer {index}")
    return [f"answer {index}" for index in range(count)]


def race(engine, matches, first, second, nth=1, patience=2.0):
    """Two calls at the same moment, made deterministic: `first` runs in a thread held right after its
    `nth` SQL statement that `matches`; `second` then runs in a thread of its own and is given `patience`
    seconds (it may be waiting for a lock `first` holds) before `first` goes on. Returns both results."""
    reached, go, results, seen = threading.Event(), threading.Event(), {}, []
    threads = {name: threading.Thread(target=lambda name=name, call=call: results.__setitem__(name, call()))
               for name, call in (("first", first), ("second", second))}

    def hold(_connection, _cursor, statement, _parameters, _context, _many):
        if threading.current_thread() is threads["first"] and matches(statement):
            seen.append(statement)
            if len(seen) == nth:
                reached.set()
                go.wait(timeout=60)

    event.listen(engine, "after_cursor_execute", hold)
    try:
        threads["first"].start()
        assert reached.wait(timeout=60), "the first call never made the statement to hold it at"
        threads["second"].start()
        threads["second"].join(timeout=patience)
    finally:
        go.set()
        for thread in threads.values():
            thread.join(timeout=60)
        event.remove(engine, "after_cursor_execute", hold)
    return results["first"], results["second"]
