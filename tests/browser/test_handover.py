"""The handover in real Chromium at a phone's size: the link in the handover text, signing in, the handover
page, marking it read; and a token link texted before the console, which leads to the same page."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline.db.models import CallbackRequest, HandoverRead, utcnow
from hotline.jobs import shifts
from hotline.runtime import Runtime
from hotline.services import callback_queue
from hotline.services.links import staff_token
from routing.callbacks import Priority
from routing.wallclock import COPENHAGEN
from tests.browser.walks import ARTIFACTS, axe_violations, sign_in
from tests.helpers import NUMBERS, register_callback, texts


def last_shift_start() -> datetime:
    """The newest 07:00 in Copenhagen: when the ALWAYS_ON_CALL roster's 24-hour shifts began."""
    now = utcnow().astimezone(COPENHAGEN)
    start = datetime.combine(now.date(), time(7), tzinfo=COPENHAGEN)
    return (
        start
        if start <= now
        else datetime.combine(now.date() - timedelta(days=1), time(7), tzinfo=COPENHAGEN)
    )


def hand_over(runtime: Runtime) -> str:
    """An acute callback and a question with a note, then anna's shift start: the link in her handover text."""
    start = last_shift_start()
    register_callback(runtime, utcnow() - timedelta(minutes=20), window="asap", priority=Priority.ACUTE)
    question = register_callback(
        runtime, utcnow() - timedelta(minutes=10), number="+4567100088", language="da"
    )
    with runtime.sessions.begin() as session:
        callback = session.get(CallbackRequest, question)
        assert callback is not None
        callback_queue.add_note(session, callback, "bo", "Ring efter kl. 9", utcnow())
    shifts.shift_starts(runtime, start + timedelta(minutes=1))
    (text,) = (t for t in texts(runtime, "handover") if t.to_number == NUMBERS["anna"])
    assert text.body is not None
    found = re.search(r"https?://[^/\s]+(/\S+)$", text.body)
    assert found, text.body
    return found.group(1)


def test_the_handover_text_s_link_to_the_page_marked_read(
    page: Page, server: str, console_app: Flask
) -> None:
    runtime: Runtime = console_app.extensions["hotline"]
    path = hand_over(runtime)
    assert path == "/console/handover"
    page.goto(f"{server}{path}")
    expect(page).to_have_url(f"{server}/console/login?next=/console/handover")
    expect(page.get_by_role("status")).to_be_visible()  # "log in to see the page"
    sign_in(page, "anna")
    expect(page).to_have_url(f"{server}/console/handover")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overlevering til Anna Prøve")
    expect(page.locator("#summary")).to_contain_text("2 åbne sager, heraf 1 akut, og 1 note.")
    expect(page.locator("#cases")).to_contain_text("Ring efter kl. 9")
    assert axe_violations(page) == []
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360 px phone"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-handover-360x740.png"), full_page=True)
    page.get_by_role("button", name="Markér som læst").click()
    expect(page.locator("#read")).to_contain_text("Læst kl.")
    expect(page.get_by_role("button", name="Markér som læst")).to_have_count(0)
    assert axe_violations(page) == []
    with runtime.sessions() as session:
        (read,) = session.scalars(select(HandoverRead))
    assert read.advisor_id == "anna" and read.shift_start == last_shift_start()
    # A case opens the relative's timeline.
    page.locator("#cases a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pårørende")
    assert page.csp == []  # type: ignore[attr-defined]


def test_a_token_link_from_before_the_console_leads_to_the_handover(
    page: Page, server: str, console_app: Flask
) -> None:
    runtime: Runtime = console_app.extensions["hotline"]
    token = staff_token(runtime, "handover", "anna", utcnow() + timedelta(hours=12))
    page.goto(f"{server}/staff/handover/{token}")
    expect(page).to_have_url(f"{server}/console/login?next=/console/handover")
    sign_in(page, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overlevering til Anna Prøve")
    page.goto(f"{server}/staff/handover/{token[:-1]}{'0' if token[-1] != '0' else '1'}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Linket virker ikke længere")
