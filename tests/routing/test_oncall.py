import dataclasses
import random
from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.holiday_rule import HolidayRule
from routing.oncall import Source, coverage, oncall_at
from routing.roster import Layer, Override, Roster
from routing.wallclock import COPENHAGEN, UTC
from tests.routing.factory import advisor, big_roster, cph, shift
from tests.routing.scan import keys, scan_oncall_at
from tests.routing.strategies import DST_NIGHTS, rosters

P, B, M = Layer.PRIMARY, Layer.BACKUP, Layer.MANAGER


def office(
    *, overrides: tuple[Override, ...] = (), rule: HolidayRule | None = None, inactive: str = ""
) -> Roster:
    """Weekdays anna 08-16 and bo 16-22, every night carl 22-08, weekends dora 08-22; backup erik on weekday
    daytime; manager mona around the clock."""
    people = ["anna", "bo", "carl", "dora", "erik", "mona"]
    return Roster(
        advisors=tuple(advisor(p, i, active=p != inactive) for i, p in enumerate(people, 1)),
        shifts=(
            shift("anna", P, "mon-fri", "08:00", "16:00"),
            shift("bo", P, "mon-fri", "16:00", "22:00"),
            shift("carl", P, "daily", "22:00", "08:00"),
            shift("dora", P, "sat,sun", "08:00", "22:00"),
            shift("erik", B, "mon-fri", "08:00", "16:00"),
            shift("mona", M, "daily", "08:00", "08:00"),
        ),
        overrides=overrides,
        holiday_rule=rule or HolidayRule(),
    )


def who(roster: Roster, t: datetime) -> list[tuple[str, str]]:
    return [(e.advisor.id, e.layer.value) for e in oncall_at(roster, t)]


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (cph(2026, 6, 10, 10), [("anna", "primary"), ("erik", "backup"), ("mona", "manager")]),  # Wednesday
        (cph(2026, 6, 10, 15, 59), [("anna", "primary"), ("erik", "backup"), ("mona", "manager")]),
        (cph(2026, 6, 10, 16), [("bo", "primary"), ("mona", "manager")]),  # start inclusive, end exclusive
        (cph(2026, 6, 10, 22), [("carl", "primary"), ("mona", "manager")]),
        (cph(2026, 6, 13, 3), [("carl", "primary"), ("mona", "manager")]),  # Friday's night, into Saturday
        (cph(2026, 6, 14, 12), [("dora", "primary"), ("mona", "manager")]),  # Sunday
        (cph(2026, 6, 15, 7, 59), [("carl", "primary"), ("mona", "manager")]),  # Sunday's night, into Monday
        (cph(2026, 6, 15, 8), [("anna", "primary"), ("erik", "backup"), ("mona", "manager")]),
    ],
)
def test_weekly_pattern(t: datetime, expected: list[tuple[str, str]]) -> None:
    assert who(office(), t) == expected


def test_midnight_crossing_shift_belongs_to_the_day_it_starts() -> None:
    roster = Roster(
        advisors=(advisor("nat", 1),),
        shifts=(shift("nat", P, "fri", "22:00", "07:00"),),
    )
    assert who(roster, cph(2026, 6, 13, 6, 59)) == [("nat", "primary")]  # Saturday morning: Friday's shift
    assert who(roster, cph(2026, 6, 12, 6, 59)) == []  # Friday morning: Thursday has no shift
    [entry] = oncall_at(roster, cph(2026, 6, 12, 23))
    assert (entry.start, entry.end) == (cph(2026, 6, 12, 22), cph(2026, 6, 13, 7))


def test_results_are_utc_and_aware() -> None:
    for entry in oncall_at(office(), cph(2026, 6, 10, 10)):
        assert entry.start.tzinfo is UTC and entry.end.tzinfo is UTC


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        oncall_at(office(), datetime(2026, 6, 10, 10))


@pytest.mark.parametrize(
    ("t", "rule", "primary", "source", "note"),
    [
        (cph(2026, 12, 25, 10), HolidayRule(), "dora", Source.HOLIDAY, "Juledag"),  # Friday, Sunday pattern
        (
            cph(2026, 12, 25, 3),
            HolidayRule(),
            "carl",
            Source.PATTERN,
            "",
        ),  # Christmas Eve's night (a Thursday)
        (cph(2026, 4, 2, 10), HolidayRule(), "dora", Source.HOLIDAY, "Skærtorsdag"),
        (cph(2027, 3, 25, 10), HolidayRule(), "dora", Source.HOLIDAY, "Skærtorsdag"),
        (cph(2027, 4, 1, 10), HolidayRule(), "anna", Source.PATTERN, ""),  # the Thursday after Easter 2027
        (cph(2027, 3, 28, 12), HolidayRule(), "dora", Source.HOLIDAY, "Påskedag"),  # Easter Sunday, a DST day
        (cph(2026, 12, 25, 10), HolidayRule(use=None), "anna", Source.PATTERN, ""),  # rule "normal"
        (cph(2026, 12, 24, 10), HolidayRule(), "anna", Source.PATTERN, ""),  # Juleaften is not public
        (cph(2026, 12, 24, 10), HolidayRule(include_optional=True), "dora", Source.HOLIDAY, "Juleaftensdag"),
        (
            cph(2026, 6, 10, 10),
            HolidayRule(extra_dates=(date(2026, 6, 10),)),
            "dora",
            Source.HOLIDAY,
            "Lukkedag",
        ),
        (cph(2026, 12, 25, 17), HolidayRule(use=4), "bo", Source.HOLIDAY, "Juledag"),  # "use friday"
    ],
)
def test_holiday_rule(t: datetime, rule: HolidayRule, primary: str, source: Source, note: str) -> None:
    [entry] = [e for e in oncall_at(office(rule=rule), t) if e.layer is P]
    assert (entry.advisor.id, entry.source, entry.note) == (primary, source, note)


WED = (2026, 6, 10)


@pytest.mark.parametrize(
    ("overrides", "t", "expected_primary"),
    [
        # cover beats the pattern, only inside its window
        ((Override.replacement("bo", "anna", cph(*WED, 12), cph(*WED, 14)),), cph(*WED, 13), ["bo"]),
        ((Override.replacement("bo", "anna", cph(*WED, 12), cph(*WED, 14)),), cph(*WED, 14), ["anna"]),
        # sick leave removes the advisor
        ((Override.absence("anna", cph(*WED), cph(*WED) + timedelta(days=1)),), cph(*WED, 10), []),
        # an extra primary on top of the pattern
        ((Override.extra("dora", P, cph(*WED, 9), cph(*WED, 11)),), cph(*WED, 10), ["anna", "dora"]),
        # time off beats an extra shift and cover
        (
            (
                Override.extra("dora", P, cph(*WED, 9), cph(*WED, 11)),
                Override.absence("dora", cph(*WED, 0), cph(*WED, 23)),
            ),
            cph(*WED, 10),
            ["anna"],
        ),
        (
            (
                Override.replacement("bo", "anna", cph(*WED, 8), cph(*WED, 16)),
                Override.absence("bo", cph(*WED, 9), cph(*WED, 11)),
            ),
            cph(*WED, 10),
            [],
        ),
        # cover still works while the replaced advisor is off sick
        (
            (
                Override.absence("anna", cph(*WED, 0), cph(*WED, 23)),
                Override.replacement("bo", "anna", cph(*WED, 8), cph(*WED, 16)),
            ),
            cph(*WED, 10),
            ["bo"],
        ),
        # a replacement limited to one layer leaves the others alone
        (
            (Override.replacement("bo", "anna", cph(*WED, 8), cph(*WED, 16), layer=B),),
            cph(*WED, 10),
            ["anna"],
        ),
        # the example: X replaces Y on 2026-12-24 16:00 - 2026-12-25 08:00 (carl's Christmas Eve night)
        (
            (Override.replacement("erik", "carl", cph(2026, 12, 24, 16), cph(2026, 12, 25, 8)),),
            cph(2026, 12, 25, 3),
            ["erik"],
        ),
        (
            (Override.replacement("erik", "carl", cph(2026, 12, 24, 16), cph(2026, 12, 25, 8)),),
            cph(2026, 12, 25, 8),
            ["dora"],
        ),
    ],
)
def test_overrides_beat_the_pattern(
    overrides: tuple[Override, ...], t: datetime, expected_primary: list[str]
) -> None:
    roster = office(overrides=overrides)
    assert [e.advisor.id for e in oncall_at(roster, t) if e.layer is P] == expected_primary
    assert keys(oncall_at(roster, t)) == keys(scan_oncall_at(roster, t))


def test_cover_trims_the_shift_it_interrupts() -> None:
    cover = Override.replacement("bo", "anna", cph(*WED, 12), cph(*WED, 14), reason="tandlæge")
    roster = office(overrides=(cover,))
    [before] = [e for e in oncall_at(roster, cph(*WED, 9)) if e.layer is P]
    [during] = [e for e in oncall_at(roster, cph(*WED, 13)) if e.layer is P]
    [after] = [e for e in oncall_at(roster, cph(*WED, 15)) if e.layer is P]
    assert (before.advisor.id, before.start, before.end) == ("anna", cph(*WED, 8), cph(*WED, 12))
    assert (during.advisor.id, during.source, during.covers, during.note) == (
        "bo",
        Source.OVERRIDE,
        "anna",
        "tandlæge",
    )
    assert (after.start, after.end) == (cph(*WED, 14), cph(*WED, 16))


def test_a_changed_copy_of_a_roster_does_not_reuse_its_cached_answers() -> None:
    roster = office()
    assert who(roster, cph(*WED, 10))[0] == ("anna", "primary")
    changed = dataclasses.replace(roster, overrides=(Override.absence("anna", cph(*WED, 0), cph(*WED, 23)),))
    assert who(changed, cph(*WED, 10))[0] == ("erik", "backup")
    assert who(roster, cph(*WED, 10))[0] == ("anna", "primary")


def test_inactive_advisors_are_never_on_call_but_their_cover_is() -> None:
    assert who(office(inactive="anna"), cph(*WED, 10)) == [("erik", "backup"), ("mona", "manager")]
    cover = Override.replacement("bo", "anna", cph(*WED, 8), cph(*WED, 16))
    assert ("bo", "primary") in who(office(inactive="anna", overrides=(cover,)), cph(*WED, 10))


# --- daylight saving ------------------------------------------------------------------------------------------


def dst_roster() -> Roster:
    """Nights split at 02:30 (inside both DST hours): aase 22:00-02:30, bent 02:30-07:00, cille 07:00-22:00; a
    backup, pia, only from 02:00 to 03:00."""
    return Roster(
        advisors=(advisor("aase", 1), advisor("bent", 2), advisor("cille", 3), advisor("pia", 4)),
        shifts=(
            shift("aase", P, "daily", "22:00", "02:30"),
            shift("bent", P, "daily", "02:30", "07:00"),
            shift("cille", P, "daily", "07:00", "22:00"),
            shift("pia", B, "daily", "02:00", "03:00"),
        ),
    )


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        # October, first pass of 02:00-03:00 (CEST), then the second pass (CET)
        (cph(2026, 10, 25, 2, 29, fold=0), [("aase", "primary"), ("pia", "backup")]),
        (cph(2026, 10, 25, 2, 30, fold=0), [("bent", "primary"), ("pia", "backup")]),
        (cph(2026, 10, 25, 2, 29, fold=1), [("bent", "primary"), ("pia", "backup")]),
        (cph(2026, 10, 25, 2, 30, fold=1), [("bent", "primary"), ("pia", "backup")]),
        (cph(2026, 10, 25, 3, 0), [("bent", "primary")]),
        (cph(2027, 10, 31, 2, 30, fold=0), [("bent", "primary"), ("pia", "backup")]),
        (cph(2027, 10, 31, 2, 30, fold=1), [("bent", "primary"), ("pia", "backup")]),
        # March: 02:30 does not exist (Python reads it as 03:30 CEST); the 02:00-03:00 backup never happens
        (cph(2026, 3, 29, 2, 30), [("bent", "primary")]),
        (cph(2026, 3, 29, 1, 59), [("aase", "primary")]),
        (cph(2026, 3, 29, 3, 0), [("bent", "primary")]),
        (cph(2027, 3, 28, 2, 30), [("bent", "primary")]),
        (cph(2027, 3, 28, 3, 0), [("bent", "primary")]),
    ],
)
def test_who_is_on_call_in_the_dst_hour(t: datetime, expected: list[tuple[str, str]]) -> None:
    assert who(dst_roster(), t) == expected


@pytest.mark.parametrize(
    ("night", "aase_hours", "bent_hours", "pia_hours"),
    [
        (date(2026, 10, 24), 4.5, 5.5, 2),  # the night has 10 hours; pia's 02:00-03:00 spans both passes
        (date(2027, 10, 30), 4.5, 5.5, 2),
        (date(2026, 3, 28), 4, 4, 0),  # 8 hours; pia's hour never happens
        (date(2027, 3, 27), 4, 4, 0),
        (date(2026, 6, 13), 4.5, 4.5, 1),
    ],
)
def test_dst_nights_tile_without_overlap_or_hole(
    night: date, aase_hours: float, bent_hours: float, pia_hours: float
) -> None:
    start = cph(night.year, night.month, night.day, 22)
    end = start.astimezone(COPENHAGEN).replace(hour=7) + timedelta(days=1)
    intervals = coverage(dst_roster(), start, end)
    hours: dict[str, float] = {}
    for interval in intervals:
        for e in interval.entries:
            hours[e.advisor.id] = (
                hours.get(e.advisor.id, 0) + (interval.end - interval.start).total_seconds() / 3600
            )
        assert [e.layer for e in interval.entries].count(P) == 1  # exactly one primary at every instant
    assert intervals[0].start == start and intervals[-1].end == end
    assert all(a.end == b.start for a, b in pairwise(intervals))
    assert (hours["aase"], hours["bent"], hours.get("pia", 0)) == (aase_hours, bent_hours, pia_hours)


@pytest.mark.parametrize("year", [2026, 2027])
def test_a_year_of_tiling_shifts_is_covered_exactly_once(year: int) -> None:
    start, end = cph(year, 1, 1), cph(year + 1, 1, 1)
    primary = sum(
        ((i.end - i.start) for i in coverage(dst_roster(), start, end) if i.has_layer(P)), start=timedelta()
    )
    assert primary == end - start  # 8760 real hours: no phantom hour counted, no hour missing


def test_coverage_lists_empty_stretches_and_merges_unchanged_ones() -> None:
    roster = Roster(advisors=(advisor("nat", 1),), shifts=(shift("nat", P, "daily", "22:00", "07:00"),))
    intervals = coverage(roster, cph(2026, 6, 10, 0), cph(2026, 6, 12, 0))
    spans = [(i.start.astimezone(COPENHAGEN).strftime("%d %H"), bool(i.entries)) for i in intervals]
    assert spans == [("10 00", True), ("10 07", False), ("10 22", True), ("11 07", False), ("11 22", True)]


# --- the index agrees with a plain scan -------------------------------------------------------------------------


def test_long_roster_agrees_with_a_plain_scan() -> None:
    roster = big_roster(60, first_day=date(2026, 1, 1), n_days=400, overrides_per_day=2)
    rng = random.Random(7)
    start = cph(2026, 1, 1)
    instants = [start + timedelta(minutes=rng.randrange(400 * 24 * 60)) for _ in range(200)]
    instants += [cph(2026, 3, 29, 1, 30), cph(2026, 10, 25, 2, 30, fold=0), cph(2026, 10, 25, 2, 30, fold=1)]
    for t in instants:
        found = oncall_at(roster, t)
        assert keys(found) == keys(scan_oncall_at(roster, t)), t
        assert all(e.start <= t.astimezone(UTC) < e.end for e in found)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    roster=rosters(),
    night=st.sampled_from(DST_NIGHTS),
    minutes=st.integers(0, 16 * 60),
    fold=st.integers(0, 1),
)
def test_index_agrees_with_plain_scan_around_dst(
    roster: Roster, night: date, minutes: int, fold: int
) -> None:
    t = (cph(night.year, night.month, night.day, 18) + timedelta(minutes=minutes)).replace(fold=fold)
    found = oncall_at(roster, t)
    assert keys(found) == keys(scan_oncall_at(roster, t))
    assert all(e.start <= t.astimezone(UTC) < e.end for e in found)
    window = coverage(roster, t - timedelta(hours=3), t + timedelta(hours=3))
    assert all(a.end == b.start and a.entries != b.entries for a, b in pairwise(window))
    [now] = [i for i in window if i.start <= t.astimezone(UTC) < i.end]
    assert list(now.entries) == found
