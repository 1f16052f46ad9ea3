"""Two outbox workers on PostgreSQL, each with its own engine (as two processes would have), drain one outbox of
1,000 texts through the real twilio Client to the fake Twilio: every text is handed to Twilio exactly once. And
the claim itself, with one worker's claim held open: the other takes the next texts without waiting."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from hotline.config.settings import Settings, load_settings
from hotline.db.models import Message, OutboxText
from hotline.jobs import outbox as send_loop
from hotline.runtime import build_runtime
from hotline.services import outbox, sending
from hotline.twilio.rest import TwilioTransport, make_client
from tests.fake_twilio import FakeTwilio, Reply, error
from tests.helpers import BACKEND

TEXTS = 1000
SID = "AC" + "c" * 32
POSTGRES_ONLY = pytest.mark.skipif(
    BACKEND != "postgres", reason="row locking (FOR UPDATE SKIP LOCKED) needs PostgreSQL"
)


def _settings(settings_mapping: dict[str, object], **sms: object) -> Settings:
    config = dict(settings_mapping["config"])  # type: ignore[call-overload]
    config["sms"] = sms
    return load_settings(
        environ={"HOTLINE_DATABASE_URL": str(settings_mapping["HOTLINE_DATABASE_URL"])},
        overrides=config,
        config_path=str(settings_mapping["config_path"]),
    )


@POSTGRES_ONLY
def test_a_worker_skips_the_texts_another_is_claiming_instead_of_waiting_or_taking_them(
    settings_mapping: dict[str, object],
) -> None:
    settings = _settings(settings_mapping)
    first, second = build_runtime(settings), build_runtime(settings)
    now = datetime.now(UTC)
    try:
        with first.sessions.begin() as session:
            for n in range(6):
                outbox.enqueue(
                    session,
                    capped=False,
                    to=f"+45671100{n:02d}",
                    purpose="received",
                    language="da",
                    now=now,
                    body="x",
                )
        with first.sessions.begin() as holding:
            mine = [
                c.id for c in sending.claim_in(holding, settings, now, 3, sending.SendReport())
            ]  # not committed
            result: list[list[int]] = []
            other = threading.Thread(
                target=lambda: result.append(
                    [c.id for c in send_loop.claim(second.sessions, settings, now, 10)]
                )
            )
            started = time.monotonic()
            other.start()
            other.join(timeout=5)
            waited = time.monotonic() - started
            assert result, "the second worker blocked on the first one's rows"
        assert len(mine) == 3 and len(result[0]) == 3
        assert not set(mine) & set(result[0])
        assert waited < 2
        assert send_loop.claim(second.sessions, settings, now, 10) == []
    finally:
        first.dispose()
        second.dispose()


@pytest.mark.slow
@POSTGRES_ONLY
def test_two_workers_send_each_of_a_thousand_texts_exactly_once(settings_mapping: dict[str, object]) -> None:
    settings = _settings(settings_mapping, batch_size=5, retry_seconds=0, retry_max_seconds=0)
    fake = FakeTwilio().start()
    # A few transient failures on the way: retried, still never a text twice.
    fake.script.extend([Reply(), error(500, 20500), Reply(), error(503, 20503), Reply(), error(429, 20429)])
    workers = [
        build_runtime(settings, TwilioTransport(make_client(SID, "token", fake.url, timeout=5.0)))
        for _ in range(2)
    ]
    now = datetime.now(UTC)
    try:
        with workers[0].sessions.begin() as session:
            for n in range(TEXTS):
                outbox.enqueue(
                    session,
                    capped=False,
                    to=f"+456710{n:04d}",
                    purpose="received",
                    language="da",
                    now=now,
                    body=f"tekst {n}",
                )
        handled: list[Counter[str]] = [Counter(), Counter()]
        errors: list[BaseException] = []

        def drain(index: int) -> None:
            try:
                idle = 0
                while idle < 3:
                    report = send_loop.send_due(workers[index], datetime.now(UTC))
                    handled[index].update(sent=report.sent, retrying=report.retrying)
                    idle = idle + 1 if report.handled == 0 else 0
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert all(h["sent"] > 0 for h in handled), f"both workers should have sent some: {handled}"
        assert handled[0]["sent"] + handled[1]["sent"] == TEXTS
        assert handled[0]["retrying"] + handled[1]["retrying"] == 3

        bodies = Counter(r.form["Body"][0] for r in fake.requests)
        assert len(fake.requests) == TEXTS + 3
        failed_once = {body for body, count in bodies.items() if count == 2}
        assert len(failed_once) == 3 and set(bodies.values()) <= {1, 2}
        assert set(bodies) == {f"tekst {n}" for n in range(TEXTS)}
        with workers[0].sessions() as session:
            states = Counter(session.scalars(select(OutboxText.state)))
            sids = session.scalar(select(func.count(func.distinct(Message.message_sid))))
        assert states == Counter({"sent": TEXTS})
        assert sids == TEXTS
    finally:
        fake.stop()
        for runtime in workers:
            runtime.dispose()
