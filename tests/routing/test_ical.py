from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from routing.ical import feed
from routing.oncall import oncall_at
from routing.roster import Layer, Override, Roster
from routing.roster_file import load_roster
from tests.routing.factory import advisor, cph, shift

DEMO = Path(__file__).parents[2] / "routing" / "demo_roster.yaml"
STAMP = cph(2026, 1, 1, 12)
SERVICE = "Pårørendelinjen"


def demo() -> Roster:
    return load_roster(DEMO.read_text(encoding="utf-8"), "demo_roster.yaml")


def events(data: bytes) -> list[tuple[str, str, datetime, datetime, icalendar.Event]]:
    cal = icalendar.Calendar.from_ical(data)
    return [
        (
            str(e["x-paaroerendelinjen-advisor"]),
            str(e["x-paaroerendelinjen-layer"]),
            e.decoded("dtstart").astimezone(UTC),
            e.decoded("dtend").astimezone(UTC),
            e,
        )
        for e in cal.walk("VEVENT")
    ]


DST_RANGES = [
    (cph(2026, 3, 27), cph(2026, 3, 31)),
    (cph(2026, 10, 23), cph(2026, 10, 27)),
    (cph(2027, 3, 26), cph(2027, 3, 30)),
    (cph(2027, 10, 29), cph(2027, 11, 2)),
    (cph(2026, 10, 31), cph(2026, 11, 6)),  # sick leave and cover in the demo roster
    (cph(2026, 12, 23), cph(2027, 1, 2)),  # Christmas, New Year, a swap and an extra shift
]


@pytest.mark.parametrize(("start", "end"), DST_RANGES)
def test_feed_events_match_oncall(start: datetime, end: datetime) -> None:
    roster = demo()
    found = events(feed(roster, start, end, stamp=STAMP, service_name=SERVICE))
    assert found
    t = start.astimezone(UTC)
    while t < end:
        expected = sorted((e.advisor.id, e.layer.value) for e in oncall_at(roster, t))
        in_feed = sorted((a, layer) for a, layer, s, z, _ in found if s <= t < z)
        assert in_feed == expected, t
        t += timedelta(minutes=20)


def test_calendar_is_rfc5545_with_copenhagen_timezone() -> None:
    data = feed(
        demo(),
        cph(2026, 10, 24, 12),
        cph(2026, 10, 25, 12),
        advisor_id="jonas",
        stamp=STAMP,
        service_name=SERVICE,
    )
    cal = icalendar.Calendar.from_ical(data)
    assert cal["version"] == "2.0" and "PRODID" in cal
    [tz] = cal.walk("VTIMEZONE")
    assert tz["tzid"] == "Europe/Copenhagen"
    assert b"DTSTART;TZID=Europe/Copenhagen:20261024T220000" in data
    assert b"DTEND;TZID=Europe/Copenhagen:20261025T070000" in data
    [(_, layer, s, z, event)] = events(data)
    assert (layer, z - s) == ("primary", timedelta(hours=10))  # the October night: ten hours
    assert str(event["summary"]) == "Vagt: primær — Pårørendelinjen"
    assert event.decoded("dtstamp") == STAMP.astimezone(UTC)


def test_team_feed_names_the_advisor_and_filters() -> None:
    data = feed(demo(), cph(2026, 6, 1), cph(2026, 6, 8), team="syd", stamp=STAMP, service_name=SERVICE)
    found = events(data)
    assert {a for a, *_ in found} == {"kemal", "hodan", "jonas"}
    assert any(str(e["summary"]) == "Vagt: primær, Jonas Demomark — Pårørendelinjen" for *_, e in found)


def test_uids_are_unique_and_stable() -> None:
    roster = demo()
    first = [
        str(e["uid"])
        for *_, e in events(
            feed(roster, cph(2026, 12, 20), cph(2027, 1, 3), stamp=STAMP, service_name=SERVICE)
        )
    ]
    later = [
        str(e["uid"])
        for *_, e in events(feed(demo(), cph(2026, 12, 20), cph(2027, 1, 3), service_name=SERVICE))
    ]
    assert len(set(first)) == len(first)
    assert first == later


def test_second_pass_of_the_repeated_hour_is_written_in_utc() -> None:
    roster = Roster(
        advisors=(advisor("a", 1),),
        shifts=(shift("a", "primary", "daily", "22:00", "07:00"),),
        overrides=(
            Override.extra("a", Layer.BACKUP, cph(2026, 10, 25, 2, 30, fold=1), cph(2026, 10, 25, 5)),
        ),
    )
    data = feed(roster, cph(2026, 10, 25), cph(2026, 10, 26), stamp=STAMP, service_name=SERVICE)
    assert b"DTSTART:20261025T013000Z" in data
    backup = [(s, z) for _, layer, s, z, _ in events(data) if layer == "backup"]
    assert backup == [(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), datetime(2026, 10, 25, 4, tzinfo=UTC))]


def test_empty_feed_is_still_a_calendar() -> None:
    cal = icalendar.Calendar.from_ical(
        feed(Roster(), cph(2026, 1, 1), cph(2026, 1, 2), stamp=STAMP, service_name=SERVICE)
    )
    assert cal.walk("VEVENT") == [] and len(cal.walk("VTIMEZONE")) == 1


def test_unknown_advisor_is_refused() -> None:
    with pytest.raises(KeyError, match="nobody"):
        feed(demo(), cph(2026, 1, 1), cph(2026, 1, 2), advisor_id="nobody", service_name=SERVICE)


def _descriptions(data: bytes) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for advisor_id, *_, event in events(data):
        found.setdefault(advisor_id, []).append(str(event["description"]))
    return found


@pytest.mark.parametrize(
    ("start", "end", "who", "reason"),
    [
        (cph(2026, 10, 31), cph(2026, 11, 6), "jonas", "dækker sygdom"),  # covering someone off sick
        (cph(2026, 12, 23), cph(2027, 1, 2), "amira", "nytårsaften"),  # an extra shift
    ],
)
def test_only_the_own_feed_carries_an_overrides_reason(
    start: datetime, end: datetime, who: str, reason: str
) -> None:
    """A reason is free text a manager wrote ("dækker sygdom"): a team's or everyone's feed says only who works."""
    roster = demo()
    own = feed(roster, start, end, advisor_id=who, stamp=STAMP, service_name=SERVICE)
    assert any(f"({reason})" in d for d in _descriptions(own)[who])
    team = roster.advisor(who).team
    shared = [feed(roster, start, end, stamp=STAMP, service_name=SERVICE)]
    if team:
        shared.append(feed(roster, start, end, team=team, stamp=STAMP, service_name=SERVICE))
    for data in shared:
        descriptions = _descriptions(data)
        assert descriptions[who]  # the shift is there ...
        assert not any(reason in d for ds in descriptions.values() for d in ds)  # ... but not why
