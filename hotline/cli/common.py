"""What every `hotline` command needs: settings (or a clean exit on bad config) and a prepared database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from hotline.config.settings import ConfigError, Settings, load_settings
from hotline.runtime import Runtime, build_runtime
from routing.wording.catalogue import both


def fail(lines: list[str], code: int = 2) -> NoReturn:
    """Print each problem on its own line and exit with `code`: no traceback."""
    for line in lines:
        click.echo(f"hotline: {line}", err=True)
    sys.exit(code)


def unreachable(url: str, reason: object, hint: str) -> str:
    """The hotline at `url` did not answer (`hotline sms`, `hotline call`): what happened, then `hint`."""
    return f"{both('cli.unreachable', url=url)}: {reason}. {hint}"


def settings_or_exit() -> Settings:
    """The settings, or every configuration problem printed and a non-zero exit."""
    try:
        return load_settings()
    except ConfigError as exc:
        click.echo("hotline: the configuration has problems; nothing was started:", err=True)
        fail(exc.problems)


def prepare_database(settings: Settings) -> None:
    """SQLite (embedded) upgrades itself; PostgreSQL must already be current (`hotline db upgrade`)."""
    from hotline.db.session import make_engine, ping, schema_problem, upgrade

    engine = make_engine(settings.database_url)
    try:
        ping(engine)
        if settings.is_sqlite:
            upgrade(engine)
            return
        problem = schema_problem(engine)
    except SQLAlchemyError as exc:
        fail(
            [
                f"cannot reach the database ({type(exc).__name__}); check HOTLINE_DATABASE_URL and that it runs"
            ],
            1,
        )
    finally:
        engine.dispose()
    if problem:
        fail([f"refusing to run: {problem}"], 1)


@contextmanager
def open_runtime() -> Iterator[Runtime]:
    """Settings, a current database and the runtime, for one command; database errors exit 1; the engine's
    connections are closed when the command is done."""
    settings = settings_or_exit()
    prepare_database(settings)
    runtime = build_runtime(settings)
    try:
        yield runtime
    except SQLAlchemyError as exc:
        fail([f"database error ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"], 1)
    finally:
        runtime.dispose()
