"""Latency of the staff console's busiest pages with a realistic database, beside `/healthz` on the same server.

    .venv/bin/python benchmarks/console.py [--requests 200] [--warmup 20] [--skip-postgres] [--explain]

For each backend the database is migrated, given the demo roster and seeded with Core bulk inserts (executemany in
chunks): 10,000 relatives (+4567xxxxxx, the Danish reserve series), 100,000 calls over two years (each with its
call_routing row), 50,000 texts in and out (questions with their receipts and most of them an advisor's reply, some
left waiting with a promise), 5,000 closed and 200 open callbacks with attempts and notes, and a staff account for
an advisor (services/staff_accounts.create, the `hotline staff add` logic). One relative has far more than the
others (400 calls, 300 texts, 20 callbacks): its timeline is the one timed.
  sqlite    the real app (demo mode) on a SQLite file in a temporary directory
  postgres  the real app on a fresh database bench_console_<pid>, dropped at the end; skipped if PostgreSQL
            (HOTLINE_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test) is not reachable
The app is served as benchmarks/webhooks.py serves it (benchmarks/_serve.py: gunicorn, 2 workers x 4 gthread).
The client signs in over HTTP as the advisor (GET /console/login for the CSRF token, POST the credentials, keep
the cookie), then sends, one at a time on a keep-alive connection, `--warmup` and then `--requests` rounds of
GET /console/queue, /console/texts (the inbox), /console/relatives/<id> (the timeline) and /healthz, interleaved,
so all four see the same server in the same moments. An answer counts only when it is 200 and holds the page's
marker (a queue card, a thread link, the timeline list; "ok" for /healthz), so a broken page is not timed as fast.

The table per backend: p50 and p95 client-side in ms, and each as a ratio to /healthz's (`x health`). The goal
is a p95 under 100 ms on PostgreSQL for the three pages. --explain prints PostgreSQL's EXPLAIN ANALYZE of the
queries behind the inbox and the timeline. Client and server share the machine's CPUs: figures are from one run;
trust the ratios more than the milliseconds.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
from _serve import PG_ADMIN, ROOT, THREADS, WORKERS, error_lines, pg_admin, serving
from sqlalchemy import Engine, Table, insert, select, text

from hotline.config.settings import normalize_database_url
from hotline.db.models import (
    Call,
    CallbackAttempt,
    CallbackRequest,
    CallRouting,
    Message,
    OutboxText,
    Relative,
    utcnow,
)
from hotline.db.session import make_engine, make_session_factory, upgrade
from hotline.services.rosters import ensure_demo_roster
from hotline.services.staff_accounts import Role, create

RELATIVES, CALLS, TEXTS, CLOSED_CALLBACKS, OPEN_CALLBACKS = 10_000, 100_000, 50_000, 5_000, 200
HEAVY_CALLS, HEAVY_TEXTS, HEAVY_CALLBACKS = 400, 300, 20
WAITING_THREADS = 60  # relatives whose newest question is not answered yet
ADVISORS = ("birgitte", "amira")
USERNAME, PASSWORD = "bench.advisor", "bench-password-0123"
CHUNK = 5_000
DAYS = 730
HOTLINE = "+4568000000"
PAGES = ("queue", "inbox", "timeline", "healthz")
MARKERS = {
    "queue": b'class="card',
    "inbox": b'class="thread-link"',
    "timeline": b'id="timeline"',
    "healthz": b"ok",
}


@dataclass
class Page:
    name: str
    path: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def number(i: int) -> str:
    return f"+4567{i:06d}"  # the Danish reserve series for tests (docs/testing.md)


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def bulk(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    """Core executemany in chunks (insertmanyvalues on both backends); no ORM objects."""
    target: Table = table.__table__
    with engine.begin() as conn:
        for part in chunks(rows):
            conn.execute(insert(target), part)


def seed(engine: Engine) -> int:
    """The data set described in the module docstring; returns the heavy relative's id."""
    rng, now = random.Random(10), utcnow()

    def when(days: float = DAYS) -> datetime:
        return now - timedelta(seconds=rng.uniform(60, days * 86_400))

    languages = ("da",) * 8 + ("en", "ar")
    bulk(
        engine,
        Relative,
        [
            {
                "phone_number": number(i),
                "language": rng.choice(languages),
                "contact_person_id": rng.choice(ADVISORS) if i % 3 == 0 else None,
                "created_at": now - timedelta(days=DAYS),
                "last_contact_at": when(),
            }
            for i in range(RELATIVES)
        ],
    )
    with engine.connect() as conn:
        ids = {row[0]: row[1] for row in conn.execute(select(Relative.phone_number, Relative.id))}
    rel = [ids[number(i)] for i in range(RELATIVES)]
    phone_of = {rid: number(i) for i, rid in enumerate(rel)}
    heavy = rel[0]

    def someone(i: int, heavy_count: int) -> int:
        return heavy if i < heavy_count else rel[rng.randrange(1, RELATIVES)]

    calls, routes = [], []
    for i in range(CALLS):
        who, at, sid = someone(i, HEAVY_CALLS), when(), f"CA{i:032x}"
        answered = rng.random() < 0.8
        calls.append(
            {
                "call_sid": sid,
                "direction": "inbound",
                "from_number": phone_of[who],
                "caller_withheld": False,
                "to_number": HOTLINE,
                "status": "completed",
                "relative_id": who,
                "created_at": at,
                "updated_at": at,
                "ended_at": at + timedelta(minutes=5),
                "duration_seconds": rng.randrange(20, 900),
            }
        )
        routes.append(
            {
                "call_sid": sid,
                "relative_id": who,
                "reason": "acute" if rng.random() < 0.1 else "question",
                "language": "da",
                "chain": ",".join(ADVISORS),
                "step": 0 if answered else 1,
                "started_at": at,
                "connected_advisor_id": rng.choice(ADVISORS) if answered else None,
                "outcome": "answered" if answered else "no_answer",
            }
        )
    bulk(engine, Call, calls)
    bulk(engine, CallRouting, routes)

    # Texts: questions (inbound), each with its receipt and most with an advisor's reply (both outbound).
    messages: list[dict[str, Any]] = []
    replies: list[tuple[str, int, datetime]] = []  # (message_sid, relative id, at) of an advisor's reply
    waiting = set(rel[1 : WAITING_THREADS + 1])
    last_question: dict[int, int] = {}
    i = 0
    while len(messages) < TEXTS:
        who, at = someone(len(messages), HEAVY_TEXTS), when()
        if who in waiting:
            at = now - timedelta(minutes=rng.uniform(5, 600))
        phone = phone_of[who]
        base = {"relative_id": who, "num_media": 0, "handled_at": at, "answer_due_at": None}
        last_question[who] = len(messages)
        messages.append(
            base
            | {
                "message_sid": f"SM{i:030x}q",
                "direction": "inbound",
                "from_number": phone,
                "to_number": HOTLINE,
                "body": f"spørgsmål {i}",
                "status": "received",
                "created_at": at,
                "updated_at": at,
                "answer_due_at": at + timedelta(hours=4),
            }
        )
        receipt = at + timedelta(seconds=2)
        messages.append(
            base
            | {
                "message_sid": f"SM{i:030x}r",
                "direction": "outbound",
                "from_number": HOTLINE,
                "to_number": phone,
                "body": f"kvittering {i}",
                "status": "delivered",
                "created_at": receipt,
                "updated_at": receipt,
            }
        )
        if who not in waiting:  # answered; only the waiting threads are not
            reply = at + timedelta(minutes=rng.uniform(5, 240))
            replies.append((f"SM{i:030x}a", who, reply))
            messages.append(
                base
                | {
                    "message_sid": f"SM{i:030x}a",
                    "direction": "outbound",
                    "from_number": HOTLINE,
                    "to_number": phone,
                    "body": f"svar {i}",
                    "status": "delivered",
                    "created_at": reply,
                    "updated_at": reply,
                }
            )
        i += 1
    bulk(engine, Message, messages)
    with engine.connect() as conn:
        sids = {row[0]: row[1] for row in conn.execute(select(Message.message_sid, Message.id))}
    outbox = [
        {
            "dedup_key": f"reply:{sid}",
            "purpose": "advisor_reply",
            "to_number": phone_of[who],
            "language": "da",
            "relative_id": who,
            "message_id": sids[sid],
            "state": "sent",
            "attempts": 1,
            "sent_at": at,
            "created_at": at,
            "updated_at": at,
        }
        for sid, who, at in replies
    ]
    bulk(engine, OutboxText, outbox)

    # Callbacks: closed ones over two years, open ones now; one open per relative at most.
    callbacks: list[dict[str, Any]] = []
    open_for = [*rel[WAITING_THREADS + 1 : WAITING_THREADS + 1 + OPEN_CALLBACKS - 1], heavy]
    for n in range(CLOSED_CALLBACKS + OPEN_CALLBACKS):
        is_open = n >= CLOSED_CALLBACKS
        who = open_for[n - CLOSED_CALLBACKS] if is_open else someone(n, HEAVY_CALLBACKS - 1)
        at = now - timedelta(minutes=rng.uniform(1, 600)) if is_open else when()
        acute = rng.random() < 0.1
        callbacks.append(
            {
                "relative_id": who,
                "open_for_relative": who if is_open else None,
                "phone_number": phone_of[who],
                "priority": "acute" if acute else "question",
                "reason": "acute" if acute else "question",
                "language": "da",
                "window_key": "asap",
                "window_start": at,
                "window_end": at + timedelta(hours=4),
                "due_at": at + timedelta(minutes=30 if acute else 240),
                "state": rng.choice(("requested", "scheduled"))
                if is_open
                else rng.choice(("reached", "reached", "reached", "cancelled")),
                "assigned_advisor_id": rng.choice(ADVISORS) if rng.random() < 0.3 else None,
                "attempts": 0 if is_open else rng.randrange(1, 4),
                "created_at": at,
                "updated_at": at,
            }
        )
    bulk(engine, CallbackRequest, callbacks)
    with engine.connect() as conn:
        callback_rows = conn.execute(
            select(CallbackRequest.id, CallbackRequest.attempts, CallbackRequest.created_at)
        )
        attempts = [
            {
                "callback_id": cid,
                "advisor_id": rng.choice(ADVISORS),
                "advisor_call_sid": f"CB{cid:08d}{k}{'0' * 22}",
                "outcome": "note" if k == tries else rng.choice(("reached", "no_answer")),
                "note": f"note {cid}" if k == tries else None,
                "started_at": created + timedelta(minutes=10 * (k + 1)),
                "ended_at": created + timedelta(minutes=10 * (k + 1) + 3),
            }
            for cid, tries, created in callback_rows
            for k in range(tries + (1 if tries else 0))
        ]
    for row in attempts:
        if row["outcome"] == "note":
            row["advisor_call_sid"] = None
    bulk(engine, CallbackAttempt, attempts)
    with make_session_factory(engine).begin() as session:
        create(
            session,
            username=USERNAME,
            name="Bench",
            role=Role.ADVISOR,
            password=PASSWORD,
            advisor_id=ADVISORS[0],
        )
    return heavy


class Client:
    """One keep-alive connection that keeps the console's cookies."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # http.client reconnects on the next request
            return 0, b"", time.perf_counter() - began
        elapsed = time.perf_counter() - began
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, elapsed

    def sign_in(self) -> None:
        status, page, _ = self.request("GET", "/console/login")
        found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or found is None:
            raise RuntimeError(f"GET /console/login answered {status} without a CSRF token")
        form = {"csrf_token": found.group(1).decode(), "username": USERNAME, "password": PASSWORD}
        status, _, _ = self.request("POST", "/console/login", urlencode(form).encode())
        if status not in (302, 303):
            raise RuntimeError(f"signing in answered {status}, not a redirect")


def bench(name: str, url: str, work: Path, args: argparse.Namespace) -> tuple[list[Page], float]:
    """Migrate, seed, serve, sign in, time the pages interleaved; the pages and the seconds seeding took."""
    engine = make_engine(url)
    began = time.perf_counter()
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        ensure_demo_roster(session)
    heavy = seed(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    seeded = time.perf_counter() - began
    if args.explain and engine.dialect.name == "postgresql":
        explain(engine, heavy)
    engine.dispose()
    instance = work / name
    env = {
        "HOTLINE_CONFIG": str(ROOT / "config.yaml"),
        "HOTLINE_DATABASE_URL": url,
        "BENCH_INSTANCE_DIR": str(instance),
        "BENCH_LOG_LEVEL": "WARNING",
    }
    log = work / f"{name}.log"
    pages = [
        Page("queue", "/console/queue"),
        Page("inbox", "/console/texts"),
        Page("timeline", f"/console/relatives/{heavy}"),
        Page("healthz", "/healthz"),
    ]
    with serving("hotline", env, log) as (_process, port):
        client = Client(port)
        client.sign_in()
        for round_ in range(args.warmup + args.requests):
            for page in pages:
                status, body, elapsed = client.request("GET", page.path)
                if status != 200 or MARKERS[page.name] not in body:
                    page.failures.append(f"{status}")
                elif round_ >= args.warmup:
                    page.latencies.append(elapsed)
    if errors := error_lines(log):
        pages[0].failures.append(f"{len(errors)} error lines in the server log, first: {errors[0][:300]}")
    return pages, seeded


def explain(engine: Engine, heavy: int) -> None:
    """EXPLAIN ANALYZE of the statements behind the inbox and the timeline (PostgreSQL)."""
    from sqlalchemy import func

    from hotline.services.workload import waiting_texts

    inbox = waiting_texts().with_only_columns(
        Message.relative_id, func.count(), func.min(Message.created_at), func.max(Message.created_at)
    )
    statements = {
        "inbox: waiting texts per relative": inbox.group_by(Message.relative_id),
        "inbox: newest threads": select(Message.relative_id, func.max(Message.created_at))
        .where(Message.relative_id.is_not(None))
        .group_by(Message.relative_id)
        .order_by(func.max(Message.created_at).desc())
        .limit(30),
        "timeline: calls": select(Call)
        .where(Call.relative_id == heavy)
        .order_by(Call.created_at.desc())
        .limit(200),
        "queue: open callbacks": select(CallbackRequest).where(
            CallbackRequest.state.in_(("requested", "scheduled", "in_progress"))
        ),
    }
    with engine.connect() as conn:
        for title, statement in statements.items():
            compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
            plan = conn.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}")).scalars().all()
            print(f"-- {title}")
            for line in plan:
                print(f"   {line}")
    print()


def print_table(name: str, pages: list[Page], seeded: float) -> None:
    health = pages[-1]
    print(f"{name}: seeded in {seeded:.0f} s; {len(health.latencies)} timed requests per page")
    print(f"{'page':<10}{'p50 ms':>10}{'p95 ms':>10}{'p50 x health':>14}{'p95 x health':>14}{'failed':>8}")
    for page in pages:
        cells = [f"{page.ms(0.5):.1f}", f"{page.ms(0.95):.1f}"]
        cells += [f"{page.ms(0.5) / health.ms(0.5):.1f}", f"{page.ms(0.95) / health.ms(0.95):.1f}"]
        print(
            f"{page.name:<10}{cells[0]:>10}{cells[1]:>10}{cells[2]:>14}{cells[3]:>14}{len(page.failures):>8}"
        )
    for page in pages:
        for failure in sorted(set(page.failures))[:3]:
            print(f"  {page.name}: {failure}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed rounds first (default 20)")
    parser.add_argument("--skip-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument(
        "--explain", action="store_true", help="print EXPLAIN ANALYZE of the main queries (PG)"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks below stop the servers
    work = Path(tempfile.mkdtemp(prefix="bench-console-"))
    pg_name, pg_ready = f"bench_console_{os.getpid()}", False
    results: dict[str, tuple[list[Page], float]] = {}
    skipped = "postgres: skipped (--skip-postgres)" if args.skip_postgres else ""
    print(
        f"GET /console/queue, /console/texts, /console/relatives/<id> and /healthz, interleaved, one client;\n"
        f"gunicorn {WORKERS} workers x {THREADS} gthread; {RELATIVES:,} relatives, {CALLS:,} calls, "
        f"{TEXTS:,}+ texts, {CLOSED_CALLBACKS:,} closed and {OPEN_CALLBACKS} open callbacks;\n"
        f"client and server share {os.cpu_count()} CPUs: figures are from one run, trust the ratios.\n"
    )
    try:
        results["sqlite"] = bench("sqlite", f"sqlite:///{work / 'hotline.db'}", work, args)
        print_table("sqlite", *results["sqlite"])
        try:
            pg_ready = not args.skip_postgres and pg_admin("CREATE DATABASE {}", pg_name)
        except psycopg.Error as exc:
            skipped = f"postgres: skipped, not reachable at {PG_ADMIN}: {' '.join(str(exc).split())[:200]}"
        if pg_ready:
            url = normalize_database_url(f"{PG_ADMIN.rpartition('/')[0]}/{pg_name}")
            results["postgres"] = bench("postgres", url, work, args)
            print_table("postgres", *results["postgres"])
    finally:
        try:
            if not args.skip_postgres:
                pg_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg_name)
        except psycopg.Error as exc:
            if pg_ready:
                print(f"could not drop the database {pg_name}: {exc}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    if skipped:
        print(skipped)
    if "postgres" in results:
        worst = max(p.ms(0.95) for p in results["postgres"][0][:3])
        verdict = "holds" if worst < 100 else "does not hold"
        print(f"goal p95 < 100 ms on PostgreSQL for the three pages: {verdict} (worst p95 {worst:.1f} ms)")
    return 1 if any(p.failures for pages, _ in results.values() for p in pages) else 0


if __name__ == "__main__":
    sys.exit(main())
