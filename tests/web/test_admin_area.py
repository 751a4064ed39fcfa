"""The admin area: admins only, checked before any view runs."""

from tests.helpers import login, make_user


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/admin/").status_code == 302


def test_staff_and_leaders_are_refused(app):
    for role in ("staff", "leader"):
        with app.test_client() as client:
            login(client, make_user(role))
            assert client.get("/admin/").status_code == 403


def test_admins_see_the_admin_area(client):
    login(client, make_user("admin"))
    page = client.get("/admin/")
    assert page.status_code == 200 and b"Administration" in page.data
    assert page.headers["Cache-Control"].startswith("no-store")
