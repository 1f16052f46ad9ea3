"""The nightly purge of personal data past retention, once per local date."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update

from hotline.db.models import ClockworkRun
from hotline.jobs.runs import daily_due, once
from hotline.runtime import Runtime
from hotline.services.pseudonyms import pseudonym_key
from hotline.services.retention import Purged, purge_personal_data
from hotline.services.retention_overview import PURGE_JOB

log = logging.getLogger(__name__)


def purge(runtime: Runtime, now: datetime) -> Purged | None:
    """Every night: personal data past `retention` is purged. None when not due or done today."""
    today = daily_due(now, runtime.settings.file.jobs.purge_at)
    if today is None:
        return None
    with runtime.sessions.begin() as session:
        if not once(session, PURGE_JOB, today.isoformat(), now):
            return None
        purged = purge_personal_data(session, runtime.settings, now, pseudonym_key(runtime))
        session.execute(
            update(ClockworkRun)
            .where(ClockworkRun.job == PURGE_JOB, ClockworkRun.run_key == today.isoformat())
            .values(summary=purged.summary()[:300])
        )
    log.info("personal data purged", extra={"purged": purged.summary()})
    return purged
