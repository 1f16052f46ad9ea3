"""The outbox: texts dispatched per second by one worker, two workers on PostgreSQL draining one outbox exactly
once, and what writing a text costs beside its event.

    .venv/bin/python benchmarks/outbox.py [--texts 2000] [--events 2000] [--latency 0.02]
                                          [--two-workers 10000] [--skip-postgres]

The stand-in for Twilio is tests/fake_twilio.py, run in its own process (Twilio is not in ours) on loopback,
answering every text after `--latency` seconds (20 ms: a send's round trip) over kept-alive HTTP/1.1
connections; it counts the texts it took, so duplicates and missing texts are counted where Twilio would.

Dispatch, one worker, `--texts` texts each, interleaved on the same database and stand-in:
  batch            `hotline.jobs.outbox.send_due` as configured (batches of sms.batch_size, sms.send_threads)
  batch, 1 thread  the same with sms.send_threads 1: batched claims and recording, texts sent one at a time
  bare, 1 thread   a bare loop of `TwilioTransport.send_sms` to the stand-in: the one-at-a-time network floor
  bare, N threads  the same loop on sms.send_threads threads: the ceiling the batch could reach
and the ratios of the batch to each.

Two workers (PostgreSQL only): `--two-workers` texts written, then two worker processes (each its own engine and
pool of send threads, as two `hotline worker` processes) run send_due until the outbox is empty; the stand-in
reports how many distinct texts it took, duplicates (a text taken twice) and missing (a text never taken).

Writing: per transaction, on the same database, `--events` times each of
  event alone      record an incoming text (`record_inbound_message`: INSERT ... ON CONFLICT DO NOTHING)
  event + text     the same, plus one rendered text written to the outbox (`outbox.enqueue`)
  event + handling the webhook's whole transaction: record, join the thread, keyword, reply caps, the roster's
                   answer time and the reply in the outbox (`inbox.handle`), with a roster imported
and the ratios to the event alone. SQLite is a fresh file in a temporary directory; PostgreSQL a database
bench_outbox_<pid> created and dropped (HOTLINE_BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/test), skipped when it does not answer.

Wall-clock figures: on a small shared machine (2 cores, other work running) they move by tens of percent from
run to run; compare the ratios within one run, not figures across runs.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Twilio lives with the tests

from hotline.config.settings import load_settings, normalize_database_url
from hotline.db.models import OutboxText
from hotline.db.session import make_engine, upgrade
from hotline.jobs import outbox as send_loop
from hotline.runtime import Runtime, build_runtime
from hotline.services import inbox, outbox, rosters
from hotline.services.texts import InboundMessage, record_inbound_message
from hotline.twilio.rest import TwilioTransport, make_client
from tests.fake_twilio import FakeTwilio
from tests.helpers import DAILY_SHIFTS as ROSTER

PG_ADMIN = os.environ.get("HOTLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ACCOUNT = "AC" + "d" * 32
BODY = "Pårørendelinjen: Tak, vi ringer til dig i aften mellem 17 og 21. Opkaldet kommer fra +45 68 00 00 00."
DISPATCH = ("batch", "batch, 1 thread", "bare, 1 thread", "bare, N threads")


@dataclass
class Figures:
    backend: str
    rates: dict[str, float] = field(default_factory=dict)  # texts per second, by DISPATCH way
    threads: int = 0
    two_workers: dict[str, float] | None = None
    event_us: float = 0.0
    event_text_us: float = 0.0
    handling_us: float = 0.0


def number(n: int) -> str:
    return f"+4567{n % 1_000_000:06d}"


# --- the stand-in, in its own process ---------------------------------------------------------------------------


def serve_stand_in(latency: float, conn: Connection) -> None:
    """Run the fake Twilio until told to stop; answer `count` with what it took, `reset` by forgetting it."""
    fake = FakeTwilio(latency=latency).start()
    conn.send(fake.url)
    while True:
        command = conn.recv()
        if command == "count":
            with fake.lock:
                taken = Counter((m["to"], m["body"]) for m in fake.messages)
                posts = sum(1 for r in fake.requests if r.method == "POST")
                peers = len({r.peer for r in fake.requests})
            conn.send((taken, posts, peers))
        elif command == "reset":
            with fake.lock:
                fake.messages.clear()
                fake.requests.clear()
            conn.send(None)
        else:
            fake.stop()
            conn.send(None)
            return


class StandIn:
    def __init__(self, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve_stand_in, args=(latency, child), daemon=True)
        self._process.start()
        self.url: str = self._conn.recv()

    def ask(self, command: str) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def stop(self) -> None:
        self.ask("stop")
        self._process.join(timeout=10)


# --- one worker -------------------------------------------------------------------------------------------------


def make_settings(url: str, instance: Path, **sms: object) -> Any:
    return load_settings(
        environ={"HOTLINE_DATABASE_URL": url},
        overrides={
            "instance_dir": str(instance),
            "logging": {"level": "WARNING"},
            # Every benchmark text gets its automatic reply: the caps are not what is measured.
            "sms": {"auto_replies_per_number_per_hour": 10**6, "auto_replies_total_per_hour": 10**6, **sms},
        },
        config_path=str(Path(__file__).resolve().parents[1] / "config.yaml"),
    )


def make_runtime(url: str, instance: Path, api_url: str, **sms: object) -> Runtime:
    settings = make_settings(url, instance, **sms)
    client = make_client(ACCOUNT, "token", api_url, timeout=10.0)
    return build_runtime(settings, TwilioTransport(client))


def write_texts(runtime: Runtime, count: int, tag: str) -> None:
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        for n in range(count):
            outbox.enqueue(
                session,
                capped=True,
                to=number(n),
                purpose="received",
                language="da",
                now=now,
                body=f"{BODY} {tag}:{n}",
            )


def drain(runtime: Runtime, idle_runs: int = 1) -> int:
    """Run the send job until `idle_runs` runs in a row find nothing; the texts sent."""
    sent, idle = 0, 0
    while idle < idle_runs:
        report = send_loop.send_due(runtime, datetime.now(UTC))
        sent += report.sent
        idle = idle + 1 if report.handled == 0 else 0
    return sent


def outbox_rate(runtime: Runtime, stand_in: StandIn, texts: int, tag: str) -> float:
    write_texts(runtime, texts, tag)
    started = time.perf_counter()
    sent = drain(runtime)
    elapsed = time.perf_counter() - started
    taken, _, _ = stand_in.ask("count")
    assert sent == texts and sum(taken.values()) == texts, (sent, sum(taken.values()))
    return texts / elapsed


def bare_rate(api_url: str, texts: int, threads: int) -> float:
    transports = threading.local()

    def post(n: int) -> None:
        if not hasattr(transports, "one"):
            transports.one = TwilioTransport(make_client(ACCOUNT, "token", api_url, timeout=10.0))
        transports.one.send_sms(to=number(n), from_="+4568000000", body=BODY, status_callback=None)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        pool.submit(post, 0).result()  # the connection opened before the clock starts, as the outbox's are
        started = time.perf_counter()
        list(pool.map(post, range(texts)))
        return texts / (time.perf_counter() - started)


def dispatch(url: str, instance: Path, stand_in: StandIn, texts: int) -> tuple[dict[str, float], int]:
    """Texts per second each way, median of three interleaved rounds of `texts` texts."""
    batch = make_runtime(url, instance, stand_in.url)
    threads = batch.settings.file.sms.send_threads
    single = make_runtime(url, instance, stand_in.url, send_threads=1)
    rounds: dict[str, list[float]] = {way: [] for way in DISPATCH}
    try:
        drain(batch)  # warm: the send threads and their connections start
        for part in range(3):
            for way, measure in (
                ("batch", lambda part=part: outbox_rate(batch, stand_in, texts, f"b{part}")),
                ("batch, 1 thread", lambda part=part: outbox_rate(single, stand_in, texts // 4, f"s{part}")),
                ("bare, 1 thread", lambda: bare_rate(stand_in.url, texts // 4, 1)),
                ("bare, N threads", lambda: bare_rate(stand_in.url, texts, threads)),
            ):
                stand_in.ask("reset")
                rounds[way].append(measure())
    finally:
        batch.dispose()
        single.dispose()
    return {way: statistics.median(rates) for way, rates in rounds.items()}, threads


# --- two workers ------------------------------------------------------------------------------------------------


def worker_process(url: str, instance: str, api_url: str, start: Any, result: Connection) -> None:
    logging.disable(logging.INFO)
    runtime = make_runtime(url, Path(instance), api_url)
    try:
        start.wait()
        began = time.perf_counter()
        sent = drain(runtime, idle_runs=3)
        result.send((sent, time.perf_counter() - began))
    finally:
        runtime.dispose()


def two_workers(url: str, instance: Path, stand_in: StandIn, texts: int) -> dict[str, float]:
    writer = make_runtime(url, instance, stand_in.url)
    try:
        write_texts(writer, texts, "two")
    finally:
        writer.dispose()
    stand_in.ask("reset")
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    pipes = [context.Pipe(duplex=False) for _ in range(2)]
    workers = [
        context.Process(target=worker_process, args=(url, str(instance), stand_in.url, start, sender))
        for _, sender in pipes
    ]
    for worker in workers:
        worker.start()
    time.sleep(3)  # both processes imported and connected before the start
    began = time.perf_counter()
    start.set()
    results = [receiver.recv() for receiver, _ in pipes]
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join(timeout=30)
    taken, posts, _ = stand_in.ask("count")
    wanted = {(number(n), f"{BODY} two:{n}") for n in range(texts)}
    engine = make_engine(url)
    with Session(engine) as session:
        states = Counter(
            dict(session.execute(select(OutboxText.state, func.count()).group_by(OutboxText.state)).all())
        )
    engine.dispose()
    return {
        "texts": texts,
        "seconds": elapsed,
        "rate": texts / elapsed,
        "sent_a": results[0][0],
        "sent_b": results[1][0],
        "taken": len(taken),
        "posts": posts,
        "duplicates": sum(count - 1 for count in taken.values() if count > 1),
        "missing": len(wanted - set(taken)),
        "not_sent_rows": sum(count for state, count in states.items() if state != "sent"),
    }


# --- writing ----------------------------------------------------------------------------------------------------


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


def run(backend: str, url: str, instance: Path, stand_in: StandIn, args: argparse.Namespace) -> Figures:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    figures = Figures(backend)
    figures.rates, figures.threads = dispatch(url, instance, stand_in, args.texts)
    if backend == "postgres" and args.two_workers:
        figures.two_workers = two_workers(url, instance, stand_in, args.two_workers)
    runtime = make_runtime(url, instance, stand_in.url)
    try:
        figures.event_us, figures.event_text_us, figures.handling_us = writing(runtime, args.events)
    finally:
        runtime.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the stand-in takes per text")
    parser.add_argument("--two-workers", type=int, default=10_000, help="texts for two workers (0: skip)")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one log line per text would measure the terminal
    results = []
    stand_in = StandIn(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp) / "i1", stand_in, args))
            if not args.skip_postgres:
                with postgres_database() as pg_url:
                    if pg_url is not None:
                        results.append(run("postgres", pg_url, Path(tmp) / "i2", stand_in, args))
    finally:
        stand_in.stop()
    print(
        f"\nMachine: {os.cpu_count()} cores, shared and noisy: wall-clock figures move between runs; the ratios"
    )
    print("within one run are what to compare.")
    threads = results[0].threads
    print(
        f"\nDispatch: one worker, texts/s (median of 3 interleaved rounds; {args.texts} texts per batch round), "
        f"real twilio Client -> stand-in in its own process, {args.latency * 1000:.0f} ms per text, "
        f"N = sms.send_threads = {threads}"
    )
    print(
        f"{'backend':9} " + " ".join(f"{way:>16}" for way in DISPATCH) + f" {'batch/1 thread':>15} "
        f"{'batch/bare 1':>13} {'batch/bare N':>13}"
    )
    for r in results:
        rates = r.rates
        print(
            f"{r.backend:9} "
            + " ".join(f"{rates[way]:>16.0f}" for way in DISPATCH)
            + f" {rates['batch'] / rates['batch, 1 thread']:>15.2f}"
            + f" {rates['batch'] / rates['bare, 1 thread']:>13.2f}"
            + f" {rates['batch'] / rates['bare, N threads']:>13.2f}"
        )
    for r in results:
        if r.two_workers is not None:
            w = r.two_workers
            print(
                f"\nTwo workers, {r.backend}: {w['texts']:.0f} texts in {w['seconds']:.1f} s ({w['rate']:.0f}/s "
                f"together; worker A sent {w['sent_a']:.0f}, B {w['sent_b']:.0f})"
            )
            print(
                f"  counted at the stand-in: {w['taken']:.0f} distinct texts taken from {w['posts']:.0f} POSTs, "
                f"duplicates {w['duplicates']:.0f}, missing {w['missing']:.0f}; outbox rows not sent: "
                f"{w['not_sent_rows']:.0f}"
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
