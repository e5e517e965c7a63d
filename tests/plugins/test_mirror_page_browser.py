"""The page in a real browser: Playwright drives Debian's Chromium against the real api-server.

Log in through Airflow's login form, open the page from the nav bar, compare what it shows with
the ledger, and check that an anonymous browser is sent to the login page. The screenshot is
written to ``$LABELBOX_ARTIFACTS`` (default ``.artifacts/``) as ``mirror-page.png``; the one in
docs/img is a copy of it. Without Chromium the tests are skipped with the reason, except under
``CI=true``, where a missing browser is an error (``make test`` installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labelbox_provider.cli.backfill import gap_commands
from labelbox_provider.cli.ledger import ledger_status
from labelbox_provider.state.ledger import Ledger

from tests.plugins.conftest import REPO, PageMirror

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("LABELBOX_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NAV_NAME = "Labelbox mirror"  # the external view's name: the nav link's accessible name
TIMEOUT_MS = 60_000  # a loaded CI machine serves the UI slowly; waits end as soon as it is there
ARTIFACTS = Path(os.environ.get("LABELBOX_ARTIFACTS") or REPO / ".artifacts")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; `make test` does)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; `make test` does)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (skip with the reason where it cannot run, fail under CI)."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the browser test cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _login(browser: Any, base: str, user: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base}/")
    page.wait_for_url("**/auth/login**")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", user)
    page.click("button[type=submit]")  # enabled once both fields have text
    page.wait_for_url(f"{base}/")
    return page


def _follow(page: Any, link: Any, url: str, clicks: int = 3) -> None:
    """Click ``link`` until the page navigates to ``url``. The wait is for the navigation to
    commit, not for the load event, which also waits for the page's iframe (the mirror page,
    slow to render on a loaded machine: it is checked next, with its own timeout). A click
    the UI drops while it is still rendering (seen once on a loaded machine) is repeated."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(clicks - 1):
        link.click()
        try:
            page.wait_for_url(url, wait_until="commit", timeout=TIMEOUT_MS // clicks)
            return
        except PlaywrightTimeout:
            continue
    link.click()
    page.wait_for_url(url, wait_until="commit")


def test_page_from_the_nav_bar_shows_the_ledger(
    browser: Any, api_server: str, page_mirror: PageMirror
) -> None:
    from playwright.sync_api import expect

    page = _login(browser, api_server, "admin")
    link = page.get_by_role("link", name=NAV_NAME)
    expect(link).to_be_visible()
    _follow(page, link, f"{api_server}/plugin/labelbox-mirror")
    frame = page.frame_locator(f'iframe[title="{NAV_NAME}"]')
    expect(frame.get_by_test_id("mirror-user")).to_have_text("admin")
    card = frame.locator(f"section[data-project='{page_mirror.project}']")

    state = ledger_status(Ledger(page_mirror.root, page_mirror.project))
    expect(card.get_by_test_id("batches")).to_have_text(str(len(state.batches)))
    rows = sum(n for m in state.batches for t, n in m.counts.items() if t != "rejects")
    expect(card.get_by_test_id("rows")).to_have_text(str(rows))
    expect(card.get_by_test_id("watermark")).to_have_text(state.to_dict()["watermark"])
    expect(card.get_by_test_id("freshness")).to_have_class("badge warn")  # past 24 hours
    conf = {"project_ids": [page_mirror.project]}
    commands = [gap_commands([g], "labelbox_backfill", conf)[0] for g in state.gaps]
    expect(card.get_by_test_id("gap-command")).to_have_text(commands)
    expect(card.get_by_test_id("pending-count")).to_have_text("1")
    expect(card.get_by_test_id("batch")).to_have_count(len(state.batches))
    expect(card.locator("svg[data-testid=chart] rect.bar")).to_have_count(len(state.batches))
    rejects = sum(m.counts.get("rejects", 0) for m in state.batches)
    expect(card.get_by_test_id("rejects")).to_have_text(str(rejects))

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mirror-page.png"))
    assert (ARTIFACTS / "mirror-page.png").stat().st_size > 10_000
    page.context.close()


def test_an_anonymous_browser_is_sent_to_the_login_page(browser: Any, api_server: str) -> None:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{api_server}/labelbox-mirror/")
    page.wait_for_url("**/auth/login?next=**")
    assert page.get_by_test_id("mirror-title").count() == 0
    assert context.request.get(f"{api_server}/labelbox-mirror/api/projects").status == 401
    context.close()


def test_a_user_without_dag_read_gets_403_in_the_browser(browser: Any, api_server: str) -> None:
    page = _login(browser, api_server, "denied")
    response = page.goto(f"{api_server}/labelbox-mirror/")
    assert response is not None and response.status == 403
    status = page.evaluate("async () => (await fetch('/labelbox-mirror/api/projects')).status")
    assert status == 403
    page.context.close()
