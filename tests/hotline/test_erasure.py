"""Twilio's copies of purged personal data are erased at Twilio: the nightly purge queues them, a job works the
queue through the real twilio Client (against the fake Twilio on loopback), and nothing is lost or forgotten."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.db.models import RemoteErasure, utcnow
from hotline.jobs import erasure as erase_job
from hotline.jobs import retention
from hotline.runtime import Runtime
from hotline.services import erasure
from tests.fake_twilio import FakeTwilio, Reply, error
from tests.helpers import TWILIO_ACCOUNT, AppFactory, HotlineRunner, local, seed_personal_data

NOW = local(date(2026, 6, 10), 3, 30)
RECORDING, MESSAGE, CALL = "RE" + "7" * 32, "SM" + "7" * 32, "CA" + "7" * 32
ACCOUNT_PATH = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT}"


def erasures(app_or_runtime: Flask | Runtime) -> dict[str, RemoteErasure]:
    rt = app_or_runtime.extensions["hotline"] if isinstance(app_or_runtime, Flask) else app_or_runtime
    with rt.sessions() as session:
        return {row.sid: row for row in session.scalars(select(RemoteErasure))}


def queue_three(app: Flask) -> None:
    with app.extensions["hotline"].sessions.begin() as session:
        assert erasure.queue(session, "recording", [RECORDING], NOW) == 1
        assert erasure.queue(session, "message", [MESSAGE, None], NOW) == 1
        assert erasure.queue(session, "call", [CALL], NOW) == 1
        assert erasure.queue(session, "call", [CALL], NOW) == 0  # queued once


def test_the_purge_queues_twilio_copies_of_what_it_blanks(runtime: Runtime) -> None:
    seed_personal_data(runtime, NOW)
    purged = retention.purge(runtime, NOW)
    assert purged is not None and purged.twilio_erasures_queued == 3
    queued = erasures(runtime)
    # Past retention: the 40-day recording (30 days), the 100-day text (90), the 400-day call (365). The 10-day
    # ones stay, here and at Twilio.
    assert {(row.kind, row.sid) for row in queued.values()} == {
        ("recording", f"RE{40:032d}"),
        ("message", f"SM{100:032d}"),
        ("call", f"CA{400:032d}"),
    }
    assert all(row.done_at is None and row.next_attempt_at == NOW for row in queued.values())
    # The next night finds our copies already blank, so nothing is queued twice.
    again = retention.purge(runtime, NOW + timedelta(days=1))
    assert again is not None and again.twilio_erasures_queued == 0
    assert len(erasures(runtime)) == 3


def test_the_real_client_deletes_recordings_and_calls_and_redacts_texts(
    live: Flask, fake: FakeTwilio
) -> None:
    queue_three(live)
    report = erase_job.erase_due(live.extensions["hotline"], NOW)
    assert report.outcomes == {"erased": 3}
    seen = {(request.method, request.path): request.form for request in fake.requests}
    assert seen == {
        ("DELETE", f"{ACCOUNT_PATH}/Recordings/{RECORDING}.json"): {},
        ("POST", f"{ACCOUNT_PATH}/Messages/{MESSAGE}.json"): {"Body": [""]},
        ("DELETE", f"{ACCOUNT_PATH}/Calls/{CALL}.json"): {},
    }
    rows = erasures(live)
    assert {row.outcome for row in rows.values()} == {"erased"}
    assert all(row.done_at == NOW and row.attempts == 1 for row in rows.values())
    assert (
        erase_job.erase_due(live.extensions["hotline"], NOW + timedelta(days=1)).handled == 0
    )  # done is done


def test_already_gone_at_twilio_counts_as_erased(live: Flask, fake: FakeTwilio) -> None:
    with live.extensions["hotline"].sessions.begin() as session:
        erasure.queue(session, "recording", [RECORDING], NOW)
    fake.script.append(error(404, 20404, "The requested resource was not found"))
    assert erase_job.erase_due(live.extensions["hotline"], NOW).outcomes == {"gone": 1}
    assert erasures(live)[RECORDING].outcome == "gone"


def test_transient_failures_are_retried_with_backoff_until_erased(live: Flask, fake: FakeTwilio) -> None:
    with live.extensions["hotline"].sessions.begin() as session:
        erasure.queue(session, "recording", [RECORDING], NOW)
    runtime = live.extensions["hotline"]
    fake.script.extend([error(500, 20500), Reply(status=204, delay=1.5), error(429, 20429)])
    assert erase_job.erase_due(runtime, NOW).outcomes == {"retrying": 1}  # 500
    row = erasures(live)[RECORDING]
    assert (row.attempts, row.next_attempt_at, row.done_at) == (1, NOW + timedelta(minutes=5), None)
    assert "20500" in (row.last_error or "")
    assert erase_job.erase_due(runtime, NOW + timedelta(minutes=4)).handled == 0  # not due yet
    at = NOW + timedelta(minutes=5)
    assert erase_job.erase_due(runtime, at).outcomes == {"retrying": 1}  # the client timed out (1 s)
    assert erasures(live)[RECORDING].next_attempt_at == at + timedelta(minutes=10)
    at += timedelta(minutes=10)
    assert erase_job.erase_due(runtime, at).outcomes == {"retrying": 1}  # 429
    assert erasures(live)[RECORDING].next_attempt_at == at + timedelta(minutes=20)
    at += timedelta(minutes=20)
    assert erase_job.erase_due(runtime, at).outcomes == {"erased": 1}
    row = erasures(live)[RECORDING]
    assert (row.attempts, row.outcome, row.last_error) == (4, "erased", None)


def test_the_backoff_is_capped_at_six_hours() -> None:
    assert erase_job._retry_after(1) == timedelta(minutes=5)
    assert erase_job._retry_after(7) == timedelta(hours=5, minutes=20)
    assert erase_job._retry_after(8) == timedelta(hours=6)
    assert erase_job._retry_after(50) == timedelta(hours=6)


def test_a_refusal_is_recorded_listed_and_can_be_queued_again(
    live: Flask, fake: FakeTwilio, runner: HotlineRunner
) -> None:
    queue_three(live)
    fake.script.append(error(403, 20003, "Authenticate"))
    report = erase_job.erase_due(live.extensions["hotline"], NOW)
    assert report.outcomes == {"failed": 1, "erased": 2}
    refused = erasures(live)[RECORDING]
    assert (refused.outcome, refused.done_at) == ("failed", NOW) and "20003" in (refused.last_error or "")
    assert (
        erase_job.erase_due(live.extensions["hotline"], NOW + timedelta(days=1)).handled == 0
    )  # not retried

    listed = runner.invoke(["erasures"])
    assert listed.exit_code == 0, listed.output
    assert "optagelser (recordings)" in listed.output and "failed" in listed.output
    assert f"recording {RECORDING}" in listed.output and "kode 20003" in listed.output
    # The operator fixed the cause: queued again and, from the CLI (the demo transport here), worked at once.
    again = runner.invoke(["erasures", "--retry-failed", "--run"])
    assert again.exit_code == 0, again.output
    assert "queued again): 1" in again.output and "demo 1" in again.output
    assert erasures(live)[RECORDING].outcome == "demo"


def test_the_demo_has_nothing_at_twilio_to_erase(app: Flask) -> None:
    queue_three(app)
    assert erase_job.erase_due(app.extensions["hotline"], NOW).outcomes == {"demo": 3}


def test_an_unexpected_error_is_retried_not_dropped(make_app: AppFactory) -> None:
    class Broken:
        name = "broken"

        def erase(self, *, kind: str, sid: str) -> str:
            raise RuntimeError("a bug")

    app = make_app(transport=Broken())  # type: ignore[arg-type]
    queue_three(app)
    assert erase_job.erase_due(app.extensions["hotline"], NOW).outcomes == {"retrying": 3}
    assert all(row.done_at is None for row in erasures(app).values())


def test_the_cli_says_when_nothing_was_queued(runner: HotlineRunner) -> None:
    result = runner.invoke(["erasures"])
    assert result.exit_code == 0, result.output
    assert "nothing queued for erasure yet" in result.output


def test_the_scheduler_job_works_the_queue(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.jobs import registry as jobs

    monkeypatch.setattr(jobs, "_context", None)  # restored after the test
    with app.extensions["hotline"].sessions.begin() as session:
        erasure.queue(session, "recording", [RECORDING], utcnow())  # due now; the job reads the clock itself
    jobs.bind(app.extensions["hotline"], "test-instance")
    jobs.erase_at_twilio()
    assert {row.outcome for row in erasures(app).values()} == {"demo"}
