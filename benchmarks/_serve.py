"""One benchmark server: `python benchmarks/_serve.py hotline|baseline PORT`, started by benchmarks/webhooks.py.

Both targets go through hotline.server.run_gunicorn, the gunicorn set-up of `hotline serve --workers N` (gthread
workers, the app built once in the master and forked). Settings come from the environment:
  hotline:  HOTLINE_DATABASE_URL, HOTLINE_CONFIG, BENCH_INSTANCE_DIR, BENCH_LOG_LEVEL (demo mode, no TWILIO_*)
  baseline: BENCH_BASELINE_BODY, a file with the TwiML to answer verbatim (no signature check, no database)
  both:     BENCH_WORKERS, BENCH_THREADS
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, Response

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


if __name__ == "__main__":
    target, port = sys.argv[1], int(sys.argv[2])
    app = {"hotline": hotline_app, "baseline": baseline_app}[target]()
    workers, threads = int(os.environ.get("BENCH_WORKERS", "2")), int(os.environ.get("BENCH_THREADS", "4"))
    run_gunicorn(app, "127.0.0.1", port, workers, threads)
