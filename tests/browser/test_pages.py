"""Every page, at phone and desktop width, on the demo data: a screenshot for a person to look
at (test-artifacts/screenshots/<page>-<viewport>.png) and axe-core with zero serious or critical
violations. Staff and leader pages are found in the app's own route table, so a page added
later is checked without editing this file."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from perception.core import models
from perception.core.models import Survey, Team, utcnow
from perception.demo.service import DEMO_PASSWORD, seed_demo
from perception.invitations.service import create_invitation
from tests.browser.conftest import VIEWPORTS, axe_violations, login, screenshot, wait_for_charts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Route parameters filled from the demo data; a route needing anything else is listed as not visited.
ID_SOURCES = {"reference": "FollowUp", "link_id": "OpenLink"}
# Pages that refuse on purpose with the default settings (their refusal page is checked too).
# ADMIN_SEES_MIRRORS is off by default; the set-password form needs a link opened first (its page says so).
EXPECTED_STATUS = {"leaders.staff_mirror": 403, "auth.set_password": 404}
# Laid out for A4 paper on purpose; every other page fits a 390 px phone without sideways scrolling.
WIDER_THAN_A_PHONE = {"leaders-print-report"}
NOT_PAGES = re.compile(r"\.(csv|json|js|png|svg|pdf)$|\.<kind>$|/qr")
# Admins see every leader page (some, like erasing a customer, are theirs alone) and the admin pages.
ROLE_OF_BLUEPRINT = {"staff": "staff", "leaders": "admin", "auth": "admin", "admin": "admin"}


def _path(link):
    return urlsplit(link).path


def _customer_links(db):
    """Links a customer may hold: fresh, to answer; expired; unknown; the open (QR) link; unsubscribe."""
    wave = db.session.execute(select(Survey).where(Survey.status == "open")).scalars().first()
    team = db.session.execute(select(Team).order_by(Team.name)).scalars().first()
    fresh = [create_invitation(wave, team, name="Dana")[1] for _ in range(2)]
    expired, expired_token = create_invitation(wave, team)
    expired.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    links = {"answer": f"/s/{fresh[0]}", "answer_de": f"/s/{fresh[1]}?lang=de", "expired": f"/s/{expired_token}",
             "unknown": "/s/not-a-link"}
    try:
        from perception.invitations.open_link_service import create_open_link, open_link_url
        from perception.invitations.queries import unsubscribe_link
    except ImportError:  # the open link and unsubscribing arrive with issue 5
        return links
    links["open_link"] = _path(open_link_url(create_open_link(wave, team, label="Counter QR")))
    links["unsubscribe"] = _path(unsubscribe_link(expired))
    links["recovery"] = _recovery_link(db)
    return links


def _recovery_link(db):
    """A re-survey link for a demo follow-up that has none, made as perception.followups.recovery_service makes them
    (sending it by mail is tests/followups/test_recovery.py's business)."""
    from perception.core.models import FollowUp, RecoveryRequest
    from perception.core.tokens import derive_token, hash_token, new_nonce
    from perception.followups.queries import RECOVERY_PURPOSE, recovery_link
    from perception.followups.recovery_service import worst_item

    followup = db.session.execute(
        select(FollowUp).where(FollowUp.id.not_in(select(RecoveryRequest.follow_up_id))).order_by(FollowUp.id)
    ).scalars().first()
    nonce = new_nonce()
    recovery = RecoveryRequest(follow_up_id=followup.id, item_id=worst_item(followup.response).id, token_nonce=nonce,
                               token_hash=hash_token(derive_token(nonce, RECOVERY_PURPOSE)), state="sent",
                               created_at=utcnow(), sent_at=utcnow(), expires_at=utcnow() + timedelta(days=14))
    db.session.add(recovery)
    db.session.commit()
    return _path(recovery_link(recovery))


def _first_id(db, argument):
    """The first demo row for a route parameter (of a follow-up, its reference): for follow-ups, the
    first whose customer left an address: only those have a timeline (the others answer 404 by
    design). In a freshly seeded demo the lowest id has no address; whether it comes first depended
    on the tests run before."""
    model = getattr(models, ID_SOURCES[argument])
    if argument != "reference":
        return db.session.execute(select(model.id).order_by(model.id)).scalars().first()
    from perception.followups.queries import customer_identity

    for followup in db.session.execute(select(model).order_by(model.id)).scalars():
        identity = customer_identity(followup.response)
        if identity is not None and identity["email"]:
            return followup.reference
    return None


def _staff_and_leader_pages(app, db, slug):
    """(name, role, path, status) for every GET page of the staff, leader and account blueprints."""
    pages, not_visited = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        blueprint = rule.endpoint.split(".")[0]
        if blueprint not in ROLE_OF_BLUEPRINT or "GET" not in rule.methods or NOT_PAGES.search(rule.rule):
            continue
        values = {}
        for argument in rule.arguments:
            if argument == "slug":
                values[argument] = slug
            elif argument in ID_SOURCES and hasattr(models, ID_SOURCES[argument]):
                values[argument] = _first_id(db, argument)
        if rule.endpoint == "auth.login":
            continue  # visited anonymously, with and without errors
        if None in values.values() or set(values) != set(rule.arguments):
            not_visited.append(rule.rule)
            continue
        path = rule.build(values)[1]
        name = rule.endpoint.replace(".", "-").replace("_", "-")
        pages.append((name, ROLE_OF_BLUEPRINT[blueprint], path, EXPECTED_STATUS.get(rule.endpoint, 200)))
    return pages, not_visited


def _check(page, name, viewport, problems, expect_status=None):
    """Screenshot and axe the page now shown; collect problems instead of stopping at the first."""
    page.wait_for_load_state()
    wait_for_charts(page)
    html = page.content()
    if not re.search(r'<html lang="[a-z]{2}', html):
        problems.append(f"{name}: no lang on <html>")
    loose = page.evaluate("""() => Array.from(document.querySelectorAll('input[type=radio]')).filter(radio => {
        const legend = radio.closest('fieldset') && radio.closest('fieldset').querySelector('legend');
        return !legend || !legend.textContent.trim(); }).map(radio => radio.name)""")
    if loose:
        problems.append(f"{name}: radio groups without a fieldset and legend: {sorted(set(loose))}")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0 and name not in WIDER_THAN_A_PHONE:
        problems.append(f"{name}: {overflow}px wider than the {viewport} screen")
    screenshot(page, f"{name}-{viewport}")
    problems.extend(axe_violations(page, name, viewport))
    if page.errors:
        problems.append(f"{name}: page errors {page.errors}")
        page.errors.clear()


def _visit(page, path, name, viewport, problems, statuses=(200,)):
    response = page.goto(path)
    if response is None or response.status not in statuses:
        problems.append(f"{name}: {path} answered {response.status if response else 'nothing'}")
        return
    _check(page, name, viewport, problems)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_is_accessible_and_photographed(app, db, open_browser, viewport):
    seed_demo(seed=7)
    slug = db.session.execute(select(Survey.slug).where(Survey.status == "open")).scalar_one()
    links = _customer_links(db)
    problems = []

    page = open_browser(viewport)
    _visit(page, "/", "home", viewport, problems)
    _visit(page, "/login", "login", viewport, problems)
    page.get_by_label("Email").fill("leader@example.com")
    page.get_by_role("button", name="Log in").click()
    _check(page, "login-errors", viewport, problems)
    _visit(page, "/no-such-page", "not-found", viewport, problems, statuses=(404,))

    customer = open_browser(viewport)
    _visit(customer, links["answer"], "customer-form", viewport, problems)
    customer.get_by_role("button", name="Send my answers").click()
    _check(customer, "customer-form-errors", viewport, problems)
    for index, group in enumerate(customer.locator("fieldset.scale:has(.question-number)").all()):
        group.locator(f"input[value='{1 + index % 5}']").check()
    customer.get_by_role("button", name="Send my answers").click()
    customer.wait_for_url("**/s/thanks")
    _check(customer, "customer-thanks", viewport, problems)
    _visit(customer, links["answer"], "customer-answered", viewport, problems, statuses=(410,))
    _visit(customer, links["expired"], "customer-closed", viewport, problems, statuses=(410,))
    _visit(customer, links["unknown"], "customer-unknown", viewport, problems, statuses=(404,))
    german = open_browser(viewport)
    _visit(german, links["answer_de"], "customer-form-german", viewport, problems)
    if "open_link" in links:
        _visit(open_browser(viewport), links["open_link"], "customer-open-link-form", viewport, problems)
        unsubscribing = open_browser(viewport)
        _visit(unsubscribing, links["unsubscribe"], "customer-unsubscribe", viewport, problems)
        unsubscribing.get_by_role("button", name="Yes, send me no more survey emails").click()
        _check(unsubscribing, "customer-unsubscribed", viewport, problems)
        recovering = open_browser(viewport)
        _visit(recovering, links["recovery"], "customer-recovery-form", viewport, problems)
        recovering.locator("#score input[value='4']").check()
        recovering.get_by_role("button", name="Send my answers").click()
        recovering.wait_for_url("**/s/r/thanks")
        _check(recovering, "customer-recovery-thanks", viewport, problems)

    pages, not_visited = _staff_and_leader_pages(app, db, slug)
    browsers = {}
    for role, email in (("staff", "staff@example.com"), ("admin", "admin@example.com")):
        browsers[role] = open_browser(viewport)
        login(browsers[role], email, DEMO_PASSWORD)
    for name, role, path, status in pages:
        _visit(browsers[role], path, name, viewport, problems, statuses=(status,))

    print(f"\nnot visited (no demo data for their parameters): {not_visited}")
    assert not problems, "\n".join(problems)


def test_empty_states_say_what_to_do_next(db, open_browser):
    """A first run before any data: each empty page tells its reader the next step."""
    from tests.helpers import make_survey, make_team, make_user

    problems = []
    staff = make_user("staff", team=make_team(), email="first.staff@example.com")
    leader = make_user("leader", email="first.leader@example.com")
    staff_page, leader_page = open_browser("phone"), open_browser("phone")
    login(staff_page, staff.email)
    assert "No survey is open for your team yet" in staff_page.locator("main").inner_text()
    _check(staff_page, "empty-staff-index", "phone", problems)
    login(leader_page, leader.email)
    assert "No survey waves yet" in leader_page.locator("main").inner_text()
    _check(leader_page, "empty-leaders-index", "phone", problems)

    survey = make_survey(slug="first-wave", title="First wave")
    leader_page.goto(f"/leaders/surveys/{survey.slug}/dashboard")
    main = leader_page.locator("main").inner_text()
    assert "No customer responses yet. Invite customers" in main
    assert "No staff self-ratings yet" in main
    _check(leader_page, "empty-leaders-dashboard", "phone", problems)
    assert not problems, "\n".join(problems)
