"""Walks through the callback queue in real Chromium at a phone's size: a failed chain puts a callback in the
queue, the advisor presses "Ring mig op" and the fake Twilio is asked to ring the advisor's phone first; two
advisors in two browsers take the same callback and the second is told so; the list refreshes itself. axe-core
checks the pages against WCAG 2.1 A and AA; a screenshot of the queue goes to artifacts/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from hotline.db.models import utcnow
from routing.callbacks import Priority
from tests.browser.walks import ARTIFACTS, PHONE, axe_violations, sign_in
from tests.fake_twilio import FakeTwilio
from tests.helpers import (
    NUMBERS,
    RELATIVE,
    add_staff,
    dial_in,
    register_callback,
)


def open_queue(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/console/queue")
    sign_in(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tilbagekald")


def test_a_failed_chain_then_ring_mig_op_rings_the_advisor_first(
    page: Page, live_console: Flask, fake: FakeTwilio, serve: Callable[[Flask], str]
) -> None:
    server = serve(live_console)
    open_queue(page, server, "anna")
    expect(page.locator("#queue-empty")).to_have_text("Ingen åbne tilbagekald.")
    # A relative calls, asks a question, and nobody on the chain answers: the hotline registers a callback.
    _, _, output = dial_in(live_console, ["1", "2"], advisors=("ring",))
    assert "ringer dig op" in output, output
    page.evaluate("() => htmx.trigger('#queue-list', 'refresh')")  # the poll, without waiting 10 s for it
    card = page.locator("#queue li.card").first
    expect(card).to_contain_text("+45 67 12 ** **")
    expect(card).to_contain_text("Ingen har taget den")
    assert RELATIVE not in page.content()
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-queue-360x740.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the queue is {width} px wide on a 360 px phone"

    card.get_by_role("button", name="Ring mig op").click()
    expect(page.get_by_role("status")).to_contain_text("Din telefon ringer nu.")
    calls = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/Calls.json")]
    assert len(calls) == 1, fake.requests
    assert calls[0].form["To"] == [NUMBERS["anna"]]  # the advisor's mobile first, never the relative
    assert "/twilio/callback/advisor?attempt=" in calls[0].form["Url"][0]
    expect(page.locator("#queue li.card").first).to_contain_text("Taget af dig")
    expect(page.locator("#queue li.card").first).to_contain_text("i gang")

    page.locator("#queue li.card a.case").first.click()
    expect(page.get_by_role("group", name="Hvordan gik opkaldet?")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "console-queue-case-360x740.png"), full_page=True)
    assert page.csp == []  # type: ignore[attr-defined]


@pytest.fixture
def second_page(phone_page: Callable[..., Page]) -> Page:
    """A second phone: another advisor's browser, with its own cookies."""
    return phone_page()


def test_two_advisors_take_the_same_callback_and_one_wins(
    page: Page, second_page: Page, console_app: Flask, server: str
) -> None:
    add_staff(console_app, "dalia")
    runtime = console_app.extensions["hotline"]
    callback_id = register_callback(runtime, utcnow(), priority=Priority.ACUTE, window="asap")
    anna, dalia = page, second_page
    open_queue(anna, server, "anna")
    open_queue(dalia, server, "dalia")
    take = f"#take-{callback_id}"
    expect(anna.locator(take)).to_be_visible()
    expect(dalia.locator(take)).to_be_visible()
    anna.locator(take).click()
    expect(anna.get_by_role("status")).to_have_text(f"Du har taget sag {callback_id}.")
    dalia.locator(take).click()  # her page still showed it free
    expect(dalia.get_by_role("alert")).to_have_text("En anden rådgiver har allerede taget denne sag.")
    expect(dalia.locator(f"#callback-{callback_id}")).to_contain_text("Taget af Anna Prøve")
    expect(dalia.locator(f"#call-{callback_id}")).to_have_count(0)
    assert axe_violations(dalia) == []

    # The list refreshes itself: a new callback shows on anna's page without a reload (htmx polls every 10 s).
    second = register_callback(runtime, utcnow(), window="asap", number="+4567100009")
    expect(anna.locator(f"#callback-{second}")).to_be_visible(timeout=15_000)
    anna.get_by_role("link", name="Mine").click()
    expect(anna.locator(f"#callback-{callback_id}")).to_be_visible()
    expect(anna.locator(f"#callback-{second}")).to_have_count(0)
    assert axe_violations(anna) == []

    # Both press "Tag sagen" at the same moment (neither waits for its page to load): one wins, one is told.
    third = register_callback(runtime, utcnow(), window="asap", number="+4567100008")
    for advisor in (anna, dalia):
        advisor.goto(f"{server}/console/queue")
        expect(advisor.locator(f"#take-{third}")).to_be_visible()
    dalia.locator(f"#take-{third}").click(no_wait_after=True)
    anna.locator(f"#take-{third}").click(no_wait_after=True)
    for advisor in (anna, dalia):
        expect(advisor.locator("#queue-message")).to_be_visible()
    said = sorted(advisor.locator("#queue-message").inner_text() for advisor in (anna, dalia))
    assert said == [f"Du har taget sag {third}.", "En anden rådgiver har allerede taget denne sag."]
    assert anna.csp == [] and dalia.csp == []  # type: ignore[attr-defined]
