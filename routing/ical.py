"""The roster as an iCalendar feed (RFC 5545) that advisors and managers can subscribe to.

One VEVENT per shift as it will actually be worked (after overrides), with a stable UID so calendar apps
update an event rather than duplicate it. Times carry TZID=Europe/Copenhagen with a VTIMEZONE; an instant in
the second pass of the repeated October hour cannot be written as Copenhagen wall time, so it is written in UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar

from routing.oncall import OnCallEntry, Source, coverage
from routing.roster import Roster
from routing.wallclock import COPENHAGEN, UTC, is_first_reading, local_date, to_utc
from routing.wording.catalogue import da

__all__ = ["PRODID", "UID_DOMAIN", "event_uid", "feed"]

PRODID = "-//Aarhus Kommune//Paaroerendelinjen vagtplan//DA"
UID_DOMAIN = "vagtplan.paaroerendelinjen"


def event_uid(entry: OnCallEntry) -> str:
    """Stable for the same advisor, layer and start: regenerating the feed updates, never duplicates."""
    return f"{entry.advisor.id}-{entry.layer.value}-{entry.start.astimezone(UTC):%Y%m%dT%H%M%SZ}@{UID_DOMAIN}"


def feed(
    roster: Roster,
    start: datetime,
    end: datetime,
    *,
    advisor_id: str | None = None,
    team: str | None = None,
    stamp: datetime | None = None,
    service_name: str,
) -> bytes:
    """A VCALENDAR of the shifts overlapping `start`-`end` (aware), for one advisor or team, or everyone.

    The free-text reason of an override (it can say "syg") is written only in an advisor's own feed; a team's
    or the whole hotline's feed says that someone covers or works an extra shift, never why. `stamp` is the DTSTAMP written on every event (default: now); `service_name` (config: service.name) names
    the calendar and every event. Staff read the calendar in Danish (routing/wording/staff.yaml).
    """
    start, end = to_utc(start, "start"), to_utc(end, "end")
    stamp = to_utc(stamp, "stamp") if stamp is not None else datetime.now(UTC).replace(microsecond=0)
    if advisor_id is not None and not roster.has_advisor(advisor_id):
        raise KeyError(f"no advisor with id {advisor_id!r} in the roster")
    entries: dict[tuple[str, str, datetime], OnCallEntry] = {}
    for interval in coverage(roster, start, end):
        for e in interval.entries:
            if advisor_id is not None and e.advisor.id != advisor_id:
                continue
            if team is not None and e.advisor.team != team:
                continue
            entries.setdefault((e.advisor.id, e.layer.value, e.start), e)

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    title = da("calendar.title", service=service_name)
    if advisor_id is not None:
        title += f": {roster.advisor(advisor_id).name}"
    elif team is not None:
        title += f": {team}"
    cal.add("x-wr-calname", title)
    cal.add("x-wr-timezone", COPENHAGEN.key)
    for e in sorted(entries.values(), key=lambda e: (e.start, e.layer.rank, e.advisor.id)):
        cal.add_component(_event(e, stamp, service_name, personal=advisor_id is not None))
    first = local_date(min((e.start for e in entries.values()), default=start)) - timedelta(days=1)
    last = local_date(max((e.end for e in entries.values()), default=end)) + timedelta(days=1)
    cal.add_missing_timezones(first_date=first, last_date=last)
    if not cal.timezones:  # no events: still name the zone the feed is in
        cal.add_component(icalendar.Timezone.from_tzid(COPENHAGEN.key, first_date=first, last_date=last))
    return bytes(cal.to_ical())


def _event(e: OnCallEntry, stamp: datetime, service_name: str, *, personal: bool) -> icalendar.Event:
    layer = da(e.layer.message_id)
    event = icalendar.Event()
    event.add("uid", event_uid(e))
    event.add("dtstamp", stamp)
    event.add("dtstart", _when(e.start))
    event.add("dtend", _when(e.end))
    if personal:
        event.add("summary", da("calendar.summary", layer=layer, service=service_name))
    else:
        event.add(
            "summary", da("calendar.summary_for", layer=layer, advisor=e.advisor.name, service=service_name)
        )
    lines = [f"{e.advisor.name} ({e.advisor.id}), {layer}"]
    # An override's reason is free text a manager wrote ("syg", "barsel"): personal, so only in the own feed.
    reason = f" ({e.note})" if personal and e.note else ""
    if e.covers is not None:
        lines.append(f"{_sentence(da('oncall.covering', advisor=e.covers))}{reason}")
    elif e.source is Source.OVERRIDE:
        lines.append(f"{_sentence(da('oncall.extra_shift'))}{reason}")
    elif e.source is Source.HOLIDAY:
        lines.append(f"{_sentence(da('oncall.holiday_pattern'))}: {e.note}")
    event.add("description", "\n".join(lines))
    event.add("categories", [layer])
    event.add("transp", "OPAQUE")
    event.add("x-paaroerendelinjen-advisor", e.advisor.id)
    event.add("x-paaroerendelinjen-layer", e.layer.value)
    event.add("x-paaroerendelinjen-source", e.source.value)
    return event


def _sentence(words: str) -> str:
    """`words` starting a line of the description: first letter upper case ("Dækker for anna")."""
    return words[:1].upper() + words[1:]


def _when(t: datetime) -> datetime:
    """Copenhagen wall time when it reads back as the same instant; UTC otherwise (October's second pass)."""
    return t.astimezone(COPENHAGEN) if is_first_reading(t) else t.astimezone(UTC)
