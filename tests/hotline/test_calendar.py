"""The roster as iCalendar feeds at signed URLs: what a calendar app subscribing to them would see."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline.app import create_app
from hotline.runtime import Runtime
from hotline.services import rosters
from hotline.services.links import feed_url
from routing.oncall import oncall_at
from routing.roster import Roster
from routing.roster_file import load_roster
from tests.helpers import HotlineRunner


def _local(day: date, hhmm: str) -> str:
    return f"{day.isoformat()} {hhmm}"


# Dated overrides near today, so the feed (30 days back to 90 ahead) shows them being applied. Worded when a test
# runs, not at import, so "today" is the test's today (HOTLINE_TEST_NOW moves it).
def roster_text() -> str:
    today = datetime.now(UTC).date()
    return f"""\
version: 1
teams:
  - {{id: nord, name: Team Nord}}
  - {{id: syd, name: Team Syd}}
advisors:
  - {{id: anna, name: Anna Prøve, phone: "+45 68 40 00 01", languages: [da], team: nord}}
  - {{id: bilal, name: Bilal Prøve, phone: "+45 68 40 00 02", languages: [da, ar], team: nord}}
  - {{id: carla, name: Carla Prøve, phone: "+45 68 40 00 03", languages: [da], team: syd}}
  - {{id: dorte, name: Dorte Prøve, phone: "+45 68 40 00 04", languages: [da], team: syd}}
shifts:
  primary:
    - {{advisor: anna, days: mon-fri, start: "07:00", end: "15:00"}}
    - {{advisor: bilal, days: daily, start: "15:00", end: "02:30"}}
    - {{advisor: carla, days: daily, start: "02:30", end: "07:00"}}
    - {{advisor: carla, days: [sat, sun], start: "07:00", end: "15:00"}}
  backup:
    - {{advisor: anna, days: [sat, sun], start: "10:00", end: "18:00"}}
  manager:
    - {{advisor: dorte, days: daily, start: "07:00", end: "07:00"}}
overrides:
  - {{off: anna, from: "{_local(today + timedelta(days=3), "00:00")}", to: "{_local(today + timedelta(days=6), "00:00")}", reason: syg}}
  - {{replace: anna, with: dorte, from: "{_local(today + timedelta(days=3), "07:00")}", to: "{_local(today + timedelta(days=6), "00:00")}", reason: dækker}}
  - {{add: bilal, layer: backup, from: "{_local(today - timedelta(days=2), "09:00")}", to: "{_local(today - timedelta(days=2), "13:00")}", reason: ekstra}}
"""


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["hotline"]
    with rt.sessions.begin() as session:
        rosters.import_roster(session, roster_text(), source_name="r.yaml", actor="test")
    return rt


def _path(url: str) -> str:
    return "/calendar/" + url.split("/calendar/", 1)[1]


class Shift(NamedTuple):
    advisor: str
    layer: str
    source: str
    start: datetime
    end: datetime


def _events(client: FlaskClient, url: str) -> list[Shift]:
    """The feed's events as a calendar app reads them (DTSTART/DTEND decoded to aware datetimes)."""
    response = client.get(_path(url))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    events = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    uids = [str(e["uid"]) for e in events]
    assert len(uids) == len(set(uids))
    return [
        Shift(
            str(e["x-paaroerendelinjen-advisor"]),
            str(e["x-paaroerendelinjen-layer"]),
            str(e["x-paaroerendelinjen-source"]),
            e.decoded("dtstart").astimezone(UTC),
            e.decoded("dtend").astimezone(UTC),
        )
        for e in events
    ]


def _covering(events: list[Shift], t: datetime) -> set[tuple[str, str]]:
    """(advisor, layer) of every event in force at `t`."""
    return {(e.advisor, e.layer) for e in events if e.start <= t < e.end}


def _samples() -> list[datetime]:
    """Every 2 h 17 min from 29 days back to 89 days ahead (wandering through every hour of the day)."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=29)
    return [start + timedelta(minutes=137 * k) for k in range(118 * 24 * 60 // 137)]


def _expected(roster: Roster, t: datetime, who: set[str]) -> set[tuple[str, str]]:
    return {(e.advisor.id, e.layer.value) for e in oncall_at(roster, t) if e.advisor.id in who}


@pytest.mark.parametrize(
    ("kind", "ident", "who"),
    [
        ("advisor", "anna", {"anna"}),
        ("advisor", "dorte", {"dorte"}),
        ("team", "nord", {"anna", "bilal"}),
        ("all", "hotline", {"anna", "bilal", "carla", "dorte"}),
    ],
)
def test_feed_events_match_who_is_on_call(
    runtime: Runtime, client: FlaskClient, kind: str, ident: str, who: set[str]
) -> None:
    events = _events(client, feed_url(runtime, kind, ident))
    assert {e.advisor for e in events} == who
    roster = load_roster(roster_text())
    for t in _samples():
        assert _covering(events, t) == _expected(roster, t, who), t.isoformat()


def test_overrides_show_in_the_feed(runtime: Runtime, client: FlaskClient) -> None:
    """Anna is off and Dorte covers her; the extra backup shift two days ago is there too."""
    sources = {(e.advisor, e.source) for e in _events(client, feed_url(runtime, "all", "hotline"))}
    assert {("dorte", "override"), ("bilal", "override")} <= sources


def _mac(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()[:32]


def _bad_tokens(runtime: Runtime) -> list[str]:
    good = feed_url(runtime, "advisor", "anna").split("/calendar/", 1)[1].removesuffix(".ics")
    mac = good.rsplit("-", 1)[1]
    key = runtime.signing_secret
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    return [
        f"advisor-anna-{flipped}",  # one hex digit wrong
        f"advisor-anna-{mac[:31]}",  # cut short
        f"advisor-anna-{mac.upper()}",
        f"advisor-bilal-{mac}",  # Anna's MAC on Bilal's feed
        f"team-anna-{mac}",  # another kind
        f"advisor-anna-{_mac('not-the-key', 'advisor:anna')}",  # signed with another key
        f"advisor-nobody-{_mac(key, 'advisor:nobody')}",  # genuine, but not in the roster
        f"team-tech-{_mac(key, 'team:tech')}",
        f"all-everyone-{_mac(key, 'all:everyone')}",
        f"staff-anna-{_mac(key, 'staff:anna')}",
        "anna",
        "advisor-anna-",
        f"advisor-anna-{mac}æ",
    ]


def test_a_wrong_token_is_a_plain_404(runtime: Runtime, client: FlaskClient) -> None:
    bodies = set()
    for token in _bad_tokens(runtime):
        response = client.get(f"/calendar/{token}.ics")
        assert response.status_code == 404, token
        bodies.add(response.data)
    assert len(bodies) == 1  # nothing tells which part was wrong
    assert client.get(_path(feed_url(runtime, "advisor", "anna"))).status_code == 200


def test_no_roster_yet_is_a_404(app: Flask, client: FlaskClient) -> None:
    assert client.get(_path(feed_url(app.extensions["hotline"], "all", "hotline"))).status_code == 404


def test_the_secret_key_signs_feeds_and_the_public_url_is_their_base(
    settings_mapping: dict[str, Any], runtime: Runtime
) -> None:
    demo_url = feed_url(runtime, "advisor", "anna")
    live = create_app(
        {**settings_mapping, "HOTLINE_SECRET_KEY": "k" * 64, "HOTLINE_PUBLIC_URL": "https://hotline.example"}
    )
    try:
        url = feed_url(live.extensions["hotline"], "advisor", "anna")
        assert url == f"https://hotline.example/calendar/advisor-anna-{_mac('k' * 64, 'advisor:anna')}.ics"
        client = live.test_client()
        assert client.get(_path(url)).status_code == 200
        assert client.get(_path(demo_url)).status_code == 404  # a new key retires the old URLs
    finally:
        live.extensions["hotline"].dispose()


def test_roster_feeds_prints_urls_the_app_serves(
    runtime: Runtime, client: FlaskClient, runner: HotlineRunner
) -> None:
    result = runner.invoke(["roster", "feeds"])
    assert result.exit_code == 0, result.output
    urls = [word for word in result.stdout.split() if word.startswith("http://127.0.0.1:8000/calendar/")]
    assert len(urls) == 4 + 2 + 1
    for url in urls:
        assert client.get(_path(url)).status_code == 200, url


# --- feeds obey the roster and can be revoked one by one ---------------------------------------------------


def _refused(client: FlaskClient, url: str) -> bool:
    response = client.get(_path(url))
    if response.status_code == 200:
        return False
    assert response.status_code == 404
    assert "Linket virker ikke længere" in response.get_data(as_text=True)
    return True


def _import(runtime: Runtime, text: str) -> None:
    with runtime.sessions.begin() as session:
        rosters.import_roster(session, text, source_name="r.yaml", actor="test")


def _without_carla() -> str:
    return "\n".join(line for line in roster_text().splitlines() if "carla" not in line) + "\n"


def _anna_inactive() -> str:
    return roster_text().replace("{id: anna, ", "{id: anna, active: false, ")


@pytest.mark.parametrize(
    ("who", "roster"), [("anna", _anna_inactive), ("carla", _without_carla)], ids=["active-false", "removed"]
)
def test_a_deactivated_or_removed_advisors_feed_stops_at_once(
    runtime: Runtime, client: FlaskClient, runner: HotlineRunner, who: str, roster: Any
) -> None:
    url = feed_url(runtime, "advisor", who)
    others = [feed_url(runtime, "advisor", "bilal"), feed_url(runtime, "team", "nord")]
    assert not _refused(client, url)
    _import(runtime, roster())
    assert _refused(client, url)
    assert not any(_refused(client, other) for other in others)
    listed = runner.invoke(["roster", "feeds"]).stdout
    assert url not in listed
    _import(runtime, roster_text())  # back in the roster: the old URL stays retired, a new one is printed
    assert _refused(client, url)
    (new,) = (
        w
        for line in runner.invoke(["roster", "feeds"]).stdout.splitlines()
        if line.split()[0] == who
        for w in line.split()
        if w.startswith("http")
    )
    assert new != url and not _refused(client, new)


def _feeds(runner: HotlineRunner) -> set[str]:
    result = runner.invoke(["roster", "feeds"])
    assert result.exit_code == 0, result.output
    return {w for w in result.stdout.split() if w.startswith("http://127.0.0.1:8000/calendar/")}


@pytest.mark.parametrize(
    ("args", "kind", "ident"),
    [(["anna"], "advisor", "anna"), (["--team", "nord"], "team", "nord"), (["--everyone"], "all", "hotline")],
)
def test_revoking_one_feed_retires_its_url_only(
    runtime: Runtime, client: FlaskClient, runner: HotlineRunner, args: list[str], kind: str, ident: str
) -> None:
    before = _feeds(runner)
    old = feed_url(runtime, kind, ident)
    assert old in before
    result = runner.invoke(["roster", "revoke-feed", *args])
    assert result.exit_code == 0, result.output
    (new,) = (w for w in result.stdout.split() if w.startswith("http"))
    assert new != old
    assert _refused(client, old)
    assert not _refused(client, new)
    after = _feeds(runner)
    assert after == (before - {old}) | {new}  # every other feed keeps its URL
    for url in after:
        assert not _refused(client, url), url
    again = runner.invoke(["roster", "revoke-feed", *args])
    (newer,) = (w for w in again.stdout.split() if w.startswith("http"))
    assert _refused(client, new) and not _refused(client, newer)


def test_revoke_feed_names_one_known_feed(runtime: Runtime, runner: HotlineRunner) -> None:
    assert runner.invoke(["roster", "revoke-feed"]).exit_code == 2
    assert runner.invoke(["roster", "revoke-feed", "anna", "--everyone"]).exit_code == 2
    unknown = runner.invoke(["roster", "revoke-feed", "nobody"])
    assert unknown.exit_code == 1 and "nobody" in unknown.output


def _descriptions(client: FlaskClient, url: str) -> str:
    response = client.get(_path(url))
    assert response.status_code == 200
    return "\n".join(
        str(e["description"]) for e in icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    )


def test_shared_feeds_leave_out_override_reasons(runtime: Runtime, client: FlaskClient) -> None:
    """Why someone is away or covering is for their own feed; a team's or the hotline's says only who works."""
    text = (
        roster_text()
        .replace("reason: dækker", "reason: anna er syg")
        .replace("reason: ekstra", "reason: bytte")
    )
    _import(runtime, text)
    for kind, ident in (("all", "hotline"), ("team", "nord"), ("team", "syd")):
        shared = _descriptions(client, feed_url(runtime, kind, ident))
        assert "anna er syg" not in shared and "bytte" not in shared and "syg" not in shared, kind
    everyone = _descriptions(client, feed_url(runtime, "all", "hotline"))
    assert "Dækker for anna" in everyone  # who covers is still there
    assert "(anna er syg)" in _descriptions(client, feed_url(runtime, "advisor", "dorte"))
    assert "(bytte)" in _descriptions(client, feed_url(runtime, "advisor", "bilal"))
