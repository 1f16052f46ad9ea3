"""The clockwork: APScheduler 3 with its job store in the hotline's own database, run by the elected leader."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from hotline.jobs import registry as jobs
from hotline.jobs.leader import make_elector
from hotline.runtime import Runtime
from routing.wallclock import COPENHAGEN

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
DAILY_CHECK_SECONDS = 300


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """A scheduler with every job registered (not started)."""
    settings = runtime.settings
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=runtime.engine, tablename=JOBS_TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=COPENHAGEN,
    )
    scheduler.add_job(
        jobs.heartbeat,
        "interval",
        seconds=settings.file.scheduler.heartbeat_seconds,
        id="heartbeat",
        replace_existing=True,
    )
    scheduler.add_job(jobs.import_spool, "interval", seconds=60, id="import_spool", replace_existing=True)
    timing = settings.file.jobs
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


class Worker:
    """Competes for leadership; while leading, runs the scheduler; while standing by, reports it is alive."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.instance_id = uuid.uuid4().hex
        self.stop_event = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self._elector = make_elector(runtime.settings.database_url, runtime.settings.instance_path)

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def _lead(self) -> None:
        jobs.bind(self.runtime, self.instance_id)
        scheduler = build_scheduler(self.runtime)
        scheduler.start()
        self.scheduler = scheduler
        jobs.write_heartbeat(self.runtime, self.instance_id, leader=True)
        jobs.import_spool()
        log.info("scheduler leader: jobs running", extra={"instance": self.instance_id})

    def _step_down(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    def tick(self) -> None:
        """One round of the election loop."""
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
            self._step_down()
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
