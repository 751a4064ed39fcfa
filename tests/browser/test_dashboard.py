"""A leader on the demo data: the dashboard draws every chart with data, the team filter changes
the address and the charts, and the responses export downloads as CSV. A chain's team list on a
phone: touch-sized search box and pager, a wrong page named at its field, the search kept."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from perception.core.extensions import db as _db
from perception.core.models import Answer, Response, Survey
from perception.demo.service import DEMO_PASSWORD, seed_demo
from tests.browser.conftest import check_accessibility, login, screenshot, wait_for_charts
from tests.helpers import bank_items, make_survey, make_team, make_user

pytestmark = pytest.mark.browser

# Each chart: its id, whether plotly drew an SVG, how many traces, and a fingerprint of their data.
CHARTS_JS = """() => Array.from(document.querySelectorAll('script[type="application/json"][data-chart]'))
.map(source => {
  const target = document.getElementById(source.dataset.chart);
  const traces = (target && target.data) || [];
  const points = traces.reduce((sum, t) => sum + ['x', 'y', 'z'].reduce(
      (n, axis) => n + (Array.isArray(t[axis]) ? t[axis].flat().filter(v => v !== null).length : 0), 0), 0);
  // Plotly draws each trace as a <g class="trace ..."> (a heatmap as <g class="hm">) inside its SVG.
  return {id: source.dataset.chart, svg: !!(target && target.querySelector('svg.main-svg')),
          marks: target ? target.querySelectorAll('svg.main-svg g.trace, svg.main-svg g.hm').length : 0,
          traces: traces.length, points: points,
          data: JSON.stringify(traces.map(t => [t.x, t.y, t.z]))};
})"""


def _charts(page):
    wait_for_charts(page)
    return page.evaluate(CHARTS_JS)


def test_dashboard_draws_every_chart_and_follows_the_team_filter(db, open_browser):
    seed_demo(seed=11)
    wave = db.session.execute(select(Survey).where(Survey.status == "open")).scalar_one()
    page = open_browser("desktop", accept_downloads=True)
    login(page, "leader@example.com", DEMO_PASSWORD)
    page.get_by_role("link", name=f"Dashboard for {wave.title}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(wave.title)

    before = _charts(page)
    assert len(before) >= 4, before
    for chart in before:
        assert chart["svg"] and chart["traces"] > 0 and chart["points"] > 0 and chart["marks"] > 0, chart
    screenshot(page, "leaders-dashboard-all-teams-desktop")

    team = page.get_by_label("Team", exact=True)
    chosen = team.locator("option").nth(1).inner_text()  # the first real team after "All teams"
    team.select_option(label=chosen)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/leaders/surveys/{wave.slug}/dashboard?*team=*")
    assert "team=" + chosen.replace(" ", "+") in page.url
    expect(page.get_by_label("Team", exact=True)).to_have_value(chosen)
    after = _charts(page)
    assert [chart["id"] for chart in after] == [chart["id"] for chart in before]
    for chart in after:
        assert chart["svg"] and chart["traces"] > 0, chart
    changed = [new["id"] for old, new in zip(before, after, strict=True) if old["data"] != new["data"]]
    assert len(changed) >= len(after) - 1, f"only {changed} changed with the team filter"
    screenshot(page, "leaders-dashboard-one-team-desktop")
    assert page.errors == []

    page.goto(f"/leaders/surveys/{wave.slug}/exports")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download responses (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert {"perspective", "team", "submitted_at"} <= set(rows[0])
    # Own answers stay own (DESIGN section 2): the leaders' download holds published customer rows only.
    assert {row["perspective"] for row in rows} == {"customer"}
    assert len([row for row in rows if row["perspective"] == "customer"]) > 50
    json.dumps(rows[0])  # plain text values only


@pytest.fixture
def chain(db):
    """45 teams (three pages of the team list); a leader of the whole chain."""
    survey = make_survey(items=bank_items(2))
    for index in range(45):
        team = make_team(f"Branch {index:02d} High St")
        for perspective, score in (("customer", 1 + index % 5), ("staff", 5)):
            for _ in range(5):
                _db.session.add(Response(survey=survey, perspective=perspective, team=team,
                                         submitted_at=datetime(2026, 3, 14, 9, tzinfo=UTC), channel="import",
                                         answers=[Answer(item_id=item.id, score=score) for item in survey.items]))
    _db.session.commit()
    make_user("leader", email="chainlead@example.com")
    return survey


# [width, height, font size in px] of the search box, and [text, width, height] of each pager link.
SIZES_JS = """() => {
  const box = document.querySelector('#q'), r = box.getBoundingClientRect();
  return {search: [r.width, r.height, parseFloat(getComputedStyle(box).fontSize)],
          pager: Array.from(document.querySelectorAll('#teams .pager a')).map(a => {
              const p = a.getBoundingClientRect(); return [a.textContent.trim(), p.width, p.height]; })};
}"""


def test_team_list_on_a_phone_is_touch_sized_and_keeps_its_search(chain, open_browser):
    page = open_browser("phone")
    login(page, "chainlead@example.com")
    page.goto(f"/leaders/surveys/{chain.slug}/dashboard#teams")
    sizes = page.evaluate(SIZES_JS)
    # 16px or more: iOS zooms into a smaller field on focus; 44px: a phone's touch target.
    width, height, font = sizes["search"]
    assert font >= 16 and height >= 44 and width >= 300, sizes
    assert sizes["pager"] and all(w >= 44 and h >= 44 for _text, w, h in sizes["pager"]), sizes
    page.get_by_label("Find a team").fill("high st")
    page.get_by_role("button", name="List teams").click()
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_label("Find a team")).to_have_value("high st")
    page.get_by_label("From month").fill("2026-03")
    page.get_by_role("button", name="Show").click()  # a new period keeps the search and starts at page 1
    page.wait_for_url("**/dashboard?*from=2026-03*")
    assert "q=high+st" in page.url and "page=" not in page.url, page.url
    expect(page.locator("#teams")).to_contain_text("45 of 45 teams match")
    check_accessibility(page, "dashboard team list", "phone")
    assert page.errors == []


def test_a_wrong_page_is_named_at_its_field_on_a_phone(chain, open_browser):
    page = open_browser("phone")
    login(page, "chainlead@example.com")
    response = page.goto(f"/leaders/surveys/{chain.slug}/dashboard?page=abc")
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("Page: Not a valid integer value.")
    page.get_by_role("link", name="Page", exact=True).click()  # the error summary leads to the field
    field = page.get_by_label("Page", exact=True)
    expect(field).to_be_focused()
    expect(field).to_have_value("abc")
    expect(page.locator("#teams")).to_contain_text("the list below shows page 1")
    screenshot(page, "leaders-dashboard-wrong-page-phone")
    check_accessibility(page, "dashboard wrong team-list page", "phone")
    field.fill("2")
    page.get_by_role("button", name="List teams").click()
    expect(page.locator("#teams")).to_contain_text("Page 2 of 3.")
