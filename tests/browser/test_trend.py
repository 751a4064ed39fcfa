"""A leader on the demo data: the trend page draws its charts (plotly.js served by the app) with a
table under each, and passes axe."""

import pytest

from perception.demo.service import DEMO_PASSWORD, seed_demo
from tests.browser.conftest import check_accessibility, login, screenshot, wait_for_charts

pytestmark = pytest.mark.browser

DRAWN_JS = """() => Array.from(document.querySelectorAll('script[type="application/json"][data-chart]'))
.map(source => {
  const target = document.getElementById(source.dataset.chart);
  return {id: source.dataset.chart, svg: !!(target && target.querySelector('svg.main-svg')),
          traces: ((target && target.data) || []).length};
})"""


def test_the_trend_page_draws_its_charts_and_tables(db, open_browser):
    seed_demo(seed=11)
    page = open_browser("desktop")
    login(page, "admin@example.com", DEMO_PASSWORD)
    page.goto("/leaders/trend")
    wait_for_charts(page)
    charts = page.evaluate(DRAWN_JS)
    assert [chart["id"] for chart in charts] == ["chart-trend-care", "chart-trend-dimensions", "chart-trend-teams"]
    assert all(chart["svg"] and chart["traces"] > 0 for chart in charts), charts
    assert page.locator("details.chart-data table").count() == 3
    screenshot(page, "leaders-trend-desktop")
    check_accessibility(page, "leaders trend", "desktop")
    assert page.errors == []
