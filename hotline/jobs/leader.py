"""Leader election: exactly one scheduler process schedules at a time.

PostgreSQL: a session-level advisory lock held on a dedicated connection; if the leader dies, PostgreSQL drops
its connection and the lock, and a standby polling every few seconds takes over. The lock is also a lease: a
leader that is alive but stuck (frozen, swapped out, wedged) holds its connection and so its lock, but stops
writing its heartbeat; when the leaders' newest heartbeat is older than the lease, a standby terminates the
backend that holds the lock and takes over. The old leader finds its connection gone when it wakes, before any
job runs (every job asks `still_held` first), and steps down. SQLite (one machine): an exclusive file lock in
the instance folder, released by the kernel when the process dies.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
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
    def __init__(self, url: str, lease_seconds: float | None = None) -> None:
        self._engine = create_engine(
            url, poolclass=NullPool, hide_parameters=True, connect_args={"connect_timeout": 5}
        )
        self._connection: Connection | None = None
        self._lease = lease_seconds
        self._lock = threading.Lock()  # the election loop and the jobs' checks share the connection

    def try_acquire(self) -> bool:
        try:
            connection = self._engine.connect()
        except SQLAlchemyError:
            log.warning("leader election: database unreachable")
            return False
        try:
            got = self._try_lock(connection)
            if not got and self._lease is not None and self._leader_is_stale(connection):
                got = self._take_over(connection)
        except SQLAlchemyError:
            log.warning("leader election: the database failed mid-election")
            connection.close()
            return False
        if got:
            with self._lock:
                self._connection = connection
        else:
            connection.close()
        return got

    @staticmethod
    def _try_lock(connection: Connection) -> bool:
        got = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
        )
        connection.commit()
        return got

    def _leader_is_stale(self, connection: Connection) -> bool:
        """True when some process holds the lock but no leader has written a heartbeat within the lease."""
        fresh = connection.execute(
            text(
                "SELECT count(*) FROM scheduler_heartbeats "
                "WHERE is_leader AND beat_at > now() - make_interval(secs => :lease)"
            ),
            {"lease": self._lease},
        ).scalar()
        connection.commit()
        return not fresh

    def _take_over(self, connection: Connection) -> bool:
        """Terminate the backend holding the lock (a leader past its lease) and take the lock."""
        # The holder's connection must be older than the lease too: a leader that has only just taken the lock
        # has had no time to write its first heartbeat yet.
        holder = connection.execute(
            text(
                "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                "AND l.classid::bigint = :high AND l.objid::bigint = :low "
                "AND a.backend_start < now() - make_interval(secs => :lease)"
            ),
            {"high": ADVISORY_LOCK_KEY >> 32, "low": ADVISORY_LOCK_KEY & 0xFFFFFFFF, "lease": self._lease},
        ).scalar()
        if holder is None:
            connection.commit()
            return self._try_lock(connection)
        log.error(
            "leader election: the leader's lease ran out (no heartbeat); terminating its lock's connection",
            extra={"backend_pid": holder, "lease_seconds": self._lease},
        )
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
        connection.commit()
        for _ in range(20):  # the lock goes when that backend has exited: a few milliseconds
            if self._try_lock(connection):
                return True
            time.sleep(0.1)
        return False

    def still_held(self) -> bool:
        with self._lock:
            if self._connection is None:
                return False
            try:
                self._connection.execute(text("SELECT 1"))
                self._connection.commit()
                return True
            except SQLAlchemyError:
                self._drop()
                return False

    def _drop(self) -> None:
        """Forget a connection that failed (the lock went with it), closing what is left of it."""
        if self._connection is not None:
            try:
                self._connection.close()
            except SQLAlchemyError:
                log.debug("leader election: the lost connection did not close cleanly")
            self._connection = None

    def release(self) -> None:
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                self._connection.commit()
                self._connection.close()
            except SQLAlchemyError:
                log.warning(
                    "leader election: could not release the lock cleanly; it ends with the connection"
                )
            self._drop()
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


def make_elector(database_url: str, instance_path: Path, lease_seconds: float | None = None) -> Elector:
    """PostgreSQL's advisory lock (with a lease when `lease_seconds` is given), or SQLite's file lock."""
    if database_url.startswith("postgresql"):
        return PostgresAdvisoryLock(database_url, lease_seconds)
    return FileLock(instance_path / "scheduler.lock")
