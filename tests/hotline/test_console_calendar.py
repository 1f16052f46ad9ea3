"""The coverage calendar's pages through the test client: who may read them, what an advisor and a manager see of
the calendar links, the chain preview agreeing with `hotline oncall --at`, bad input answered in Danish, and a
page that costs the same statements with 3 advisors as with 30 (no statement per advisor or per day)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline.services import links
from tests.helpers import (
    ALWAYS_ON_CALL,
    DAILY_SHIFTS,
    AppFactory,
    HotlineRunner,
    add_staff,
    console_login,
    counted,
    import_roster,
    roster_of,
)

PAGES = ("/console/calendar/", "/console/calendar/preview", "/console/calendar/feeds")

# ALWAYS_ON_CALL with teams, an inactive advisor, and carl (the manager) as an advisor of the roster.
TEAMED = (
    ALWAYS_ON_CALL.replace("advisors:\n", "teams:\n  - {id: nord, name: Team Nord}\nadvisors:\n")
    .replace("languages: [da, en]}", "languages: [da, en], team: nord}")
    .replace("languages: [da]}", "languages: [da], team: nord}")
    .replace("languages: [da, ar]}", "languages: [da, ar], team: nord, active: false}")
)


def text_of(client: FlaskClient, path: str, status: int = 200) -> str:
    answer = client.get(path)
    assert answer.status_code == status, answer.get_data(as_text=True)[:500]
    return html.unescape(answer.get_data(as_text=True))


@pytest.fixture
def staffed(app: Flask) -> Flask:
    import_roster(app, TEAMED)
    add_staff(app, "anna")
    add_staff(app, "carl", role="manager", advisor_id="carl")
    return app


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert console_login(client, username).status_code == 302
    return client


@pytest.mark.parametrize("path", PAGES)
def test_not_signed_in_goes_to_the_sign_in_page(staffed: Flask, path: str) -> None:
    answer = staffed.test_client().get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/console/login")


def test_an_advisor_reads_the_calendar_and_sees_only_their_own_link(staffed: Flask) -> None:
    anna = signed_in(staffed, "anna")
    page = text_of(anna, "/console/calendar/")
    assert 'href="/console/calendar/"' in page  # the nav link "Vagtkalender"
    assert "Vagtkalender" in page
    assert "Anna Prøve" in page and "Bo Prøve" in page and "Carl Prøve" in page  # who is on, by layer
    assert "Primær" in page and "Bagvagt" in page and "Leder" in page

    feeds = text_of(anna, "/console/calendar/feeds")
    with staffed.extensions["hotline"].sessions() as session:
        runtime = staffed.extensions["hotline"]
        own = links.current_feed_url(session, runtime, "advisor", "anna")
        others = [
            links.current_feed_url(session, runtime, "advisor", "bo"),
            links.current_feed_url(session, runtime, "team", "nord"),
            links.current_feed_url(session, runtime, "all", links.ALL_ID),
        ]
    assert own in feeds
    assert len(re.findall(r"\.ics", feeds)) == 1
    for url in others:
        assert url not in feeds


def test_a_manager_sees_every_feed_at_its_current_version(staffed: Flask) -> None:
    runtime = staffed.extensions["hotline"]
    with runtime.sessions.begin() as session:
        links.revoke(session, "advisor", "bo", datetime.now(UTC))  # bo's link is at version 2 now
    carl = signed_in(staffed, "carl")
    feeds = text_of(carl, "/console/calendar/feeds")
    with runtime.sessions() as session:
        expected = {
            (kind, ident): links.current_feed_url(session, runtime, kind, ident)
            for kind, ident in [
                ("advisor", "anna"),
                ("advisor", "bo"),
                ("advisor", "carl"),
                ("team", "nord"),
                ("all", links.ALL_ID),
            ]
        }
        stale_bo = links.feed_url(runtime, "advisor", "bo", 1)
    for url in expected.values():
        assert url in feeds
    assert stale_bo not in feeds  # the revoked version is not shown
    assert len(re.findall(r"\.ics", feeds)) == len(expected)  # dalia is inactive: listed without a link
    assert "Dalia Prøve" in feeds and "inaktiv" in feeds


def test_the_preview_prints_what_hotline_oncall_prints(staffed: Flask, runner: HotlineRunner) -> None:
    anna = signed_in(staffed, "anna")
    page = text_of(anna, "/console/calendar/preview?date=2026-10-25&time=02:30&reason=question&language=ar")
    printed = runner.invoke(
        ["oncall", "--at", "2026-10-25T02:30", "--reason", "question", "--language", "ar"]
    )
    assert printed.exit_code == 0, printed.output
    lines = [line.strip() for line in printed.output.splitlines() if line.strip()]
    shown = re.search(r'<h2 id="chain-heading">(.*?)</h2>', page)
    items = re.findall(r"<li>(.*?)</li>", page.split('id="chain-lines"', 1)[1].split("</ul>", 1)[0])
    assert shown is not None and [shown.group(1), *items] == lines
    assert any("Bo Prøve" in line for line in lines)  # question: primary then backup, no manager
    assert not any("Carl Prøve" in line for line in lines)
    assert "hotline oncall --at 2026-10-25T02:30 --reason question --language ar" in page


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/console/calendar/?date=2026-13-40", "Skriv en dato mellem år 2000 og 2099"),
        ("/console/calendar/?date=9999-12-31", "Skriv en dato mellem år 2000 og 2099"),
        ("/console/calendar/?view=year", "Visningen skal være uge eller måned."),
        ("/console/calendar/preview?date=2026-10-25&time=25:99", "Skriv et klokkeslæt, fx 22:30."),
        ("/console/calendar/preview?date=&time=22:00", "Skriv en dato mellem år 2000 og 2099"),
        ("/console/calendar/preview?date=2026-10-25&time=22:00&reason=x", "Vælg akut eller spørgsmål."),
        ("/console/calendar/preview?date=2026-10-25&time=22:00&language=xx", "Vælg et af sprogene"),
    ],
)
def test_bad_input_is_answered_in_danish(staffed: Flask, path: str, words: str) -> None:
    page = text_of(signed_in(staffed, "anna"), path, status=400)
    assert words in page
    assert "Traceback" not in page


def test_the_spring_gap_time_is_shown_for_the_moment_after(staffed: Flask) -> None:
    page = text_of(signed_in(staffed, "anna"), "/console/calendar/preview?date=2026-03-29&time=02:30")
    assert "Kl. 02:30 findes ikke den dag" in page
    assert "Vagtkæde 2026-03-29 03:00 (CEST)" in page


def test_the_month_marks_the_clock_change_and_the_gap(app: Flask) -> None:
    import_roster(app, DAILY_SHIFTS)  # bo is off the nights into both DST Sundays: gaps 23:00-07:00
    add_staff(app, "mads", role="manager", advisor_id="mads")
    page = text_of(signed_in(app, "mads"), "/console/calendar/?view=month&date=2026-10-12")
    assert "Oktober 2026" in page
    assert "Vintertid: klokken stilles tilbage kl. 03:00 til 02:00" in page
    assert "Ingen på vagt kl. 23:00–07:00" in page  # on the Saturday
    assert "Ingen på vagt kl. 24/10 23:00–07:00" in page  # and on the Sunday it runs into
    assert "2 huller i vagtplanen" not in page and "1 hul i vagtplanen i perioden" in page


def test_the_week_is_the_default_and_pages_on(staffed: Flask) -> None:
    anna = signed_in(staffed, "anna")
    page = text_of(anna, "/console/calendar/?date=2026-12-24")
    assert "Uge 52: 21. dec. – 27. dec. 2026" in page
    assert "Helligdag: Juledag" in page  # ALWAYS_ON_CALL keeps the default rule: the Sunday shifts run
    assert 'href="/console/calendar/?view=week&amp;date=2026-12-14"' in anna.get(
        "/console/calendar/?date=2026-12-24"
    ).get_data(as_text=True)


def test_a_month_costs_the_same_statements_with_3_advisors_as_with_30(
    settings_mapping: dict[str, Any],
) -> None:
    counts = []
    factory = AppFactory(settings_mapping)
    try:
        app = factory()
        add_staff(app, "boss", role="manager", advisor_id=None)
        client = signed_in(app, "boss")
        for advisors in (3, 30):
            import_roster(app, roster_of(advisors))
            text_of(client, "/console/calendar/?view=month&date=2026-10-01")  # parse the new version once
            for path in ("/console/calendar/?view=month&date=2026-10-01", "/console/calendar/feeds"):
                with counted(app.extensions["hotline"].console_engine) as statements:
                    page = text_of(client, path)
                assert f"Rådgiver {advisors - 1}" in page
                counts.append((path, len(statements)))
    finally:
        factory.close()
    assert counts[:2] == counts[2:], counts
    assert counts[0][1] <= 3, counts  # the account (sign-in check) and the roster's version
