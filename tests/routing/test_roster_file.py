from datetime import UTC, date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from routing.holiday_rule import HolidayRule
from routing.oncall import oncall_at
from routing.roster import Layer, Override, Roster
from routing.roster_file import RosterFileError, dump_roster, load_roster
from tests.routing.factory import advisor, big_roster, cph, shift
from tests.routing.strategies import DST_NIGHTS, rosters

DEMO = Path(__file__).parents[2] / "routing" / "demo_roster.yaml"

# Line numbers matter here: the error tests below replace one line and expect its number in the message.
BASE = """\
version: 1
holidays:
  use: sunday
teams:
  - id: nord
    name: Team Nord
advisors:
  - id: anna
    name: Anna Prøvesen
    phone: "+45 68 10 10 01"
    languages: [da, ar]
    team: nord
  - id: bo
    name: Bo Eksempelsen
    phone: 68 10 10 02
    languages: [da]
    team: nord
shifts:
  primary:
    - advisor: anna
      days: mon-fri
      start: "08:00"
      end: "16:00"
    - {advisor: bo, days: daily, start: "16:00", end: "08:00"}
  backup:
    - {advisor: bo, days: [sat, sun], start: 08:00, end: 16:00}
overrides:
  - replace: anna
    with: bo
    from: 2026-12-24 08:00
    to: 2026-12-24 16:00
"""


def with_line(number: int, text: str) -> str:
    lines = BASE.splitlines()
    lines[number - 1] = text
    return "\n".join(lines) + "\n"


def problems(text: str) -> list[str]:
    with pytest.raises(RosterFileError) as caught:
        load_roster(text, "roster.yaml")
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_base_file_loads() -> None:
    roster = load_roster(BASE, "roster.yaml")
    assert [a.phone for a in roster.advisors] == ["+4568101001", "+4568101002"]  # normalised to E.164
    assert len(roster.shifts) == 3 and len(roster.overrides) == 1
    assert roster.shifts[2].start.hour == 8  # 08:00 unquoted is a time, not YAML 1.1's sexagesimal 480


@pytest.mark.parametrize(
    ("line", "text", "expected"),
    [
        (
            22,
            '      start: "25:00"',
            "roster.yaml:22: shifts.primary[0].start '25:00' is not a time; write HH:MM, e.g. 22:00",
        ),
        (
            23,
            '      end: "7.00"',
            "roster.yaml:23: shifts.primary[0].end '7.00' is not a time; write HH:MM, e.g. 22:00",
        ),
        (
            21,
            "      days: mon-fry",
            "roster.yaml:21: shifts.primary[0].days 'mon-fry' is not a weekday; write mon, tue",
        ),
        (
            20,
            "    - advisor: ana",
            "roster.yaml:20: shifts.primary[0].advisor 'ana' is not an advisor id; did you mean 'anna'?",
        ),
        (
            13,
            "  - id: anna",
            "roster.yaml:13: advisors[1].id 'anna' is used twice (first at line 8); give each advisor",
        ),
        (
            8,
            "  - id: Anna K",
            "roster.yaml:8: advisors[0].id 'Anna K' is not a valid id; use lowercase letters, digits and -, e.g. anna-k",
        ),
        (
            10,
            '    phone: "12345"',
            "roster.yaml:10: advisors[0].phone '12345' is not a valid phone number; write it like",
        ),
        (
            10,
            '    phone: "+45 12 34 56 78"',
            "roster.yaml:10: advisors[0].phone '+45 12 34 56 78' is not a valid phone number",
        ),
        (
            11,
            "    languages: [da, AR]",
            "roster.yaml:11: advisors[0].languages[1] 'AR' is not a language code; write 'ar' (lowercase)",
        ),
        (
            12,
            "    team: syd",
            "roster.yaml:12: advisors[0].team 'syd' is not under teams:; use one of nord, or add it",
        ),
        (3, "  use: someday", "roster.yaml:3: holidays.use 'someday' is not a weekday; write e.g. sunday"),
        (
            30,
            "    from: 2026-13-24 08:00",
            "roster.yaml:30: overrides[0].from '2026-13-24 08:00' is not a date and time; write YYYY-MM-DD HH:MM",
        ),
        (
            30,
            "    from: 2026-12-24",
            "roster.yaml:30: overrides[0].from '2026-12-24' has no time of day; add one",
        ),
        (
            31,
            "    to: 2026-12-24 07:00",
            "roster.yaml:31: overrides[0].to is not after from:; the override must end after it starts",
        ),
        (
            29,
            "    with: anna",
            "roster.yaml:29: overrides[0].with is the advisor being replaced; name the advisor who covers",
        ),
        (
            29,
            "    layer: sometimes",
            "roster.yaml:28: overrides[0] replaces someone but has no with:; write with: <advisor id>",
        ),
        (27, "overides:", "roster.yaml:27: the file has unknown key 'overides'; did you mean 'overrides'?"),
        (
            26,
            "    - {advisor: bo, days: [sat, sun], start: 08:00, end: 16:00, layer: backup}",
            "roster.yaml:26: shifts.backup[0] has unknown key 'layer'",
        ),
        (
            25,
            "  standby:",
            "roster.yaml:25: shifts has unknown key 'standby'; allowed keys: primary, backup, manager",
        ),
        (
            17,
            "    active: maybe",
            "roster.yaml:17: advisors[1].active 'maybe' is not allowed; write one of: true, false",
        ),
        (1, "version: 2", "roster.yaml:1: version '2' is not allowed; write one of: 1"),
    ],
)
def test_import_error_names_line_and_fix(line: int, text: str, expected: str) -> None:
    found = problems(with_line(line, text))
    assert any(p.startswith(expected) for p in found), found


def test_missing_and_misspelt_keys_are_both_reported() -> None:
    found = problems(with_line(9, "    nme: Anna Prøvesen"))
    assert found == [
        "roster.yaml:8: advisors[0] has no name:; add name: Birgitte Prøvesen",
        "roster.yaml:9: advisors[0] has unknown key 'nme'; did you mean 'name'?",
    ]


def test_every_problem_is_reported_in_line_order_and_nothing_is_returned() -> None:
    text = with_line(22, '      start: "25:00"')
    text = text.replace("phone: 68 10 10 02", "phone: 12")
    text = text.replace("advisor: anna\n", "advisor: nobody\n")
    found = problems(text)
    assert [p.split(":")[1] for p in found] == ["15", "20", "22"]


def test_overlapping_replacements_are_refused() -> None:
    text = BASE + "  - replace: anna\n    with: bo\n    from: 2026-12-24 12:00\n    to: 2026-12-24 20:00\n"
    assert problems(text) == [
        "roster.yaml:32: this override replaces anna at the same time as the one at line 28; remove one, "
        "give them different layers, or make their times not overlap"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "roster.yaml:1: the file is empty"),
        ("- just\n- a list\n", "roster.yaml:1: the file must be a mapping"),
        ("advisors: [\nshifts: {}\n", "the file is not valid YAML"),
        ("advisors:\n", "roster.yaml:1: the file has no shifts:"),
    ],
)
def test_unusable_files(text: str, expected: str) -> None:
    assert any(expected in p for p in problems(text))


def test_demo_roster_loads_with_languages_and_layers() -> None:
    roster = load_roster(DEMO.read_text(encoding="utf-8"), "demo_roster.yaml")
    languages = {code for a in roster.advisors for code in a.languages}
    assert {"da", "en", "ar", "tr", "so"} <= languages
    assert {s.layer for s in roster.shifts} == set(Layer)
    assert all(a.phone.startswith("+4568") for a in roster.advisors)


SAMPLES = [
    cph(2026, 3, 29, 2, 30),
    cph(2026, 10, 25, 2, 30, fold=0),
    cph(2026, 10, 25, 2, 30, fold=1),
    cph(2026, 11, 3, 3),
    cph(2026, 12, 24, 18),
    cph(2026, 12, 31, 23),
    cph(2027, 3, 25, 12),
]


def same_oncall(a: Roster, b: Roster, instants: list) -> None:
    for t in instants:
        assert oncall_at(a, t) == oncall_at(b, t), t


def test_demo_round_trip() -> None:
    roster = load_roster(DEMO.read_text(encoding="utf-8"), "demo_roster.yaml")
    again = load_roster(dump_roster(roster), "dumped.yaml")
    assert again == roster
    same_oncall(roster, again, SAMPLES + [cph(2026, 1, 1) + timedelta(hours=7 * k) for k in range(200)])


def test_round_trip_keeps_what_a_bare_local_time_cannot_say() -> None:
    second_pass = cph(2026, 10, 25, 2, 15, fold=1)  # the repeated hour's second pass needs its offset
    with_seconds = cph(2026, 6, 1, 8, 0).replace(second=30)
    roster = Roster(
        advisors=(
            advisor("anna", 1, languages=("da", "so"), skills=("dementia",)),
            advisor("bo", 2, active=False),
        ),
        shifts=(
            shift("anna", "primary", "daily", "00:00", "00:00"),
            shift("bo", "manager", "fri-mon", "22:00", "24:00"),
        ),
        overrides=(
            Override.absence("anna", second_pass, second_pass.astimezone(UTC) + timedelta(minutes=30)),
            Override.extra("bo", Layer.BACKUP, with_seconds, with_seconds + timedelta(hours=1), reason=""),
        ),
        holiday_rule=HolidayRule(use=None, include_optional=True, extra_dates=(date(2026, 8, 7),)),
    )
    text = dump_roster(roster)
    assert "+01:00" in text and "08:00:30" in text
    assert load_roster(text, "dumped.yaml") == roster


def test_big_round_trip() -> None:
    roster = big_roster(40, n_days=120, overrides_per_day=3)
    again = load_roster(dump_roster(roster), "big.yaml")
    assert again == roster
    same_oncall(
        roster, again, [cph(2026, 1, 1).astimezone(UTC) + timedelta(minutes=997 * k) for k in range(150)]
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(roster=rosters())
def test_any_roster_round_trips(roster: Roster) -> None:
    again = load_roster(dump_roster(roster), "dumped.yaml")
    assert again == roster
    night = DST_NIGHTS[0]
    same_oncall(
        roster,
        again,
        [cph(night.year, night.month, night.day, 20) + timedelta(minutes=47 * k) for k in range(20)],
    )


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("fri-mon", (0, 4, 5, 6)),
        ("[lør, søn]", (5, 6)),
        ("mandag", (0,)),
        ("daily", (0, 1, 2, 3, 4, 5, 6)),
        ("[mon, wed-thu]", (0, 2, 3)),
        ("sat, sun", (5, 6)),
    ],
)
def test_day_spellings(days: str, expected: tuple[int, ...]) -> None:
    roster = load_roster(with_line(21, f"      days: {days}"), "roster.yaml")
    assert roster.shifts[0].days == expected
