"""A leader on the demo data: the dashboard draws every chart with data, the team filter changes
the address and the charts, and the responses export downloads as CSV."""

import csv
import io
import json

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from perception.core.models import Survey
from perception.demo.service import DEMO_PASSWORD, seed_demo
from tests.browser.conftest import login, screenshot, wait_for_charts

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
