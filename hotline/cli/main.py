"""The `hotline` command: serve, worker, db upgrade, check."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from hotline.cli.common import _fail, _prepare_database, _settings
from hotline.config.settings import ConfigError, load_settings

log = logging.getLogger("hotline.cli.main")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Pårørendelinjen: the hotline for relatives."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: HOTLINE_PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Run gunicorn with N processes (production).")
def serve(host: str, port: int | None, workers: int | None) -> None:
    """Start the hotline (the embedded default: one process with the scheduler inside)."""
    settings = _settings()
    port = port or settings.port
    _prepare_database(settings)
    from hotline.app import create_app

    app = create_app(settings)
    if settings.demo_mode:
        from hotline.services.rosters import ensure_demo_roster

        with app.extensions["hotline"].sessions.begin() as session:
            demo_roster = ensure_demo_roster(session)
        # No pooled connection may cross gunicorn's fork into its workers.
        app.extensions["hotline"].engine.dispose()
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
    if workers:
        click.echo(f"  gunicorn with {workers} workers; run `hotline worker` for the scheduler")
        from hotline.server import run_gunicorn

        run_gunicorn(app, host, port, workers)
        return

    from hotline.jobs.scheduler import Worker
    from hotline.server import run_embedded

    worker = Worker(app.extensions["hotline"])
    worker.start_in_thread()
    try:
        run_embedded(app, host, port)
    finally:
        worker.stop()


@main.command()
def worker() -> None:
    """Run the scheduler alone; with PostgreSQL any number may run, and one leads at a time."""
    settings = _settings()
    _prepare_database(settings)
    from hotline.jobs.scheduler import Worker
    from hotline.logs import configure_logging
    from hotline.runtime import build_runtime

    configure_logging(settings.file.logging.level)
    runner = Worker(build_runtime(settings))
    _on_signals(lambda *_: runner.stop())
    click.echo(f"scheduler worker {runner.instance_id} started (pid and leadership in the log)")
    runner.run()


def _on_signals(handler: Callable[..., Any]) -> None:
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations shipped with this version."""
    settings = _settings()
    from hotline.db.session import current_revision, make_engine, upgrade

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        click.echo(f"database schema is current ({current_revision(engine)})")
    except SQLAlchemyError as exc:
        _fail([f"cannot upgrade the database ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"], 1)
    finally:
        engine.dispose()


@main.command()
def check() -> None:
    """Validate config, environment and prompts; print every problem; exit 0 when all is well."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(exc.problems, 1)
    from hotline.config.checks import run_checks

    problems, warnings = run_checks(settings)
    for line in warnings:
        click.echo(f"warning: {line}")
    for line in problems:
        click.echo(f"problem: {line}")
    if problems:
        sys.exit(1)
    click.echo(f"ok: {settings.config_path or 'the shipped defaults'} and the environment are valid")


@main.command("fallback-twiml")
def fallback_twiml() -> None:
    """Print the fallback answer as static TwiML (for a TwiML Bin: answers even when this server is down)."""
    settings = _settings()
    from hotline.config.voices import languages_from_settings
    from hotline.twilio.fallback import fallback_response
    from ivr_flows.prompts import PromptCatalogue

    base = settings.public_url or ""
    prompts = PromptCatalogue.load(default_language=settings.file.languages.default)
    click.echo(str(fallback_response(settings, prompts, languages_from_settings(settings, prompts), base)))


from hotline.cli.callbacks import callbacks  # noqa: E402 - registered after `main` exists

main.add_command(callbacks)


from hotline.cli.roster import oncall, roster  # noqa: E402  (managers' commands live in their own module)

main.add_command(roster)
main.add_command(oncall)


from hotline.cli.phone import call  # noqa: E402  (the terminal phone lives in its own module)

main.add_command(call)

from hotline.cli.flows import flows  # noqa: E402  (the call flow's tools)

main.add_command(flows)


from hotline.cli.sms import outbox_command, sms_command  # noqa: E402  (texts: hotline sms, hotline outbox)

main.add_command(sms_command)
main.add_command(outbox_command)

from hotline.cli.erasures import erasures_command  # noqa: E402

main.add_command(erasures_command)
