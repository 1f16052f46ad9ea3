"""Bring the deploy/ pieces up on this machine, without systemd, and prove they start and find each other.

Reads the unit files and the example environment file, and runs each unit's ExecStart as a real process (paths,
ports and secrets substituted; `/opt/hotline/.venv/bin/hotline` becomes this Python's `-m hotline`) on a fresh
PostgreSQL database: the migration oneshot, two web hosts (`hotline-web@.service` with 2 gunicorn workers each)
and two schedulers (`hotline-worker.service`), with a small reverse proxy standing in for deploy/nginx.conf (the
same X-Forwarded-* headers, /metrics refused, round robin) and the fake Twilio (tests/fake_twilio.py) as Twilio's
API. Then, through the load balancer: /readyz is 200; a call signed for the public URL gets the greeting; a text
gets its receipt, which a worker sends to Twilio. On each web host directly (as Prometheus scrapes): /metrics
names the leading scheduler, and the calls counted by both gunicorn workers of a host add up. Then everything
stops cleanly.

    .venv/bin/python deploy/smoke.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Run from the repository (it uses the test suite's fake Twilio); tests/deploy/test_smoke.py runs it (slow).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import yaml
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

DEPLOY = Path(__file__).resolve().parent
REPO = DEPLOY.parent
if str(REPO) not in sys.path:  # run as a script: the test suite's helpers are imported from the repository
    sys.path.insert(0, str(REPO))

from deploy.balancer import LoadBalancer  # noqa: E402
from deploy.units import Unit, command_line, read_env_file, units  # noqa: E402
from tests.fake_twilio import FakeTwilio  # noqa: E402
from tests.faults.running import process_env, wait_for  # noqa: E402

RELATIVE = "+4567000031"  # the Danish reserve series for tests (docs/testing.md)
HOTLINE_NUMBER = "+4568000000"
ACCOUNT = "AC" + "5" * 32
AUTH_TOKEN = "smoke-test-auth-token"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
GUNICORN_WORKERS = 2
STARTUP_SECONDS = 45


# --- the processes ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    name = f"hotline_smoke_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Site:
    """The whole deployment on this machine, and what the checks ask of it."""

    work: Path
    env: dict[str, str]
    fake: FakeTwilio
    web_ports: list[int] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)
    balancer: LoadBalancer | None = None
    report: list[str] = field(default_factory=list)

    def start(self, name: str, args: list[str], extra: Mapping[str, str] | None = None) -> Process:
        log = self.work / f"{name}.log"
        with log.open("wb") as handle:
            popen = subprocess.Popen(
                args,
                cwd=self.work,
                env={**self.env, **(extra or {})},
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def stop_all(self) -> list[str]:
        """SIGTERM to every process, as systemctl stop does; those that do not stop in time are killed and named."""
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        unclean = []
        for process in self.processes:
            try:
                code = process.popen.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
                unclean.append(f"{process.name}: did not stop within 40 s of SIGTERM")
                continue
            if code != 0:
                unclean.append(f"{process.name}: exit {code}\n{process.tail()}")
        return unclean

    # --- through the load balancer, as Twilio and staff reach it

    @property
    def lb(self) -> str:
        assert self.balancer is not None
        return f"http://127.0.0.1:{self.balancer.port}"

    def get(self, url: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    def twilio_post(self, path: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> tuple[int, str]:
        """POST through the load balancer, signed as Twilio signs: for the public URL it called."""
        public = self.env["HOTLINE_PUBLIC_URL"] + path
        signature = RequestValidator(token).compute_signature(public, dict(params))
        request = urllib.request.Request(
            self.lb + path,
            data=urlencode(params).encode(),
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def call(self) -> tuple[int, str]:
        params = {
            "CallSid": "CA" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT,
            "From": RELATIVE,
            "To": HOTLINE_NUMBER,
            "CallStatus": "ringing",
            "Direction": "inbound",
        }
        return self.twilio_post("/twilio/voice", params)

    # --- on each web host directly, as Prometheus scrapes

    def scrape(self, port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, body = self.get(f"http://127.0.0.1:{port}/metrics")
        if status != 200:
            raise AssertionError(f"/metrics on port {port}: {status} {body[:300]}")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
        }


def _require(condition: bool, what: str, site: Site, *names: str) -> None:
    if not condition:
        logs = "\n".join(f"--- {p.name}\n{p.tail()}" for p in site.processes if not names or p.name in names)
        raise AssertionError(f"{what}\n{logs}")


def _config(work: Path) -> None:
    """deploy/config.yaml's web settings over the fault suite's config (its short scheduler intervals)."""
    path = work / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    deployed = yaml.safe_load((DEPLOY / "config.yaml").read_text(encoding="utf-8"))
    config["web"] = deployed["web"]
    config["service"] = {**config.get("service", {}), **deployed["service"]}
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def run(admin_url: str = DEFAULT_ADMIN_URL, work: Path | None = None) -> list[str]:
    """Bring everything up, check it, stop it; returns what was measured. Raises AssertionError on a failure."""
    found = units()
    with ExitStack() as stack:
        if work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hotline-smoke-")))
        fake = stack.enter_context(_fake_twilio())
        database_url = stack.enter_context(database(admin_url))
        file_env = read_env_file()
        env = process_env(work, database_url)
        _config(work)
        env.update({k: v for k, v in file_env.items() if k not in ("HOTLINE_CONFIG", "HOTLINE_DATABASE_URL")})
        env.update(
            {
                "HOTLINE_TWILIO_API_URL": fake.url,
                "TWILIO_ACCOUNT_SID": ACCOUNT,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "HOTLINE_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
                "HOTLINE_METRICS_TOKEN": uuid.uuid4().hex + uuid.uuid4().hex,
                "HOTLINE_BIND_ADDRESS": "127.0.0.1",
                "HOTLINE_WEB_WORKERS": str(GUNICORN_WORKERS),
            }
        )
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        site = Site(work, env, fake)
        try:
            _bring_up(site, found)
            _check(site)
        finally:
            unclean = site.stop_all()
        if unclean:
            raise AssertionError("not every process stopped cleanly:\n" + "\n".join(unclean))
        site.report.append(f"all {len(site.processes)} processes stopped cleanly on SIGTERM")
        return site.report


@contextmanager
def _fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()


def _bring_up(site: Site, found: dict[str, Unit]) -> None:
    started = time.monotonic()
    migrate = site.start("migrate", command_line(found["hotline-migrate.service"], site.env))
    _require(migrate.popen.wait(timeout=60) == 0, "hotline-migrate.service failed", site, "migrate")
    web = found["hotline-web@.service"]
    for n in range(2):
        port = free_port()
        runtime_dir = site.work / "run" / f"hotline-web-{port}"  # RuntimeDirectory= under /run
        # A file left by an earlier run (a worker pid that may come again): `serve` must clear it, or the
        # scrape would fail to read it and the counts below would not add up.
        runtime_dir.mkdir(parents=True)
        (runtime_dir / "histogram_1.db").write_bytes(b"left over from an earlier run")
        unit_env = {
            k: v.replace("%i", str(port)).replace(f"/run/hotline-web-{port}", str(runtime_dir))
            for k, v in web.environment().items()
        }
        site.start(f"web-{n + 1}", command_line(web, site.env, str(port)), unit_env)
        site.web_ports.append(port)
    worker = found["hotline-worker.service"]
    for n in range(2):
        site.start(f"worker-{n + 1}", command_line(worker, site.env))
    site.balancer = LoadBalancer([("127.0.0.1", p) for p in site.web_ports], site.env["HOTLINE_PUBLIC_URL"])
    site.balancer.__enter__()
    ready = [lambda p=p: site.get(f"http://127.0.0.1:{p}/readyz")[0] == 200 for p in site.web_ports]
    _require(
        wait_for(lambda: all(r() for r in ready), STARTUP_SECONDS), "the web hosts never became ready", site
    )
    site.report.append(
        f"migrated, 2 web hosts x {GUNICORN_WORKERS} gunicorn workers and 2 schedulers ready in "
        f"{time.monotonic() - started:.1f} s"
    )


def _check(site: Site) -> None:
    try:
        _checks(site)
    finally:
        assert site.balancer is not None
        site.balancer.__exit__()


def _checks(site: Site) -> None:
    status, body = site.get(site.lb + "/readyz")
    _require(status == 200 and '"ok"' in body, f"/readyz through the load balancer: {status} {body}", site)
    status, _ = site.get(site.lb + "/metrics")
    _require(status == 404, f"/metrics through the load balancer must be refused, got {status}", site)

    # A call, signed for the public URL; the app checks it against HOTLINE_PUBLIC_URL behind the proxy.
    status, body = site.call()
    _require(
        status == 200 and "<Gather" in body, f"a signed call through the load balancer: {status} {body}", site
    )
    forged = site.twilio_post(
        "/twilio/voice", {"CallSid": "CA" + "0" * 32, "From": RELATIVE}, "not-the-token"
    )
    _require(forged[0] == 403, f"a call signed with another token is refused, got {forged[0]}", site)

    # A text: its receipt is queued by a web host and sent by the leading worker to "Twilio".
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": RELATIVE, "To": HOTLINE_NUMBER, "Body": "Hej"}
    status, _ = site.twilio_post("/twilio/sms", params)
    _require(status == 200, f"a text through the load balancer: {status}", site)
    sent = wait_for(lambda: any(m["to"] == RELATIVE for m in site.fake.messages), 30)
    _require(sent, "the receipt never reached Twilio (no worker sent it)", site)
    site.report.append("a signed call and a text through the load balancer; the receipt sent by a worker")

    # The schedulers found each other through the database: one leads, both are alive, and /metrics says so.
    metrics = site.scrape(site.web_ports[0])
    leaders = [dict(k[1]) for k in metrics if k[0] == "hotline_scheduler_leader"]
    _require(len(leaders) == 1, f"one leading scheduler in /metrics, found {leaders}", site)
    _require(metrics.get(("hotline_scheduler_processes_alive", ())) == 2, "both schedulers alive", site)
    age = metrics.get(("hotline_scheduler_heartbeat_age_seconds", ()), -1)
    site.report.append(
        f"leader {leaders[0]['instance_id'][:8]} on {leaders[0]['hostname']}, heartbeat {age:.1f} s"
    )

    _counts_add_up(site)


def _counts_add_up(site: Site) -> None:
    """Calls through the load balancer, until each host's two gunicorn workers have both counted some: the
    histogram on each host then counts exactly the calls that host answered, and the hosts add up to all."""
    route = ("hotline_webhook_duration_seconds_count", (("route", "/twilio/voice"),))

    def counters_per_pid(port: int) -> set[str]:
        folder = site.work / "run" / f"hotline-web-{port}"
        return {re.sub(r"^histogram_(\d+)\.db$", r"\1", p.name) for p in folder.glob("histogram_*.db")}

    calls = 2  # the two above: one greeted, one refused (a request is timed whatever it answers)
    while calls < 200 and not all(len(counters_per_pid(p)) >= GUNICORN_WORKERS for p in site.web_ports):
        threads = [threading.Thread(target=site.call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        calls += len(threads)
    pids = {port: counters_per_pid(port) for port in site.web_ports}
    _require(all(len(p) >= GUNICORN_WORKERS for p in pids.values()), f"workers that counted: {pids}", site)
    counted = [site.scrape(port).get(route, 0) for port in site.web_ports]
    _require(
        sum(counted) == calls, f"/twilio/voice counted {counted} on the two hosts, {calls} calls made", site
    )
    site.report.append(
        f"{calls} calls: counted {counted[0]:.0f} + {counted[1]:.0f} on the hosts, each by "
        f"{GUNICORN_WORKERS} gunicorn workers' files added up"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("HOTLINE_SMOKE_POSTGRES_URL", DEFAULT_ADMIN_URL))
    args = parser.parse_args()
    started = time.monotonic()
    for line in run(args.postgres):
        print(line)
    print(f"smoke run passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
