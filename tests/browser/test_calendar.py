"""The coverage calendar in real Chromium: a manager opens the week with a known cover (imported as a roster file
through services.rosters.import_roster), sees who works that night and the gap of another night in red with its
hours, and the chain preview for an instant in that night names the same advisor as `hotline oncall --at` run
in-process and as the iCal feed behind the signed URL the links page shows. axe-core on the week, the month, the
preview and the links page; on a 390 x 844 phone none of them scrolls sideways, nor the week at 320 px (a 640 px
window at 200% zoom)."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from flask import Flask
from playwright.sync_api import Page, ViewportSize, expect

from routing.wallclock import COPENHAGEN
from tests.browser.walks import ARTIFACTS, axe_violations, sign_in
from tests.helpers import HotlineRunner, add_staff, import_roster

LARGE_PHONE: ViewportSize = {"width": 390, "height": 844}

ROSTER = """
version: 1
holidays: {{use: normal}}
advisors:
  - {{id: dag, name: Dagny Prøve, phone: "+45 68 40 00 01", languages: [da]}}
  - {{id: nat, name: Natasja Prøve, phone: "+45 68 40 00 02", languages: [da]}}
  - {{id: vik, name: Viktor Prøve, phone: "+45 68 40 00 03", languages: [da, en]}}
  - {{id: chef, name: Chef Prøve, phone: "+45 68 40 00 04", languages: [da]}}
shifts:
  primary:
    - {{advisor: dag, days: daily, start: "07:00", end: "22:00"}}
    - {{advisor: nat, days: daily, start: "22:00", end: "07:00"}}
  manager:
    - {{advisor: chef, days: daily, start: "07:00", end: "07:00"}}
overrides:
  - {{replace: nat, with: vik, from: "{cover} 22:00", to: "{cover_end} 07:00", reason: syg}}
  - {{off: nat, from: "{gap} 22:00", to: "{gap_end} 07:00", reason: syg}}
"""


def fits(page: Page, what: str) -> None:
    assert axe_violations(page) == [], what
    width = page.evaluate("() => document.documentElement.scrollWidth")
    inner = page.evaluate("() => window.innerWidth")
    assert width <= inner, f"{what} is {width} px wide on a {inner} px phone"


def test_the_calendar_the_preview_the_command_and_the_feed_agree(
    phone_page: Callable[..., Page], app: Flask, serve: Callable[[Flask], str], runner: HotlineRunner
) -> None:
    # Next week's Monday night is covered by vik for nat; Tuesday night nat is off and nobody covers: a gap.
    today = datetime.now(COPENHAGEN).date()
    cover = today - timedelta(days=today.weekday()) + timedelta(days=7)
    gap = cover + timedelta(days=1)
    import_roster(
        app,
        ROSTER.format(
            cover=cover, cover_end=cover + timedelta(days=1), gap=gap, gap_end=gap + timedelta(days=1)
        ),
    )
    add_staff(app, "chef", role="manager", advisor_id="chef")
    server = serve(app)
    page = phone_page(viewport=LARGE_PHONE)

    page.goto(f"{server}/console/calendar/")
    sign_in(page, "chef")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vagtkalender")
    expect(page.locator(f"#day-{today.isoformat()}")).to_contain_text("i dag")  # this week by default
    fits(page, "the week")

    # The date picker jumps to the week of the cover.
    page.get_by_label("Gå til dato").fill(cover.isoformat())
    page.get_by_role("button", name="Vis", exact=True).click()
    night = page.locator(f"#day-{cover.isoformat()}")
    expect(night).to_contain_text("Viktor Prøve 22:00–07:00")
    expect(night).to_contain_text("dækker for Natasja Prøve")
    expect(night.locator(".slot:not(.carried) .who", has_text="Natasja Prøve")).to_have_count(0)
    hole = page.locator(f"#day-{gap.isoformat()} .gap")
    expect(hole).to_have_text("Ingen på vagt kl. 22:00–07:00")
    assert hole.evaluate("e => getComputedStyle(e).color") == "rgb(160, 0, 0)"  # --problem: red
    expect(page.locator("#gap-summary")).to_contain_text("1 hul i vagtplanen")
    fits(page, "the week of the cover")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-calendar-week-390x844.png"), full_page=True)

    page.get_by_role("link", name="Måned").click()
    expect(page.locator(f"#day-{cover.isoformat()}")).to_contain_text("Viktor Prøve")
    fits(page, "the month")

    # Clicking the cover in the week pre-fills the chain preview for that night.
    page.get_by_role("link", name="Uge").click()
    page.locator(f"#day-{cover.isoformat()} .slot", has_text="Viktor Prøve").get_by_role("link").click()
    expect(page.get_by_label("Dato")).to_have_value(cover.isoformat())
    expect(page.get_by_label("Klokkeslæt (dansk tid)")).to_have_value("22:00")
    page.get_by_label("Klokkeslæt (dansk tid)").fill("23:30")
    page.get_by_role("button", name="Vis vagtkæden").click()
    shown = [page.locator("#chain-heading").inner_text(), *page.locator("#chain-lines li").all_inner_texts()]
    printed = runner.invoke(["oncall", "--at", f"{cover.isoformat()}T23:30"])
    assert printed.exit_code == 0, printed.output
    assert shown == [line.strip() for line in printed.output.splitlines() if line.strip()]
    assert re.match(r"1\. Viktor Prøve \(vik, ", shown[1]), shown
    assert not any("Natasja" in line for line in shown)
    fits(page, "the preview")

    # The links page gives the whole hotline's feed; its events for that night say the same.
    page.get_by_role("link", name="Kalenderlinks").click()
    url = page.get_by_label("Kalenderlink for Hele linjen").input_value()
    assert page.get_by_label("Kalenderlink for Viktor Prøve (vik)").input_value().endswith(".ics")
    fits(page, "the links page")
    with urllib.request.urlopen(server + urlsplit(url).path, timeout=10) as answer:
        calendar = icalendar.Calendar.from_ical(answer.read())
    start = datetime.combine(cover, datetime.min.time().replace(hour=22), COPENHAGEN)
    primaries = {
        str(event["X-PAAROERENDELINJEN-ADVISOR"])
        for event in calendar.walk("VEVENT")
        if event.decoded("DTSTART") == start and str(event["X-PAAROERENDELINJEN-LAYER"]) == "primary"
    }
    assert primaries == {"vik"}

    # 200% zoom on a 640 px window is a 320 px page: the week still fits.
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(f"{server}/console/calendar/?date={cover.isoformat()}")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 320, f"the week is {width} px wide at 200% zoom"
    assert page.csp == []  # type: ignore[attr-defined]
