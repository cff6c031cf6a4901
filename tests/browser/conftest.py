"""Browser tests: Chromium driven through Playwright against pytest-django's live server.

Without /usr/bin/chromium the whole directory is skipped, except when the CI
environment variable is set: CI must never skip browser tests silently, so
there every browser test fails with the reason.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "pw-kizuna-123"
HERE = Path(__file__).resolve().parent


def _missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} does not exist (install Debian's chromium package)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing_reason()
    if reason is None or os.environ.get("CI"):
        return  # in CI the browser fixture fails loudly instead
    skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="package")
def browser():
    """One Chromium for all the browser tests.

    Package scope, not session scope: while Playwright's sync API is alive it
    keeps an asyncio loop running in this thread, so Django refuses ORM calls
    (SynchronousOnlyOperation) and asyncio.run() fails.  The browser tests
    need DJANGO_ALLOW_ASYNC_UNSAFE for their own ORM calls; closing Playwright
    when this directory is done keeps the loop and the flag away from the
    tests that run after it.
    """
    reason = _missing_reason()
    if reason is not None:
        pytest.fail(f"CI is set but the browser tests cannot run: {reason}", pytrace=False)
    expect.set_options(timeout=10_000)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _context(browser, live_server, viewport):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def desktop(browser, live_server, transactional_db):
    """A fresh page (own cookies) at desktop width."""
    context = _context(browser, live_server, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser, live_server, transactional_db):
    """A fresh page (own cookies) at phone width."""
    context = _context(browser, live_server, PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def shot(request):
    """shot(page, "step"): a full-page screenshot in test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = request.node.name.removeprefix("test_")

    def take(page, step: str) -> Path:
        path = SCREENSHOTS / f"{prefix}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login():
    """login(page, username): signs in through the login form."""

    def sign_in(page, username: str) -> None:
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.card button[type=submit]")
        expect(page.locator("details.usermenu")).to_be_visible()

    return sign_in
