"""Walks through the console in real Chromium at a phone's size: sign in, a wrong password until the lock,
sign out, and an advisor disabled while signed in. axe-core checks the pages against WCAG 2.1 A and AA."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from hotline.db.models import utcnow
from routing.callbacks import Priority
from tests.browser.walks import ARTIFACTS, axe_violations, sign_in
from tests.helpers import (
    ALWAYS_ON_CALL,
    BACKEND,
    AppFactory,
    HotlineRunner,
    add_staff,
    import_roster,
    register_callback,
)
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider


def test_sign_in_look_around_and_sign_out(page: Page, server: str, console_app: Flask) -> None:
    page.goto(f"{server}/console/")
    expect(page).to_have_url(f"{server}/console/login?next=/console/")
    expect(page.locator("html")).to_have_attribute("lang", "da")
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-login-360x740.png"), full_page=True)
    sign_in(page, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Anna Prøve")
    expect(page.locator("#role")).to_have_text("Du er logget ind som rådgiver.")
    expect(page.locator("#on-call")).to_contain_text("På vagt nu: primær")
    assert axe_violations(page) == []
    # htmx (vendored, under the CSP) refreshes the counts without reloading the page.
    expect(page.locator("#callbacks")).to_contain_text("0 åbne tilbagekald")
    register_callback(console_app.extensions["hotline"], utcnow(), priority=Priority.ACUTE, window="asap")
    page.evaluate("() => htmx.trigger('#waiting-box', 'refresh')")
    expect(page.locator("#callbacks")).to_contain_text("1 åbent tilbagekald")
    expect(page.locator("#callbacks")).to_contain_text("1 akut")
    page.screenshot(path=str(ARTIFACTS / "console-home-360x740.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360 px phone"
    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_role("status")).to_have_text("Du er logget ud.")
    page.goto(f"{server}/console/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ind")
    assert page.csp == []  # type: ignore[attr-defined]


def test_a_wrong_password_says_so_and_five_lock_the_account(page: Page, server: str) -> None:
    page.goto(f"{server}/console/login")
    for attempt in range(4):
        sign_in(page, "anna", f"forkert {attempt}")
        expect(page.get_by_role("alert")).to_have_text("Forkert brugernavn eller adgangskode.")
    assert axe_violations(page) == []
    sign_in(page, "anna", "forkert igen")
    expect(page.get_by_role("alert")).to_contain_text("For mange forkerte forsøg: kontoen er låst til kl.")
    sign_in(page, "anna")
    expect(page.get_by_role("alert")).to_contain_text("kontoen er låst")


@pytest.mark.parametrize("how", ["roster", "staff disable"])
def test_a_disabled_advisor_is_thrown_out_at_the_next_click(
    page: Page, server: str, console_app: Flask, runner: HotlineRunner, how: str
) -> None:
    page.goto(f"{server}/console/login")
    sign_in(page, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Anna Prøve")
    if how == "roster":
        import_roster(
            console_app, ALWAYS_ON_CALL.replace("languages: [da, en]}", "languages: [da, en], active: false}")
        )
    else:
        assert runner.invoke(["staff", "disable", "anna"]).exit_code == 0
    page.get_by_role("link", name="Forside").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ind")
    sign_in(page, "anna")
    expect(page.get_by_role("alert")).to_have_text("Kontoen er spærret. Spørg en leder.")


def test_the_manager_sees_the_accounts_in_english(page: Page, server: str) -> None:
    page.goto(f"{server}/console/login")
    sign_in(page, "carl")
    page.get_by_role("button", name="English").click()
    page.get_by_role("link", name="Accounts").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#accounts")).to_contain_text("Anna Prøve (anna)")
    assert axe_violations(page) == []


def test_sign_in_with_the_municipality_s_identity_provider(
    page: Page, settings_mapping: dict[str, Any], serve: Callable[[Flask], str]
) -> None:
    provider = OidcProvider().start()
    factory = AppFactory(settings_mapping)
    try:
        app = factory(
            {"console": {"oidc": {"metadata_url": provider.metadata_url, "client_id": CLIENT_ID}}},
            HOTLINE_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        )
        import_roster(app, ALWAYS_ON_CALL)
        add_staff(app, "anna@aarhus.dk", advisor_id="anna")
        server = serve(app)
        page.goto(f"{server}/console/login")
        assert axe_violations(page) == []
        page.get_by_role("link", name="Log ind med Aarhus Kommune").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Hej Anna Prøve")
        assert provider.tokens_issued == 1
    finally:
        factory.close()
        provider.stop()


def test_axe_does_find_a_violation(page: Page, server: str) -> None:
    """The check above can fail: a field without a label is reported."""
    page.goto(f"{server}/console/login")
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')")
    assert "label" in [violation["id"] for violation in axe_violations(page)]


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite file is moved away")
def test_the_database_goes_away_under_a_signed_in_advisor_and_comes_back(
    page: Page, server: str, console_app: Flask
) -> None:
    """An operator moves the database file away (to restore a backup) while anna works: every page says the
    database does not answer (and that calls and texts are still answered), the sign-in page too; when the file
    is back, signing in works again without anyone restarting the hotline."""
    page.goto(f"{server}/console/login")
    sign_in(page, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Anna Prøve")
    path = Path(str(console_app.extensions["hotline"].engine.url.database))
    away = path.with_name("away.db")
    path.rename(away)
    try:
        page.goto(f"{server}/console/")
        expect(page.get_by_role("main")).to_contain_text("Databasen svarer ikke lige nu.")
        expect(page.get_by_role("main")).to_contain_text("Opkald og sms'er besvares stadig")
        assert axe_violations(page) == []
        page.context.clear_cookies()  # a colleague about to sign in
        page.goto(f"{server}/console/login")
        expect(page.locator("#database-down")).to_contain_text("Databasen svarer ikke lige nu.")
        assert axe_violations(page) == []
    finally:
        away.rename(path)
    page.goto(f"{server}/console/login")
    sign_in(page, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Anna Prøve")
