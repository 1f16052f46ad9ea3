"""Managers' commands against a real database: `hotline roster import|export|gaps|feeds` and `hotline oncall`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select

from hotline.db.models import Relative, RosterVersion
from hotline.db.session import make_engine, make_session_factory
from hotline.services import rosters
from routing.oncall import oncall_at
from routing.roster import Roster
from routing.roster_file import load_roster
from routing.wallclock import COPENHAGEN, UTC, wall_to_utc
from tests.helpers import HotlineRunner

REPO = Path(__file__).resolve().parents[2]

# Primary and backup hand over at 02:30, inside the hour the clocks skip in March and repeat in October.
ROSTER = """\
version: 1
holidays: {use: sunday, include_optional: true}
teams:
  - {id: nord, name: Team Nord}
  - {id: syd, name: Team Syd}
advisors:
  - {id: anna, name: Anna Prøve, phone: "+45 68 30 00 01", languages: [da, en], team: nord}
  - {id: bilal, name: Bilal Prøve, phone: "+45 68 30 00 02", languages: [da, ar], team: nord}
  - {id: carla, name: Carla Prøve, phone: "+45 68 30 00 03", languages: [da], team: syd}
  - {id: dorte, name: Dorte Prøve, phone: "+45 68 30 00 04", languages: [da, en], team: syd}
shifts:
  primary:
    - {advisor: anna, days: daily, start: "02:30", end: "15:00"}
    - {advisor: bilal, days: daily, start: "15:00", end: "02:30"}
  backup:
    - {advisor: carla, days: mon-fri, start: "08:00", end: "16:00"}
  manager:
    - {advisor: dorte, days: daily, start: "07:00", end: "07:00"}
overrides:
  - {off: anna, from: "2026-10-25 00:00", to: "2026-10-26 00:00", reason: kursus}
  - {replace: anna, with: carla, from: "2026-10-25 02:30", to: "2026-10-25 15:00", reason: dækker kursus}
  - {add: bilal, layer: backup, from: "2026-10-25T02:30:00+01:00", to: "2026-10-25 09:00", reason: ekstra}
  - {replace: bilal, with: dorte, from: "2026-03-28 22:00", to: "2026-03-29 02:30", reason: bytte}
"""

# The same people, but the afternoon starts at 15:01: one uncovered minute a day at weekends (no backup).
GAPPED = ROSTER.replace('start: "15:00", end: "02:30"', 'start: "15:01", end: "02:30"')

BROKEN = """\
version: 1
advisors:
  - {id: anna, name: Anna Prøve, phone: "+45 68 30 00 01", languages: [da]}
  - {id: anna, name: Anna To, phone: "12345", languages: [da]}
shifts:
  primary:
    - {advisor: anna, days: daily, start: "07:00", end: "15:00"}
    - {advisor: ana, days: daily, start: "25:00", end: "07:00"}
"""


def broken_lines(path: Path) -> list[str]:
    return [
        f"hotline: {path}:4: advisors[1].phone '12345' is not a valid phone number; write it like "
        '"+45 68 10 10 01"',
        f"hotline: {path}:4: advisors[1].id 'anna' is used twice (first at line 3); give each advisor their own id",
        f"hotline: {path}:8: shifts.primary[1].advisor 'ana' is not an advisor id; did you mean 'anna'?",
        f"hotline: {path}:8: shifts.primary[1].start '25:00' is not a time; write HH:MM, e.g. 22:00",
    ]


Run = Callable[..., Result]


@pytest.fixture
def hotline(runner: HotlineRunner) -> Run:
    """Runs `hotline ARGS...` in-process; an exception other than an exit is raised, not kept in the result."""

    def run(*args: str, **env: str) -> Result:
        result = runner.invoke(args, env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def stored(database_url: str) -> tuple[int, Roster | None]:
    """(number of versions, roster in force) as the database holds them."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            count = session.scalar(select(func.count()).select_from(RosterVersion)) or 0
            return count, rosters.current_roster(session)
    finally:
        engine.dispose()


def test_import_prints_a_summary_and_the_version(hotline: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "vagtplan.yaml", ROSTER)
    first = hotline("roster", "import", str(path))
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        "Vagtplan indlæst (roster imported): 4 rådgivere (advisors), 4 vagter (shifts), 4 undtagelser (overrides)",
        "importeret som version 1 (imported as version 1)",
    ]
    second = hotline("roster", "import", str(path))
    assert "importeret som version 2 (imported as version 2)" in second.stdout


def test_a_broken_roster_is_refused_line_by_line_and_changes_nothing(
    hotline: Run, tmp_path: Path, database_url: str
) -> None:
    assert hotline("roster", "import", str(write(tmp_path, "good.yaml", ROSTER))).exit_code == 0
    before = stored(database_url)
    path = write(tmp_path, "broken.yaml", BROKEN)
    result = hotline("roster", "import", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert "nothing changed" in lines[0]
    assert "4 fejl at rette (4 problems to fix)" in lines[0]
    assert lines[1:] == broken_lines(path)
    assert stored(database_url) == before  # still version 1, still the good roster


def _on_call(roster: Roster, t: datetime) -> list[tuple[str, str, datetime, datetime]]:
    return [(e.advisor.id, e.layer.value, e.start, e.end) for e in oncall_at(roster, t)]


def _samples() -> list[datetime]:
    """Every 10 minutes over both 2026 clock-change nights, plus each pass of 02:30 named explicitly."""
    found: list[datetime] = []
    for night in (datetime(2026, 3, 28, 20, tzinfo=UTC), datetime(2026, 10, 24, 20, tzinfo=UTC)):
        found += [night + timedelta(minutes=10 * k) for k in range(6 * 14)]
    found += [
        datetime(2026, 10, 25, 2, 30, tzinfo=COPENHAGEN),  # first 02:30 (summer time)
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=COPENHAGEN),  # second 02:30 (winter time)
        wall_to_utc(datetime(2026, 3, 29).date(), time(2, 30)),  # 02:30 never happens: 03:00
        datetime(2026, 11, 3, 15, 30, tzinfo=COPENHAGEN),
    ]
    return found


def test_export_imports_back_to_the_same_schedule(hotline: Run, tmp_path: Path, database_url: str) -> None:
    assert hotline("roster", "import", str(write(tmp_path, "in.yaml", ROSTER))).exit_code == 0
    out = tmp_path / "out.yaml"
    exported = hotline("roster", "export", "--output", str(out))
    assert exported.exit_code == 0, exported.output
    assert hotline("roster", "export").stdout == out.read_text(encoding="utf-8")
    assert hotline("roster", "export", "--original").stdout == ROSTER

    reimported = hotline("roster", "import", str(out))
    assert "imported as version 2" in reimported.stdout
    versions, current = stored(database_url)
    assert versions == 2 and current is not None
    original = load_roster(ROSTER)
    for t in _samples():
        assert _on_call(current, t) == _on_call(original, t), t.isoformat()
    # The samples see the overrides, so the comparison is not between two empty schedules.
    second_pass = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=COPENHAGEN)
    assert ("bilal", "backup") in [entry[:2] for entry in _on_call(original, second_pass)]


ONCALL_CASES = [
    (
        ["--at", "2026-11-03T15:30", "--language", "ar"],
        [
            "Vagtkæde 2026-11-03 15:30 (CET), akut (acute), sprog (language): ar",
            "  1. Bilal Prøve (bilal, +45 68 30 ** **): taler arabisk (speaks Arabic), primær (primary)",
            "  2. Carla Prøve (carla, +45 68 30 ** **): bagvagt (backup)",
            "  3. Dorte Prøve (dorte, +45 68 30 ** **): leder (manager)",
        ],
    ),
    (
        ["--at", "2026-11-03 14:00+00:00", "--reason", "question", "--relative", "+45 67 30 00 99"],
        [
            "Pårørende (relative) +45 67 30 ** **: kendt (known), kontaktperson (contact person): carla",
            "Vagtkæde 2026-11-03 15:00 (CET), spørgsmål (question), sprog (language): en",
            "  1. Carla Prøve (carla, +45 68 30 ** **): kontaktperson (contact person), bagvagt (backup)",
            "  2. Bilal Prøve (bilal, +45 68 30 ** **): primær (primary)",
        ],
    ),
    (  # the second 02:30 of the October night: Bilal's extra backup shift, Carla covering Anna
        ["--at", "2026-10-25T02:30:00+01:00", "--relative", "67 30 00 98"],
        [
            "Pårørende (relative) +45 67 30 ** **: ukendt nummer (unknown number), "
            "ingen kontaktperson (no contact person)",
            "Vagtkæde 2026-10-25 02:30 (CET), akut (acute), sprog (language): da",
            "  1. Carla Prøve (carla, +45 68 30 ** **): taler dansk (speaks Danish), primær (primary), "
            "dækker for anna (covering for anna)",
            "  2. Bilal Prøve (bilal, +45 68 30 ** **): taler dansk (speaks Danish), bagvagt (backup), "
            "ekstra vagt (extra shift)",
            "  3. Dorte Prøve (dorte, +45 68 30 ** **): taler dansk (speaks Danish), leder (manager)",
        ],
    ),
]


@pytest.mark.parametrize(("args", "expected"), ONCALL_CASES)
def test_oncall_prints_the_chain_with_reasons(
    hotline: Run, tmp_path: Path, database_url: str, args: list[str], expected: list[str]
) -> None:
    assert hotline("roster", "import", str(write(tmp_path, "r.yaml", ROSTER))).exit_code == 0
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        session.add(Relative(phone_number="+4567300099", language="en", contact_person_id="carla"))
    engine.dispose()
    result = hotline("oncall", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == expected


def test_oncall_refuses_a_bad_number_or_language(hotline: Run, tmp_path: Path) -> None:
    hotline("roster", "import", str(write(tmp_path, "r.yaml", ROSTER)))
    assert hotline("oncall", "--relative", "12").exit_code == 2
    assert "'fr' is not an enabled language" in hotline("oncall", "--language", "fr").stderr
    assert "is not an ISO 8601 time" in hotline("oncall", "--at", "i morgen").stderr


def test_gaps_finds_a_planted_minute(hotline: Run, tmp_path: Path) -> None:
    hotline("roster", "import", str(write(tmp_path, "gapped.yaml", GAPPED)))
    result = hotline("roster", "gaps", "--from", "2026-10-24T12:00", "--days", "2")
    assert result.exit_code == 3
    assert result.stdout.splitlines() == [
        "2 huller i vagtplanen (2 gaps in the roster): 2026-10-24 12:00 CEST → 2026-10-26 12:00 CET, "
        "døgnet rundt (24/7)",
        "  HUL (gap): 2026-10-24 15:00 CEST → 2026-10-24 15:01 CEST (0 t 1 min)",
        "  HUL (gap): 2026-10-25 15:00 CET → 2026-10-25 15:01 CET (0 t 1 min)",
    ]


@pytest.mark.parametrize("start", ["2026-10-24T12:00", "2026-03-28T12:00", "2026-12-20T00:00"])
def test_gaps_reports_none_on_a_full_roster(hotline: Run, tmp_path: Path, start: str) -> None:
    hotline("roster", "import", str(write(tmp_path, "full.yaml", ROSTER)))
    result = hotline("roster", "gaps", "--from", start, "--days", "21")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ingen huller (no gaps): ")


@pytest.mark.parametrize("args", [["roster", "export"], ["roster", "gaps"], ["roster", "feeds"], ["oncall"]])
def test_commands_without_a_roster_say_how_to_get_one(hotline: Run, args: list[str]) -> None:
    result = hotline(*args)
    assert result.exit_code == 1
    assert "run: hotline roster import FILE" in result.stderr


def test_feeds_lists_every_advisor_team_and_the_whole_hotline(hotline: Run, tmp_path: Path) -> None:
    hotline("roster", "import", str(write(tmp_path, "r.yaml", ROSTER)))
    result = hotline("roster", "feeds", HOTLINE_PUBLIC_URL="https://hotline.example")
    urls = [word for word in result.stdout.split() if word.startswith("https://")]
    assert [u.split("/calendar/")[1].rsplit("-", 1)[0] for u in urls] == [
        "advisor-anna",
        "advisor-bilal",
        "advisor-carla",
        "advisor-dorte",
        "team-nord",
        "team-syd",
        "all-hotline",
    ]
    assert all(u.startswith("https://hotline.example/calendar/") and u.endswith(".ics") for u in urls)


def test_real_process_exit_codes(tmp_path: Path, database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(HOTLINE_CONFIG=str(REPO / "config.yaml"), HOTLINE_DATABASE_URL=database_url)

    def hotline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hotline", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    broken = write(tmp_path, "broken.yaml", BROKEN)
    refused = hotline("roster", "import", str(broken))
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[1:] == broken_lines(broken)
    assert stored(database_url)[0] == 0

    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        rosters.import_roster(session, GAPPED, source_name="gapped.yaml", actor="test")
    engine.dispose()
    gaps = hotline("roster", "gaps", "--from", "2026-10-24T12:00", "--days", "2")
    assert gaps.returncode == 3, gaps.stderr
    assert len(gaps.stdout.splitlines()) == 3  # the heading and one minute on each of two days


def test_preferences_and_coverage_hours_come_from_config() -> None:
    from datetime import time

    from hotline.config.settings import load_settings
    from hotline.services.oncall import coverage_hours, preferences
    from routing.roster import Layer

    settings = load_settings(
        environ={},
        overrides={
            "routing": {
                "language_first": False,
                "question_layers": ["primary"],
                "coverage_hours": [{"days": ["sat", "sun"], "start": "08:00", "end": "20:00"}],
            }
        },
    )
    prefs = preferences(settings)
    assert (prefs.language_first, prefs.contact_person_first, prefs.question_layers) == (
        False,
        True,
        (Layer.PRIMARY,),
    )
    (window,) = coverage_hours(settings).windows
    assert (window.days, window.start, window.end) == ((5, 6), time(8), time(20))
