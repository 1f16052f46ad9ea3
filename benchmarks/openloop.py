"""Open-loop latency of a signed new call `POST /twilio/voice` at a steady rate (issue 12: p99 < 50 ms at 100/s).

    .venv/bin/python benchmarks/openloop.py [--rate 100] [--seconds 30] [--warmup 3] [--senders 32]
                                            [--skip-postgres] [--skip-floor]

Requests go out on a fixed schedule (request i at start + i/rate) whether or not earlier ones have answered: a pool
of sender threads takes the next scheduled request, sleeps until its time and sends it on a new connection (as
Twilio does). Latency counts from the scheduled send time to the last byte of the answer, so a sender that starts
late because every sender was busy (or the GIL or the shared CPUs held it back) adds its queueing delay: no
coordinated omission. Each request has a new CallSid and is signed before the timed window.

Targets (benchmarks/_serve.py, the gunicorn set-up of benchmarks/webhooks.py, whose signed requests it imports:
2 workers x 4 gthread threads through hotline.server.run_gunicorn): the real app on a fresh SQLite file and on a fresh PostgreSQL
database (skipped when not reachable), and the floor of webhooks.py (form parsed, signature checked, call row
inserted-or-ignored, the same TwiML) on each. OK means 200 with exactly the greeting TwiML the real app answered
first; afterwards the rows in `calls` must equal the OK answers. The load generator shares the machine's CPUs
with the server; its own CPU use is printed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from _serve import PG_ADMIN, ROOT, THREADS, WORKERS, error_lines, pg_admin, server_cpu, serving
from sqlalchemy import text
from webhooks import VOICE, Request, make_requests

from hotline.config.settings import normalize_database_url
from hotline.db.session import make_engine, make_session_factory, upgrade
from hotline.runtime import demo_signing_secret
from hotline.services.rosters import ensure_demo_roster

GOAL_MS = 50.0


@dataclass
class Result:
    target: str
    sent: int = 0
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0  # from the first scheduled send to the last answer
    client_cpu: float = 0.0  # the load generator's CPU seconds per wall second
    server_cpu_ms: float = 0.0  # gunicorn's CPU ms per request in the timed window
    max_lag_ms: float = 0.0  # the latest a send started after its scheduled time
    latencies: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def send(port: int, request: Request) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", request[0], body=request[1], headers=request[2])
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def open_loop(port: int, requests: list[Request], rate: float, senders: int, expected: bytes) -> Result:
    """Send requests[i] at start + i / rate from a pool of `senders` threads; latency from the scheduled time."""
    result, lock, interval = Result(""), threading.Lock(), 1.0 / rate
    next_index = iter(range(len(requests)))
    start = time.perf_counter() + 0.2  # every sender is waiting before the first send is due
    done: list[float] = []

    def sender() -> None:
        latencies, ok, errors, lag, last = [], 0, 0, 0.0, 0.0
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                break
            due = start + i * interval
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            lag = max(lag, time.perf_counter() - due)
            try:
                status, body = send(port, requests[i])
            except (OSError, http.client.HTTPException):
                status, body = 0, b""
            last = time.perf_counter()
            latencies.append(last - due)
            ok, errors = (ok + 1, errors) if status == 200 and body == expected else (ok, errors + 1)
        with lock:
            result.ok, result.errors = result.ok + ok, result.errors + errors
            result.latencies.extend(latencies)
            result.max_lag_ms = max(result.max_lag_ms, lag * 1000)
            done.append(last)

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.sent = len(requests)
    result.seconds = max(done) - start
    result.client_cpu = (time.process_time() - cpu) / (time.perf_counter() - start + 0.2)
    return result


def count_calls(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = int(conn.execute(text("SELECT count(*) FROM calls")).scalar_one())
    engine.dispose()
    return rows


def bench(name: str, env: dict[str, str], work: Path, args: argparse.Namespace) -> Result:
    """Migrate (demo roster), start `name`'s server, capture the greeting (real app), warm up, measure, stop."""
    kind = "floor" if name.startswith("floor") else "hotline"
    url, log, greeting = env["HOTLINE_DATABASE_URL"], work / f"{name}.log", work / "greeting.xml"
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        ensure_demo_roster(session)
    engine.dispose()
    rows_before = count_calls(url)
    warm_count, count = int(args.rate * args.warmup), int(args.rate * args.seconds)
    with serving(kind, env, log) as (process, port):
        secret = demo_signing_secret(Path(env["BENCH_INSTANCE_DIR"]))
        pool = make_requests(
            f"http://127.0.0.1:{port}", VOICE, secret, warm_count + count + (kind == "hotline")
        )
        captured = 0
        if kind == "hotline":  # its first answer is what every later answer must equal
            status, expected = send(port, pool.pop())
            if status != 200:
                raise RuntimeError(f"{name}: capture request answered {status}: {expected[:300]!r}")
            if not greeting.exists():
                greeting.write_bytes(expected)
            captured = 1
        expected = greeting.read_bytes()
        warm = open_loop(port, pool[:warm_count], args.rate, args.senders, expected)
        cpu = server_cpu(process.pid)
        result = open_loop(port, pool[warm_count:], args.rate, args.senders, expected)
        result.server_cpu_ms = (server_cpu(process.pid) - cpu) * 1000 / max(1, result.sent)
    result.target = name
    if warm.errors:
        result.notes.append(f"{warm.errors} errors during warm-up")
    if errors := error_lines(log):
        result.notes.append(f"{len(errors)} error lines in the server log, first: {errors[0][:300]}")
    rows, answered = count_calls(url) - rows_before, result.ok + warm.ok + captured
    if rows != answered:
        result.notes.append(f"`calls` has {rows} new rows, but {answered} calls were answered OK")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="calls per second (default 100)")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="measured seconds per target (default 30)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="warm-up seconds at the same rate (default 3)"
    )
    parser.add_argument("--senders", type=int, default=32, help="sender threads (default 32)")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--skip-floor", action="store_true", help="the real app only")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks below stop the servers
    work = Path(tempfile.mkdtemp(prefix="bench-openloop-"))
    pg_name, pg_ready, results = f"bench_openloop_{os.getpid()}", False, []
    skipped = ["postgres: skipped (--skip-postgres)"] if args.skip_postgres else []
    common = {"HOTLINE_CONFIG": str(ROOT / "config.yaml"), "BENCH_BASELINE_BODY": str(work / "greeting.xml")}
    sqlite = common | {
        "HOTLINE_DATABASE_URL": f"sqlite:///{work / 'sqlite' / 'hotline.db'}",
        "BENCH_INSTANCE_DIR": str(work / "sqlite"),
    }
    try:
        results.append(bench("sqlite", sqlite, work, args))
        try:
            pg_ready = not args.skip_postgres and pg_admin("CREATE DATABASE {}", pg_name)
        except psycopg.Error as exc:
            skipped.append(
                f"postgres: skipped, not reachable at {PG_ADMIN}: {' '.join(str(exc).split())[:200]}"
            )
        url = normalize_database_url(f"{PG_ADMIN.rpartition('/')[0]}/{pg_name}")
        postgres = common | {"HOTLINE_DATABASE_URL": url, "BENCH_INSTANCE_DIR": str(work / "postgres")}
        if pg_ready:
            results.append(bench("postgres", postgres, work, args))
        if not args.skip_floor:
            results.append(bench("floor", sqlite, work, args))
            if pg_ready:
                results.append(bench("floor-pg", postgres, work, args))
    finally:
        try:
            if not args.skip_postgres:
                pg_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg_name)
        except psycopg.Error as exc:
            if pg_ready:
                print(f"could not drop the database {pg_name}: {exc}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    print_table(results, skipped, args)
    return 1 if any(r.errors or r.notes for r in results) else 0


def print_table(results: list[Result], skipped: list[str], args: argparse.Namespace) -> None:
    print(f"open loop: signed POST {VOICE} (a new call, new CallSid each) every {1000 / args.rate:g} ms")
    print(
        f"({args.rate:g}/s) for {args.seconds:g} s after {args.warmup:g} s warm-up; {args.senders} sender threads,"
    )
    print(f"a new connection per request; latency from the scheduled send time; gunicorn {WORKERS} workers x")
    print(f"{THREADS} gthread; load generator and server share {os.cpu_count()} CPUs\n")
    columns = ("sent", "ok", "errors", "rate/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "lag ms", "load cpu")
    print(f"{'target':<10}" + "".join(f"{c:>9}" for c in columns) + f"{'srv ms/req':>11}{'p99<50':>8}")
    for r in results:
        cells = [r.sent, r.ok, r.errors, f"{(r.ok + r.errors) / r.seconds:.1f}" if r.seconds else "-"]
        cells += [f"{r.ms(q):.1f}" for q in (0.5, 0.9, 0.99)] + [f"{max(r.latencies, default=0) * 1000:.1f}"]
        cells += [f"{r.max_lag_ms:.1f}", f"{r.client_cpu:.2f}"]
        holds = "yes" if r.ms(0.99) < GOAL_MS and not r.errors else "NO"
        print(f"{r.target:<10}" + "".join(f"{c:>9}" for c in cells) + f"{r.server_cpu_ms:>11.2f}{holds:>8}")
    print(
        "\nrate/s: answers per second from the first scheduled send to the last answer; lag ms: the latest a"
    )
    print(
        "send started after its scheduled time; load cpu: the load generator's CPU in cores; srv ms/req: the"
    )
    print("server's CPU per request")
    for line in skipped + [f"{r.target}: {note}" for r in results for note in r.notes]:
        print(line)


if __name__ == "__main__":
    sys.exit(main())
