"""Every console page a manager can open, checked by axe-core for WCAG 2.1 A/AA in real Chromium at a phone's
size (issue 11: "0 violations on every manager page"), and the data-protection officer's pages too.

The pages are taken from the app's URL map, not from a list kept by hand: a GET route under /console/ must be
either visited here (with its arguments in `ARGUMENTS`) or named in `NOT_PAGES` with the reason, so a page added
later fails this test until it is checked. Every page must also fit a 360 px screen without scrolling sideways.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page

from hotline.db.models import utcnow
from hotline.services import roster_requests
from hotline.services.reports import Drill
from routing.roster import Layer
from routing.roster_swaps import OfferedShift, RequestKind
from tests.browser.walks import PHONE, axe_violations, sign_in
from tests.helpers import DAILY_SHIFTS, RELATIVE, add_staff, import_roster
from tests.subjects import seed_subject

# GET routes that are not pages to read: downloads, fragments htmx swaps into a page, the sign-in flow.
NOT_PAGES = {
    "console.static": "static files",
    "console.auth.login": "the sign-in page, checked in test_console_walks.py before anyone is signed in",
    "console.oidc.start": "a redirect to the identity provider",
    "console.oidc.callback": "the identity provider's way back",
    "console.audit.export": "a CSV/JSON download",
    "console.reports.figures_csv": "a CSV download",
    "console.reports.drill_csv": "a CSV download",
    "console.relatives.recording": "a voicemail's sound",
    "console.queue.rows": "the queue's list, an htmx fragment of /console/queue (checked there)",
    "console.home.waiting": "the first page's counts, an htmx fragment of /console/ (checked there)",
}


@pytest.fixture
def phone(phone_page: Callable[..., Page]) -> Page:
    return phone_page()


def _urls(app: Flask, values: dict[str, dict[str, object]]) -> dict[str, list[str]]:
    """Each console GET endpoint's URLs to visit; fails on an endpoint neither visited nor in NOT_PAGES."""
    urls: dict[str, list[str]] = {}
    unknown = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/console") or "GET" not in (rule.methods or ()):
                continue
            if rule.endpoint in NOT_PAGES:
                continue
            if rule.arguments and rule.endpoint not in values:
                unknown.append(rule.rule)
                continue
            arguments = values.get(rule.endpoint, {}) if rule.arguments else {}
            built = app.url_map.bind("localhost").build(rule.endpoint, arguments)
            urls.setdefault(rule.endpoint, []).append(built)
    assert not unknown, f"console pages this test does not know how to open: {unknown}; add them to ARGUMENTS"
    return urls


def test_every_manager_page_passes_axe(app: Flask, phone: Page, serve: Callable[[Flask], str]) -> None:
    import_roster(app, DAILY_SHIFTS)
    add_staff(app, "mads", role="manager", advisor_id="mads")
    bo = add_staff(app, "bo")
    add_staff(app, "dorte", role="dpo")
    runtime = app.extensions["hotline"]
    now = utcnow()
    seeded = seed_subject(runtime, RELATIVE, 1, now)
    with runtime.sessions.begin() as session:
        start = now + timedelta(days=2)
        swap = roster_requests.create(
            session,
            kind=RequestKind.SWAP,
            account_id=bo,
            shift=OfferedShift("bo", Layer.PRIMARY, start, start + timedelta(hours=8)),
            cover_advisor_id="anna",
            reason="tandlæge",
        ).id
    values: dict[str, dict[str, object]] = {
        "console.gdpr.show": {"relative_id": seeded.relative_id},
        "console.gdpr.erase": {"relative_id": seeded.relative_id},
        "console.queue.case": {"callback_id": seeded.open_callback},
        "console.relatives.show": {"relative_id": seeded.relative_id},
        "console.texts.thread": {"relative_id": seeded.relative_id},
        "console.reports.drill": {"name": Drill.CALLS.value},
        "console.roster.advisor": {"advisor_id": "anna"},
        "console.roster_requests.show": {"request_id": swap},
    }
    urls = _urls(app, values)
    # The drill-downs share one template; three of them with different columns.
    drill = app.url_map.bind("localhost").build
    urls["console.reports.drill"] += [
        drill("console.reports.drill", {"name": name.value})
        for name in (Drill.CALLBACKS_KEPT, Drill.TEXTS_LATE)
    ]
    server = serve(app)

    phone.goto(f"{server}/console/login")
    sign_in(phone, "mads")
    problems = {}
    for _endpoint, paths in sorted(urls.items()):
        for path in paths:
            answer = phone.goto(server + path)
            assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
            found = axe_violations(phone)
            width = phone.evaluate("() => document.documentElement.scrollWidth")
            if found or width > PHONE["width"]:
                problems[path] = {"axe": found, "width": width}
    assert problems == {}

    # The data-protection officer's own pages (the first page differs for them).
    phone.locator("#sign-out").click()
    phone.goto(f"{server}/console/login")
    sign_in(phone, "dorte")
    for path in ("/console/", "/console/audit/", "/console/retention/"):
        answer = phone.goto(server + path)
        assert answer is not None and answer.status == 200, path
        assert axe_violations(phone) == [], path
