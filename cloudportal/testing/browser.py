"""Chromium (Debian's, CHROMIUM_PATH) through Playwright, for browser journeys.

- `browser`: one headless Chromium for the whole session.
- `page`: a fresh tab (a context of its own, en-GB, 10 s timeouts). The test fails on
  any console error (CSP violations are console errors), uncaught page error, or
  resource other than the page itself answered with a status of 400 or more (a page
  may be a 4xx: a form with errors); `page.console_problems` lists them so far.
- `portal`: the live server, with links in emails pointing at it; its URL is
  `portal.url`.
"""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the main thread; Django would then
# refuse database access from the test itself.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        headless=True,
        args=CHROMIUM_ARGS,
    )
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    """A fresh browser tab; console errors (CSP violations among them) fail the test."""
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []

    def on_console(msg) -> None:
        # A page answered with a 4xx (a form with errors) is logged as a failed
        # load; failed resources are checked through their responses below.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"console {msg.type}: {msg.text}")

    def on_response(response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    tab.on("console", on_console)
    tab.on("response", on_response)
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.console_problems = problems
    yield tab
    context.close()
    if problems:
        pytest.fail("the browser reported errors:\n" + "\n".join(problems))


@pytest.fixture
def portal(live_server, settings):
    """The live server, with links in emails pointing at it. Its URL is `portal.url`."""
    settings.SITE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    return live_server
