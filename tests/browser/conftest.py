"""Browser tests: the console in Debian's Chromium (headless), driven by Playwright, against
`avp up` run as a person would. Skipped only when no Chromium is installed (`scripts/setup`
says how; `.ci/run` installs it)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.e2e.stack import StackProcess

REPO = Path(__file__).resolve().parents[2]
CONSOLE = REPO / "console"
CHROMIUM = os.environ.get("AVP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required", "--mute-audio"]
ADMIN = ("admin@example.com", "admin password 1234")
AXE = CONSOLE / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = os.environ.get("AVP_CONSOLE_SCREENSHOTS")  # a folder: the tests then save a PNG of each screen


def pytest_collection_modifyitems(items):
    if Path(CHROMIUM).is_file():
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}: apt-get install -y chromium (scripts/setup says so)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def console_built() -> Path:
    """console/dist, built the way scripts/setup builds it when this checkout has not been set up."""
    dist = CONSOLE / "dist"
    if not (dist / "main.js").is_file() or not AXE.is_file():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CONSOLE, check=True)
        subprocess.run(["npm", "run", "build"], cwd=CONSOLE, check=True)
    return dist


@pytest.fixture(scope="module")
def stack(tmp_path_factory, console_built):
    proc = StackProcess(tmp_path_factory.mktemp("stack")).start()
    yield proc
    assert proc.stop() == 0


@pytest.fixture(scope="module")
def api(stack):
    """A requests session signed in as the first admin: the second user in conflict tests."""
    base = f"{stack.url}/api/v1"
    session = requests.Session()
    token = session.post(f"{base}/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]}, timeout=10).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    session.base = base
    return session


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()
    assert not page.errors, page.errors


def sign_in(page, stack, email: str = ADMIN[0], password: str = ADMIN[1]) -> None:
    page.goto(f"{stack.url}/console/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("table", name="Jobs").wait_for()


def check_accessibility(page, screen: str) -> None:
    """axe-core on the page as it is: no serious or critical violation of WCAG 2.2 A/AA."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{screen}: {bad}"


def screenshot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)
