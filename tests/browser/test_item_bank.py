"""An admin adds an item to the bank, a leader's new wave asks it (the form's phone-time estimate
follows the ticks), and a customer on a phone answers it; every page passes axe."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from perception.core.models import Response, Survey
from tests.browser.conftest import check_accessibility, login, screenshot
from tests.helpers import make_invitation, make_team, make_user

pytestmark = pytest.mark.browser

CUSTOMER = "The staff made me feel they had time to listen."


def test_admin_adds_an_item_that_a_new_wave_asks_and_a_customer_answers(db, open_browser):
    admin = make_user("admin", email="admin@example.com")
    team = make_team("Harbour Street")
    page = open_browser("phone")
    login(page, admin.email)
    page.goto("/admin/")
    page.get_by_role("link", name="Questions").click()
    check_accessibility(page, "admin item bank", "phone")
    screenshot(page, "admin-item-bank-phone")
    page.get_by_role("link", name="Add an item to Kindness").click()
    expect(page.get_by_label("Dimension")).to_have_value("kindness")
    page.get_by_label("Key").fill("kindness_listened")
    page.get_by_label("Customers' wording", exact=True).fill(CUSTOMER)
    page.get_by_label("Staff wording").fill("I make customers feel I have time to listen.")
    page.get_by_label("Leaders' wording").fill("Our people make customers feel we have time to listen.")
    page.get_by_label("Customers' wording in German").fill(
        "Die Mitarbeitenden gaben mir das Gefühl, dass sie Zeit zum Zuhören hatten.")
    check_accessibility(page, "admin add item", "phone")
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_role("status")).to_contain_text("Item “kindness_listened” added.")

    page.goto("/leaders/surveys/new")
    page.get_by_label("Title").fill("Listening check")
    for box in page.locator("input[data-dimension]").all():
        box.uncheck()  # untick the whole bank, dimension by dimension
    estimate = page.locator("#wave-estimate")
    expect(estimate).to_contain_text("0 statements")
    page.get_by_label(CUSTOMER).check()
    expect(estimate).to_contain_text("about 1 minute for 1 statement")
    check_accessibility(page, "new wave with estimate", "phone")
    screenshot(page, "new-wave-estimate-phone")
    page.get_by_role("button", name="Create draft wave").click()
    page.get_by_role("button", name="Open the wave").click()
    expect(page.get_by_role("status")).to_contain_text("The wave is open")
    assert page.errors == []

    db.session.rollback()  # read what the server committed
    survey = db.session.execute(select(Survey).where(Survey.slug == "listening-check")).scalar_one()
    [item] = survey.items
    _, token = make_invitation(survey, team)
    customer = open_browser("phone")
    customer.goto(f"/s/{token}")
    expect(customer.locator(".lead")).to_contain_text("It takes about 1 minute on a phone.")
    check_accessibility(customer, "customer form with a new item", "phone")
    customer.locator(f"label[for=item_{item.key}-3]").click()  # the fourth option: Agree
    customer.get_by_role("button", name="Send my answers").click()
    customer.wait_for_url("**/s/thanks")
    assert customer.errors == []

    db.session.rollback()
    response = db.session.execute(select(Response).where(Response.survey_id == survey.id)).scalar_one()
    assert {answer.item.key: answer.score for answer in response.answers} == {"kindness_listened": 4}
