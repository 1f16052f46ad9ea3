"""The hotline's own Prometheus instruments, and where their values live under gunicorn.

Counted where things happen (webhook latency by route, fallback answers, failed sign-ins); read at `/metrics`
(hotline.monitoring), beside gauges read from the database at scrape time.

One process (`hotline serve`, tests): the values live in this process. Under gunicorn (`hotline serve --workers
N`) each worker counts into its own files in PROMETHEUS_MULTIPROC_DIR, and a scrape, answered by whichever worker
gets it, adds up the files of every worker (prometheus_client's multiprocess mode). `use_directory` sets that up
before gunicorn forks; `process_died` is gunicorn's child_exit hook.

Label values are bounded: a route is the URL rule (`/twilio/voice/step`), never the requested path.

Counting never fails a request: a webhook whose count cannot be written (the multiprocess folder gone, a disk
full) still answers the caller; the failure is logged.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from prometheus_client import Counter, Histogram, values
from prometheus_client.multiprocess import mark_process_dead

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# A webhook answered in 5 ms (a cached menu) up to the 15 s after which Twilio gives up on it.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)

WEBHOOK_SECONDS = Histogram(
    "hotline_webhook_duration_seconds",
    "Time to answer a Twilio webhook, by route (the URL rule).",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
FALLBACK_ANSWERS = Counter(
    "hotline_fallback_answers",
    "Calls answered with the fallback answer (no database needed): Twilio's fallback URL, or a voice webhook "
    "that failed. Answers given by a TwiML Bin while the hotline is down are not counted here.",
    ["route"],
)
SIGN_INS_FAILED = Counter(
    "hotline_console_sign_ins_failed",
    "Refused sign-ins to the staff console, by reason (wrong, locked, disabled, oidc_failed, ...).",
    ["reason"],
)


def observe_webhook(route: str, seconds: float) -> None:
    _count(lambda: WEBHOOK_SECONDS.labels(route=route).observe(seconds), f"webhook time of {route}")


def fallback_answered(route: str) -> None:
    _count(lambda: FALLBACK_ANSWERS.labels(route=route).inc(), f"fallback answer of {route}")


def sign_in_failed(reason: str) -> None:
    _count(lambda: SIGN_INS_FAILED.labels(reason=reason).inc(), f"refused sign-in ({reason})")


def _count(write: Callable[[], None], what: str) -> None:
    """Write one count; a failure is logged, never raised into the request being answered."""
    try:
        write()
    except Exception:
        log.warning("metrics: could not count the %s; the request goes on", what, exc_info=True)


def multiprocess_directory() -> Path | None:
    """The folder the workers count into, when running under gunicorn; None in one process."""
    found = os.environ.get(MULTIPROC_ENV)
    return Path(found) if found else None


def use_directory(given: str | None) -> Path:
    """Before gunicorn forks: count into `given` (PROMETHEUS_MULTIPROC_DIR, e.g. systemd's RuntimeDirectory),
    emptied of an earlier run's files, or into a new private temporary folder. Returns the folder; the caller
    removes a temporary one at exit (`release_directory`)."""
    if given:
        path = Path(given)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # counts of workers of an earlier run, whose pids may come again
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix="hotline-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    # prometheus_client picks where values live when it is first imported; pick again now the folder is set
    # (every instrument here has labels, so no value was made yet: each is made at its first `labels()`).
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return path


def release_directory(path: Path, given: str | None) -> None:
    """At exit: remove the temporary folder `use_directory` made (a given one is left to its owner)."""
    if not given:
        shutil.rmtree(path, ignore_errors=True)


def process_died(pid: int) -> None:
    """gunicorn's child_exit: forget a dead worker's live gauges (its counts stay: they happened)."""
    mark_process_dead(pid)  # type: ignore[no-untyped-call]
