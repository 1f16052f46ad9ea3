"""Warnings before a roster change is saved, each naming the hours in Copenhagen time:

- a new gap: the change leaves nobody on call in primary or backup at some time inside the coverage hours
  (only gaps the roster did not already have);
- a language without a speaker on a night: a language spoken by someone on call (primary or backup) during a
  night (22:00-07:00) before the change, and by nobody after it;
- an overlap: a new override overlaps another one that puts the same advisor on or off call (off sick and an
  extra shift at once, two covers by the same person); cover for an advisor who is off is no clash, and the
  loader itself refuses two covers for the same shift.

Warnings never block saving; the loader's problems do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from babel.dates import format_date

from routing.gaps import DEFAULT_GAP_LAYERS, CoverageHours, find_gaps
from routing.oncall import coverage
from routing.roster import Roster
from routing.roster_diff import Span, subtract
from routing.wallclock import COPENHAGEN, local_date, to_utc, wall_interval
from routing.wording.catalogue import language_name, ref, text

__all__ = ["NIGHT", "RosterWarning", "WarningKind", "day_words", "span_words", "warning_period", "warnings"]

NIGHT = (time(22, 0), time(7, 0))  # the night whose languages are compared, local time
_DAY_PATTERN = {"da": "EEEE d. MMM", "en": "EEEE d MMM"}
_LONGEST_LOOK = timedelta(days=366)


class WarningKind(StrEnum):
    GAP = "gap"
    LANGUAGE = "language"
    OVERLAP = "overlap"


@dataclass(frozen=True)
class RosterWarning:
    kind: WarningKind
    start: datetime
    end: datetime
    language: str = ""  # LANGUAGE: the code no one on call speaks
    advisor: str = ""  # OVERLAP: whose overrides overlap (their name)

    def words(self, language: str) -> str:
        """The warning in `language` (da or en), with its hours."""
        hours = span_words(self.start, self.end, language)
        if self.kind is WarningKind.GAP:
            return text("roster.warning.gap", language, hours=hours)
        if self.kind is WarningKind.LANGUAGE:
            name = language_name(self.language, language)
            return text("roster.warning.language", language, hours=hours, language=name)
        return text("roster.warning.overlap", language, hours=hours, advisor=self.advisor)


def day_words(day: date, language: str) -> str:
    """A local day as staff say it: "tirsdag 8. dec." (Danish), "Tuesday 8 Dec" (English)."""
    return str(format_date(day, _DAY_PATTERN[language], locale=language))


def span_words(start: datetime, end: datetime, language: str) -> str:
    """The span in Copenhagen time, as staff say it: "tirsdag 8. dec. kl. 22:00–07:00 (9 t 0 min)"; a span
    over more than one night names both days. The length is the real one (10 hours on the October night)."""
    a, z = start.astimezone(COPENHAGEN), end.astimezone(COPENHAGEN)
    day = day_words(a.date(), language)
    minutes = int((end - start).total_seconds() // 60)
    length = ref("time.hours_minutes", hours=minutes // 60, minutes=minutes % 60)
    same_day = z.date() == a.date()
    overnight = z.date() == a.date() + timedelta(days=1) and z.time() < a.time()
    if same_day or overnight:
        return text(
            "roster.span.short", language, day=day, start=f"{a:%H:%M}", end=f"{z:%H:%M}", length=length
        )
    end_day = day_words(z.date(), language)
    return text(
        "roster.span.long",
        language,
        day=day,
        start=f"{a:%H:%M}",
        end_day=end_day,
        end=f"{z:%H:%M}",
        length=length,
    )


def warning_period(before: Roster | None, after: Roster, now: datetime, days: int = 14) -> Span:
    """From `now` to `days` days ahead, or further when a changed override ends later (at most a year)."""
    now = to_utc(now, "now")
    end = now + timedelta(days=days)
    old = Counter(before.overrides if before else ())
    new = Counter(after.overrides)
    for o in list((new - old).elements()) + list((old - new).elements()):
        end = max(end, min(o.end, now + _LONGEST_LOOK))
    return now, end


def warnings(
    before: Roster,
    after: Roster,
    start: datetime,
    end: datetime,
    hours: CoverageHours | None = None,
) -> list[RosterWarning]:
    """What the change from `before` to `after` puts at risk between `start` and `end`, in time order."""
    start, end = to_utc(start, "start"), to_utc(end, "end")
    found: list[RosterWarning] = []
    old_gaps = [(g.start, g.end) for g in find_gaps(before, start, end, hours)]
    new_gaps = [(g.start, g.end) for g in find_gaps(after, start, end, hours)]
    found += [RosterWarning(WarningKind.GAP, a, z) for a, z in subtract(new_gaps, old_gaps)]
    found += _lost_languages(before, after, start, end)
    found += _overlaps(before, after, start, end)
    found.sort(key=lambda w: (w.start, w.kind.value))
    return found


def _languages(roster: Roster, night: Span) -> set[str]:
    return {
        code
        for interval in coverage(roster, *night)
        for entry in interval.entries
        if entry.layer in DEFAULT_GAP_LAYERS
        for code in entry.advisor.languages
    }


def _lost_languages(before: Roster, after: Roster, start: datetime, end: datetime) -> list[RosterWarning]:
    found: list[RosterWarning] = []
    day = local_date(start) - timedelta(days=1)  # last night may still be running at `start`
    while day <= local_date(end):
        night = wall_interval(day, *NIGHT)
        day += timedelta(days=1)
        if night is None or night[1] <= start or night[0] >= end:
            continue
        for code in sorted(_languages(before, night) - _languages(after, night)):
            found.append(RosterWarning(WarningKind.LANGUAGE, night[0], night[1], language=code))
    return found


def _overlaps(before: Roster, after: Roster, start: datetime, end: datetime) -> list[RosterWarning]:
    old = Counter(before.overrides)
    new_ones = [o for o in (Counter(after.overrides) - old).elements() if o.end > start and o.start < end]
    found: list[RosterWarning] = []
    seen: set[tuple[int, int]] = set()
    for o in new_ones:
        for other in after.overrides:
            if other is o or (id(other), id(o)) in seen:
                continue
            # Only the advisor an override puts on or off call counts: cover for someone who is off (the
            # replaced advisor) is the usual pair, not a clash.
            lo, hi = max(o.start, other.start), min(o.end, other.end)
            if o.advisor_id == other.advisor_id and lo < hi:
                seen.add((id(o), id(other)))
                who = o.advisor_id
                name = after.advisor(who).name if after.has_advisor(who) else who
                found.append(RosterWarning(WarningKind.OVERLAP, lo, hi, advisor=name))
    return found
