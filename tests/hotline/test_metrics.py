"""/metrics during a call walk: a new call, a flow step, a fallback answer, a failed sign-in and a text queued move
the webhook histogram, the fallback and sign-in counters and the outbox gauge by exactly what happened; who may
read /metrics; the gauges when the database is gone; the config key's checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.config.settings import ConfigError, load_settings
from hotline.db.models import OutboxText
from tests.helpers import RELATIVE, call_params, console_login, new_sid, signer

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
TOKEN = "f3c1a9d2b7e84c6a0d5f1e2b3c4d5e6f7a8b9c0d1e2f3a4b"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: FlaskClient, **kwargs: Any) -> Samples:
    response = client.get("/metrics", environ_base=LOOPBACK, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def pending_texts(app: Flask) -> int:
    with app.extensions["hotline"].sessions() as session:
        return int(session.scalar(select(func.count()).where(OutboxText.state == "pending")) or 0)


def sms(body: str) -> dict[str, str]:
    return {"MessageSid": new_sid("SM"), "From": RELATIVE, "To": "+4568000000", "Body": body}


def test_a_call_walk_moves_the_counters(rostered: Flask) -> None:
    client = rostered.test_client()
    twilio = signer(rostered)
    histogram = "hotline_webhook_duration_seconds"
    before = scrape(client)
    pending_before = pending_texts(rostered)

    params = call_params()
    greeting = twilio.post("/twilio/voice", params)
    assert greeting.status_code == 200
    action = re.search(r'<Gather [^>]*action="([^"]+)"', greeting.get_data(as_text=True))
    assert action, greeting.get_data(as_text=True)
    step_url = action.group(1).replace("&amp;", "&")
    assert twilio.post(step_url, {**params, "Digits": "1"}).status_code == 200
    assert twilio.post("/twilio/voice/fallback", call_params(ErrorCode="11200")).status_code == 200
    assert (
        twilio.post("/twilio/voice", call_params(), headers={"X-Twilio-Signature": "forged"}).status_code
        == 403
    )
    assert console_login(client, "nobody", "not the password").status_code == 401
    assert twilio.post("/twilio/sms", sms("Hvornår ringer I?")).status_code == 200

    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Two calls to /twilio/voice (one refused for its signature: timed all the same), one step, one fallback.
    assert moved(f"{histogram}_count", route="/twilio/voice") == 2
    assert moved(f"{histogram}_count", route="/twilio/voice/step") == 1
    assert moved(f"{histogram}_count", route="/twilio/voice/fallback") == 1
    assert moved(f"{histogram}_count", route="/twilio/sms") == 1
    assert moved(f"{histogram}_bucket", route="/twilio/voice/step", le="+Inf") == 1
    assert moved(f"{histogram}_sum", route="/twilio/voice/step") > 0
    assert moved("hotline_fallback_answers_total", route="/twilio/voice/fallback") == 1
    assert moved("hotline_console_sign_ins_failed_total", reason="wrong") == 1
    # The console and /metrics itself are not webhooks: no series of theirs.
    assert not any(name == f"{histogram}_count" and "console" in str(labels) for name, labels in after)
    # The outbox gauge is read from the database at the scrape: the receipt of the text waits there.
    assert pending_texts(rostered) > pending_before
    assert value(after, "hotline_outbox_pending_texts") == pending_texts(rostered)
    assert value(before, "hotline_outbox_pending_texts") == pending_before
    assert value(after, "hotline_outbox_oldest_pending_age_seconds") >= 0
    assert value(after, "hotline_database_up") == 1


def test_the_scheduler_gauges_follow_the_heartbeats(rostered: Flask) -> None:
    from hotline.jobs.registry import write_heartbeat

    client = rostered.test_client()
    runtime = rostered.extensions["hotline"]
    before = scrape(client)
    assert value(before, "hotline_scheduler_processes_alive") == 0
    assert not any(name == "hotline_scheduler_leader" for name, _ in before)
    write_heartbeat(runtime, "standby-1", leader=False)
    write_heartbeat(runtime, "leader-1", leader=True)
    after = scrape(client)
    leaders = [dict(labels) for name, labels in after if name == "hotline_scheduler_leader"]
    assert [labels["instance_id"] for labels in leaders] == ["leader-1"]
    assert value(after, "hotline_scheduler_processes_alive") == 2
    assert 0 <= value(after, "hotline_scheduler_heartbeat_age_seconds") < 60


def test_overdue_callbacks_are_counted(rostered: Flask) -> None:
    from datetime import timedelta

    from hotline.db.models import CallbackRequest, utcnow
    from tests.helpers import register_callback

    client = rostered.test_client()
    register_callback(rostered.extensions["hotline"], utcnow())
    assert value(scrape(client), "hotline_callbacks_overdue") == 0
    with rostered.extensions["hotline"].sessions.begin() as session:
        for callback in session.scalars(select(CallbackRequest)):
            callback.due_at = utcnow() - timedelta(minutes=5)
    assert value(scrape(client), "hotline_callbacks_overdue") == 1


@pytest.mark.parametrize(
    ("remote", "headers", "allowed"),
    [
        ("127.0.0.1", {}, True),
        ("::1", {}, True),
        ("10.20.0.7", {}, True),  # in web.metrics_allow below
        ("10.21.0.7", {}, False),
        ("203.0.113.9", {}, False),
        ("203.0.113.9", {"Authorization": f"Bearer {TOKEN}"}, True),
        ("203.0.113.9", {"Authorization": "Bearer wrong"}, False),
        ("203.0.113.9", {"Authorization": f"Basic {TOKEN}"}, False),
    ],
)
def test_who_may_read_metrics(
    settings_mapping: dict[str, Any], remote: str, headers: dict[str, str], allowed: bool
) -> None:
    config = {**settings_mapping["config"], "web": {"metrics_allow": ["127.0.0.1/32", "::1", "10.20.0.0/16"]}}
    app = create_app({**settings_mapping, "config": config, "HOTLINE_METRICS_TOKEN": TOKEN})
    try:
        response = app.test_client().get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
        assert response.status_code == (200 if allowed else 403)
        if allowed:
            assert "hotline_outbox_pending_texts" in response.get_data(as_text=True)
    finally:
        app.extensions["hotline"].dispose()


def test_behind_a_trusted_proxy_the_forwarded_client_counts(settings_mapping: dict[str, Any]) -> None:
    """A public client reaching /metrics through a load balancer on this machine is not loopback."""
    config = {**settings_mapping["config"], "web": {"trusted_proxies": 1}}
    app = create_app({**settings_mapping, "config": config})
    try:
        client = app.test_client()
        forwarded = client.get("/metrics", environ_base=LOOPBACK, headers={"X-Forwarded-For": "198.51.100.4"})
        assert forwarded.status_code == 403
    finally:
        app.extensions["hotline"].dispose()


def test_metrics_answer_when_the_database_is_gone(app: Flask, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite file is removed; PostgreSQL's outage is the process tests'")
    app.extensions["hotline"].dispose()
    Path(database_url.removeprefix("sqlite:///")).unlink()
    samples = scrape(app.test_client())
    assert value(samples, "hotline_database_up") == 0
    assert ("hotline_outbox_pending_texts", ()) not in samples


@pytest.mark.parametrize(
    ("web", "environ", "expected"),
    [
        ({"metrics_allow": ["10.0.0.0/33"]}, {}, "web.metrics_allow"),
        ({"metrics_allow": ["prometheus.local"]}, {}, "CIDR form"),
        ({}, {"HOTLINE_METRICS_TOKEN": "short"}, "HOTLINE_METRICS_TOKEN is too weak"),
    ],
)
def test_a_bad_metrics_setting_names_the_key_and_the_fix(
    web: dict[str, Any], environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ, overrides={"web": web} if web else None)
    assert any(expected in problem for problem in raised.value.problems), raised.value.problems


def test_metrics_allow_is_normalised(settings_mapping: dict[str, Any]) -> None:
    settings = load_settings(overrides={"web": {"metrics_allow": ["10.1.2.3/8", "::1"]}})
    assert settings.file.web.metrics_allow == ["10.0.0.0/8", "::1/128"]
    assert load_settings().file.web.metrics_allow == ["127.0.0.1/32", "::1/128"]


class _BrokenStore:
    """An instrument whose values cannot be written, as when the multiprocess folder is gone or the disk full."""

    def labels(self, **_labels: str) -> Any:
        raise OSError(28, "No space left on device")


def test_a_count_that_cannot_be_written_never_fails_a_webhook(
    rostered: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from hotline import metrics

    for instrument in ("WEBHOOK_SECONDS", "FALLBACK_ANSWERS", "SIGN_INS_FAILED"):
        monkeypatch.setattr(metrics, instrument, _BrokenStore())
    twilio = signer(rostered)
    greeting = twilio.post("/twilio/voice", call_params())
    assert greeting.status_code == 200
    assert "<Gather" in greeting.get_data(as_text=True)
    fallback = twilio.post("/twilio/voice/fallback", call_params(ErrorCode="11200"))
    assert fallback.status_code == 200
    assert "<Dial" in fallback.get_data(as_text=True) or "<Record" in fallback.get_data(as_text=True)
    assert console_login(rostered.test_client(), "nobody", "not the password").status_code == 401
    assert any("metrics: could not count" in record.getMessage() for record in caplog.records)


def test_without_a_given_folder_the_workers_count_into_a_temporary_one(tmp_path: Path) -> None:
    """`hotline serve --workers N` with no PROMETHEUS_MULTIPROC_DIR: prometheus_client was imported before the
    folder existed, and `use_directory` makes it count into files all the same (it re-picks the library's value
    class, the one library detail this relies on; this test fails if a prometheus_client release changes it).
    In a child process, so this process's instruments stay in memory."""
    script = """
import os, sys
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from hotline import metrics
folder = metrics.use_directory(None)
metrics.fallback_answered("/twilio/voice/fallback")
metrics.observe_webhook("/twilio/voice", 0.01)
files = sorted(p.name.split("_")[0] for p in folder.glob("*.db"))
registry = CollectorRegistry()
MultiProcessCollector(registry, path=str(folder))
print(files)
print(generate_latest(registry).decode())
metrics.release_directory(folder, None)
print("left:", folder.exists())
"""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert "['counter', 'histogram']" in done.stdout, done.stdout + done.stderr
    assert 'hotline_fallback_answers_total{route="/twilio/voice/fallback"} 1.0' in done.stdout
    assert 'hotline_webhook_duration_seconds_count{route="/twilio/voice"} 1.0' in done.stdout
    assert "left: False" in done.stdout


def test_paths_twilio_never_calls_add_no_series(rostered: Flask) -> None:
    """The route label is the URL rule: a scan of made-up paths under /twilio/ cannot grow the label set."""
    client = rostered.test_client()
    twilio = signer(rostered)
    before = {labels for name, labels in scrape(client) if name == "hotline_webhook_duration_seconds_count"}
    for n in range(5):
        assert twilio.post(f"/twilio/voice/nope-{n}", call_params()).status_code == 404
        assert client.get(f"/twilio/sms?x={n}", environ_base=LOOPBACK).status_code == 405
    after = {labels for name, labels in scrape(client) if name == "hotline_webhook_duration_seconds_count"}
    assert after == before
