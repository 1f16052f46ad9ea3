"""The clockwork: APScheduler 3 with its job store in the hotline's own database, run by the elected leader."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from hotline.config.sections import SchedulerSettings
from hotline.db.session import make_engine
from hotline.jobs import registry as jobs
from hotline.jobs.leader import make_elector
from hotline.runtime import Runtime
from routing.wallclock import COPENHAGEN

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
DAILY_CHECK_SECONDS = 300
# After a failure of the job store (the database), the scheduler tries again this much later.
JOBSTORE_RETRY_SECONDS = 5


class ResilientScheduler(BackgroundScheduler):  # type: ignore[misc]  # APScheduler 3 ships no type information
    """APScheduler's background scheduler, except that a failing job store cannot kill it.

    APScheduler 3 catches a failure to read due jobs, but not one while writing a job's next run time back
    (`jobstore.update_job`): a database locked for longer than the busy timeout, or a PostgreSQL connection
    killed, ends its thread, and with it every text, callback window, escalation and purge. Here any such
    failure is logged and the loop goes on after `jobstore_retry_interval`; the jobs whose bookkeeping failed run
    again, which they are built for (each is idempotent)."""

    def _process_jobs(self) -> float | None:
        try:
            return super()._process_jobs()  # type: ignore[no-any-return]
        except Exception:
            log.exception("scheduler: the job store failed; trying again shortly")
            return float(self.jobstore_retry_interval)


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """A scheduler with every job registered (not started)."""
    settings = runtime.settings
    scheduler = ResilientScheduler(
        # The job store gets an engine of its own, without a pool: APScheduler disposes the store's engine when
        # the scheduler shuts down (leadership lost, a restart), which must not pull connections from under the
        # web requests, and its loop may touch the store once more after that, which must leave nothing open.
        jobstores={
            "default": SQLAlchemyJobStore(
                engine=make_engine(settings.database_url, pooled=False), tablename=JOBS_TABLE
            )
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        jobstore_retry_interval=JOBSTORE_RETRY_SECONDS,
        timezone=COPENHAGEN,
    )
    scheduler.add_job(
        jobs.heartbeat,
        "interval",
        seconds=settings.file.scheduler.heartbeat_seconds,
        id="heartbeat",
        replace_existing=True,
    )
    timing = settings.file.jobs
    scheduler.add_job(
        jobs.import_spool, "interval", seconds=timing.spool_seconds, id="import_spool", replace_existing=True
    )
    scheduler.add_job(
        jobs.send_outbox, "interval", seconds=timing.outbox_seconds, id="send_outbox", replace_existing=True
    )
    scheduler.add_job(
        jobs.erase_at_twilio,
        "interval",
        seconds=timing.erasure_seconds,
        id="erase_at_twilio",
        replace_existing=True,
    )
    for job in (jobs.open_windows, jobs.escalate_overdue, jobs.shift_starts):
        scheduler.add_job(
            job, "interval", seconds=timing.callbacks_seconds, id=job.__name__, replace_existing=True
        )
    # Daily work checks its own local time of day and date (see hotline.jobs.runs.daily_due), so it needs no
    # cron trigger that a daylight-saving change or a stopped scheduler could skip; it runs once at start-up to
    # catch up after downtime.
    for job in (jobs.gap_report, jobs.purge):
        scheduler.add_job(
            job,
            "interval",
            seconds=DAILY_CHECK_SECONDS,
            id=job.__name__,
            replace_existing=True,
            next_run_time=datetime.now(UTC),
        )
    return scheduler


def lease_seconds(settings: SchedulerSettings) -> float:
    """How long a leader may go without a heartbeat before a standby takes over: a missed beat or two, never
    less than 15 s. With the defaults (10 s beats, 5 s polls) a stuck leader is replaced within 20-25 s."""
    return max(15.0, 1.5 * settings.heartbeat_seconds + settings.leader_poll_seconds)


class Worker:
    """Competes for leadership; while leading, runs the scheduler; while standing by, reports it is alive."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.instance_id = uuid.uuid4().hex
        self.stop_event = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        scheduler_settings = runtime.settings.file.scheduler
        self._elector = make_elector(
            runtime.settings.database_url, runtime.settings.instance_path, lease_seconds(scheduler_settings)
        )

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def _lead(self) -> None:
        jobs.bind(self.runtime, self.instance_id, self._elector.still_held)
        jobs.write_heartbeat(self.runtime, self.instance_id, leader=True)  # the lease starts now
        scheduler = build_scheduler(self.runtime)
        scheduler.start()
        self.scheduler = scheduler
        jobs.import_spool()
        log.info("scheduler leader: jobs running", extra={"instance": self.instance_id})

    def _step_down(self, *, wait: bool = False) -> None:
        """Stop the jobs; with `wait`, let running ones finish first (a clean stop, not a lost leadership)."""
        if self.scheduler is not None:
            scheduler, self.scheduler = self.scheduler, None
            try:
                scheduler.shutdown(wait=wait)
            except Exception:  # a dead scheduler cannot always be shut down cleanly; it is dropped either way
                log.warning("scheduler did not shut down cleanly", exc_info=True)

    def scheduler_alive(self) -> bool:
        """Whether the leading scheduler's thread still runs (APScheduler keeps it in `_thread`)."""
        thread = getattr(self.scheduler, "_thread", None)
        return thread is not None and thread.is_alive()

    def tick(self) -> None:
        """One round of the election loop; also the watchdog of the scheduler this process leads."""
        if self.scheduler is not None and not self.scheduler_alive():
            log.error("scheduler thread died; starting it again", extra={"instance": self.instance_id})
            self._step_down()
            try:
                self._lead()
            except Exception:
                log.exception("could not restart the scheduler; standing down")
                self._step_down()
                self._elector.release()
            return
        if self.scheduler is None:
            if self._elector.try_acquire():
                try:
                    self._lead()
                except Exception:
                    log.exception("could not start the scheduler; standing down")
                    self._step_down()
                    self._elector.release()
            else:
                try:
                    jobs.write_heartbeat(self.runtime, self.instance_id, leader=False)
                except Exception:
                    log.warning("standby heartbeat failed (database unreachable?)")
        elif not self._elector.still_held():
            log.error("scheduler leadership lost; stopping jobs", extra={"instance": self.instance_id})
            self._step_down()

    def run(self) -> None:
        """Loop until `stop()`; then stop the scheduler and give up leadership."""
        log.info("scheduler worker started", extra={"instance": self.instance_id})
        poll = self.runtime.settings.file.scheduler.leader_poll_seconds
        try:
            while not self.stop_event.is_set():
                self.tick()
                self.stop_event.wait(poll)
        finally:
            was_leader = self.is_leader
            self._step_down(wait=True)
            if was_leader:
                try:
                    jobs.write_heartbeat(self.runtime, self.instance_id, leader=False)
                except Exception:
                    log.warning("could not mark this scheduler as stopped")
            self._elector.release()
            log.info("scheduler worker stopped", extra={"instance": self.instance_id})

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="hotline-scheduler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stop_event.set()
