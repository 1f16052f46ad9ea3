"""The database: engine set-up (SQLite pragmas, PostgreSQL pooling), one sessionmaker, and Alembic migrations."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Executable, Table, create_engine, event, literal, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from hotline.db.models import Base

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 5000
# Per connection: a page cache of 16 MiB (SQLite's default is 2 MiB), so the hot tables and indexes of a small
# hotline stay in memory across transactions; and reads through a memory map of up to 256 MiB of the file (no
# copy into the cache, the kernel's page cache shared by every connection and worker). WAL with
# synchronous=NORMAL: a commit does not wait for fsync of the database file, only the WAL is synced at
# checkpoints; a power cut can lose the last commits, never corrupt the file.
SQLITE_CACHE_KIB = 16 * 1024
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """A bounded engine, for a part of the hotline that must never hold up the rest (the staff console): at most
    `connections` connections, a wait of at most `wait_seconds` for one, and statements stopped after
    `statement_seconds` (PostgreSQL's statement_timeout; on SQLite a progress handler interrupts them)."""

    connections: int
    wait_seconds: float
    statement_seconds: float


def make_engine(
    url: str, *, connect_timeout: int = 5, pooled: bool = True, limits: Limits | None = None
) -> Engine:
    """An engine for `url`: SQLite runs with WAL, foreign keys on, a busy timeout and a larger page cache and
    memory map; PostgreSQL pre-pings.
    Without `pooled`, every use opens and closes its own connection (nothing is left open when its owner stops);
    with `limits`, its own small pool and a time limit on every statement.

    Statement parameters are personal data (numbers, message bodies): `hide_parameters` keeps them out of every
    database error's text, and so out of the logs."""
    pooling: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if limits is not None:
        pooling = {"pool_size": limits.connections, "max_overflow": 0, "pool_timeout": limits.wait_seconds}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **pooling
        )
        if limits is not None:
            _interrupt_slow_statements(engine, limits.statement_seconds)
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            path = Path(parsed.database)
            _private_file(path)
            _follow_the_file(engine, path)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        return engine
    # PostgreSQL: a worker serves 4 gthread threads (hotline.server), so 5 pooled connections cover it with one
    # spare, and bursts overflow to 15. The pre-ping costs a round trip per checkout but means a connection the
    # server killed (a restart, a failover) is replaced before a caller's webhook uses it, instead of that caller
    # getting the fallback answer.
    sizes = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10} if pooled else pooling
    connecting: dict[str, Any] = {"connect_timeout": connect_timeout}
    if limits is not None:
        sizes = {"pool_pre_ping": True, **pooling}
        connecting["options"] = f"-c statement_timeout={int(limits.statement_seconds * 1000)}"
    return create_engine(url, hide_parameters=True, connect_args=connecting, **sizes)


def _interrupt_slow_statements(engine: Engine, seconds: float) -> None:
    """SQLite has no statement timeout: a progress handler, called every few thousand steps of its virtual
    machine, interrupts a statement (and the fetching of its rows) running longer than `seconds`."""

    @event.listens_for(engine, "connect")
    def _watch(dbapi_connection: Any, record: Any) -> None:
        started: list[float] = [float("inf")]
        record.info["statement_started"] = started
        dbapi_connection.set_progress_handler(lambda: int(time.monotonic() - started[0] > seconds), 10_000)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(connection: Any, *_args: Any) -> None:
        connection.info["statement_started"][0] = time.monotonic()


def _private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by the owner only before SQLite opens it: the database
    holds personal data, and SQLite gives its -wal and -shm files the database file's permissions."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _follow_the_file(engine: Engine, path: Path) -> None:
    """Tie the engine's connections to the database file at `path` as it is now.

    A file removed under a running app (an operator restoring a backup) would otherwise be replaced twice over:
    SQLite quietly creates an empty database where the file was, and every pooled connection keeps writing to
    the removed file, where it is lost. So a connection is only opened to a file that exists (anything else is an
    error that /readyz explains), and a pooled connection whose file was removed or replaced since it was opened
    is thrown away and opened again on the file there now."""

    def identity() -> tuple[int, int] | None:
        try:
            found = path.stat()
        except FileNotFoundError:
            return None
        return found.st_dev, found.st_ino

    @event.listens_for(engine, "do_connect")
    def _only_an_existing_file(_dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        record.info["file"] = identity()
        if record.info["file"] is None:
            raise sqlite3.OperationalError(missing_file_problem(path))
        # mode=rw: SQLite itself refuses to create the file, should it go between our look and its open.
        cargs[:] = [f"file:{quote(str(path))}?mode=rw"]
        cparams["uri"] = True

    @event.listens_for(engine, "checkout")
    def _still_the_same_file(_dbapi: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("file") != identity():
            raise DisconnectionError("the database file was removed or replaced; opening it again")


def missing_file_problem(path: Path) -> str:
    """What /readyz and the logs say when the SQLite file is gone, and the two ways out."""
    return (
        f"the database file {path} is missing: restore it from your backup, or run `hotline db upgrade` "
        "to start an empty database"
    )


# The key in `Session.info` under which the running hotline gives its send caps (sms.ratelimit.SendCaps).
SEND_CAPS = "send_caps"


def make_session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """The one sessionmaker; callers own their transactions. `info` is given to every session (`Session.info`):
    the running hotline puts its send caps there, so every text to a relative is capped in one place."""
    return sessionmaker(engine, expire_on_commit=False, info=info)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration up to head (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def head_revision() -> str | None:
    """The newest migration shipped with this version of the code."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_problem(engine: Engine) -> str | None:
    """None when the schema is current; otherwise what is wrong and which command fixes it."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return None
    if current is None:
        return "the database has no schema yet; run `hotline db upgrade`"
    return f"the database schema is at {current} but this code needs {head}; run `hotline db upgrade`"


def unreachable_problem(engine: Engine, error: Exception) -> str:
    """What /readyz says when the database did not answer: the missing SQLite file named, with the way out."""
    database = engine.url.database
    sqlite_file = engine.url.get_backend_name() == "sqlite" and database and database != ":memory:"
    if sqlite_file and not Path(str(database)).exists():
        return missing_file_problem(Path(str(database)))
    return f"database unreachable: {type(error).__name__}"


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


# Statements built once per (dialect, table, conflict columns): building and cache-keying an INSERT costs more
# than SQLite running it, and the webhooks insert-or-ignore on every request.
_insert_ignore_statements: dict[tuple[str, str, tuple[str, ...]], Executable] = {}


def insert_ignore(
    session: Session | Connection, model: type[Base], values: Mapping[str, Any], conflict: list[str]
) -> bool:
    """INSERT a row unless one with the same `conflict` columns exists; True when this call inserted it.

    Used for everything Twilio may deliver twice (a retried webhook): the database, not a read-then-write race,
    decides which delivery wins. Given a Connection (not a Session), it runs there, without the ORM.
    """
    dialect = (session.dialect if isinstance(session, Connection) else session.get_bind().dialect).name
    table: Table = model.__table__  # type: ignore[assignment]
    key = (dialect, table.name, tuple(conflict))
    statement = _insert_ignore_statements.get(key)
    if statement is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        # The columns come from the parameters at execution. RETURNING, not rowcount: psycopg reports -1 rows
        # for ON CONFLICT DO NOTHING.
        statement = insert(table).on_conflict_do_nothing(index_elements=conflict).returning(literal(1))
        _insert_ignore_statements[key] = statement
    return session.execute(statement, dict(values)).first() is not None


__all__ = [
    "SEND_CAPS",
    "Base",
    "current_revision",
    "head_revision",
    "insert_ignore",
    "make_engine",
    "make_session_factory",
    "ping",
    "schema_problem",
    "upgrade",
]
