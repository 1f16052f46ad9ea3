"""routing package: who is on call (roster, overrides, holidays, DST), whom to ring in which order, and gaps.

The roster core is pure: plain dataclasses and aware datetimes, no I/O. The web and database layers call:

    load_roster(text, filename) -> Roster            # raises RosterFileError (problems with file:line)
    dump_roster(roster) -> str
    oncall_at(roster, t) -> list[OnCallEntry]
    coverage(roster, start, end) -> list[CoverageInterval]
    build_chain(roster, t, reason=..., language=..., contact_person_id=..., busy=..., prefs=...) -> Chain
    find_gaps(roster, start, end, coverage_hours=None) -> list[Gap]
    feed(roster, start, end, advisor_id=None, team=None) -> bytes   # iCalendar
"""

from routing.chain import Chain, ChainPreferences, ChainStep, build_chain, chain_from_entries
from routing.gaps import CoverageHours, Gap, WeeklyWindow, find_gaps
from routing.holiday_rule import HolidayRule
from routing.ical import feed
from routing.oncall import CoverageInterval, OnCallEntry, Source, coverage, oncall_at
from routing.roster import Advisor, Layer, Override, OverrideKind, Roster, Team, WeeklyShift
from routing.roster_file import RosterFileError, dump_roster, load_roster

__all__ = [
    "Advisor",
    "Chain",
    "ChainPreferences",
    "ChainStep",
    "CoverageHours",
    "CoverageInterval",
    "Gap",
    "HolidayRule",
    "Layer",
    "OnCallEntry",
    "Override",
    "OverrideKind",
    "Roster",
    "RosterFileError",
    "Source",
    "Team",
    "WeeklyShift",
    "WeeklyWindow",
    "build_chain",
    "chain_from_entries",
    "coverage",
    "dump_roster",
    "feed",
    "find_gaps",
    "load_roster",
    "oncall_at",
]
