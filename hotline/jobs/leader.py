"""Leader election: exactly one scheduler process schedules at a time.

PostgreSQL: a session-level advisory lock held on a dedicated connection; if the leader dies, PostgreSQL drops
its connection and the lock, and a standby polling every few seconds takes over. SQLite (one machine): an
exclusive file lock in the instance folder, released by the kernel when the process dies.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# An arbitrary 64-bit key naming "the hotline scheduler" among advisory locks ("PARORENDE" in hex-ish).
ADVISORY_LOCK_KEY = 0x7061726F72656E64


class Elector(Protocol):
    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    def __init__(self, url: str) -> None:
        self._engine = create_engine(
            url, poolclass=NullPool, hide_parameters=True, connect_args={"connect_timeout": 5}
        )
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            connection = self._engine.connect()
            got = bool(
                connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
            )
            connection.commit()
        except SQLAlchemyError:
            log.warning("leader election: database unreachable")
            return False
        if got:
            self._connection = connection
        else:
            connection.close()
        return got

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except SQLAlchemyError:
            self._connection = None
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                self._connection.commit()
                self._connection.close()
            except SQLAlchemyError:
                log.warning(
                    "leader election: could not release the lock cleanly; it ends with the connection"
                )
            self._connection = None
        self._engine.dispose()


class FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[str] | None = None

    def try_acquire(self) -> bool:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self._path, "a")  # noqa: SIM115 - held open for as long as we lead
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    def still_held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def make_elector(database_url: str, instance_path: Path) -> Elector:
    if database_url.startswith("postgresql"):
        return PostgresAdvisoryLock(database_url)
    return FileLock(instance_path / "scheduler.lock")
