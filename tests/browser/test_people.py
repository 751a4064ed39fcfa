"""People (#15) in a browser: an admin invites someone who sets a password and logs in; someone who
forgot their password resets it and logs in; a deactivated account's open session is refused.
axe checks every new page (the people list, the invitation form, a person's page, the set-password,
forgot-password and used-link pages)."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from perception.accounts.password_service import link_url
from perception.core.models import OutboxMessage
from tests.browser.conftest import check_accessibility, login, screenshot
from tests.helpers import make_team, make_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "lantern orchard pebble"


def mailed_link_path(db, email):
    """The newest set-password link queued for `email`, as its mail says it (a path on the live server)."""
    db.session.rollback()  # see what the server committed
    rows = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "account")
                              .order_by(OutboxMessage.id.desc())).scalars()
    row = next(row for row in rows if row.account_token.user.email == email)
    return link_url(row.account_token).removeprefix("http://perception.test")


def choose_password(page, heading):
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("The same password again").fill(NEW_PASSWORD)


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_an_invited_person_sets_a_password_and_logs_in(db, open_browser):
    make_team("Harbour Street")
    admin = make_user("admin", email="ada@example.com", name="Ada Admin")
    page = open_browser("desktop")
    login(page, admin.email)
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="People").click()
    check_accessibility(page, "admin people", "desktop")
    page.get_by_role("link", name="Invite a person").click()
    page.get_by_label("Email").fill("noor@example.net")
    page.get_by_label("Name").fill("Noor Haddad")
    page.get_by_label("Role").select_option("staff")
    page.get_by_label("Team").select_option(label="Harbour Street")
    check_accessibility(page, "admin invite", "desktop")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("noor@example.net is invited")
    expect(page.get_by_text("Invited, no password yet")).to_be_visible()
    check_accessibility(page, "admin person", "desktop")
    screenshot(page, "admin-person-desktop")
    assert page.errors == []

    newcomer = open_browser("phone")
    link = mailed_link_path(db, "noor@example.net")
    newcomer.goto(link)
    choose_password(newcomer, "Set your password")
    check_accessibility(newcomer, "set password", "phone")
    screenshot(newcomer, "set-password-phone")
    newcomer.get_by_role("button", name="Save password and log in").click()
    expect(newcomer.get_by_role("status")).to_contain_text("Your password is set. You are logged in.")
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Hello Noor Haddad")

    log_out(newcomer)
    login(newcomer, "noor@example.net", NEW_PASSWORD)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Hello Noor Haddad")
    newcomer.goto(link)  # a link works once
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("This link was already used")
    check_accessibility(newcomer, "used link", "phone")
    assert newcomer.errors == []


def test_a_forgotten_password_is_reset_by_mail_and_the_new_one_logs_in(db, open_browser):
    make_user("leader", email="lee@example.com", name="Lee Park")
    page = open_browser("phone")
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("lee@example.com")
    check_accessibility(page, "forgot password", "phone")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_contain_text("If an active account uses this address")

    page.goto(mailed_link_path(db, "lee@example.com"))
    choose_password(page, "Choose a new password")
    page.get_by_role("button", name="Save password and log in").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set.")
    log_out(page)
    login(page, "lee@example.com", NEW_PASSWORD)
    expect(page.get_by_role("link", name="Leaders", exact=True)).to_be_visible()
    assert page.errors == []


def test_deactivating_refuses_the_open_session_at_once(db, open_browser):
    admin = make_user("admin", email="ada@example.com", name="Ada Admin")
    staff = make_user("staff", team=make_team("Riverside"), email="sam@example.com", name="Sam Reed")
    own = open_browser("phone")
    login(own, staff.email)
    expect(own.get_by_role("heading", level=1)).to_have_text("Hello Sam Reed")

    page = open_browser("desktop")
    login(page, admin.email)
    page.goto("/admin/people?q=sam")
    page.get_by_role("link", name="Sam Reed").click()
    page.get_by_role("button", name="Deactivate sam@example.com").click()
    expect(page.get_by_role("status")).to_contain_text("sam@example.com is deactivated")
    expect(page.get_by_role("button", name="Activate sam@example.com")).to_be_visible()

    own.reload()
    expect(own.get_by_role("heading", level=1)).to_have_text("Log in")
    assert page.errors == [] and own.errors == []
