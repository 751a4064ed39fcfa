"""Staff rate themselves and predict their customers; leaders rate the business and close the loop
with an unhappy customer. Logged in through the real login page, saved, come back, change one answer."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from perception.core.models import Response
from tests.browser.conftest import login
from tests.helpers import bank_items, make_invitation, make_survey, make_team, make_user

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
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password. Check the spelling of both")
    expect(page.get_by_label("Email")).to_have_value(staff.email)  # nothing to type twice
    page.get_by_label("Password", exact=True).fill("")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#password-errors")).to_have_text("Please enter your password.")


def test_unhappy_customer_opens_a_follow_up_that_the_leader_contacts_and_resolves(db, survey, open_browser):
    from perception.core.models import FollowUp

    team = make_team("Riverside")
    leader = make_user("leader", team=team, email="tara@example.com", name="Tara Novak")
    _invitation, token = make_invitation(survey, team, name="Omar", email="omar@example.com")

    customer = open_browser("phone")
    customer.goto(f"/s/{token}")
    for item in survey.items:
        customer.locator(f"#item_{item.key} input[value='1']").check()
    customer.get_by_label("Anything you would like to tell us?").fill("Nobody looked up from the screen.")
    customer.locator("#contact_consent input[value='yes']").check()
    customer.get_by_role("button", name="Send my answers").click()
    customer.wait_for_url("**/s/thanks")

    page = open_browser("desktop")
    login(page, leader.email)
    page.get_by_role("link", name="Follow-ups").first.click()
    row = page.get_by_role("row").filter(has_text="Riverside").filter(has=page.get_by_role("link", name="#"))
    expect(row).to_contain_text("Open")
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Follow-up #")
    expect(page.get_by_text("Nobody looked up from the screen.")).to_be_visible()

    contact = page.locator("form", has=page.get_by_role("button", name="Record contact"))
    contact.get_by_label("Phone call").check()
    contact.get_by_label("Spoke with the customer").check()
    contact.get_by_label("Note (optional)").fill("Apologised; Omar will come back on Friday.")
    contact.get_by_role("button", name="Record contact").click()
    expect(page.get_by_text("Status: Contacted")).to_be_visible()

    resolve = page.locator("form", has=page.get_by_role("button", name="Mark as resolved"))
    resolve.get_by_role("button", name="Mark as resolved").click()  # without the note first
    expect(resolve.locator(".field-errors")).to_have_text("Please write a short note.")
    resolve.get_by_label("How was it resolved?").fill("Refunded the fee and served him ourselves.")
    resolve.get_by_role("button", name="Mark as resolved").click()
    expect(page.get_by_text("Status: Resolved")).to_be_visible()
    assert page.errors == []

    db.session.rollback()
    followup = db.session.execute(select(FollowUp)).scalar_one()
    assert followup.state == "resolved"
