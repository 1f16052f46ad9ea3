"""The roster editor walked in real Chromium at a phone's size: a manager marks the night advisor sick for
tonight, sees the gap warning naming the hours, adds cover, previews and saves; `hotline oncall --at` and the
cover advisor's calendar feed agree, and so do the coverage calendar and its chain preview; an advisor asks to swap a shift and the manager approves it; undo makes the
earlier version current again and the on-call answer goes back; the audit log has a row for each step. axe-core
checks every page visited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import icalendar
import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline.db.models import AuditEntry, RosterVersion, utcnow
from hotline.services import links
from routing.roster_warnings import span_words
from routing.wallclock import COPENHAGEN, UTC, local_date
from tests.browser.walks import ARTIFACTS, PHONE, axe_violations, sign_in
from tests.helpers import DAILY_SHIFTS, HotlineRunner, add_staff, import_roster

SCREENSHOT = ARTIFACTS / "roster-preview-360x740.png"  # copied to docs/screenshots/roster-preview.png


@pytest.fixture
def roster_app(app: Flask) -> Flask:
    """DAILY_SHIFTS (anna 7-15, dalia 15-23, bo 23-7 in primary, no backup; mads the manager) with accounts."""
    import_roster(app, DAILY_SHIFTS)
    add_staff(app, "mads", role="manager", advisor_id="mads")
    add_staff(app, "bo")
    return app


@pytest.fixture
def advisor_page(phone_page: Callable[..., Page]) -> Page:
    """The advisor's phone, beside the manager's `page`."""
    return phone_page()


def checked(page: Page) -> None:
    assert axe_violations(page) == [], page.url
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 360 px phone"


def oncall(runner: HotlineRunner, at: datetime) -> str:
    result = runner.invoke(["oncall", "--at", at.astimezone(COPENHAGEN).strftime("%Y-%m-%dT%H:%M")])
    assert result.exit_code == 0, result.output
    return result.output


def local_at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=COPENHAGEN)


def test_sick_cover_swap_and_undo(
    page: Page,
    advisor_page: Page,
    roster_app: Flask,
    serve: Callable[[Flask], str],
    runner: HotlineRunner,
) -> None:
    server = serve(roster_app)
    now = utcnow()
    today = local_date(now)
    # Tonight: bo's night from 23:00; after 22:00 the walk takes tomorrow's night, so the whole night lies ahead.
    night = today if now.astimezone(COPENHAGEN).hour < 22 else today + timedelta(days=1)
    start, end = local_at(night, 23), local_at(night + timedelta(days=1), 7)
    assert "Bo Prøve" in oncall(runner, start)

    # The manager marks bo sick for tonight.
    page.goto(f"{server}/console/roster/")
    sign_in(page, "mads")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vagtplan")
    checked(page)
    page.get_by_role("link", name="Sygdom, afløsning eller ekstra vagt").click()
    checked(page)
    page.get_by_label("Syg eller fri").check()
    page.get_by_label("Hvem", exact=True).select_option("bo")
    page.locator("#from_date").fill(night.isoformat())
    page.locator("#from_time").fill("23:00")
    page.locator("#to_date").fill((night + timedelta(days=1)).isoformat())
    page.locator("#to_time").fill("07:00")
    page.locator("#reason").fill("syg")
    page.get_by_role("button", name="Se ændringerne").click()

    # The preview warns of the gap, naming the hours in Copenhagen time.
    expect(page.get_by_role("heading", level=1)).to_have_text("Se ændringerne, før du gemmer")
    hours = span_words(start, end, "da")
    expect(page.locator("#warnings")).to_contain_text(f"Hul i vagtplanen: ingen har vagt {hours}.")
    expect(page.locator(".changes li.disappears").first).to_contain_text("Bo Prøve")
    checked(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Cover on top of the sick night: anna works bo's shift; the gap is gone; save both.
    page.get_by_role("button", name="Tilføj en afløser eller en anden ændring").click()
    expect(page.locator("#on-top")).to_be_visible()
    checked(page)
    page.get_by_label("Hvem", exact=True).select_option("anna")
    page.get_by_label("Dækker for").select_option("bo")
    page.locator("#from_date").fill(night.isoformat())
    page.locator("#from_time").fill("23:00")
    page.locator("#to_date").fill((night + timedelta(days=1)).isoformat())
    page.locator("#to_time").fill("07:00")
    page.get_by_role("button", name="Se ændringerne").click()
    expect(page.locator("#warnings")).to_have_count(0)
    expect(page.locator(".changes li.appears").first).to_contain_text("Anna Prøve")
    checked(page)
    page.get_by_role("button", name="Gem vagtplanen").click()
    expect(page.locator("#saved")).to_have_text("Vagtplanen er gemt som version 2.")
    checked(page)

    tonight = oncall(runner, start)
    assert "Anna Prøve" in tonight and "Bo Prøve" not in tonight
    with roster_app.extensions["hotline"].sessions() as db:
        url = links.current_feed_url(db, roster_app.extensions["hotline"], "advisor", "anna")
    feed = roster_app.test_client().get(url[url.index("/calendar/") :])
    assert feed.status_code == 200
    covers = [
        e
        for e in icalendar.Calendar.from_ical(feed.data).walk("VEVENT")
        if e.decoded("dtstart").astimezone(UTC) == start.astimezone(UTC)
    ]
    assert len(covers) == 1 and "Dækker for bo" in str(covers[0].get("description"))
    assert covers[0].decoded("dtend").astimezone(UTC) == end.astimezone(UTC)

    # The coverage calendar says the same: anna covers bo tonight, no gap; its chain preview is the command's.
    page.goto(f"{server}/console/calendar/?date={night.isoformat()}")
    day = page.locator(f"#day-{night.isoformat()}")
    expect(day).to_contain_text("Anna Prøve 23:00–07:00")
    expect(day).to_contain_text("dækker for Bo Prøve")
    expect(day.locator(".gap")).to_have_count(0)
    checked(page)
    page.goto(f"{server}/console/calendar/preview?date={night.isoformat()}&time=23:30")
    shown = [page.locator("#chain-heading").inner_text(), *page.locator("#chain-lines li").all_inner_texts()]
    printed = oncall(runner, local_at(night, 23) + timedelta(minutes=30))
    assert shown == [line.strip() for line in printed.splitlines() if line.strip()]

    # bo asks to swap his next night with dalia.
    advisor_page.goto(f"{server}/console/roster/requests/")
    sign_in(advisor_page, "bo")
    expect(advisor_page.get_by_role("heading", level=1)).to_have_text("Vagtbytter")
    checked(advisor_page)
    option = advisor_page.locator("#my_shift option").nth(1)
    _, _, shift_start, _ = str(option.get_attribute("value")).split("|")
    swapped_at = datetime.fromtimestamp(int(shift_start), UTC) + timedelta(hours=1)
    assert swapped_at > end  # tonight is not offered: he is off sick
    assert "Bo Prøve" in oncall(runner, swapped_at)
    advisor_page.get_by_label("En kollega tager min vagt").check()
    advisor_page.locator("#my_shift").select_option(index=1)
    advisor_page.get_by_label("Kollega der tager min vagt").select_option("dalia")
    advisor_page.get_by_role("button", name="Send anmodningen").click()
    expect(advisor_page.locator("#created")).to_be_visible()
    expect(advisor_page.locator("#own li").first).to_contain_text("venter")
    checked(advisor_page)

    # The manager approves it: a new version where dalia works bo's night.
    page.goto(f"{server}/console/roster/requests/")
    checked(page)
    page.locator("#waiting a").first.click()
    expect(page.locator("#request-summary")).to_contain_text("Dalia Prøve tager Bo Prøves vagt (bytte)")
    checked(page)
    page.get_by_role("button", name="Godkend og gem vagtplanen").click()
    expect(page.locator("#waiting")).to_contain_text("Ingen anmodninger venter.")
    checked(page)
    assert "Dalia Prøve" in oncall(runner, swapped_at) and "Bo Prøve" not in oncall(runner, swapped_at)
    advisor_page.reload()
    expect(advisor_page.locator("#own li").first).to_contain_text("godkendt")

    # Undo: version 2 (before the swap) is made current again, as version 4.
    page.goto(f"{server}/console/roster/versions/")
    checked(page)
    page.locator("#restore-2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Se ændringerne, før du gemmer")
    checked(page)
    page.get_by_role("button", name="Gem vagtplanen").click()
    expect(page.locator("#saved")).to_have_text("Vagtplanen er gemt som version 4.")
    assert "Bo Prøve" in oncall(runner, swapped_at)
    assert "Anna Prøve" in oncall(runner, start)  # the cover of version 2 is back with it

    with roster_app.extensions["hotline"].sessions() as db:
        versions = db.scalars(select(RosterVersion).order_by(RosterVersion.id)).all()
        assert [v.imported_by for v in versions] == ["test", "mads", "mads", "mads"]
        assert versions[3].content == versions[1].content
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        changed = [(r.actor, r.subject, r.detail) for r in rows if r.action == "roster_changed"]
        assert changed == [
            ("mads", "2", "advisors +0 ~0 -0; shifts +0 -0; overrides +2 -0"),
            ("mads", "3", "request 1 approved: advisors +0 ~0 -0; shifts +0 -0; overrides +1 -0"),
            ("mads", "4", "restore 2: advisors +0 ~0 -0; shifts +0 -0; overrides +0 -1"),
        ]
        asked = [(r.actor, r.subject, r.detail) for r in rows if r.action == "changed"]
        assert asked == [("bo", "roster_request:1", "requested: swap")]
    assert page.csp == []  # type: ignore[attr-defined]
