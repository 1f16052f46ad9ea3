"""The outbox's send loop, a batch at a time: the texts that are due are claimed in one statement (committed as
`sending`), handed to the transport concurrently by the runtime's small pool of send threads, and the results of
the whole batch recorded in one transaction, so a text goes out at most once and is never lost.

What a text says, whether it may still go out, and how a result is recorded live in hotline.services.sending; this
module only moves texts between the database and the transport. The send threads touch only the transport, never
the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.config.settings import Settings
from hotline.runtime import Runtime
from hotline.services.sending import (
    LOOKUP_SLACK,
    Claimed,
    Outcome,
    SendReport,
    claim_in,
    mark_interrupted,
    record_results,
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
    """Send the texts that are due at `now`: one batch, sent concurrently, each text at most once."""
    with runtime.sessions.begin() as session:
        report = SendReport(interrupted=mark_interrupted(session, runtime.settings, now))
    batch = limit or runtime.settings.file.sms.batch_size
    texts = claim(runtime.sessions, runtime.settings, now, batch, report)
    if not texts:
        return report
    if len(texts) == 1:
        outcomes = [_attempt(runtime, texts[0])]
    else:
        outcomes = list(runtime.send_pool().map(lambda text: _attempt(runtime, text), texts))
    # If this transaction fails, the batch stays `sending`: after sms.sending_timeout_minutes each text is looked
    # up at Twilio before it is sent again (never blindly twice).
    with runtime.sessions.begin() as session:
        record_results(session, runtime.settings, outcomes, now, report)
    for outcome in outcomes:
        if outcome.sent is not None:
            text = outcome.text
            log.info(
                "sms found at twilio, not sent again" if outcome.found else "sms sent",
                extra={
                    "outbox": text.id,
                    "purpose": text.purpose,
                    "to": mask_number(text.to),
                    "sid": outcome.sent.sid,
                },
            )
    return report


def send_while_due(
    runtime: Runtime, clock: Callable[[], datetime], seconds: float, leading: Callable[[], bool]
) -> SendReport:
    """Send batch after batch while full batches come back, for up to about `seconds` (the job's interval, so
    the next run is not skipped) and while this process still leads: a burst of texts is sent at the batch
    rate, not at one batch per run."""
    started = time.monotonic()
    batch = runtime.settings.file.sms.batch_size
    total = SendReport()
    while True:
        report = send_due(runtime, clock())
        total.add(report)
        if report.handled < batch or time.monotonic() - started >= seconds or not leading():
            return total


def _attempt(runtime: Runtime, text: Claimed) -> Outcome:
    """One text's attempt, on a send thread: look it up first if an earlier attempt may have reached Twilio,
    then send it unless found. Never raises: a failure is the outcome."""
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
        if found is not None:
            return Outcome(text, sent=found, found=True)
        if text.cancel_unless_found:
            return Outcome(text, cancelled=True)
        sent = runtime.transport.send_sms(
            to=text.to,
            from_=hotline_number,
            body=text.body,
            status_callback=settings.url("/twilio/sms/status"),
        )
        return Outcome(text, sent=sent)
    except TransportError as error:
        return Outcome(text, error=error)
    except Exception as error:
        # A bug, not a known failure: the rest of the batch goes on; this text is never retried.
        log.exception("sending a text failed unexpectedly", extra={"outbox": text.id})
        return Outcome(text, unexpected=error)
