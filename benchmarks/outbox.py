"""The outbox: texts dispatched per second by one worker, and what writing a text costs beside its event.

    .venv/bin/python benchmarks/outbox.py [--texts 2000] [--events 2000] [--skip-postgres]

Dispatch: `--texts` texts are written to the outbox, then one worker (`hotline.jobs.outbox.send_due`, batches of
`sms.batch_size`) sends them through the real twilio Client (behind the toll-fraud guard) to the fake Twilio
from tests/fake_twilio.py on loopback, until the outbox is empty. Beside it, the same number of bare
`TwilioTransport.send_sms` calls to the same fake server: the floor the network part sets, so `outbox/bare` is
what claiming, recording and the status bookkeeping cost per text.

Writing: per transaction, on the same database, `--events` times each of
  event alone      record an incoming text (`record_inbound_message`: INSERT ... ON CONFLICT DO NOTHING)
  event + text     the same, plus one rendered text written to the outbox (`outbox.enqueue`)
  event + handling the webhook's whole transaction: record, join the thread, keyword, reply caps, the roster's
                   answer time and the reply in the outbox (`inbox.handle`), with a roster imported
and the ratios to the event alone. SQLite is a fresh file in a temporary directory; PostgreSQL a database
bench_outbox_<pid> created and dropped (HOTLINE_BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/test), skipped when it does not answer.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Twilio lives with the tests

from hotline.config.settings import load_settings, normalize_database_url
from hotline.db.session import make_engine, upgrade
from hotline.jobs import outbox as send_loop
from hotline.runtime import Runtime, build_runtime
from hotline.services import inbox, outbox, rosters
from hotline.services.texts import InboundMessage, record_inbound_message
from hotline.twilio.rest import TwilioTransport, make_client
from tests.fake_twilio import FakeTwilio
from tests.hotline.test_sms_inbound import ROSTER

PG_ADMIN = os.environ.get("HOTLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ACCOUNT = "AC" + "d" * 32
BODY = "Pårørendelinjen: Tak, vi ringer til dig i aften mellem 17 og 21. Opkaldet kommer fra +45 68 00 00 00."


@dataclass
class Figures:
    backend: str
    dispatch_rate: float = 0.0
    bare_rate: float = 0.0
    event_us: float = 0.0
    event_text_us: float = 0.0
    handling_us: float = 0.0


def number(n: int) -> str:
    return f"+4567{n % 1_000_000:06d}"


def make_runtime(url: str, instance: Path, fake: FakeTwilio) -> Runtime:
    settings = load_settings(
        environ={"HOTLINE_DATABASE_URL": url},
        overrides={
            "instance_dir": str(instance),
            "logging": {"level": "WARNING"},
            # Every benchmark text gets its automatic reply: the caps are not what is measured.
            "sms": {"auto_replies_per_number_per_hour": 10**6, "auto_replies_total_per_hour": 10**6},
        },
        config_path=str(Path(__file__).resolve().parents[1] / "config.yaml"),
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    client = make_client(ACCOUNT, "token", fake.url, timeout=5.0)
    return build_runtime(settings, TwilioTransport(client))


def dispatch(runtime: Runtime, fake: FakeTwilio, texts: int) -> tuple[float, float]:
    """(outbox texts per second, bare sends per second) for `texts` texts."""
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        for n in range(texts):
            outbox.enqueue(
                session, capped=True, to=number(n), purpose="received", language="da", now=now, body=BODY
            )
    before = len(fake.requests)
    started = time.perf_counter()
    sent = 0
    while True:
        report = send_loop.send_due(runtime, datetime.now(UTC))
        sent += report.sent
        if report.handled == 0:
            break
    elapsed = time.perf_counter() - started
    assert sent == texts and len(fake.requests) - before == texts, (sent, len(fake.requests) - before)
    bare = TwilioTransport(make_client(ACCOUNT, "token", fake.url, timeout=5.0))
    started = time.perf_counter()
    for n in range(texts):
        bare.send_sms(to=number(n), from_="+4568000000", body=BODY, status_callback=None)
    return texts / elapsed, texts / (time.perf_counter() - started)


def per_transaction(
    runtime: Runtime, events: int, work: Callable[[Session, int], object], offset: int
) -> float:
    """Median microseconds of one transaction doing `work(session, offset + n)`, over `events` transactions."""
    times = []
    for n in range(events):
        started = time.perf_counter()
        with runtime.sessions.begin() as session:
            work(session, offset + n)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def writing(runtime: Runtime, events: int) -> tuple[float, float, float]:
    with runtime.sessions.begin() as session:
        rosters.import_roster(session, ROSTER, source_name="bench.yaml", actor="bench")
    now = datetime.now(UTC)

    def incoming(n: int, body: str) -> InboundMessage:
        return InboundMessage("SM" + uuid.uuid4().hex, number(n + 500_000), "+4568000000", body)

    def event_alone(session: Session, n: int) -> None:
        record_inbound_message(session, incoming(n, "Hvornår ringer I?"))

    def event_and_text(session: Session, n: int) -> None:
        record_inbound_message(session, incoming(n, "Hvornår ringer I?"))
        outbox.enqueue(
            session, capped=True, to=number(n), purpose="received", language="da", now=now, body=BODY
        )

    def event_and_handling(session: Session, n: int) -> None:
        message, _ = record_inbound_message(session, incoming(n + 200_000, "Hvornår ringer I?"))
        inbox.handle(session, runtime.settings, message, now)

    # Interleaved rounds, so a warming cache or a growing table favours none of them.
    rounds: dict[str, list[float]] = {"alone": [], "text": [], "handling": []}
    for part in range(4):
        share = events // 4
        rounds["alone"].append(per_transaction(runtime, share, event_alone, part * share))
        rounds["text"].append(per_transaction(runtime, share, event_and_text, part * share + 100_000))
        rounds["handling"].append(per_transaction(runtime, share, event_and_handling, part * share))
    alone, text, handling = (statistics.median(rounds[k]) for k in ("alone", "text", "handling"))
    return alone, text, handling


@contextmanager
def postgres_database() -> Iterator[str | None]:
    name = f"bench_outbox_{os.getpid()}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        print(f"postgres skipped: {str(exc).strip().splitlines()[0]}")
        yield None
        return
    try:
        yield normalize_database_url(PG_ADMIN.rsplit("/", 1)[0] + "/" + name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run(backend: str, url: str, instance: Path, args: argparse.Namespace) -> Figures:
    fake = FakeTwilio().start()
    runtime = make_runtime(url, instance, fake)
    try:
        figures = Figures(backend)
        figures.dispatch_rate, figures.bare_rate = dispatch(runtime, fake, args.texts)
        figures.event_us, figures.event_text_us, figures.handling_us = writing(runtime, args.events)
        return figures
    finally:
        runtime.dispose()
        fake.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one log line per text would measure the terminal
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp) / "i1", args))
        if not args.skip_postgres:
            with postgres_database() as pg_url:
                if pg_url is not None:
                    results.append(run("postgres", pg_url, Path(tmp) / "i2", args))
    print(f"\nDispatch: {args.texts} texts, one worker, real twilio Client -> fake Twilio on loopback")
    print(f"{'backend':9} {'outbox texts/s':>15} {'bare sends/s':>13} {'outbox/bare':>12}")
    for r in results:
        print(
            f"{r.backend:9} {r.dispatch_rate:>15.0f} {r.bare_rate:>13.0f} {r.dispatch_rate / r.bare_rate:>12.2f}"
        )
    print(f"\nWriting: median microseconds per transaction ({args.events} each, interleaved)")
    print(
        f"{'backend':9} {'event alone':>12} {'event + text':>13} {'ratio':>6} {'event + handling':>17} {'ratio':>6}"
    )
    for r in results:
        print(
            f"{r.backend:9} {r.event_us:>12.0f} {r.event_text_us:>13.0f} {r.event_text_us / r.event_us:>6.2f} "
            f"{r.handling_us:>17.0f} {r.handling_us / r.event_us:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
