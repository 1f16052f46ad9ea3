"""One benchmark server: `python benchmarks/_serve.py hotline|baseline|floor PORT`, started and stopped by
`serving` (benchmarks/webhooks.py, openloop.py, console.py), which also holds the client side's other shared
pieces: the PostgreSQL admin statement, the server's CPU time and the error lines of its log.

Every target goes through hotline.server.run_gunicorn, the gunicorn set-up of `hotline serve --workers N` (gthread
workers, the app built once in the master and forked). Settings come from the environment:
  hotline:  HOTLINE_DATABASE_URL, HOTLINE_CONFIG, BENCH_INSTANCE_DIR, BENCH_LOG_LEVEL (demo mode, no TWILIO_*)
  baseline: BENCH_BASELINE_BODY, a file with the TwiML to answer verbatim (no signature check, no database)
  floor:    BENCH_BASELINE_BODY, HOTLINE_DATABASE_URL, BENCH_INSTANCE_DIR (whose demo signing secret it checks):
            the unavoidable work of a webhook. The form parsed and its signature checked with twilio's
            RequestValidator; for a new call (/twilio/voice) the call row inserted-or-ignored with one Core
            statement; then the TwiML answered verbatim
  all:      BENCH_WORKERS, BENCH_THREADS (default WORKERS, THREADS)
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import psycopg
from flask import Flask, Response, request
from psycopg import sql

from hotline.server import run_gunicorn

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("HOTLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
WORKERS, THREADS = 2, 4
READY_SECONDS = 60


@contextlib.contextmanager
def serving(target: str, env: Mapping[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`target`'s server on a free loopback port, with `env` over this process's environment less TWILIO_* (so the
    app runs in demo mode), its output in `log`; yields the process and the port once it answers, stops it at
    the end."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    full = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")} | dict(env)
    with log.open("wb") as out:
        command = [sys.executable, __file__, target, str(port)]
        process = subprocess.Popen(
            command, cwd=ROOT, env=full, stdout=out, stderr=out, start_new_session=True
        )
    try:
        wait_ready(process, port, log)
        yield process, port
    finally:
        stop_server(process)


def wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Until the server answers anything at all on /healthz (the baseline and the floor answer 404)."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"server did not answer on port {port} within {READY_SECONDS} s:\n{log.read_text()[-2000:]}"
    )


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Quick-stop the gunicorn master (SIGINT), then SIGKILL its process group (the workers) if anything is left."""
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the gunicorn master and its workers (from Linux /proc; 0 elsewhere)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        stats = [Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split() for p in [pid, *children]]
    except OSError:
        return 0.0
    return sum(int(fields[11]) + int(fields[12]) for fields in stats) / os.sysconf("SC_CLK_TCK")


def error_lines(log: Path) -> list[str]:
    """The server log's error lines (the app's JSON logs and gunicorn's own)."""
    return [line for line in log.read_text().splitlines() if '"error"' in line or "[ERROR]" in line]


def pg_admin(statement: str, database: str) -> bool:
    """Run `statement` (CREATE/DROP DATABASE {}) on PG_ADMIN for `database`; True when it ran."""
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(database)))
    return True


def hotline_app() -> Flask:
    from hotline.app import create_app

    return create_app(
        {
            "HOTLINE_DATABASE_URL": os.environ["HOTLINE_DATABASE_URL"],
            "HOTLINE_CONFIG": os.environ["HOTLINE_CONFIG"],
            "config": {
                "instance_dir": os.environ["BENCH_INSTANCE_DIR"],
                "logging": {"level": os.environ.get("BENCH_LOG_LEVEL", "WARNING")},
            },
        }
    )


def baseline_app() -> Flask:
    body = Path(os.environ["BENCH_BASELINE_BODY"]).read_bytes()
    app = Flask("baseline")

    @app.post("/twilio/voice")
    @app.post("/twilio/voice/step")
    def voice() -> Response:
        return Response(body, mimetype="text/xml")

    return app


def floor_app() -> Flask:
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    from twilio.request_validator import RequestValidator

    from hotline.db.models import Call, utcnow
    from hotline.db.session import make_engine
    from hotline.runtime import demo_signing_secret

    body = Path(os.environ["BENCH_BASELINE_BODY"]).read_bytes()
    validator = RequestValidator(demo_signing_secret(Path(os.environ["BENCH_INSTANCE_DIR"])))
    engine = make_engine(
        os.environ["HOTLINE_DATABASE_URL"]
    )  # connects lazily: in each worker, after the fork
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    new_call = insert(Call.__table__).on_conflict_do_nothing(index_elements=["call_sid"])
    app = Flask("floor")

    def signed() -> bool:
        return bool(
            validator.validate(request.url, request.form, request.headers.get("X-Twilio-Signature", ""))
        )

    @app.post("/twilio/voice")
    def voice() -> Response:
        if not signed():
            return Response(status=403)
        form, now = request.form, utcnow()
        with engine.begin() as connection:
            connection.execute(
                new_call,
                {
                    "call_sid": form["CallSid"],
                    "direction": form.get("Direction", "inbound"),
                    "from_number": form.get("From"),
                    "caller_withheld": False,
                    "to_number": form.get("To"),
                    "status": "ringing",
                    "created_at": now,
                    "updated_at": now,
                },
            )
        return Response(body, mimetype="text/xml")

    @app.post("/twilio/voice/step")
    def step() -> Response:
        return Response(body, mimetype="text/xml") if signed() else Response(status=403)

    return app


if __name__ == "__main__":
    target, port = sys.argv[1], int(sys.argv[2])
    app = {"hotline": hotline_app, "baseline": baseline_app, "floor": floor_app}[target]()
    workers = int(os.environ.get("BENCH_WORKERS", WORKERS))
    threads = int(os.environ.get("BENCH_THREADS", THREADS))
    run_gunicorn(app, "127.0.0.1", port, workers, threads)
