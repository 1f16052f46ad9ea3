"""The outbox's send loop: texts that are due are claimed (committed as `sending`), handed to the transport one
by one, and each result recorded in its own transaction, so a text goes out at most once and is never lost.

What a text says, whether it may still go out, and how a result is recorded live in hotline.services.outbox; this
module only moves texts between the database and the transport.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.config.settings import Settings
from hotline.db.models import OutboxText
from hotline.runtime import Runtime
from hotline.services.outbox import (
    LOOKUP_SLACK,
    Claimed,
    SendReport,
    cancel,
    claim_in,
    mark_interrupted,
    record_failed_attempt,
    record_sent,
    record_unexpected_failure,
)
from hotline.transport.base import TransportError
from routing.numbers import mask_number

log = logging.getLogger(__name__)


def claim(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    limit: int,
    report: SendReport | None = None,
) -> list[Claimed]:
    """Take up to `limit` due texts for this worker, committed as `sending` before any is sent."""
    with sessions.begin() as session:
        return claim_in(session, settings, now, limit, report or SendReport())


def send_due(runtime: Runtime, now: datetime, *, limit: int | None = None) -> SendReport:
    """Send the texts that are due at `now`: one batch, each text at most once."""
    with runtime.sessions.begin() as session:
        report = SendReport(interrupted=mark_interrupted(session, runtime.settings, now))
    batch = limit or runtime.settings.file.sms.batch_size
    for text in claim(runtime.sessions, runtime.settings, now, batch, report):
        try:
            _deliver(runtime, text, now, report)
        except Exception as error:
            # A bug, not a known failure: the rest of the batch goes on.
            log.exception("sending a text failed unexpectedly", extra={"outbox": text.id})
            with runtime.sessions.begin() as session:
                record_unexpected_failure(session, text.id, error, now)
            report.count("failed", "unexpected")
    return report


def _deliver(runtime: Runtime, text: Claimed, now: datetime, report: SendReport) -> None:
    settings = runtime.settings
    hotline_number = settings.file.service.hotline_number
    try:
        found = (
            runtime.transport.find_sent(
                to=text.to, from_=hotline_number, body=text.body, since=text.uncertain_since - LOOKUP_SLACK
            )
            if text.uncertain_since is not None
            else None
        )
        if found is None and text.cancel_unless_found:
            with runtime.sessions.begin() as session:
                row = session.get(OutboxText, text.id)
                assert row is not None
                cancel(row, text.cancel_unless_found, now, report)
            return
        sent = found or runtime.transport.send_sms(
            to=text.to,
            from_=hotline_number,
            body=text.body,
            status_callback=settings.url("/twilio/sms/status"),
        )
    except TransportError as error:
        with runtime.sessions.begin() as session:
            record_failed_attempt(session, settings, text.id, error, now, report)
        return
    with runtime.sessions.begin() as session:
        record_sent(session, settings, text.id, sent, now)
    report.count("sent")
    log.info(
        "sms found at twilio, not sent again" if found else "sms sent",
        extra={"outbox": text.id, "purpose": text.purpose, "to": mask_number(text.to), "sid": sent.sid},
    )
