"""Throughput and latency of signed `POST /twilio/voice` through gunicorn, against a bare-Flask baseline and the
floor (the unavoidable work of the same webhook).

    .venv/bin/python benchmarks/webhooks.py [--seconds 8] [--concurrency 8] [--skip-postgres] [--log-level INFO]

Each target is a gunicorn subprocess on a free loopback port, started by benchmarks/_serve.py through
hotline.server.run_gunicorn (2 workers x 4 gthread threads for every target):
  sqlite    the real hotline app (demo mode) on a fresh SQLite file in a temporary instance dir
  postgres  the real app on a fresh database bench_<pid>, dropped at the end; skipped if PostgreSQL
            (HOTLINE_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test) is not reachable
  baseline  a bare Flask app answering the same TwiML verbatim: no signature check, no database
  floor     the unavoidable work of a new call, a Flask app in the same gunicorn: the form parsed, the signature
            checked with twilio's RequestValidator, the call row inserted-or-ignored (one Core statement) on the
            SQLite file; the same TwiML answered verbatim. floor-pg: the same on the PostgreSQL database
  flow-step one step of the call flow (POST /twilio/voice/step: a caller at the main menu presses 9), real
            app on SQLite, beside baseline2 (the bare app answering that step's TwiML verbatim) and floor2 (the
            form parsed and its signature checked, that TwiML answered: a step writes no row)
Both databases are migrated and hold the demo roster, as `hotline serve` sets them up in demo mode.
Each request has a new CallSid, so it inserts a row as a real call does; signatures are computed before the timed
loop. OK means 200 with exactly the greeting TwiML (on a database failure the app answers 200 with the fallback
TwiML; each real target's own first answer is the reference, the baseline serves the first one); afterwards the
rows in `calls` must equal the OK answers. App logging is WARNING unless --log-level.

The table: `requests` completed in the timed window, `errors` among them, `rps` OK answers per second, client-side
p50/p99, both compared with the baseline (`/base`), throughput compared with the floor (`rps/floor`: the
goal is 0.5 or more for a new call and for a step); `load cpu` is the load generator's own CPU use in cores and
`cpu ms/req` the server's (gunicorn master and workers) CPU time per request. Client and server share the CPUs,
so trust the ratios and the CPU per request more than the absolute rps.
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
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from _serve import PG_ADMIN, ROOT, THREADS, WORKERS, error_lines, pg_admin, server_cpu, serving
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from hotline.config.settings import normalize_database_url
from hotline.db.session import make_engine, make_session_factory, upgrade
from hotline.runtime import demo_signing_secret
from hotline.services.rosters import ensure_demo_roster

WARMUP_SECONDS = 1.5
Request = tuple[str, bytes, dict[str, str]]
VOICE = "/twilio/voice"
# One step of the call flow: a returning caller at the main menu presses 9 ("hear the menu again").
STEP = "/twilio/voice/step?v=1&n=main_menu&f=o&l=da&g=1"
COLUMNS = (
    "requests",
    "errors",
    "rps",
    "p50 ms",
    "p99 ms",
    "rps/base",
    "p50/base",
    "rps/floor",
    "load cpu",
    "cpu ms/req",
)
# Each real target's floor: the same webhook's unavoidable work, on the same database.
FLOORS = {"sqlite": "floor", "postgres": "floor-pg", "flow-step": "floor2"}


@dataclass
class Result:
    target: str
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0  # CPU seconds the load generator itself used, per wall second
    server_cpu: float = 0.0  # CPU seconds gunicorn's master and workers used in the timed window
    latencies: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def make_requests(base: str, path: str, secret: str, count: int) -> list[Request]:
    """Form bodies with fresh CallSids, signed for `base + path` as Twilio would sign them."""
    validator, out = RequestValidator(secret), []
    for i in range(count):
        params = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": f"+4567{i:06d}"}
        params |= {"To": "+4568000000", "CallStatus": "ringing", "Direction": "inbound"}
        if path != VOICE:
            params |= {"CallStatus": "in-progress", "Digits": "9"}
        signature = validator.compute_signature(base + path, params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        out.append((path, urlencode(params).encode(), headers))
    return out


def post(port: int, conn: http.client.HTTPConnection | None, request: Request) -> tuple[int, bytes]:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", request[0], body=request[1], headers=request[2])
    response = conn.getresponse()
    return response.status, response.read()


def run_load(port: int, requests: list[Request], threads: int, seconds: float, expected: bytes) -> Result:
    """`threads` keep-alive clients send their share of `requests` until the time is up or the share runs out."""
    result, lock, start = Result(""), threading.Lock(), threading.Barrier(threads + 1)

    def client(share: list[Request]) -> None:
        conn, latencies, ok, errors = http.client.HTTPConnection("127.0.0.1", port, timeout=30), [], 0, 0
        start.wait()
        deadline = time.perf_counter() + seconds
        for request in share:
            if time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            try:
                status, body = post(port, conn, request)
            except (OSError, http.client.HTTPException):
                conn.close()  # http.client reconnects on the next request
                status, body = 0, b""
            latencies.append(time.perf_counter() - began)
            ok, errors = (ok + 1, errors) if status == 200 and body == expected else (ok, errors + 1)
        conn.close()
        with lock:
            result.ok, result.errors = result.ok + ok, result.errors + errors
            result.latencies.extend(latencies)

    clients = [threading.Thread(target=client, args=(requests[i::threads],)) for i in range(threads)]
    for thread in clients:
        thread.start()
    start.wait()
    began, cpu = time.perf_counter(), time.process_time()
    for thread in clients:
        thread.join()
    result.seconds = time.perf_counter() - began
    result.client_cpu = (time.process_time() - cpu) / result.seconds
    if result.seconds < seconds * 0.95:
        result.notes.append("the request pool ran out before the time did: raise --max-requests")
    return result


def bench(name: str, env: dict[str, str], work: Path, args: argparse.Namespace, path: str = VOICE) -> Result:
    """Migrate, start a server for `name`, capture its answer (real app), warm up, measure, stop."""
    kind = next((k for k in ("baseline", "floor") if name.startswith(k)), "hotline")
    log = work / f"{name}.log"
    engine = make_engine(env["HOTLINE_DATABASE_URL"]) if kind != "baseline" else None
    rows_before = 0
    if engine is not None:  # migrated, with the demo roster `hotline serve` imports in demo mode
        upgrade(engine)
        with make_session_factory(engine).begin() as session:
            ensure_demo_roster(session)
        with engine.connect() as conn:
            rows_before = conn.execute(text("SELECT count(*) FROM calls")).scalar_one()
        engine.dispose()
    greeting, notes = work / ("greeting.xml" if path == VOICE else "step.xml"), []
    with serving(kind, env, log) as (process, port):
        secret = demo_signing_secret(Path(env["BENCH_INSTANCE_DIR"])) if kind != "baseline" else "unchecked"
        warmup = args.concurrency * 100
        pool = make_requests(f"http://127.0.0.1:{port}", path, secret, args.max_requests + warmup + 1)
        if kind == "hotline":  # one extra call; its answer is what every timed answer must equal
            status, expected = post(port, None, pool.pop())
            if status != 200:
                raise RuntimeError(f"{name}: capture request answered {status}: {expected[:300]!r}")
            if greeting.exists() and greeting.read_bytes() != expected:
                notes.append("its greeting differs from the first target's (was the code edited meanwhile?)")
            elif not greeting.exists():
                greeting.write_bytes(expected)
        else:
            expected = greeting.read_bytes()
        warm = run_load(port, pool[:warmup], args.concurrency, WARMUP_SECONDS, expected)
        cpu = server_cpu(process.pid)
        result = run_load(port, pool[warmup:], args.concurrency, args.seconds, expected)
        result.server_cpu = server_cpu(process.pid) - cpu
    result.target, answered = name, result.ok + warm.ok + (1 if kind == "hotline" else 0)
    result.notes += notes + ([f"{warm.errors} errors during warm-up"] if warm.errors else [])
    if errors := error_lines(log):
        result.notes.append(f"{len(errors)} error lines in the server log, first: {errors[0][:300]}")
    if engine is not None and path == VOICE:  # a flow step writes no call row; a new call writes one
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM calls")).scalar_one() - rows_before
        engine.dispose()
        if rows != answered:
            result.notes.append(f"`calls` has {rows} rows, but {answered} calls were answered OK")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per target (default 8)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--max-requests", type=int, default=40_000, help="cap per target (default 40000)")
    parser.add_argument("--skip-postgres", action="store_true", help="measure SQLite and the baseline only")
    parser.add_argument("--log-level", default="WARNING", help="the app's logging.level (default WARNING)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks below stop the servers
    work = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    pg_name, pg_ready = f"bench_{os.getpid()}", False
    results: list[Result] = []
    skipped = ["postgres: skipped (--skip-postgres)"] if args.skip_postgres else []
    common = {"HOTLINE_CONFIG": str(ROOT / "config.yaml"), "BENCH_LOG_LEVEL": args.log_level}
    try:
        env = common | {
            "HOTLINE_DATABASE_URL": f"sqlite:///{work / 'sqlite' / 'hotline.db'}",
            "BENCH_INSTANCE_DIR": str(work / "sqlite"),
        }
        results.append(bench("sqlite", env, work, args))
        try:
            pg_ready = not args.skip_postgres and pg_admin("CREATE DATABASE {}", pg_name)
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split())[:200]
            skipped.append(f"postgres: skipped, not reachable at {PG_ADMIN}: {reason}")
        if pg_ready:
            url = normalize_database_url(f"{PG_ADMIN.rpartition('/')[0]}/{pg_name}")
            env = common | {"HOTLINE_DATABASE_URL": url, "BENCH_INSTANCE_DIR": str(work / "postgres")}
            results.append(bench("postgres", env, work, args))
        greeting, step = (
            {"BENCH_BASELINE_BODY": str(work / "greeting.xml")},
            {"BENCH_BASELINE_BODY": str(work / "step.xml")},
        )
        results.append(bench("baseline", greeting, work, args))
        sqlite = common | {
            "HOTLINE_DATABASE_URL": f"sqlite:///{work / 'sqlite' / 'hotline.db'}",
            "BENCH_INSTANCE_DIR": str(work / "sqlite"),
        }
        results.append(bench("floor", sqlite | greeting, work, args))
        if pg_ready:
            results.append(
                bench("floor-pg", env | greeting | {"BENCH_INSTANCE_DIR": str(work / "sqlite")}, work, args)
            )
        results.append(bench("flow-step", sqlite, work, args, STEP))
        results.append(bench("baseline2", step, work, args, STEP))
        results.append(bench("floor2", sqlite | step, work, args, STEP))
    finally:
        try:  # also when CREATE DATABASE itself was interrupted
            if not args.skip_postgres:
                pg_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg_name)
        except psycopg.Error as exc:
            if pg_ready:
                print(f"could not drop the database {pg_name}: {exc}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    print_table(results, skipped, args)
    return 1 if any(r.errors or r.notes for r in results) else 0


def print_table(results: list[Result], skipped: list[str], args: argparse.Namespace) -> None:
    print(f"signed POST {VOICE} (a new call) and {STEP.split('?')[0]} (one flow step: main menu, key 9);")
    print(f"new CallSid each; gunicorn {WORKERS} workers x {THREADS} gthread;")
    print(f"{args.concurrency} keep-alive clients; client and server share {os.cpu_count()} CPUs; app log")
    print(f"level {args.log_level}; {args.seconds:g} s per target after up to {WARMUP_SECONDS:g} s warm-up\n")
    print(f"{'target':<10}" + "".join(f"{c:>11}" for c in COLUMNS))
    by_name = {r.target: r for r in results}
    for r in results:
        base = by_name.get("baseline2" if r.target in ("flow-step", "floor2") else "baseline")
        is_base = r.target.startswith("baseline")
        ratios = [r.rps / base.rps, r.ms(0.5) / base.ms(0.5)] if base is not None and not is_base else []
        floor = by_name.get(FLOORS.get(r.target, ""))
        cells = [r.ok + r.errors, r.errors, f"{r.rps:.0f}", f"{r.ms(0.5):.2f}", f"{r.ms(0.99):.2f}"]
        cells += [f"{x:.2f}" for x in ratios] or ["", ""]
        cells += [f"{r.rps / floor.rps:.2f}" if floor is not None and floor.rps else ""]
        cells += [f"{r.client_cpu:.2f}", f"{r.server_cpu * 1000 / max(1, r.ok + r.errors):.2f}"]
        print(f"{r.target:<10}" + "".join(f"{c:>11}" for c in cells))
    for line in skipped + [f"{r.target}: {note}" for r in results for note in r.notes]:
        print(line)


if __name__ == "__main__":
    sys.exit(main())
