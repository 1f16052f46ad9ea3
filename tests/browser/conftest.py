"""The browser rig: the real app served on a free loopback port in a thread, and Debian's Chromium
(/usr/bin/chromium) driven by Playwright for Python — one browser per test session, a fresh phone-sized context
per test.

Not the pytest-playwright plugin (it breaks `filterwarnings = error`), and never `playwright install`: the
Makefile installs Debian's `chromium` package when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize, sync_playwright
from werkzeug.serving import BaseWSGIServer

from hotline.server import make_embedded_server
from hotline.twilio.rest import TwilioTransport, make_client
from tests.browser.walks import PHONE
from tests.fake_twilio import FakeTwilio
from tests.helpers import ALWAYS_ON_CALL, TWILIO_ACCOUNT, AppFactory, add_staff, import_roster

CHROMIUM = Path(os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
            # Chromium is a real process with its own clock: HOTLINE_TEST_NOW cannot move it (a cookie dated
            # by a moved clock could look expired to it), so these tests keep real time, as `slow` ones do.
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests use Debian's Chromium; run `make .venv/.installed-test` "
            "(it installs the `chromium` package) or `apt-get install -y chromium`"
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # --no-sandbox: the tests may run as root in a container, where Chromium's sandbox cannot start.
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
    yield launched
    launched.close()


@pytest.fixture
def console_app(app: Flask) -> Flask:
    """The app with the ALWAYS_ON_CALL roster and accounts: anna (advisor) and carl (manager)."""
    import_roster(app, ALWAYS_ON_CALL)
    add_staff(app, "anna")
    add_staff(app, "carl", role="manager", advisor_id="carl")
    return app


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """`serve(app)`: the app served on a free loopback port in a thread, as `hotline serve` serves it; its base
    URL. Stopped after the test."""
    running: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def start(app: Flask) -> str:
        httpd = make_embedded_server(app, "127.0.0.1", 0)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        running.append((httpd, thread))
        return f"http://127.0.0.1:{httpd.server_port}"

    yield start
    for httpd, thread in running:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server(console_app: Flask, serve: Callable[[Flask], str]) -> str:
    """The console app served on loopback; its base URL."""
    return serve(console_app)


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """`phone_page(viewport=PHONE, **options)`: a fresh page in a browser of its own (its own cookies), a Danish
    phone of that size; `options` go to `Browser.new_context` (e.g. `accept_downloads=True`). CSP violations the
    page reports are collected on `page.csp`. Closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(viewport: ViewportSize = PHONE, **options: Any) -> Page:
        context = browser.new_context(
            viewport=viewport, locale="da-DK", device_scale_factor=2, is_mobile=True, **options
        )
        contexts.append(context)
        tab = context.new_page()
        violations: list[str] = []
        tab.on(
            "console",
            lambda message: violations.append(message.text) if "Content Security" in message.text else None,
        )
        tab.csp = violations  # type: ignore[attr-defined]
        return tab

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(phone_page: Callable[..., Page]) -> Page:
    """A fresh phone-sized page (its own cookies); CSP violations it reports are collected on `page.csp`."""
    return phone_page()


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    """The fake Twilio REST API on loopback."""
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def live_console(settings_mapping: dict[str, Any], fake: FakeTwilio) -> Iterator[Flask]:
    """The console app calling and texting through the real twilio Client to the fake Twilio, with anna the
    advisor and the ALWAYS_ON_CALL roster."""
    factory = AppFactory(settings_mapping)
    app = factory(transport=TwilioTransport(make_client(TWILIO_ACCOUNT, "token", fake.url, timeout=2.0)))
    import_roster(app, ALWAYS_ON_CALL)
    add_staff(app, "anna")
    yield app
    factory.close()
