"""Page weight and SQL statements per page.

Bytes of the customer form (HTML + every script and stylesheet it references; target < 60 KB,
no plotly.js) and of the leaders' dashboard (raw and gzipped), measured against the target;
SQL statements per page for the customer form, the submit, the staff rating form, the leaders'
index and the dashboard (tests/web/test_query_counts.py caps them)."""

import argparse
import gzip
import re

from bench import dataset
from bench.bench_gap import leader_client
from bench.common import counted_statements, databases, flask_app, result, scratch_database

FORM_TARGET_BYTES = 60 * 1024
ASSET_RE = re.compile(r'<(?:script[^>]*\bsrc|link[^>]*\bhref)="(/[^"]+\.(?:js|css)[^"]*)"')


def page_weight(client, url):
    """(raw bytes, gzipped bytes, asset paths) of the page at `url` and everything it references."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    bodies = [page.get_data()]
    assets = ASSET_RE.findall(page.get_data(as_text=True))
    for path in assets:
        asset = client.get(path)
        assert asset.status_code == 200, (path, asset.status_code)
        bodies.append(asset.get_data())
    return sum(map(len, bodies)), sum(len(gzip.compress(body, 6)) for body in bodies), assets


def _customer_client(app, info):
    from perception.core.extensions import db
    from perception.core.models import Survey, Team
    from perception.invitations.service import create_invitation

    with app.app_context():
        survey = db.session.get(Survey, info["survey_id"])
        _, token = create_invitation(survey, db.session.get(Team, info["team_ids"][0]))
        db.session.commit()
        items = [f"item_{item.key}" for item in survey.items]
        db.session.remove()
    client = app.test_client()
    assert client.get(f"/s/{token}").status_code == 303
    return client, items


def measure(database):
    rows = []
    with scratch_database(database) as env:
        app = flask_app(env)
        info = dataset.prepare(app)
        dataset.grow_to(app, info, 10_000)
        with app.app_context():
            from perception.core.extensions import db

            engine = db.engine
        customer, items = _customer_client(app, info)
        raw, zipped, assets = page_weight(customer, "/s/answer")
        rows.append(result("pages", "customer form weight", database, raw / 1024, "KB", FORM_TARGET_BYTES / 1024,
                           "target", higher_is_better=False, gzipped_kb=zipped / 1024, assets=len(assets),
                           plotly=any("plotly" in path for path in assets)))
        leader = leader_client(app)
        url = f"/leaders/surveys/{dataset.SLUG}/dashboard"
        raw, zipped, assets = page_weight(leader, url)
        rows.append(result("pages", "dashboard weight", database, raw / 1024, "KB", higher_is_better=False,
                           gzipped_kb=zipped / 1024, assets=len(assets)))
        rows.extend(_statements(app, engine, customer, leader, items, database))
    return rows


def _statements(app, engine, customer, leader, items, database):
    page = customer.get("/s/answer").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = dict.fromkeys(items, "4") | {"csrf_token": token, "comment": "Fine", "nps": "9"}
    pages = [
        ("customer form", lambda: customer.get("/s/answer"), 200),
        ("customer submit", lambda: customer.post("/s/answer", data=form), 303),
        ("thank-you page", lambda: customer.get("/s/thanks"), 200),
        ("leaders index", lambda: leader.get("/leaders/"), 200),
        ("dashboard", lambda: leader.get(f"/leaders/surveys/{dataset.SLUG}/dashboard"), 200),
    ]
    rows = []
    for name, call, status in pages:
        with counted_statements(engine) as seen:
            response = call()
        assert response.status_code == status, (name, response.status_code)
        rows.append(result("pages", f"SQL statements: {name}", database, len(seen), "statements",
                           higher_is_better=False))
    return rows


def main(quick=False):
    # Weights and statement counts do not depend on the data size, so quick and full are the same.
    return [row for database in databases() for row in measure(database)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the same run (it takes seconds)")
    arguments = parser.parse_args()
    from bench.report import print_table

    print_table(main(arguments.quick))
