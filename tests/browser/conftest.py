"""Browser fixtures: Debian's Chromium driven by Playwright, the app served by `live_server`
(tests/conftest.py) on the test's own database, a phone and a desktop viewport, screenshots
under test-artifacts/screenshots/ and an axe-core check loaded from the installed package.

Never `playwright install`: the browser is the system's Chromium (CHROMIUM_PATH or
/usr/bin/chromium). Without it the browser tests fail under CI=true and are skipped locally."""

import os
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.helpers import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERIOUS = ("serious", "critical")
# Every page checked by axe in this run: (page name, viewport) -> violations by impact.
AXE_LOG = {}


def chromium_path():
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = chromium_path()
    if not (Path(executable).is_file() and os.access(executable, os.X_OK)):
        message = (f"Chromium not found at {executable}: install it with `apt-get install chromium` "
                   "or set CHROMIUM_PATH (never `playwright install`)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def base_url():
    """Replaces pytest-playwright's fallback `base_url`, a session fixture defined as an instance method,
    which pytest 9 deprecates (a warning, so an error here). Each context gets the live server's URL."""


@pytest.fixture
def open_browser(new_context, live_server):
    """`open_browser("phone")` -> a fresh page (own cookies) at that viewport on the live server."""

    def _open(viewport="phone", **context_args):
        context = new_context(viewport=VIEWPORTS[viewport], base_url=live_server, **context_args)
        context.set_default_timeout(10_000)
        page = context.new_page()
        # Script exceptions, console errors (a CSP refusal is one) and broken stylesheets, scripts or
        # images are failures. A page that answers 404 or 410 on purpose is not: its status is checked.
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: _console_error(page, message))
        page.on("response", lambda response: _broken_resource(page, response))
        return page

    return _open


def _console_error(page, message):
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        page.errors.append(message.text)


def _broken_resource(page, response):
    if response.status >= 400 and response.request.resource_type != "document":
        page.errors.append(f"{response.status} for {response.request.resource_type} {response.url}")


def wait_for_charts(page):
    """Plotly draws after load: wait until every chart's target holds its SVG."""
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('script[type="application/json"][data-chart]'))
                 .every(source => { const target = document.getElementById(source.dataset.chart);
                                    return target && target.querySelector('svg.main-svg'); })""",
        timeout=30_000,  # 4.8 MB of plotly.js, parsed on a busy 2-core machine
    )


def screenshot(page, name):
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, name, viewport):
    """Run axe-core (shipped inside axe-playwright-python, no download) on the page as shown; log the
    counts by impact and return one line per serious or critical violation, naming rule and elements."""
    violations = Axe().run(page).response["violations"]
    counts = {}
    for violation in violations:
        counts[violation["impact"]] = counts.get(violation["impact"], 0) + 1
    AXE_LOG[(name, viewport)] = counts
    return [
        f"axe on {name} ({viewport}): {v['id']} ({v['impact']}): {v['help']} at "
        f"{[node['target'] for node in v['nodes']][:5]}"
        for v in violations if v["impact"] in SERIOUS
    ]


def check_accessibility(page, name, viewport):
    serious = axe_violations(page, name, viewport)
    assert not serious, "\n".join(serious)


def login(page, email, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def pytest_terminal_summary(terminalreporter):
    if not AXE_LOG:
        return
    terminalreporter.section("axe-core: pages checked (violations by impact)")
    for (name, viewport), counts in sorted(AXE_LOG.items()):
        shown = ", ".join(f"{impact}: {count}" for impact, count in sorted(counts.items())) or "none"
        terminalreporter.write_line(f"{name:32} {viewport:8} {shown}")
