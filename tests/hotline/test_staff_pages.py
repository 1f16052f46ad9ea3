"""The staff pages behind the links in staff texts: reached from the text itself, read-only, expiring, checked
against the roster at every request. A handover link texted before the console leads to the console's handover
(tests/hotline/test_console_handover.py has what that page shows)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask

from hotline.jobs import shifts
from hotline.runtime import Runtime
from hotline.services.links import parse_staff_token, staff_link, staff_token
from hotline.staff import pages
from tests.helpers import (
    DAILY_SHIFTS,
    PHONES,
    AppFactory,
    HotlineRunner,
    import_roster,
    texts,
    utc,
)

START = utc(2026, 6, 10, 21, 0)  # bo's night shift starts at 23:00 CEST (the DAILY_SHIFTS roster)
NOTE = 'Ring efter kl. 9 <script>alert("x")</script> \u202eشكرا'


def _path(body: str | None) -> str:
    assert body is not None
    match = re.search(r"http://127\.0\.0\.1:8000(/staff/\S+)$", body)
    assert match, body
    return match.group(1)


def _get(app: Flask, path: str, at: datetime) -> Any:
    with time_machine.travel(at, tick=False):
        return app.test_client().get(path)


@pytest.fixture
def handed_over(app: Flask, runtime: Runtime) -> str:
    """The token link to bo's handover as texts gave it before the console: valid until 12 hours after his
    night shift (23:00-07:00)."""
    return f"/staff/handover/{staff_token(runtime, 'handover', 'bo', START + timedelta(hours=20))}"


def test_an_old_handover_link_leads_to_the_console(app: Flask, handed_over: str) -> None:
    response = _get(app, handed_over, START + timedelta(minutes=3))
    assert (response.status_code, response.headers["Location"]) == (302, "/console/handover")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_handover_link_expires_twelve_hours_after_the_shift(app: Flask, handed_over: str) -> None:
    shift_end = START + timedelta(hours=8)  # bo's night shift: 23:00-07:00
    assert _get(app, handed_over, shift_end + timedelta(hours=11, minutes=59)).status_code == 302
    gone = _get(app, handed_over, shift_end + timedelta(hours=12))
    assert gone.status_code == 404 and "Linket virker ikke længere" in gone.get_data(as_text=True)
    assert gone.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p[:-1] + ("0" if p[-1] != "0" else "1"),  # the mac
        lambda p: p.replace("/bo.", "/anna."),  # another advisor with bo's mac
        lambda p: p.replace("/handover/", "/roster/"),  # another page
        lambda p: re.sub(r"\.([0-9a-f]{8})\.", ".ffffffff.", p),  # a later expiry
        lambda p: "/staff/handover/garbage",
        lambda p: "/staff/handover/..",
    ],
    ids=["mac", "advisor", "page", "expiry", "garbage", "dots"],
)
def test_a_tampered_link_gets_the_same_404(app: Flask, handed_over: str, tamper: Any) -> None:
    response = _get(app, tamper(handed_over), START + timedelta(minutes=3))
    assert response.status_code == 404
    assert "Linket virker ikke længere" in response.get_data(as_text=True)


def test_tokens_round_trip_and_refuse_what_they_should(app: Flask) -> None:
    runtime: Runtime = app.extensions["hotline"]
    expires = datetime(2026, 6, 11, 5, tzinfo=UTC)
    token = staff_token(runtime, "handover", "team.lead", expires)  # an id with a dot still parses
    assert parse_staff_token(runtime, "handover", token, expires - timedelta(seconds=1)) == "team.lead"
    assert parse_staff_token(runtime, "handover", token, expires) is None
    assert parse_staff_token(runtime, "roster", token, expires - timedelta(hours=1)) is None
    with pytest.raises(ValueError, match="must be one of handover, roster"):
        staff_token(runtime, "inbox", "bo", expires)


def test_a_municipal_staff_system_gets_plain_links(make_app: AppFactory) -> None:
    runtime = make_app({"sms": {"staff_url": "https://intra.aarhus.dk/paaroerende/"}}).extensions["hotline"]
    link = staff_link(runtime, "handover", "bo", START)
    assert link == "https://intra.aarhus.dk/paaroerende/handover"


def test_the_roster_link_shows_the_gaps_and_who_is_on_call(app: Flask, runtime: Runtime) -> None:
    night = utc(2026, 3, 28, 22, 0)  # bo is off sick on the night into the March DST Sunday
    shifts.shift_starts(runtime, night)
    (alert,) = texts(runtime, "roster_gap")
    assert alert.to_number == PHONES["mads"]
    path = _path(alert.body)
    assert path.startswith("/staff/roster/mads.")
    response = _get(app, path, night + timedelta(minutes=10))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Huller i vagtplanen" in page
    assert "i nat mellem 23.10 og 7" in page  # the gap as it stands now: from now until 07:00 CEST
    assert "29/03 07:00" in page
    assert "Mads Prøve" in page and "leder" in page  # the manager layer is on call
    assert response.headers["Cache-Control"] == "no-store"
    assert _get(app, path, night + timedelta(days=8, minutes=1)).status_code == 404


def test_a_database_outage_gets_a_plain_503_page(
    app: Flask, handed_over: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("the database is down"))

    monkeypatch.setattr(pages, "check_staff", down)
    response = _get(app, handed_over, START + timedelta(minutes=3))
    assert response.status_code == 503
    assert "Siden kan ikke vises lige nu" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


# --- links obey the roster: checked at every request, revocable per advisor --------------------------------


def _roster_without(advisor: str) -> str:
    """DAILY_SHIFTS with `advisor` gone: their line in `advisors:` and their shifts and overrides."""
    return "\n".join(line for line in DAILY_SHIFTS.splitlines() if f" {advisor}," not in line) + "\n"


def _deactivated(advisor: str) -> str:
    name = f"{{id: {advisor}, "
    assert name in DAILY_SHIFTS
    return DAILY_SHIFTS.replace(name, f"{{id: {advisor}, active: false, ")


@pytest.mark.parametrize("roster", [_deactivated, _roster_without], ids=["active-false", "removed"])
def test_a_deactivated_or_removed_advisors_handover_link_stops_at_once(
    app: Flask, runtime: Runtime, handed_over: str, roster: Any, caplog: pytest.LogCaptureFixture
) -> None:
    at = START + timedelta(minutes=3)
    assert _get(app, handed_over, at).status_code == 302
    import_roster(app, roster("bo"))
    response = _get(app, handed_over, at + timedelta(minutes=1))
    assert response.status_code == 404
    assert "Linket virker ikke længere" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert refusals  # logged, without whose link or the link itself
    token = handed_over.rsplit("/", 1)[1]
    for record in refusals:
        assert token not in str(record.__dict__) and "bo" not in record.getMessage()
    import_roster(app)  # bo back in the roster: the old link stays dead; a new shift brings a new link
    assert _get(app, handed_over, at + timedelta(minutes=2)).status_code == 404


@pytest.mark.parametrize("roster", [_deactivated, _roster_without], ids=["active-false", "removed"])
def test_a_deactivated_or_removed_managers_roster_link_stops_at_once(
    app: Flask, runtime: Runtime, roster: Any
) -> None:
    night = utc(2026, 3, 28, 22, 0)  # bo is off sick: the manager gets a roster-gap text
    shifts.shift_starts(runtime, night)
    (alert,) = texts(runtime, "roster_gap")
    path = _path(alert.body)
    assert _get(app, path, night + timedelta(minutes=5)).status_code == 200
    text = roster("mads")
    import_roster(app, text)
    gone = _get(app, path, night + timedelta(minutes=6))
    assert gone.status_code == 404 and "Linket virker ikke længere" in gone.get_data(as_text=True)


def test_revoking_an_advisors_links_retires_theirs_only(
    app: Flask, runtime: Runtime, handed_over: str, runner: HotlineRunner
) -> None:
    night = utc(2026, 3, 28, 22, 0)
    shifts.shift_starts(runtime, night)
    (alert,) = texts(runtime, "roster_gap")
    roster_link = _path(alert.body)
    result = runner.invoke(["roster", "revoke-feed", "bo"])
    assert result.exit_code == 0, result.output
    at = START + timedelta(minutes=3)
    assert _get(app, handed_over, at).status_code == 404  # bo's link in the text already sent
    assert _get(app, roster_link, night + timedelta(minutes=5)).status_code == 200  # mads's is untouched


@pytest.mark.parametrize(
    "path",
    [
        "/staff/handover/bo%00x.ffffffff." + "0" * 32,
        "/staff/roster/" + "b" * 300 + ".ffffffff." + "0" * 32,
        "/staff/handover/BO%C3%A9.ffffffff." + "0" * 32,
        "/calendar/advisor-bo%00x-" + "0" * 32 + ".ics",
        "/calendar/team-" + "n" * 300 + "-" + "0" * 32 + ".ics",
    ],
    ids=["nul", "long", "non-slug", "feed-nul", "feed-long"],
)
def test_a_forged_id_is_refused_before_the_database_is_asked(app: Flask, runtime: Runtime, path: str) -> None:
    """PostgreSQL refuses a NUL byte in a query: such an id must be a plain 404, not a 503 or a 500."""
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert "Linket virker ikke længere" in response.get_data(as_text=True)
