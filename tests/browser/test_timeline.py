"""A relative's timeline in real Chromium at a phone's size: search a number, read the call, the texts, the
callback and its note, set the contact person (an audit row), and play a voicemail under the console's CSP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline.db.models import (
    AuditEntry,
    Call,
    CallbackRequest,
    CallRouting,
    Message,
    Recording,
    Relative,
    utcnow,
)
from hotline.services import callback_queue, relatives
from hotline.twilio.rest import TwilioTransport, make_client
from tests.browser.walks import ARTIFACTS, axe_violations, sign_in
from tests.fake_twilio import FakeTwilio
from tests.helpers import (
    ALWAYS_ON_CALL,
    RELATIVE,
    TWILIO_ACCOUNT,
    AppFactory,
    add_staff,
    import_roster,
    register_callback,
)

CALL_SID = "CA" + "5" * 32
RECORDING_SID = "RE" + "5" * 32


def seed(app: Flask) -> None:
    """A call put through to dalia, a question by text, and a callback with a note; a voicemail."""
    runtime = app.extensions["hotline"]
    now = utcnow()
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, RELATIVE)
        relative.language = "da"
        at = now - timedelta(hours=2)
        session.add(
            Call(
                call_sid=CALL_SID,
                direction="inbound",
                from_number=RELATIVE,
                to_number="+4568000000",
                status="completed",
                relative_id=relative.id,
                created_at=at,
                updated_at=at,
                duration_seconds=95,
            )
        )
        session.add(
            CallRouting(
                call_sid=CALL_SID,
                relative_id=relative.id,
                reason="question",
                language="da",
                chain="anna,dalia",
                step=1,
                started_at=at,
                connected_advisor_id="dalia",
                outcome="connected",
            )
        )
        session.add(
            Recording(
                recording_sid=RECORDING_SID,
                call_sid=CALL_SID,
                recording_url="https://api.twilio.com/x",
                duration_seconds=12,
                from_number=RELATIVE,
                source="ivr",
                received_at=at + timedelta(minutes=1),
            )
        )
        session.add(
            Message(
                message_sid="SM" + "5" * 32,
                direction="inbound",
                from_number=RELATIVE,
                to_number="+4568000000",
                body="Kan I ringe efter kl. 17? Min mor er faldet igen.",
                status="received",
                relative_id=relative.id,
                created_at=now - timedelta(hours=1),
                updated_at=now - timedelta(hours=1),
            )
        )
    callback_id = register_callback(runtime, now - timedelta(minutes=30), window="asap", language="da")
    with runtime.sessions.begin() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None
        callback_queue.add_note(session, callback, "bo", "Datteren tager telefonen efter kl. 17", now)


def test_search_a_number_read_the_timeline_and_set_the_contact_person(
    page: Page, server: str, console_app: Flask
) -> None:
    seed(console_app)
    page.goto(f"{server}/console/login")
    sign_in(page, "anna")
    page.get_by_role("link", name="Pårørende").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find en pårørende")
    assert axe_violations(page) == []
    page.get_by_label("Telefonnummer").fill("67 12 34 57")
    page.get_by_role("button", name="Søg").click()
    expect(page.get_by_role("alert")).to_have_text("Ingen pårørende har nummeret +45 67 12 ** **.")
    page.get_by_label("Telefonnummer").fill("67 12 34 56")
    page.get_by_role("button", name="Søg").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pårørende +45 67 12 ** **")  # anna: masked
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Opkald fra den pårørende")
    expect(timeline).to_contain_text("Besvaret af Dalia Prøve")
    expect(timeline).to_contain_text("Kan I ringe efter kl. 17? Min mor er faldet igen.")
    expect(timeline).to_contain_text("Tilbagekald PL-")
    expect(timeline).to_contain_text("Datteren tager telefonen efter kl. 17")
    expect(timeline).to_contain_text("Ingen optagelse i demoen.")
    assert axe_violations(page) == []
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360 px phone"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-timeline-360x740.png"), full_page=True)

    page.get_by_label("Kontaktperson").select_option(label="Anna Prøve")
    page.get_by_role("button", name="Gem kontaktperson").click()
    expect(page.get_by_role("status")).to_have_text("Kontaktpersonen er gemt.")
    expect(page.get_by_label("Kontaktperson")).to_have_value("anna")
    # anna is the contact person now: she sees the number in full.
    expect(page.get_by_role("heading", level=1)).to_have_text("Pårørende +45 67 12 34 56")
    assert axe_violations(page) == []
    with console_app.extensions["hotline"].sessions() as session:
        relative = session.scalars(select(Relative)).one()
        assert relative.contact_person_id == "anna"
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.relative_id == relative.id)))
    assert [(r.actor, r.action, r.subject, r.detail) for r in rows if r.action == "changed"] == [
        ("anna", "changed", "contact_person", "- -> anna")
    ]
    assert [r.detail for r in rows if r.action == "viewed"] == ["number masked", "number shown"]
    assert page.csp == []  # type: ignore[attr-defined]


def test_a_voicemail_plays_from_the_hotline_under_the_csp(
    page: Page, settings_mapping: dict[str, Any], serve: Callable[[Flask], str]
) -> None:
    fake = FakeTwilio().start()
    fake.recordings[RECORDING_SID] = b"ID3\x03\x00" + bytes(2048)
    factory = AppFactory(settings_mapping)
    try:
        app = factory(transport=TwilioTransport(make_client(TWILIO_ACCOUNT, "token", fake.url)))
        import_roster(app, ALWAYS_ON_CALL)
        add_staff(app, "carl", role="manager", advisor_id="carl")
        seed(app)
        server = serve(app)
        page.goto(f"{server}/console/login")
        sign_in(page, "carl")
        page.get_by_role("link", name="Pårørende").click()
        page.get_by_label("Telefonnummer").fill("+45 67 12 34 56")
        page.get_by_role("button", name="Søg").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Pårørende +45 67 12 34 56")  # a manager
        audio = page.locator("audio")
        expect(audio).to_have_count(1)
        source = audio.get_attribute("src")
        assert source is not None and source.startswith("/console/recordings/")
        with page.expect_response(lambda r: "/console/recordings/" in r.url) as answered:
            page.evaluate(
                "() => { const a = document.querySelector('audio'); a.preload = 'auto'; a.load(); }"
            )
        response = answered.value
        assert response.status == 200 and response.headers["content-type"] == "audio/mpeg"
        assert "twilio" not in response.url and fake.url not in response.url
        assert axe_violations(page) == []
        assert page.csp == []  # type: ignore[attr-defined]  # media-src 'self' lets the <audio> load it
        assert [r.path for r in fake.requests if RECORDING_SID in r.path][
            -1
        ] == f"/storage/{RECORDING_SID}.mp3"
    finally:
        factory.close()
        fake.stop()
