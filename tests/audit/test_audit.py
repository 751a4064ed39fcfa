"""The audit log: append-only on both databases, no address in its details, and its admin page
(/admin/audit): filters, paging, a streamed formula-safe CSV download, admins only."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from perception.core.audit import AuditDetailError, record
from perception.core.models import AuditEvent
from tests.helpers import login, make_user

MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)
APRIL = datetime(2026, 4, 2, 9, tzinfo=UTC)


def add_event(db, action, actor=None, at=MARCH, target=("surveys", "1"), **details):
    db.session.add(AuditEvent(action=action, actor_id=actor.id if actor else None, at=at, target_type=target[0],
                              target_id=target[1], details=details))
    db.session.commit()


def test_an_event_cannot_be_changed(db):
    record("survey.opened", target=("surveys", 7), slug="spring")
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.update(AuditEvent).values(action="survey.closed"))
    db.session.rollback()
    assert db.session.execute(sa.select(AuditEvent.action)).scalar_one() == "survey.opened"


def test_record_refuses_an_address_and_an_unknown_action(db):
    with pytest.raises(AuditDetailError, match="customer"):
        record("customer.erased", customer="priya@example.org")
    with pytest.raises(ValueError, match="unknown audit action"):
        record("customer.looked_at")
    assert not db.session.new


def test_only_admins_see_the_log(app):
    with app.test_client() as client:
        assert client.get("/admin/audit").status_code == 302
    for role in ("staff", "leader"):
        with app.test_client() as client:
            login(client, make_user(role))
            assert client.get("/admin/audit").status_code == 403
            assert client.get("/admin/audit.csv").status_code == 403


def test_filters_by_action_actor_days_and_target(client, db):
    admin = make_user("admin", email="ada@example.com")
    leader = make_user("leader", email="lee@example.com")
    add_event(db, "survey.opened", leader, MARCH, ("surveys", "1"))
    add_event(db, "survey.closed", leader, APRIL, ("surveys", "2"))
    add_event(db, "token.created", admin, APRIL, ("api_tokens", "9"))
    add_event(db, "customer.erased", None, APRIL, ("erasure_records", "3"))
    login(client, admin)
    assert "Audit log" in client.get("/admin/").get_data(as_text=True)

    def shown(**query):
        page = client.get("/admin/audit", query_string=query)
        assert page.status_code == 200 and page.headers["Cache-Control"].startswith("no-store")
        html = page.get_data(as_text=True)
        return {action for action in ("survey.opened", "survey.closed", "token.created", "customer.erased")
                if f"<th scope=\"row\">{action}</th>" in html}

    assert shown() == {"survey.opened", "survey.closed", "token.created", "customer.erased"}
    assert shown(action="survey.closed") == {"survey.closed"}
    assert shown(actor="LEE@") == {"survey.opened", "survey.closed"}
    assert shown(**{"from": "2026-04-01"}) == {"survey.closed", "token.created", "customer.erased"}
    assert shown(to="2026-03-10") == {"survey.opened"}  # the last day counts whole
    assert shown(target_type="surveys", target_id="2") == {"survey.closed"}
    html = client.get("/admin/audit", query_string={"action": "customer.erased"}).get_data(as_text=True)
    assert "command line or worker" in html and "erasure_records #3" in html
    assert "lee@example.com" in client.get("/admin/audit?actor=lee").get_data(as_text=True)


def test_bad_filters_re_render_with_messages(client, db):
    login(client, make_user("admin"))
    bad_day = client.get("/admin/audit?from=2026-13-40")
    assert bad_day.status_code == 400 and "Not a valid date" in bad_day.get_data(as_text=True)
    backwards = client.get("/admin/audit?from=2026-04-02&to=2026-04-01")
    assert backwards.status_code == 400 and "must not be before" in backwards.get_data(as_text=True)
    assert client.get("/admin/audit?action=nothing.happened").status_code == 400
    assert client.get("/admin/audit.csv?page=0").status_code == 400
    # The last day of the calendar has no day after it (a robustness review: a 500).
    add_event(db, "survey.opened", make_user("admin", email="other@example.com"), MARCH, ("surveys", "1"))
    for path in ("/admin/audit?to=9999-12-31", "/admin/audit.csv?to=9999-12-31"):
        page = client.get(path)
        assert page.status_code == 200 and "survey.opened" in page.get_data(as_text=True), path


def test_pages_of_fifty_newest_first(client, db):
    admin = make_user("admin")
    for hour in range(1, 56):
        add_event(db, "survey.opened", admin, MARCH + timedelta(hours=hour), ("surveys", str(hour)))
    login(client, admin)
    first = client.get("/admin/audit?action=survey.opened").get_data(as_text=True)
    assert first.count('<th scope="row">survey.opened</th>') == 50 and "page 1 of 2" in first
    assert "Older →" in first and "Newer" not in first
    second = client.get("/admin/audit?action=survey.opened&page=2").get_data(as_text=True)
    assert second.count('<th scope="row">survey.opened</th>') == 5 and "← Newer" in second
    assert "surveys #5<" in second and "surveys #1<" in second and "surveys #6<" not in second


def test_the_csv_download_is_streamed_filtered_and_formula_safe(client, db):
    admin = make_user("admin")
    sneaky = make_user("leader", email="=HYPERLINK(1)@example.com")
    add_event(db, "survey.opened", sneaky, MARCH, ("surveys", "-2+3"), slug="spring")
    add_event(db, "token.created", admin, APRIL, ("api_tokens", "4"), scopes="responses:read")
    login(client, admin)
    download = client.get("/admin/audit.csv?action=survey.opened")
    assert download.status_code == 200 and download.is_streamed
    assert download.mimetype == "text/csv" and "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"].startswith("no-store")
    header, row, *rest = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rest == []
    assert header == ["at", "action", "actor", "actor_id", "target_type", "target_id", "details"]
    assert row == ["2026-03-10T12:00:00+00:00", "survey.opened", "'=HYPERLINK(1)@example.com", str(sneaky.id),
                   "surveys", "'-2+3", '{"slug": "spring"}']
    everything = list(csv.reader(io.StringIO(client.get("/admin/audit.csv?actor=%40example").get_data(as_text=True))))
    # Each download is on record (committed before the first byte), the newest first; the email filter
    # is named, not copied. The admin's login is on record too.
    assert [line[1] for line in everything[1:]] == ["export.downloaded", "export.downloaded", "login.success",
                                                    "token.created", "survey.opened"]
    assert everything[1][6] == '{"kind": "audit-log", "text_filters": ["actor"]}'
    assert everything[2][6] == '{"filter_action": "survey.opened", "kind": "audit-log", "text_filters": []}'
