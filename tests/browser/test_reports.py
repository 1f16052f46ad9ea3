"""The managers' reports in real Chromium at a phone's size: the headline "kept in window" on the dashboard equals
the count the test makes from the callbacks it built, the list behind it shows those callbacks, and its CSV
downloads, parses and matches; axe-core finds no WCAG 2.1 A/AA violation on either page, and the CSP none."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline.db.models import AuditEntry, utcnow
from hotline.services import reports
from hotline.services.reports import Drill
from routing.report_periods import Period
from routing.wallclock import local_date
from tests.browser.walks import ARTIFACTS, axe_violations, sign_in
from tests.report_rows import Rows


def seed(app: Flask) -> tuple[Period, list[tuple[int, bool]]]:
    """Callbacks whose windows ended three days ago: reached inside, after, never, and still open; the period of
    the last 30 days and (relative id, kept) for each callback the headline counts."""
    now = utcnow()
    start, end = now - timedelta(days=3, hours=4), now - timedelta(days=3)
    cases = [  # (state, reached this long after the window's start)
        ("reached", timedelta(hours=1)),
        ("reached", timedelta(hours=2)),
        ("reached", timedelta(hours=6)),  # after the window
        ("not_reached", None),
        ("scheduled", None),  # still open after its window
    ]
    counted = []
    with app.extensions["hotline"].sessions.begin() as session:
        rows = Rows(session)
        for i, (state, after) in enumerate(cases):
            rows.callback((start, end), state, reached_at=start + after if after else None, who=i)
            kept = state == "reached" and after is not None and start + after <= end
            counted.append((rows.relative(i), kept))
    today = local_date(now)
    return Period(today - timedelta(days=29), today), counted


def test_a_manager_reads_the_headline_drills_down_and_downloads_the_csv(
    page: Page, console_app: Flask, serve: Callable[[Flask], str]
) -> None:
    period, counted = seed(console_app)
    kept = sorted(rid for rid, ok in counted if ok)
    server = serve(console_app)
    page.goto(f"{server}/console/reports?from={period.first}&to={period.last}")
    sign_in(page, "carl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapporter")
    expect(page.locator("#kept-count")).to_contain_text(f"{len(kept)} af {len(counted)} tilbagekald")
    expect(page.locator("#kept-share")).to_have_text(
        f"{100 * len(kept) / len(counted):.1f}".replace(".", ",")
    )
    assert axe_violations(page) == []
    assert page.csp == []  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-reports-360x740.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360

    page.locator("#link-callbacks_kept").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tilbagekald holdt inden for tidsrummet")
    rows = page.locator("#rows tbody tr")
    expect(rows).to_have_count(len(kept))
    assert axe_violations(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360

    with page.expect_download() as caught:
        page.locator("#list-csv").click()
    text = Path(caught.value.path()).read_text(encoding="utf-8-sig")
    header, *lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert header[-1] == "Pårørende"
    assert sorted(int(line[-1]) for line in lines) == kept
    with console_app.extensions["hotline"].sessions() as session:
        _, listed = reports.drill_page(session, Drill.CALLBACKS_KEPT, period, utcnow())
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject == "report:callbacks_kept")
        )
        assert list(actions) == ["viewed", "exported"]
    assert [line[3] for line in lines] == [row.details[0] for row in listed]

    # The timeline link of the first row opens that relative's timeline.
    page.locator("#rows tbody tr").first.get_by_role("link", name="Tidslinje").click()
    expect(page).to_have_url(f"{server}/console/relatives/{listed[0].relative_id}")
