"""`hotline serve` (the web app, with the scheduler inside unless gunicorn runs it) and `hotline worker` (the
scheduler alone)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import click

from hotline import metrics
from hotline.app import create_app
from hotline.cli.common import prepare_database, settings_or_exit
from hotline.db.models import utcnow
from hotline.jobs.scheduler import Worker
from hotline.logs import configure_logging
from hotline.runtime import build_runtime
from hotline.server import run_embedded, run_gunicorn
from hotline.services.rosters import ensure_demo_roster
from hotline.services.staff_accounts import ensure_demo_login
from routing.wording.catalogue import both


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: HOTLINE_PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Run gunicorn with N processes (production).")
def serve(host: str, port: int | None, workers: int | None) -> None:
    """Start the hotline (the embedded default: one process with the scheduler inside)."""
    settings = settings_or_exit()
    port = port or settings.port
    prepare_database(settings)
    # Before the app exists and gunicorn forks: where each worker counts, for /metrics to add up (hotline.metrics).
    given_metrics_dir = os.environ.get(metrics.MULTIPROC_ENV)
    metrics_dir = metrics.use_directory(given_metrics_dir) if workers else None
    app = create_app(settings)
    demo_login = None
    if settings.demo_mode:
        with app.extensions["hotline"].sessions.begin() as session:
            demo_roster = ensure_demo_roster(session)
            demo_login = ensure_demo_login(session, utcnow())
        # No pooled connection may cross gunicorn's fork into its workers.
        app.extensions["hotline"].dispose()
    base = settings.public_url or f"http://{host}:{port}"
    mode = "DEMO (offline: texts and calls are recorded, not sent)" if settings.demo_mode else "LIVE (Twilio)"
    click.echo(f"{settings.file.service.name} — mode: {mode}")
    click.echo(f"  database: {'SQLite (embedded)' if settings.is_sqlite else 'PostgreSQL'}")
    if settings.demo_mode and demo_roster:
        click.echo("  demo roster loaded: fictional advisors on call 24/7 (see `hotline oncall`)")
    click.echo(f"  listening on http://{host}:{port}")
    click.echo(f"  health:        {base}/healthz   readiness: {base}/readyz")
    click.echo(f"  voice webhook: {base}/twilio/voice   fallback: {base}/twilio/voice/fallback")
    click.echo(f"  sms webhook:   {base}/twilio/sms")
    if demo_login is not None:
        username, password = demo_login
        click.echo(
            "  " + both("account.demo_login", url=f"{base}/console/", username=username, password=password)
        )
    if workers:
        click.echo(f"  gunicorn with {workers} workers; run `hotline worker` for the scheduler")
        click.echo(f"  metrics:       {base}/metrics (web.metrics_allow, HOTLINE_METRICS_TOKEN)")
        assert metrics_dir is not None
        try:
            run_gunicorn(app, host, port, workers, on_worker_exit=metrics.process_died)
        finally:
            metrics.release_directory(metrics_dir, given_metrics_dir)
        return

    worker = Worker(app.extensions["hotline"])
    worker.start_in_thread()
    try:
        run_embedded(app, host, port)
    finally:
        worker.stop()


@click.command()
def worker() -> None:
    """Run the scheduler alone; with PostgreSQL any number may run, and one leads at a time."""
    settings = settings_or_exit()
    prepare_database(settings)
    configure_logging(settings.file.logging.level)
    runner = Worker(build_runtime(settings))
    _on_signals(lambda *_: runner.stop())
    click.echo(f"scheduler worker {runner.instance_id} started (pid and leadership in the log)")
    runner.run()


def _on_signals(handler: Callable[..., Any]) -> None:
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
