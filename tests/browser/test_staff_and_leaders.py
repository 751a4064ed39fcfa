"""Staff rate themselves and predict their customers; leaders rate the business. Logged in
through the real login page, saved, come back, change one answer."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from perception.models import Response
from tests.browser.conftest import login
from tests.helpers import bank_items, make_survey, make_team, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def survey(db):
    return make_survey(slug="autumn", title="Autumn care check", items=bank_items(6))


def _own_response(db, user):
    db.session.rollback()  # see what the server committed
    return db.session.execute(select(Response).where(Response.user_id == user.id)).scalar_one()


def test_staff_rates_themselves_predicts_customers_and_changes_one_answer(db, survey, open_browser):
    staff = make_user("staff", team=make_team(), email="amira@example.com", name="Amira Haddad")
    page = open_browser("phone")
    login(page, staff.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Amira Haddad")
    row = page.locator("li.card", has_text="Autumn care check")
    expect(row).to_contain_text("Not rated yet")
    row.get_by_role("link", name="Autumn care check", exact=True).click()

    for index, item in enumerate(survey.items):
        page.locator(f"#item_{item.key} input[value='5']").check()
        page.locator(f"#predict_{item.key} input[value='{3 + index % 2}']").check()
    page.get_by_label("A note for yourself").fill("Busy Saturdays make me rush.")
    page.get_by_role("button", name="Save my rating").click()
    expect(page.get_by_role("status")).to_contain_text("Your rating is saved.")

    page.get_by_role("link", name="My surveys").first.click()
    expect(page.locator("li.card", has_text="Autumn care check")).to_contain_text("Rated")
    page.get_by_role("link", name="Autumn care check", exact=True).click()
    first, last = survey.items[0], survey.items[-1]
    expect(page.locator(f"#item_{first.key} input[value='5']")).to_be_checked()  # the saved answers come back
    expect(page.locator(f"#predict_{last.key} input[value='4']")).to_be_checked()
    page.locator(f"#item_{first.key} input[value='3']").check()
    page.get_by_role("button", name="Save my changes").click()
    expect(page.get_by_role("status")).to_contain_text("Your changes are saved.")
    assert page.errors == []

    response = _own_response(db, staff)
    answers = {answer.item.key: answer.score for answer in response.answers}
    predictions = {prediction.item.key: prediction.score for prediction in response.predictions}
    assert answers == {item.key: (3 if item is first else 5) for item in survey.items}
    assert predictions == {item.key: 3 + index % 2 for index, item in enumerate(survey.items)}
    assert response.comment == "Busy Saturdays make me rush."


def test_leader_rates_the_business(db, survey, open_browser):
    leader = make_user("leader", email="sam@example.com", name="Sam Whitfield")
    page = open_browser("desktop")
    login(page, leader.email)
    expect(page).to_have_url(f"{page.url.split('/leaders')[0]}/leaders/")
    row = page.get_by_role("row", name="Autumn care check")
    row.get_by_role("link", name="Rate the business").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("how do our people make customers feel?")
    assert page.locator("input[name^=predict_]").count() == 0  # leaders do not predict
    for item in survey.items:
        page.locator(f"#item_{item.key} input[value='4']").check()
    page.get_by_role("button", name="Save my rating").click()
    expect(page.get_by_role("status")).to_contain_text("Your rating is saved.")
    page.get_by_role("link", name="Leaders", exact=True).click()
    expect(page.get_by_role("row", name="Autumn care check").get_by_role("link", name="View or change")).to_be_visible()
    assert page.errors == []
    assert sorted(answer.score for answer in _own_response(db, leader).answers) == [4] * len(survey.items)


def test_wrong_password_says_how_to_fix_it(db, open_browser):
    staff = make_user("staff", email="ben@example.com")
    page = open_browser("phone")
    login(page, staff.email, password="not the password")
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")
    expect(page.get_by_label("Email")).to_have_value(staff.email)  # nothing to type twice
    page.get_by_label("Password", exact=True).fill("")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#password-errors")).to_have_text("Please enter your password.")
