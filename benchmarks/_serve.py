"""One benchmark server: `python benchmarks/_serve.py hotline|baseline|floor PORT`, started by
benchmarks/webhooks.py.

Every target goes through hotline.server.run_gunicorn, the gunicorn set-up of `hotline serve --workers N` (gthread
workers, the app built once in the master and forked). Settings come from the environment:
  hotline:  HOTLINE_DATABASE_URL, HOTLINE_CONFIG, BENCH_INSTANCE_DIR, BENCH_LOG_LEVEL (demo mode, no TWILIO_*)
  baseline: BENCH_BASELINE_BODY, a file with the TwiML to answer verbatim (no signature check, no database)
  floor:    BENCH_BASELINE_BODY, HOTLINE_DATABASE_URL, BENCH_INSTANCE_DIR (whose demo signing secret it checks):
            the unavoidable work of a webhook. The form parsed and its signature checked with twilio's
            RequestValidator; for a new call (/twilio/voice) the call row inserted-or-ignored with one Core
            statement; then the TwiML answered verbatim
  all:      BENCH_WORKERS, BENCH_THREADS
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, Response, request

from hotline.server import run_gunicorn


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
    workers, threads = int(os.environ.get("BENCH_WORKERS", "2")), int(os.environ.get("BENCH_THREADS", "4"))
    run_gunicorn(app, "127.0.0.1", port, workers, threads)
