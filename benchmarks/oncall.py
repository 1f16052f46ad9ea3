"""Benchmark: resolving the call chain with the indexed roster versus a plain scan of every shift and override.

Run as `.venv/bin/python benchmarks/oncall.py` (options: --help). It builds a roster of 300 advisors with two
years of overrides, checks that both ways give the same chains, and prints the timings and the ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# The roster builder and the plain-scan reference live with the tests; make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.chain import Chain, chain_from_entries
from routing.gaps import find_gaps
from routing.oncall import OnCallEntry, coverage, oncall_at
from routing.roster import Roster
from tests.routing.factory import big_roster
from tests.routing.scan import scan_oncall_at

LANGUAGES = ["da", "da", "da", "en", "ar", "tr", "uk", "pl", "so"]


Call = tuple[datetime, str, str | None, set[str]]


def lookups(roster: Roster, calls: list[Call], *, scan: bool) -> list[list[OnCallEntry]]:
    lookup = scan_oncall_at if scan else oncall_at
    return [lookup(roster, t) for t, *_ in calls]


def chains(found: list[list[OnCallEntry]], calls: list[Call]) -> list[Chain]:
    return [
        chain_from_entries(entries, t, reason="acute", language=lang, contact_person_id=contact, busy=busy)
        for entries, (t, lang, contact, busy) in zip(found, calls, strict=True)
    ]


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--advisors", type=int, default=300)
    parser.add_argument("--days", type=int, default=730, help="days of overrides (and of lookups)")
    parser.add_argument("--overrides-per-day", type=float, default=8.0)
    parser.add_argument("--lookups", type=int, default=20_000, help="chains resolved with the index")
    parser.add_argument("--scan-lookups", type=int, default=100, help="chains resolved by the plain scan")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    first_day = date(2026, 1, 1)
    roster, build_s = timed(
        big_roster,
        args.advisors,
        first_day=first_day,
        n_days=args.days,
        overrides_per_day=args.overrides_per_day,
    )
    start = datetime.combine(first_day, datetime.min.time(), UTC)
    rng = random.Random(args.seed)
    ids = [a.id for a in roster.advisors]
    calls = [
        (
            start + timedelta(seconds=rng.randrange(args.days * 86_400)),
            rng.choice(LANGUAGES),
            rng.choice(ids) if rng.random() < 0.3 else None,
            set(rng.sample(ids, 3)),
        )
        for _ in range(args.lookups)
    ]
    sample = calls[: args.scan_lookups]

    print(
        f"roster: {len(roster.advisors)} advisors, {len(roster.shifts)} weekly shifts, "
        f"{len(roster.overrides)} overrides over {args.days} days (built in {build_s:.2f} s)"
    )

    found_cold, cold_s = timed(lookups, roster, calls, scan=False)  # includes resolving each day once
    found_warm, warm_s = timed(lookups, roster, calls, scan=False)
    found_scan, scan_s = timed(lookups, roster, sample, scan=True)
    indexed_chains, chain_s = timed(chains, found_warm, calls)
    scanned_chains, scan_chain_s = timed(chains, found_scan, sample)

    for got, want, call in zip(indexed_chains, scanned_chains, sample, strict=False):
        if got.advisor_ids != want.advisor_ids:
            sys.exit(f"MISMATCH at {call[0].isoformat()}: index {got.advisor_ids} != scan {want.advisor_ids}")
    if found_cold != found_warm:
        sys.exit("MISMATCH between the cold and the warm index runs")

    n, m = len(calls), len(sample)
    order_us = chain_s / n * 1e6
    rows = [
        ("oncall_at, indexed, cold (each day resolved once)", n, cold_s),
        ("oncall_at, indexed, warm (days cached)", n, warm_s),
        ("oncall_at, plain scan of all shifts and overrides", m, scan_s),
        ("chain = warm lookup + ordering", n, warm_s + chain_s),
        ("chain = plain scan + ordering", m, scan_s + scan_chain_s),
    ]
    avg_len = sum(len(c) for c in indexed_chains) / n
    print(
        f"acute chains: {avg_len:.1f} advisors on average; ordering alone {order_us:.1f} µs/chain; "
        f"{m} chains identical both ways"
    )
    for label, count, seconds in rows:
        print(f"  {label:<52} {count:>6} in {seconds:7.3f} s = {seconds / count * 1e6:10.1f} µs each")
    per_scan = (scan_s + scan_chain_s) / m
    print(
        f"ratio scan/indexed, whole chain: {per_scan / ((cold_s + chain_s) / n):,.0f}x cold, "
        f"{per_scan / ((warm_s + chain_s) / n):,.0f}x warm; "
        f"lookup alone: {(scan_s / m) / (warm_s / n):,.0f}x warm"
    )

    end = start + timedelta(days=args.days)
    fresh = big_roster(
        args.advisors, first_day=first_day, n_days=args.days, overrides_per_day=args.overrides_per_day
    )
    intervals, cov_s = timed(coverage, fresh, start, end)
    gaps, gap_s = timed(find_gaps, fresh, start, end)
    print(
        f"coverage over {args.days} days (fresh roster): {len(intervals)} intervals in {cov_s:.2f} s; "
        f"find_gaps afterwards: {len(gaps)} gaps in {gap_s:.2f} s"
    )


if __name__ == "__main__":
    main()
