"""Scheduled jobs. Each is a plain module-level function (the job store keeps only its name) that finds the
running hotline through `bind()`, opens its own session, and is safe to run late or twice."""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from hotline.db.models import SchedulerHeartbeat, utcnow
from hotline.db.session import insert_ignore
from hotline.jobs import backlog, callbacks, retention, shifts
from hotline.jobs import erasure as erase_job
from hotline.jobs import outbox as send_loop
from hotline.runtime import Runtime
from hotline.services import spool

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    runtime: Runtime
    instance_id: str
    # Whether this process still holds the leadership (its lock or lease): asked before every job, so a leader
    # that was frozen and replaced does nothing when it wakes, before its election loop notices.
    leading: Callable[[], bool] = lambda: True


_context: JobContext | None = None


def bind(runtime: Runtime, instance_id: str, leading: Callable[[], bool] | None = None) -> None:
    """Tell the jobs which hotline they serve (called by the worker before the scheduler starts)."""
    global _context
    _context = JobContext(runtime, instance_id, leading or (lambda: True))


def only_while_leading(job: Callable[[], None]) -> Callable[[], None]:
    """A job that does nothing (and says so) when this process no longer leads: never two leaders at work."""

    @functools.wraps(job)
    def run() -> None:
        if not context().leading():
            log.warning("job skipped: this process no longer leads", extra={"job": job.__name__})
            return
        job()

    return run


def context() -> JobContext:
    if _context is None:
        raise RuntimeError(
            "scheduler jobs ran before hotline.jobs.registry.bind(); start them through `hotline worker`"
        )
    return _context


def write_heartbeat(runtime: Runtime, instance_id: str, *, leader: bool) -> None:
    """Record that this scheduler process is alive, and whether it leads."""
    now = utcnow()
    with runtime.sessions.begin() as session:
        inserted = insert_ignore(
            session,
            SchedulerHeartbeat,
            {
                "instance_id": instance_id,
                "hostname": socket.gethostname()[:200],
                "pid": os.getpid(),
                "is_leader": leader,
                "started_at": now,
                "beat_at": now,
            },
            ["instance_id"],
        )
        if not inserted:
            row = session.get(SchedulerHeartbeat, instance_id)
            assert row is not None
            row.is_leader = leader
            row.beat_at = now


@only_while_leading
def heartbeat() -> None:
    """Proves the clockwork runs: the leader's row is refreshed every `scheduler.heartbeat_seconds`."""
    ctx = context()
    write_heartbeat(ctx.runtime, ctx.instance_id, leader=True)


@only_while_leading
def import_spool() -> None:
    """Bring voicemails and texts taken while the database was down into it, and act on the texts."""
    ctx = context()
    count = spool.import_spool(ctx.runtime.settings.instance_path, ctx.runtime.sessions)
    if count:
        log.info("spool imported", extra={"count": count})
    handled = backlog.handle_backlog(ctx.runtime, utcnow())
    if handled:
        log.info("incoming texts handled from the backlog", extra={"count": handled})
    filed = backlog.file_voicemails(ctx.runtime, utcnow())
    if filed:
        log.info("voicemails from the fallback answer filed in the callback queue", extra={"count": filed})


@only_while_leading
def send_outbox() -> None:
    """Send the texts that are due (every `jobs.outbox_seconds`): batch after batch while there are more."""
    ctx = context()
    seconds = ctx.runtime.settings.file.jobs.outbox_seconds
    report = send_loop.send_while_due(ctx.runtime, utcnow, seconds, ctx.leading)
    if report.handled or report.interrupted:
        log.info(
            "outbox sent",
            extra={
                "sent": report.sent,
                "retrying": report.retrying,
                "failed": report.failed,
                "cancelled": report.cancelled,
                "interrupted": report.interrupted,
                "codes": report.codes,
            },
        )


@only_while_leading
def open_windows() -> None:
    """Callback windows that opened: the advisor and the relative are told (every `jobs.callbacks_seconds`)."""
    opened = callbacks.open_windows(context().runtime, utcnow())
    if opened:
        log.info("callback windows opened", extra={"count": opened})


@only_while_leading
def escalate_overdue() -> None:
    """Callbacks past their due time go to the advisor on call and the manager (every `jobs.callbacks_seconds`)."""
    escalated = callbacks.escalate_overdue(context().runtime, utcnow())
    if escalated:
        log.warning("overdue callbacks escalated", extra={"count": escalated})


@only_while_leading
def shift_starts() -> None:
    """Handover to each incoming advisor; an uncovered shift start to the manager (every `jobs.callbacks_seconds`)."""
    texts = shifts.shift_starts(context().runtime, utcnow())
    if texts:
        log.info("shift start texts written", extra={"count": texts})


@only_while_leading
def gap_report() -> None:
    """The morning report of roster gaps to the managers (checked every few minutes, sent once a day)."""
    gaps = shifts.gap_report(context().runtime, utcnow())
    if gaps is not None:
        log.info("roster gap report written", extra={"gaps": gaps})


@only_while_leading
def purge() -> None:
    """The nightly purge of personal data past retention (checked every few minutes, run once a day)."""
    retention.purge(context().runtime, utcnow())


@only_while_leading
def erase_at_twilio() -> None:
    """Twilio's copies of purged personal data are erased there (every `jobs.erasure_seconds`)."""
    report = erase_job.erase_due(context().runtime, utcnow())
    if report.handled:
        log.info("twilio copies erased", extra={"outcomes": dict(report.outcomes)})
