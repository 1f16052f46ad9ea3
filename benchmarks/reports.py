"""The managers' reports on two years of data (issue 11): dashboard and drill-down p95 beside /healthz, with plans.

    .venv/bin/python benchmarks/reports.py [--repeat 40] [--keep | --reuse DBNAME]

Seeds a fresh PostgreSQL database `bench_reports_<pid>` (HOTLINE_BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/test; dropped at the end unless --keep) with 730 days of history by COPY:
50,000 relatives, 1,000,000 calls (95% inbound; 70% of those put to the chain, 80% of those answered 5-120 s after
the call began), 200,000 callbacks (a window of 4 hours; 85% reached, most inside the window, with their
transitions; 5% not reached, 5% cancelled, the rest open) and 500,000 texts (half questions with a promised answer,
70% of them answered by an advisor's reply in the outbox), 500 fallback voicemails and 2,000 opt-outs; then VACUUM
ANALYZE (what autovacuum does to tables that old: statistics, and the visibility map Index Only Scans need).

Calls, callbacks and texts are written in time order, as real life writes them, so a month's rows lie together
in the table's pages. (Earlier versions inserted them in random time order, which scattered a month's rows over
every page of two years and made each query's heap reads random: not what a real table looks like.)

`--keep` keeps the seeded database and prints its name; `--reuse DBNAME` times that database again without
seeding (migrating it to this code's schema first), so the queries can be changed and re-timed in a minute.

Then, in-process with the Flask test client and a signed-in manager, interleaved, `--repeat` times each after warm-up:
the dashboard for the last 30 days and for the last year, two drill-downs (the 30 days' calls, page 1 and page 20;
the callbacks kept in the last 30 days) and /healthz. Prints p50/p95 and the p95's ratio to /healthz's, then
EXPLAIN (ANALYZE, BUFFERS) of each dashboard query for the 30 days, flagging Seq Scans on tables of more than
10,000 rows. Goal: the 30-day dashboard's p95 under 300 ms. Figures are from one run on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotline.app import create_app
from hotline.db.session import make_engine, upgrade
from hotline.services import reports, staff_accounts
from routing.report_periods import Preset, preset_period

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("HOTLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DAYS = 730
RELATIVES, CALLS, CALLBACKS, TEXTS, FALLBACKS, OPT_OUTS = 50_000, 1_000_000, 200_000, 500_000, 500, 2_000
BIG_TABLE = 10_000
PASSWORD = "en lang sætning som adgangskode"
LANGUAGES = ["da"] * 14 + ["ar", "tr", "pl", "so", "uk", "en"]


def number(i: int) -> str:
    return f"+4567{i:06d}"  # the Danish reserve series for tests (docs/testing.md)


def copy(conn: psycopg.Connection[Any], table: str, columns: list[str], rows: Any) -> int:
    n = 0
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cursor, cursor.copy(statement) as out:
        for row in rows:
            out.write_row(row)
            n += 1
    return n


def seed(url: str, now: datetime) -> None:
    rng = random.Random(11)
    span = DAYS * 86400
    began = time.perf_counter()

    def when() -> datetime:
        return now - timedelta(seconds=rng.random() * span)

    def in_time_order(n: int) -> Any:
        """n instants over the two years, oldest first: rows are written as life writes them, so a period's rows
        lie together in the table's pages (random order would scatter a month over every page of two years)."""
        for fraction in sorted(rng.random() for _ in range(n)):
            yield now - timedelta(seconds=(1 - fraction) * span)

    with psycopg.connect(url) as conn:
        copy(
            conn,
            "relatives",
            ["phone_number", "language", "created_at", "last_contact_at"],
            ((number(i), rng.choice(LANGUAGES), now - timedelta(days=DAYS), now) for i in range(RELATIVES)),
        )
        conn.commit()

        routes: list[tuple[Any, ...]] = []

        def calls() -> Any:
            for i, at in enumerate(in_time_order(CALLS)):
                rid = rng.randrange(1, RELATIVES + 1)
                inbound = rng.random() < 0.95
                sid = f"CA{i:032d}"
                if inbound and rng.random() < 0.7:
                    answered = rng.random() < 0.8
                    routes.append(
                        (
                            sid,
                            rid,
                            "question",
                            rng.choice(LANGUAGES),
                            "a1,a2",
                            0,
                            at + timedelta(seconds=20),
                            "a1" if answered else None,
                            at + timedelta(seconds=rng.uniform(5, 120)) if answered else None,
                            "connected" if answered else "no_answer",
                        )
                    )
                yield (
                    sid,
                    "inbound" if inbound else "outbound-api",
                    number(rid - 1),
                    False,
                    "+4568000000",
                    "completed",
                    rid,
                    at,
                    at,
                    at + timedelta(minutes=3),
                    180,
                )

        call_columns = [
            "call_sid",
            "direction",
            "from_number",
            "caller_withheld",
            "to_number",
            "status",
            "relative_id",
            "created_at",
            "updated_at",
            "ended_at",
            "duration_seconds",
        ]
        copy(conn, "calls", call_columns, calls())
        route_columns = [
            "call_sid",
            "relative_id",
            "reason",
            "language",
            "chain",
            "step",
            "started_at",
            "connected_advisor_id",
            "connected_at",
            "outcome",
        ]
        copy(conn, "call_routing", route_columns, routes)
        conn.commit()
        print(f"  calls and routing: {time.perf_counter() - began:.0f} s", flush=True)

        transitions: list[tuple[Any, ...]] = []

        def callbacks() -> Any:
            open_for = 0
            for i, start in enumerate(in_time_order(CALLBACKS), start=1):
                end = start + timedelta(hours=4)
                rid = rng.randrange(1, RELATIVES + 1)
                roll = rng.random()
                if end > now - timedelta(hours=2) or roll > 0.999:
                    state = "scheduled"
                elif roll < 0.85:
                    state = "reached"
                elif roll < 0.90:
                    state = "not_reached"
                else:
                    state = "cancelled"
                is_open = state == "scheduled"
                if is_open:
                    open_for += 1
                transitions.append(
                    (i, None, "scheduled", "schedule", "system", start - timedelta(minutes=55))
                )
                if state == "reached":
                    reached = start + timedelta(minutes=rng.uniform(0, 300))  # most inside, some after
                    transitions.append((i, "in_progress", "reached", "answered", "a1", reached))
                yield (
                    rid,
                    RELATIVES + open_for if is_open else None,
                    number(rid - 1),
                    "normal",
                    "question",
                    "da",
                    "picked",
                    start,
                    end,
                    end,
                    state,
                    0,
                    False,
                    True,
                    start - timedelta(hours=1),
                    end,
                )

        copy(
            conn,
            "callback_requests",
            [
                "relative_id",
                "open_for_relative",
                "phone_number",
                "priority",
                "reason",
                "language",
                "window_key",
                "window_start",
                "window_end",
                "due_at",
                "state",
                "attempts",
                "keyed_in",
                "window_picked",
                "created_at",
                "updated_at",
            ],
            callbacks(),
        )
        copy(
            conn,
            "callback_transitions",
            ["callback_id", "from_state", "to_state", "event", "actor", "at"],
            transitions,
        )
        conn.commit()
        print(f"  callbacks: {time.perf_counter() - began:.0f} s", flush=True)

        replies: list[tuple[Any, ...]] = []

        def texts() -> Any:
            for i, at in enumerate(in_time_order(TEXTS)):
                rid = rng.randrange(1, RELATIVES + 1)
                if i % 2 == 0:
                    due = at + timedelta(hours=4)
                    if rng.random() < 0.7:
                        reply = at + timedelta(minutes=rng.uniform(10, 400))
                        replies.append(("advisor_reply", number(rid - 1), "da", rid, "sent", reply, reply))
                    yield (
                        f"SM{i:032d}",
                        "inbound",
                        number(rid - 1),
                        "+4568000000",
                        "?",
                        0,
                        "received",
                        at,
                        at,
                        rid,
                        at,
                        due,
                    )
                else:
                    yield (
                        f"SM{i:032d}",
                        "outbound",
                        "+4568000000",
                        number(rid - 1),
                        "ok",
                        0,
                        "delivered",
                        at,
                        at,
                        rid,
                        None,
                        None,
                    )

        copy(
            conn,
            "messages",
            [
                "message_sid",
                "direction",
                "from_number",
                "to_number",
                "body",
                "num_media",
                "status",
                "created_at",
                "updated_at",
                "relative_id",
                "handled_at",
                "answer_due_at",
            ],
            texts(),
        )
        copy(
            conn,
            "sms_outbox",
            [
                "purpose",
                "to_number",
                "language",
                "relative_id",
                "state",
                "created_at",
                "updated_at",
                "attempts",
                "auto_reply",
                "capped",
                "keyed_in",
                "ignores_opt_out",
            ],
            ((*r, 1, False, False, False, False) for r in replies),
        )
        copy(
            conn,
            "recordings",
            ["recording_sid", "call_sid", "from_number", "source", "received_at", "created_at"],
            ((f"RE{i:032d}", f"CA{i:032d}", number(i), "fallback", when(), now) for i in range(FALLBACKS)),
        )
        copy(
            conn,
            "sms_opt_outs",
            ["phone_number", "source", "opted_out_at"],
            ((number(i), "stop", when()) for i in range(OPT_OUTS)),
        )
        conn.commit()
    vacuum(url)
    print(f"  seeded in {time.perf_counter() - began:.0f} s", flush=True)


def vacuum(url: str) -> None:
    """VACUUM ANALYZE, as autovacuum does to a table that has lived for two years: the statistics for the planner,
    and the visibility map that lets an index answer on its own (an Index Only Scan) without the table's pages."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def explain(engine: Engine, statements: dict[str, Any]) -> list[str]:
    flagged = []
    with engine.connect() as conn:
        sizes = dict(
            conn.execute(text("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r'")).all()
        )
        for statement, parameters in statements.items():
            # The dashboard's settings for its transaction (SET LOCAL): in force for the plans too.
            if statement.startswith("SET "):
                conn.exec_driver_sql(statement, parameters)
                print(f"-- {statement}")
                continue
            plan = (
                conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters)
                .scalars()
                .all()
            )
            print(f"-- {' '.join(statement.split())[:150]}")
            for line in plan:
                mark = ""
                if "Seq Scan on " in line:
                    table = line.split("Seq Scan on ")[1].split()[0]
                    if sizes.get(table, 0) > BIG_TABLE:
                        mark = f"   <-- SEQ SCAN on {table} ({sizes[table]:,} rows)"
                        flagged.append(table)
                print(f"   {line}{mark}")
        conn.rollback()
    return flagged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database (its name is printed)")
    parser.add_argument(
        "--reuse", metavar="DBNAME", help="time a database seeded by an earlier --keep run (migrated first)"
    )
    args = parser.parse_args()
    name = args.reuse or f"bench_reports_{os.getpid()}"
    base = PG_ADMIN.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    if not args.reuse:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        began = time.perf_counter()
        upgrade(engine)
        now = datetime.now(UTC)
        if args.reuse:
            print(f"reusing {name} (migrations: {time.perf_counter() - began:.0f} s)")
            vacuum(url)
        else:
            print(
                f"seeding {name}: {CALLS:,} calls, {CALLBACKS:,} callbacks, {TEXTS:,} texts over {DAYS} days"
            )
            seed(url, now)
        with tempfile.TemporaryDirectory(prefix="bench-reports-") as instance:
            app = create_app(
                {
                    "HOTLINE_DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://"),
                    "config_path": str(ROOT / "config.yaml"),
                    # The console stops a statement after 5 s by default; the year's dashboard may need more
                    # on a loaded machine, and is measured rather than refused (the table says which passed 5 s).
                    "config": {
                        "instance_dir": instance,
                        "logging": {"level": "WARNING"},
                        "console": {"statement_seconds": 120},
                    },
                }
            )
            runtime = app.extensions["hotline"]
            with runtime.sessions.begin() as session:
                if staff_accounts.find(session, "mette") is None:
                    staff_accounts.create(
                        session,
                        username="mette",
                        name="",
                        role=staff_accounts.Role.MANAGER,
                        password=PASSWORD,
                        advisor_id=None,
                    )
            client = app.test_client()
            page = client.get("/console/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page)
            assert token
            client.post(
                "/console/login",
                data={"username": "mette", "password": PASSWORD, "csrf_token": token.group(1)},
            )
            month = preset_period(Preset.LAST_30, now)
            year_first = month.last - timedelta(days=364)
            q30 = f"from={month.first}&to={month.last}"
            paths = {
                "dashboard, 30 days": f"/console/reports?{q30}",
                "dashboard, 1 year": f"/console/reports?from={year_first}&to={month.last}",
                "drill-down: calls, 30 days, page 1": f"/console/reports/list/calls?{q30}",
                "drill-down: calls, 30 days, page 20": f"/console/reports/list/calls?{q30}&page=20",
                "drill-down: callbacks kept, 30 days": f"/console/reports/list/callbacks_kept?{q30}",
                "/healthz": "/healthz",
            }
            samples: dict[str, list[float]] = {k: [] for k in paths}

            def hit(path: str) -> float:
                began = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - began) * 1000
                assert response.status_code == 200, (path, response.status_code)
                return elapsed

            for _ in range(3):
                for path in paths.values():
                    hit(path)
            for _ in range(args.repeat):
                for label, path in paths.items():
                    samples[label].append(hit(path))
            health = percentile(samples["/healthz"], 0.95)
            print(f"\n{'request':40} {'p50 ms':>9} {'p95 ms':>9} {'p95 x /healthz':>15}")
            for label, values in samples.items():
                p95 = percentile(values, 0.95)
                print(f"{label:40} {statistics.median(values):9.1f} {p95:9.1f} {p95 / health:15.0f}")
            dashboard = percentile(samples["dashboard, 30 days"], 0.95)
            print(
                f"\ngoal: the 30-day dashboard's p95 under 300 ms: {dashboard:.1f} ms "
                f"({'met' if dashboard < 300 else 'NOT met'})"
            )
            with runtime.console_sessions() as session:
                figures = reports.figures(session, month, now)
            print(
                f"30 days: {figures.calls:,} calls, {figures.kept_cohort:,} callbacks in the headline, "
                f"{figures.texts_cohort:,} texts; 'kept in window' {figures.kept[reports.Kept.KEPT]:,}"
            )

            seen: dict[str, Any] = {}
            bind = runtime.console_sessions.kw["bind"]

            def grab(
                conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
            ) -> None:
                seen.setdefault(statement, parameters)

            event.listen(bind, "before_cursor_execute", grab)
            with runtime.console_sessions() as session:
                reports.figures(session, month, now)
            event.remove(bind, "before_cursor_execute", grab)
            print("\nplans of the 30-day dashboard's queries (EXPLAIN ANALYZE):")
            flagged = explain(bind, seen)
            print(f"\nSeq Scans on big tables: {', '.join(sorted(set(flagged))) if flagged else 'none'}")
            runtime.dispose()
        engine.dispose()
    finally:
        if args.keep or args.reuse:
            print(f"\nkept the database {name}: --reuse {name} times it again; drop it when done")
        else:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
