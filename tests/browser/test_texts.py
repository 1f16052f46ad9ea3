"""The texts walk in real Chromium at a phone's size: a relative texts (a webhook signed as Twilio signs it), the
thread appears in the inbox, the advisor replies, the send job hands the reply to a fake Twilio on loopback
through the real twilio Client, and a signed delivery status marks it delivered in the thread. axe-core checks
every page against WCAG 2.1 A and AA; a screenshot of the thread is saved in artifacts/."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect

from hotline.db.models import utcnow
from hotline.jobs import outbox as send_loop
from tests.browser.walks import ARTIFACTS, axe_violations, sign_in
from tests.fake_twilio import FakeTwilio
from tests.helpers import (
    HOTLINE,
    RELATIVE,
    TWILIO_ACCOUNT,
    new_sid,
    signer,
)

REPLY = (
    "Hej. Hjemmeplejen kommer i morgen kl. 8. Skriv endelig igen, hvis noget ændrer sig. Venlig hilsen Anna"
)


def test_a_text_is_answered_from_the_phone_and_tracked_to_delivered(
    page: Page, live_console: Flask, fake: FakeTwilio, serve: Callable[[Flask], str]
) -> None:
    server = serve(live_console)
    runtime = live_console.extensions["hotline"]
    twilio = signer(live_console)
    page.goto(f"{server}/console/login")
    sign_in(page, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Anna Prøve")

    # A relative texts the hotline: a webhook signed as Twilio signs it.
    params = {"MessageSid": new_sid("SM"), "AccountSid": "AC" + "0" * 32, "From": RELATIVE, "To": HOTLINE}
    params.update({"Body": "Hvornår kommer hjemmeplejen i morgen?", "NumMedia": "0"})
    assert twilio.post("/twilio/sms", params).status_code == 200

    page.get_by_role("link", name="Sms'er", exact=True).click()
    expect(page.locator("#unanswered")).to_have_text("1 tråd uden svar")
    thread = page.get_by_role("link", name="+45 67 12 ** **")
    expect(thread).to_contain_text("Lovet svar")
    assert axe_violations(page) == []
    thread.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sms'er med +45 67 12 ** **")
    expect(page.locator(".message.relative")).to_contain_text("Hvornår kommer hjemmeplejen i morgen?")
    expect(page.locator(".message.auto")).to_contain_text("En rådgiver svarer dig")
    assert RELATIVE not in page.content()
    # A quick reply fills the box; the advisor writes their own instead, and sees how it will go before sending.
    page.get_by_role("link", name="Ring til os").click()
    expect(page.get_by_label("Dit svar (på dansk)")).to_have_value(
        "Pårørendelinjen: Tak for din besked. Det er lettere at tale om i telefonen. Ring til os på "
        "+45 68 00 00 00, når det passer dig. Vi er her hele døgnet."
    )
    page.get_by_label("Dit svar (på dansk)").fill(REPLY)
    expect(page.locator("#segments")).to_have_text(f"1 sms · GSM-7 · {len(REPLY)} tegn")
    page.get_by_label("Dit svar (på dansk)").fill(REPLY + " ’")
    expect(page.locator("#segments")).to_have_text(f"2 sms'er · UCS-2 · {len(REPLY) + 2} tegn")
    expect(page.locator("#ucs2")).to_contain_text("Tegnet »’«")
    page.get_by_label("Dit svar (på dansk)").fill(REPLY)
    expect(page.locator("#segments")).to_have_text(f"1 sms · GSM-7 · {len(REPLY)} tegn")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send svar").click()

    expect(page.locator("#outcome")).to_have_text("Svaret er lagt i udbakken og sendes nu.")
    expect(page.locator(".message").nth(1)).to_have_class("message auto")  # the receipt, where it was written
    mine = page.locator(".message.advisor")
    expect(mine).to_contain_text(REPLY)
    expect(mine.locator(".delivery")).to_have_text("Venter på at blive sendt")

    # The send job hands it to Twilio (the fake, through the real twilio Client).
    send_loop.send_due(runtime, utcnow())
    sent = [m for m in fake.messages if m["body"] == REPLY]
    assert [(m["to"], m["from"]) for m in sent] == [(RELATIVE, HOTLINE)]
    page.reload()
    expect(mine.locator(".delivery")).to_have_text("Sendt")

    # Twilio reports the delivery (signed); the thread says so.
    status = {"MessageSid": sent[0]["sid"], "MessageStatus": "delivered", "AccountSid": TWILIO_ACCOUNT}
    assert twilio.post("/twilio/sms/status", status).status_code == 204
    page.reload()
    expect(mine.locator(".delivery")).to_have_text("Leveret")
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "console-thread-360x740.png"))
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the thread is {width} px wide on a 360 px phone"

    page.get_by_role("link", name="Sms'er", exact=True).click()
    expect(page.locator("#unanswered")).to_have_text("0 tråde uden svar")
    expect(page.locator("#none-waiting")).to_have_text("Alle sms'er er besvaret.")
    assert page.csp == []  # type: ignore[attr-defined]
