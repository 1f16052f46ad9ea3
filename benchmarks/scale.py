"""Does the cost of the hot paths stay flat as the data grows? (issue 12) One database grown 1x -> 10x -> 100x.

    .venv/bin/python benchmarks/scale.py [--repeat 50] [--max-scale 100] [--sqlite] [--budget 540]

1x is 1,000 relatives, 10,000 calls, 1,000 callbacks (200 of them open, the rest closed, each closed one with an
attempt and its note) and a roster of 3 advisors with two years of overrides (tests/routing/factory.big_roster at
0.08 overrides a day, dumped with routing.roster_file.dump_roster and imported through
hotline/services/rosters.import_roster, as `hotline roster import` does). 10x and 100x multiply everything but the
open callbacks (a queue is as long as the day's work, not as the history): 100x is 100,000 relatives, 1,000,000
calls, 100,000 callbacks and 300 advisors with 8 overrides a day over 730 days. The bulk rows are less than 80
days old (inside every retention period); each scale also adds a fixed "old slice" past retention (500 calls, 50
closed callbacks with notes, 50 relatives last heard from 400 days ago) for the purge to find. Rows go in with
Core executemany in chunks (insertmanyvalues: multi-row INSERTs on PostgreSQL).

Measured in-process at each scale, `--repeat` times after a few warm-up rounds:
  new call   a signed POST /twilio/voice (Flask test client, twilio's RequestValidator) from a known relative
             (a fallback answer is a 200 too: the call rows the posts inserted are counted afterwards)
  oncall     services/oncall.chain_for now (what `hotline oncall` computes): roster version check + busy + chain
  queue      services/callback_work.listing (the console's queue rows) and services/callback_queue.queue
  purge      services/retention.purge_personal_data: its first run at each scale (one sample: it finds that
             scale's old slice) and then a no-op run (`--repeat` samples; it finds nothing)
On PostgreSQL a last row repeats the no-op purge with `plan_cache_mode = force_custom_plan` (psycopg prepares a
statement after 5 runs, and PostgreSQL may then switch to a generic plan that does not know the cutoff).
The slowest statements of each path's captured run at the largest scale are listed with their time.
The table: median and p95 ms per scale, the ratio 100x/1x of the medians and "flat?" (ratio <= 2). At the largest
scale the statements these paths run are captured and EXPLAINed (PostgreSQL); a Seq Scan on a table of more than
10,000 rows is flagged. PostgreSQL: a fresh database bench_scale_<pid> (HOTLINE_BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/test), dropped at the end. `--sqlite` uses a SQLite file instead.
If the next scale's seeding would not fit the time budget (estimated from the last one), it stops there and says so.
Figures are from one run on a shared machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, event, func, insert, select, text
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotline.app import create_app
from hotline.config.settings import normalize_database_url
from hotline.db.models import Call, CallbackAttempt, CallbackRequest, Relative
from hotline.db.session import make_engine, upgrade
from hotline.services import callback_queue, callback_work, rosters
from hotline.services.oncall import chain_for
from hotline.services.retention import purge_personal_data
from routing.roster_file import dump_roster
from tests.routing.factory import big_roster

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("HOTLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCALES = (1, 10, 100)
BASE_RELATIVES, BASE_CALLS, BASE_CALLBACKS, OPEN_CALLBACKS, BASE_ADVISORS = 1_000, 10_000, 1_000, 200, 3
OLD_CALLS, OLD_CALLBACKS, OLD_RELATIVES = 500, 50, 50
RECENT_DAYS, OLD_DAYS = 80, 400
CHUNK = 10_000
HOTLINE = "+4568000000"
BIG_TABLE = 10_000
NEW_CALLS = 1 << 120  # the benchmark's own call SIDs sort after the seeded ones
KEY = b"bench-scale-pseudonym-key-0123456789"


def number(i: int) -> str:
    return f"+4567{i:06d}"  # the Danish reserve series for tests (docs/testing.md)


def bulk(engine: Engine, model: Any, rows: Iterator[dict[str, Any]]) -> int:
    """Core executemany in chunks of CHUNK rows, generated lazily; how many rows."""
    table = model.__table__
    done, part = 0, []
    with engine.begin() as conn:
        for row in rows:
            part.append(row)
            if len(part) == CHUNK:
                conn.execute(insert(table), part)
                done, part = done + len(part), []
        if part:
            conn.execute(insert(table), part)
            done += len(part)
    return done


class Seeder:
    """Grows the database to a scale; numbers and ids continue where the previous scale stopped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rng = random.Random(12)
        self.relatives = 0  # relatives number(0) .. number(relatives - 1)
        self.calls = 0
        self.callbacks = 0
        self.open_done = False
        self.now = datetime.now(UTC)

    def recent(self) -> datetime:
        return self.now - timedelta(seconds=self.rng.uniform(600, RECENT_DAYS * 86_400))

    def old(self) -> datetime:
        return self.now - timedelta(days=OLD_DAYS, seconds=self.rng.uniform(0, 86_400 * 20))

    def grow_to(self, scale: int) -> None:
        rng, now = self.rng, self.now
        want_relatives = BASE_RELATIVES * scale
        first_new = self.relatives
        old_from = want_relatives - OLD_RELATIVES  # the last OLD_RELATIVES of this scale are the old slice

        def relative_rows() -> Iterator[dict[str, Any]]:
            for i in range(first_new, want_relatives):
                last = self.old() if i >= old_from else self.recent()
                yield {
                    "phone_number": number(i),
                    "language": rng.choice(("da",) * 8 + ("en", "ar")),
                    "created_at": last,
                    "last_contact_at": last,
                }

        bulk(self.engine, Relative, relative_rows())
        with self.engine.connect() as conn:
            ids = dict(
                conn.execute(
                    select(Relative.phone_number, Relative.id).where(
                        Relative.phone_number >= number(first_new)
                    )
                ).all()
            )
        self.ids = getattr(self, "ids", {}) | ids
        self.relatives = want_relatives
        recent_numbers = [number(i) for i in range(old_from)]
        old_numbers = [number(i) for i in range(old_from, want_relatives)]

        def call_rows() -> Iterator[dict[str, Any]]:
            count = BASE_CALLS * scale - self.calls
            for k in range(count):
                is_old = k < OLD_CALLS
                phone = rng.choice(old_numbers if is_old else recent_numbers)
                at = self.old() if is_old else self.recent()
                self.calls += 1
                yield {
                    "call_sid": f"CA{self.calls:032x}",
                    "direction": "inbound",
                    "from_number": phone,
                    "caller_withheld": False,
                    "to_number": HOTLINE,
                    "status": "completed",
                    "relative_id": self.ids[phone],
                    "created_at": at,
                    "updated_at": at,
                    "ended_at": at + timedelta(minutes=5),
                    "duration_seconds": rng.randrange(20, 900),
                }

        bulk(self.engine, Call, call_rows())

        def callback_rows() -> Iterator[dict[str, Any]]:
            count = BASE_CALLBACKS * scale - self.callbacks
            opening = 0 if self.open_done else OPEN_CALLBACKS
            for k in range(count):
                is_open, is_old = k < opening, opening <= k < opening + OLD_CALLBACKS
                phone = (
                    number(k)
                    if is_open
                    else rng.choice(old_numbers if is_old else recent_numbers[OPEN_CALLBACKS:])
                )
                at = (
                    now - timedelta(minutes=rng.uniform(1, 600))
                    if is_open
                    else (self.old() if is_old else self.recent())
                )
                acute = rng.random() < 0.1
                self.callbacks += 1
                yield {
                    "relative_id": self.ids[phone],
                    "open_for_relative": self.ids[phone] if is_open else None,
                    "phone_number": phone,
                    "priority": "acute" if acute else "question",
                    "reason": "acute" if acute else "question",
                    "language": "da",
                    "window_key": "asap",
                    "window_start": at,
                    "window_end": at + timedelta(hours=4),
                    "due_at": at + timedelta(minutes=30 if acute else 240),
                    "state": rng.choice(("requested", "scheduled"))
                    if is_open
                    else rng.choice(("reached", "reached", "cancelled")),
                    "attempts": 0 if is_open else 1,
                    "created_at": at,
                    "updated_at": at,
                }
            self.open_done = True

        first_callback = self.callbacks
        bulk(self.engine, CallbackRequest, callback_rows())
        with self.engine.connect() as conn:
            closed = conn.execute(
                select(CallbackRequest.id, CallbackRequest.created_at).where(
                    CallbackRequest.id > first_callback, CallbackRequest.attempts == 1
                )
            ).all()
        bulk(
            self.engine,
            CallbackAttempt,
            (
                {
                    "callback_id": cid,
                    "advisor_id": self.advisor,
                    "advisor_call_sid": None,
                    "outcome": "note",
                    "note": f"note {cid} ring back on {number(cid % 1000)}",
                    "started_at": created + timedelta(minutes=10),
                    "ended_at": created + timedelta(minutes=13),
                }
                for cid, created in closed
            ),
        )

    def roster(self, scale: int, sessions: Any) -> str:
        advisors = BASE_ADVISORS * scale
        roster = big_roster(
            advisors, first_day=date.today() - timedelta(days=365), n_days=730, overrides_per_day=0.08 * scale
        )
        self.advisor = roster.advisors[0].id
        with sessions.begin() as session:
            rosters.import_roster(
                session, dump_roster(roster), source_name=f"scale{scale}.yaml", actor="bench"
            )
        return (
            f"{len(roster.advisors)} advisors, {len(roster.shifts)} shifts, {len(roster.overrides)} overrides"
        )


def timed(fn: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Capture:
    """The distinct statements an engine runs while on (first parameters of each)."""

    def __init__(self, engine: Engine) -> None:
        self.on = False
        self.seen: dict[str, Any] = {}
        self.ms: dict[str, float] = {}  # time spent in each statement while on, summed

        @event.listens_for(engine, "before_cursor_execute")
        def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if self.on and statement not in self.seen:
                if many and isinstance(parameters, list | tuple):
                    parameters = parameters[0] if parameters else None
                self.seen[statement] = parameters
            if self.on:
                conn.info["bench_began"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def clock(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            began = conn.info.pop("bench_began", None)
            if self.on and began is not None:
                self.ms[statement] = self.ms.get(statement, 0.0) + (time.perf_counter() - began) * 1000


def explain(engine: Engine, title: str, statements: dict[str, Any]) -> list[str]:
    """EXPLAIN (no ANALYZE: nothing runs) each captured statement; the Seq Scans on big tables."""
    flagged = []
    with engine.connect() as conn:
        sizes: dict[str, int] = dict(
            conn.execute(text("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r'")).all()
        )
        for statement, parameters in statements.items():
            if statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "SET ")):
                continue
            plan = conn.exec_driver_sql(f"EXPLAIN (COSTS OFF) {statement}", parameters).scalars().all()
            print(f"-- {title}: {' '.join(statement.split())[:160]}")
            for line in plan:
                mark = ""
                if "Seq Scan on " in line:
                    table = line.split("Seq Scan on ")[1].split()[0]
                    if sizes.get(table, 0) > BIG_TABLE:
                        mark = f"   <-- SEQ SCAN on {table} ({sizes[table]:,} rows)"
                        flagged.append(f"{title}: {table}")
                print(f"   {line}{mark}")
        conn.rollback()
    return flagged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=50, help="timed runs per operation and scale (default 50)"
    )
    parser.add_argument("--max-scale", type=int, choices=SCALES, default=100)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    parser.add_argument(
        "--budget", type=float, default=540, help="seconds the whole run may take (default 540)"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    pg_name = f"bench_scale_{os.getpid()}"
    if args.sqlite:
        url = f"sqlite:///{work / 'hotline.db'}"
    else:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(pg_name)))
        url = normalize_database_url(f"{PG_ADMIN.rpartition('/')[0]}/{pg_name}")
    print(
        f"benchmarks/scale.py on {'SQLite' if args.sqlite else 'PostgreSQL'}; {args.repeat} timed runs per cell; "
        f"{os.cpu_count()} CPUs shared with everything else: figures are from one run on a shared machine.\n"
    )
    results: dict[str, dict[int, list[float]]] = {}
    flagged: list[str] = []
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        app = create_app(
            {
                "HOTLINE_DATABASE_URL": url,
                "config_path": str(ROOT / "config.yaml"),
                "config": {"instance_dir": str(work / "instance"), "logging": {"level": "ERROR"}},
            }
        )
        runtime = app.extensions["hotline"]
        engine, sessions, settings = runtime.engine, runtime.sessions, runtime.settings
        capture = Capture(engine)
        client = app.test_client()
        validator = RequestValidator(runtime.signing_secret)
        seeder = Seeder(engine)
        posted = [0]  # new calls posted so far
        last_seed = 0.0
        for index, scale in enumerate(s for s in SCALES if s <= args.max_scale):
            if index:
                elapsed = time.monotonic() - started
                estimate = last_seed * 10
                if elapsed + estimate > args.budget:
                    print(
                        f"STOPPED before {scale}x: seeding it would take about {estimate:.0f} s "
                        f"(10x the last scale's {last_seed:.0f} s) and {elapsed:.0f} s of the {args.budget:.0f} s "
                        f"budget are gone; run with --budget to allow more.\n"
                    )
                    break
            began = time.monotonic()
            roster = seeder.roster(scale, sessions)
            seeder.grow_to(scale)
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
            last_seed = time.monotonic() - began
            print(
                f"{scale}x: {seeder.relatives:,} relatives, {seeder.calls:,} calls, {seeder.callbacks:,} callbacks; "
                f"roster {roster}; seeded in {last_seed:.0f} s"
            )
            numbers = [number(i) for i in range(0, seeder.relatives - OLD_RELATIVES, 7)]

            def new_call(numbers: list[str] = numbers) -> None:
                posted[0] += 1
                params = {
                    "CallSid": f"CA{NEW_CALLS + posted[0]:032x}",
                    "AccountSid": "AC" + "0" * 32,
                    "From": random.choice(numbers),
                    "To": HOTLINE,
                    "CallStatus": "ringing",
                    "Direction": "inbound",
                }
                signature = validator.compute_signature("http://localhost/twilio/voice", params)
                response = client.post(
                    "/twilio/voice", data=params, headers={"X-Twilio-Signature": signature}
                )
                if response.status_code != 200:
                    raise RuntimeError(f"POST /twilio/voice answered {response.status_code}")

            def oncall() -> None:
                with sessions() as session:
                    chain_for(
                        session,
                        settings,
                        at=datetime.now(UTC),
                        reason="acute",
                        language="da",
                        contact_person_id=None,
                    )

            def listing() -> None:
                with sessions() as session:
                    rows = callback_work.listing(session, advisor_id=None, mine=False, now=datetime.now(UTC))
                    if len(rows) != OPEN_CALLBACKS:
                        raise RuntimeError(f"the queue lists {len(rows)} callbacks, not {OPEN_CALLBACKS}")

            def queue() -> None:
                with sessions() as session:
                    callback_queue.queue(session)

            def purge() -> None:
                with sessions.begin() as session:
                    purge_personal_data(session, settings, datetime.now(UTC), KEY)

            def purge_custom_plans() -> None:
                # Diagnosis: psycopg prepares a statement after 5 runs and PostgreSQL may then pick a generic
                # plan (cutoff unknown); forcing custom plans shows what that costs.
                with sessions.begin() as session:
                    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
                    purge_personal_data(session, settings, datetime.now(UTC), KEY)

            largest = scale == max(s for s in SCALES if s <= args.max_scale)
            explaining = largest and engine.dialect.name == "postgresql"
            found: dict[str, dict[str, Any]] = {}
            spent: dict[str, dict[str, float]] = {}
            first = time.perf_counter()
            capture.on, capture.seen, capture.ms = explaining, {}, {}
            with sessions.begin() as session:
                purged = purge_personal_data(session, settings, datetime.now(UTC), KEY)
            results.setdefault("purge, first run (old slice)", {})[scale] = [
                (time.perf_counter() - first) * 1000
            ]
            found["purge, first run"], spent["purge, first run"] = capture.seen, capture.ms
            print(f"   first purge: {purged.summary()}")
            for name, fn in (
                ("new call POST /twilio/voice", new_call),
                ("oncall chain (hotline oncall)", oncall),
                ("queue listing (callback_work)", listing),
                ("queue (callback_queue.queue)", queue),
                ("purge, no-op run", purge),
                *([("purge, no-op, custom plans (PG)", purge_custom_plans)] if not args.sqlite else []),
            ):
                capture.on = False
                results.setdefault(name, {})[scale] = timed(fn, args.repeat)
                if explaining:
                    capture.seen, capture.ms, capture.on = {}, {}, True
                    fn()
                    capture.on = False
                    found[name], spent[name] = capture.seen, capture.ms
            with (
                engine.connect() as conn
            ):  # a fallback answer is a 200 too: count the rows the posts inserted
                inserted = conn.execute(
                    select(func.count()).where(Call.call_sid >= f"CA{NEW_CALLS:032x}")
                ).scalar_one()
            if inserted != posted[0]:
                raise RuntimeError(f"{posted[0]} new calls posted but {inserted} call rows inserted")
            if explaining:
                print(f"\nEXPLAIN at {scale}x of the statements each path ran (one extra run, captured):")
                for name, statements in found.items():
                    flagged += explain(engine, name, statements)
                print(f"\nThe slowest statements of each path in its captured run at {scale}x (ms, summed):")
                for name, statements in found.items():
                    ms = spent[name]
                    for statement in sorted(statements, key=lambda st: -ms.get(st, 0.0))[:3]:
                        shown = " ".join(statement.split())[:110]
                        print(f"  {name[:30]:<30} {ms.get(statement, 0.0):8.2f}  {shown}")
                print()
    finally:
        try:
            if "app" in locals():
                app.extensions["hotline"].engine.dispose()
                app.extensions["hotline"].console_engine.dispose()
        finally:
            if not args.sqlite:
                with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
                    admin.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(pg_name))
                    )
            shutil.rmtree(work, ignore_errors=True)

    done = [s for s in SCALES if any(s in cells for cells in results.values())]
    head = "".join(f"{f'{s}x p50/p95':>18}" for s in done)
    print(f"{'operation (ms)':<34}{head}{'100x/1x':>10}{'flat?':>7}")
    for name, cells in results.items():
        row = "".join(
            f"{f'{statistics.median(cells[s]):.2f}/{p(cells[s], 0.95):.2f}':>18}"
            if s in cells
            else f"{'-':>18}"
            for s in done
        )
        ratio = (
            statistics.median(cells[done[-1]]) / statistics.median(cells[1])
            if len(done) > 1
            else float("nan")
        )
        label = f"{ratio:.2f}" + ("" if done[-1] == 100 else f" ({done[-1]}x)")
        print(f"{name:<34}{row}{label:>14}{('-' if len(done) == 1 else 'yes' if ratio <= 2 else 'NO'):>7}")
    print(f"\nscales measured: {', '.join(f'{s}x' for s in done)}; {time.monotonic() - started:.0f} s in all")
    print("Seq Scans on big tables: " + (", ".join(flagged) if flagged else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
