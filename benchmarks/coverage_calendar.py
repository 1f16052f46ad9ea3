"""How long the coverage calendar (/console/calendar/) takes on the demo roster, in-process.

    .venv/bin/python benchmarks/coverage_calendar.py [--requests 50]

The real app (demo mode) on a migrated SQLite file in a temporary directory, the demo roster imported, a manager
signed in through the form with Flask's test client. Timed, after one warm-up request each: the pure builder
(`routing.coverage_calendar.build_calendar`) for a month on a fresh copy of the roster (nothing cached), and
GET of the week view, the month view (October 2026: the autumn clock change), the chain preview and the links
page, each `--requests` times (the calendar then comes from the roster's memo), and of `--requests` months never
asked for before (built each time). Server-side only (no HTTP, no network): what the page costs the web process.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

# The sign-in helper lives with the tests; make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotline.app import create_app
from hotline.db.session import make_engine, upgrade
from hotline.services import rosters, staff_accounts
from routing.coverage_calendar import build_calendar, month_range
from routing.roster_file import load_roster
from tests.helpers import REPO, STAFF_PASSWORD, console_login

PAGES = {
    "week": "/console/calendar/?date=2026-10-21",
    "month": "/console/calendar/?view=month&date=2026-10-01",
    "preview": "/console/calendar/preview?date=2026-10-25&time=02:30",
    "feeds": "/console/calendar/feeds",
}


def timed(n: int, run: Callable[[], object]) -> tuple[float, float, float]:
    """Median and 95th percentile wall-clock ms of `n` runs, and the median CPU ms (this process's own time,
    which other work on a shared machine moves far less than the wall clock)."""
    samples, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        run()
        samples.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    samples.sort()
    return (
        statistics.median(samples),
        samples[min(len(samples) - 1, int(len(samples) * 0.95))],
        statistics.median(cpu),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    n = parser.parse_args().requests
    text = rosters.DEMO_ROSTER.read_text(encoding="utf-8")

    def cold_month() -> object:
        fresh = dataclasses.replace(load_roster(text, "demo_roster.yaml"))  # an empty on-call index
        return build_calendar(fresh, *month_range(date(2026, 10, 1)))

    print(f"{'what':<28} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>8}")
    print(f"{'build_calendar month, cold':<28} " + " ".join(f"{x:8.1f}" for x in timed(n, cold_month)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        app = create_app(
            {
                "HOTLINE_DATABASE_URL": f"sqlite:///{path}",
                "config_path": str(REPO / "config.yaml"),
                "config": {"instance_dir": tmp, "logging": {"level": "WARNING"}},
            }
        )
        runtime = app.extensions["hotline"]
        with runtime.sessions.begin() as session:
            rosters.import_roster(session, text, source_name="demo_roster.yaml", actor="bench")
            staff_accounts.create(
                session,
                username="boss",
                name="",
                role=staff_accounts.Role.MANAGER,
                password=STAFF_PASSWORD,
                advisor_id="mette",
            )
        client = app.test_client()
        assert console_login(client, "boss").status_code == 302
        for name, url in PAGES.items():

            def get(url: str = url) -> None:
                answer = client.get(url)
                assert answer.status_code == 200, (url, answer.status_code)

            get()  # warm: the roster parsed, its on-call index built, the templates compiled
            print(f"{'GET ' + name:<28} " + " ".join(f"{x:8.1f}" for x in timed(n, get)))
        # A month never seen before on this roster version: its calendar built, not taken from the memo.
        months = iter(range(10_000))

        def new_month() -> None:
            month = next(months)
            year, month = 2030 + month // 12, month % 12 + 1
            answer = client.get(f"/console/calendar/?view=month&date={year}-{month:02d}-01")
            assert answer.status_code == 200

        print(f"{'GET month, first view':<28} " + " ".join(f"{x:8.1f}" for x in timed(n, new_month)))
        runtime.dispose()


if __name__ == "__main__":
    main()
