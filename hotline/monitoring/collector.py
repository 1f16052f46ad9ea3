"""The gauges read from the database at scrape time (hotline.services.gauges), in the scraping process only: under
gunicorn they are not written to the workers' files, so each scrape reads them once, fresh.

A bounded connection (the console's pool: a few connections, a short wait) and a time limit on the statements,
so a slow or absent database makes the scrape say `hotline_database_up 0` instead of hanging it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hotline.db.models import utcnow
from hotline.runtime import Runtime
from hotline.services.gauges import Gauges, read_gauges

log = logging.getLogger(__name__)

# PostgreSQL stops each statement of a scrape after this; SQLite's statements are limited by the console pool's
# own limit (console.statement_seconds).
STATEMENT_MS = 2000


class LineCollector(Collector):
    """Outbox depth and age, overdue callbacks, the scheduler's leader and heartbeat: from the database."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        heartbeat = self.runtime.settings.file.scheduler.heartbeat_seconds
        try:
            with self.runtime.console_sessions() as session:
                if not self.runtime.settings.is_sqlite:
                    session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_MS}"))
                gauges = read_gauges(session, now, timedelta(seconds=3 * heartbeat + 5))
        except SQLAlchemyError as error:
            log.warning("metrics: the database did not answer (%s)", type(error).__name__)
            yield _database_up(False)
            return
        yield _database_up(True)
        yield from _families(gauges, now)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _database_up(answered: bool) -> GaugeMetricFamily:
    return _gauge("hotline_database_up", "1 when the database answered this scrape's queries.", int(answered))


def _families(gauges: Gauges, now: datetime) -> Iterator[Metric]:
    yield _gauge(
        "hotline_outbox_pending_texts", "Texts waiting in the outbox to be sent.", gauges.pending_texts
    )
    oldest = 0.0
    if gauges.oldest_pending_text is not None:
        oldest = max(0.0, (now - gauges.oldest_pending_text).total_seconds())
    yield _gauge(
        "hotline_outbox_oldest_pending_age_seconds",
        "Age of the oldest text waiting in the outbox (0 when none waits).",
        oldest,
    )
    yield _gauge(
        "hotline_callbacks_overdue",
        "Open callbacks past the time promised to the relative.",
        gauges.overdue_callbacks,
    )
    yield _gauge(
        "hotline_scheduler_processes_alive",
        "Scheduler processes (`hotline worker`, or `hotline serve` alone) leading or standing by with a fresh "
        "heartbeat.",
        gauges.schedulers_alive,
    )
    leader = GaugeMetricFamily(
        "hotline_scheduler_leader",
        "The scheduler process that leads (newest leader heartbeat): 1, labelled with its instance and host.",
        labels=["instance_id", "hostname"],
    )
    if gauges.leader is not None:
        leader.add_metric([gauges.leader.instance_id, gauges.leader.hostname], 1)
        yield leader
        age = max(0.0, (now - gauges.leader.beat_at).total_seconds())
        yield _gauge(
            "hotline_scheduler_heartbeat_age_seconds",
            "Seconds since the leading scheduler's last heartbeat (it beats every scheduler.heartbeat_seconds).",
            age,
        )
    else:
        yield leader
