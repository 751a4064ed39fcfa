"""A customer on a 390x844 phone: link, keyboard-only answers, thanks, one response whatever
they do next; the survey without JavaScript; the link's other pages; a second language."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from perception.core.models import Invitation, Response, utcnow
from tests.browser.conftest import check_accessibility, screenshot
from tests.helpers import bank_items, make_invitation, make_survey, make_team, make_user

pytestmark = pytest.mark.browser

# One score per item for the 16-item survey, varied so a wrong key press shows in the database.
SCORES = [5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3, 4]


@pytest.fixture
def survey(db):
    return make_survey(slug="spring", title="Spring wave", items=bank_items())


def _responses(db):
    db.session.rollback()  # read what the server committed, not an old snapshot
    return db.session.execute(select(func.count(Response.id)).where(Response.perspective == "customer")).scalar()


def _focused(page):
    return page.evaluate("() => { const e = document.activeElement; return [e.tagName, e.name || '', e.value || ''] }")


def _tab_to(page, name, kind=None, limit=40):
    """Press Tab until the focused element has this name (and input type, when given)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page)[1] == name and (kind is None or page.evaluate("document.activeElement.type") == kind):
            return
    raise AssertionError(f"Tab never reached {name or kind}; focus is on {_focused(page)}")


def _choose_with_keys(page, score):
    """In a radio group with nothing chosen, Tab lands on the first option: Space picks 1 and each
    ArrowRight moves the choice one step up the scale."""
    page.keyboard.press("Space")
    for _ in range(score - 1):
        page.keyboard.press("ArrowRight")


def test_customer_answers_every_item_with_the_keyboard_on_a_phone(db, survey, open_browser):
    staff = make_user("staff", name="Amira Haddad")
    invitation, token = make_invitation(survey, make_team(), name="Dana", staff=staff)
    page = open_browser("phone")
    page.goto(f"/s/{token}")
    assert page.url.endswith("/s/answer")  # the token left the address bar
    assert page.get_by_role("heading", level=1).inner_text() == "Dana, how did we treat you?"
    progress = page.locator("#survey-progress")
    assert progress.is_visible()
    assert progress.inner_text().strip() == "0 of 16 answered"
    screenshot(page, "customer-form-phone")

    items = survey.items
    _tab_to(page, f"item_{items[0].key}")
    first_option = page.locator(f"label[for=item_{items[0].key}-0]")
    assert first_option.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"  # focus is visible
    for index, (item, score) in enumerate(zip(items, SCORES, strict=True)):
        assert _focused(page)[1] == f"item_{item.key}", f"question {index + 1}"
        _choose_with_keys(page, score)
        assert _focused(page) == ["INPUT", f"item_{item.key}", str(score)]
        if index == 6:
            assert progress.inner_text().strip() == "7 of 16 answered"
        page.keyboard.press("Tab")
    assert progress.inner_text().strip() == "16 of 16 answered"
    assert _focused(page)[1] == "nps"
    _choose_with_keys(page, 10)  # 0 first, then nine steps: 9
    page.keyboard.press("Tab")
    assert _focused(page)[1] == "comment"
    page.keyboard.type("Amira remembered my name & my order <3")
    _tab_to(page, "", kind="submit", limit=6)  # past the optional questions after the comment
    screenshot(page, "customer-form-answered-phone")
    page.keyboard.press("Space")
    page.wait_for_url("**/s/thanks")
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    screenshot(page, "customer-thanks-phone")
    assert page.errors == []

    db.session.rollback()
    response = db.session.execute(select(Response)).scalar_one()
    scores = {answer.item.key: answer.score for answer in response.answers}
    assert scores == {item.key: score for item, score in zip(items, SCORES, strict=True)}
    assert (response.comment, response.nps, response.staff_id) == ("Amira remembered my name & my order <3", 9,
                                                                   staff.id)
    assert db.session.get(Invitation, invitation.id).state == "answered"


def test_reload_and_double_click_store_one_response(db, survey, open_browser):
    _invitation, token = make_invitation(survey)
    page = open_browser("phone")
    page.goto(f"/s/{token}")
    page.reload()  # reloading the form before answering changes nothing
    assert page.locator("#survey-progress").inner_text().strip() == "0 of 16 answered"
    for item in survey.items:
        page.locator(f"#item_{item.key} input[value='4']").check()
    page.get_by_role("button", name="Send my answers").dblclick()
    page.wait_for_url("**/s/thanks")
    assert _responses(db) == 1
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    page.go_back()  # back to the form's address: it now says the answers are in
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "You already answered, thank you"
    page.goto(f"/s/{token}")
    assert page.get_by_role("heading", level=1).inner_text() == "You already answered, thank you"
    screenshot(page, "customer-answered-phone")
    assert _responses(db) == 1


def test_survey_works_without_javascript_and_double_submit_still_counts_once(db, survey, open_browser):
    _invitation, token = make_invitation(survey)
    page = open_browser("phone", java_script_enabled=False)
    page.goto(f"/s/{token}")
    assert page.locator("#survey-progress").is_hidden()  # no JS: the numbered questions guide instead
    assert page.get_by_text("Question 16 of 16").is_visible()
    # Sending half the answers shows what to fix, field by field.
    for item in survey.items[:8]:
        page.locator(f"#item_{item.key} input[value='2']").check()
    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator(".error-summary")
    assert summary.get_by_role("heading").inner_text() == "Please check 8 answers"
    assert page.locator(f"#item_{survey.items[8].key}-errors").inner_text() == (
        "Please choose an answer from 1 (strongly disagree) to 5 (strongly agree).")
    assert page.locator(f"#item_{survey.items[0].key} input[value='2']").is_checked()  # nothing lost
    screenshot(page, "customer-form-errors-nojs-phone")  # (axe needs JavaScript: it checks this page elsewhere)
    for item in survey.items[8:]:
        page.locator(f"#item_{item.key} input[value='3']").check()
    page.get_by_role("button", name="Send my answers").dblclick()
    # Without JavaScript both clicks may reach the server: the second is told the answers are in.
    outcome = re.compile(r"^(Thank you|You already answered, thank you)$")
    expect(page.get_by_role("heading", level=1)).to_have_text(outcome)
    assert _responses(db) == 1


def test_expired_and_unknown_links_explain_themselves(db, survey, open_browser):
    invitation, token = make_invitation(survey)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = open_browser("phone")
    response = page.goto(f"/s/{token}")
    assert response.status == 410
    assert page.get_by_role("heading", level=1).inner_text() == "This survey has closed"
    screenshot(page, "customer-closed-phone")
    response = page.goto("/s/this-link-was-cut-short")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "We could not find this survey"
    screenshot(page, "customer-unknown-phone")
    assert _responses(db) == 0


def test_customer_switches_to_german_and_back(db, survey, open_browser):
    _invitation, token = make_invitation(survey)
    page = open_browser("phone", locale="de-DE")  # the browser asks for German
    page.goto(f"/s/{token}")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", level=1).inner_text() == "Wie haben wir Sie behandelt?"
    assert page.locator("#survey-progress").inner_text().strip() == "0 von 16 beantwortet"
    assert page.get_by_text("Die Mitarbeitenden gaben mir das Gefühl, respektiert zu werden.").is_visible()
    screenshot(page, "customer-form-german-phone")
    check_accessibility(page, "customer form (German)", "phone")
    page.get_by_role("navigation", name="Sprache").get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "How did we treat you?"
    page.locator(f"#item_{survey.items[0].key} input[value='5']").check()
    assert page.locator("#survey-progress").inner_text().strip() == "1 of 16 answered"
    page.get_by_role("link", name="Deutsch").click()
    for item in survey.items:
        page.locator(f"#item_{item.key} input[value='4']").check()
    page.get_by_role("button", name="Meine Antworten senden").click()
    page.wait_for_url("**/s/thanks")
    assert page.get_by_role("heading", level=1).inner_text() == "Vielen Dank"
    assert _responses(db) == 1
    assert page.errors == []
