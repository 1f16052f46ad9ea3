"""`hotline db`: the database schema."""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from hotline.cli.common import fail, settings_or_exit
from hotline.db.session import current_revision, make_engine, upgrade


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations shipped with this version."""
    settings = settings_or_exit()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        click.echo(f"database schema is current ({current_revision(engine)})")
    except SQLAlchemyError as exc:
        fail([f"cannot upgrade the database ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"], 1)
    finally:
        engine.dispose()
