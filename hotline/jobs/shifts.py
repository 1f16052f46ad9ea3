"""Shift jobs: the handover to each incoming advisor, an uncovered shift start to the manager, and the morning
report of roster gaps ahead.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from hotline.jobs.runs import daily_due, once
from hotline.runtime import Runtime
from hotline.services import callback_queue, handover, rosters
from hotline.services.links import console_link, current_staff_link
from hotline.services.oncall import coverage_hours
from hotline.services.staff_texts import (
    HANDOVER_CASES,
    ROSTER_LINK_FOR,
    SHIFT_LAYERS,
    managers,
    reference,
    staff_text,
)
from routing.callbacks import Priority
from routing.gaps import find_gaps
from routing.oncall import coverage
from routing.roster import Advisor
from sms.timephrase import window_phrase

log = logging.getLogger(__name__)


MAX_GAPS_PER_REPORT = 5


def shift_starts(runtime: Runtime, now: datetime) -> int:
    """Shifts that began since the last run (up to `jobs.shift_lookback_minutes` ago) and still run: the incoming
    advisor gets the handover; a shift that starts with nobody on it is reported to the manager."""
    settings = runtime.settings
    since = now - timedelta(minutes=settings.file.jobs.shift_lookback_minutes)
    texts = 0
    with runtime.sessions.begin() as session:
        roster = rosters.current_roster(session)
        if roster is None:
            return 0
        incoming: dict[tuple[str, datetime], tuple[Advisor, datetime]] = {}
        for interval in coverage(roster, since, now + timedelta(seconds=1)):
            for entry in interval.entries:
                if entry.layer in SHIFT_LAYERS and since < entry.start <= now < entry.end:
                    incoming[(entry.advisor.id, entry.start)] = (entry.advisor, entry.end)
        for (advisor_id, start), (advisor, end) in sorted(incoming.items(), key=lambda kv: kv[0][1]):
            if not once(session, "handover", f"{advisor_id}:{start.isoformat()}", now):
                continue
            # The same work the handover page shows this advisor (hotline.services.handover), not the whole queue.
            open_callbacks = handover.for_advisor(session, roster, advisor_id, now).callbacks
            acute = sum(1 for c in open_callbacks if c.priority == Priority.ACUTE.value)
            # Acute first, then by due time (the queue's order); references only, never names or numbers.
            cases = ", ".join(reference(c) for c in open_callbacks[:HANDOVER_CASES]) or "-"
            notes = callback_queue.notes_on(session, [c.id for c in open_callbacks])
            texts += 1
            staff_text(
                session,
                settings,
                advisor.phone,
                "handover",
                now,
                dedup_key=f"handover:{advisor_id}:{start.isoformat()}",
                expires_at=end,
                count=len(open_callbacks),
                acute=acute,
                notes=notes,
                cases=cases,
                # The console's handover page: the link is no credential, the console's login is.
                url=console_link(settings, "handover"),
            )
        for gap in find_gaps(roster, since, now + timedelta(days=7), coverage_hours(settings)):
            if not since < gap.start <= now < gap.end:
                continue
            if not once(session, "uncovered", gap.start.isoformat(), now):
                continue
            log.error("a shift started with nobody on call", extra={"gap": gap.describe()})
            for manager in managers(roster, now):
                texts += 1
                staff_text(
                    session,
                    settings,
                    manager.phone,
                    "roster_gap",
                    now,
                    dedup_key=f"uncovered:{gap.start.isoformat()}:{manager.id}",
                    expires_at=gap.end,
                    window=window_phrase(gap.start, gap.end, now, "da"),
                    url=current_staff_link(session, runtime, "roster", manager.id, now + ROSTER_LINK_FOR),
                )
    return texts


def gap_report(runtime: Runtime, now: datetime) -> int | None:
    """Every morning: the roster's gaps in the coming days to every manager. None when not due or done today."""
    settings = runtime.settings
    today = daily_due(now, settings.file.jobs.gap_report_at)
    if today is None:
        return None
    with runtime.sessions.begin() as session:
        roster = rosters.current_roster(session)
        end = now + timedelta(days=settings.file.jobs.gap_report_days)
        gaps = find_gaps(roster, now, end, coverage_hours(settings)) if roster is not None else []
        if not once(session, "gap_report", today.isoformat(), now, f"{len(gaps)} gaps"):
            return None
        if gaps:
            log.warning("roster gaps ahead", extra={"gaps": len(gaps), "first": gaps[0].describe()})
        for manager in managers(roster, now, on_call_only=False) if roster is not None else []:
            for gap in gaps[:MAX_GAPS_PER_REPORT]:
                staff_text(
                    session,
                    settings,
                    manager.phone,
                    "roster_gap",
                    now,
                    dedup_key=f"gap_report:{today.isoformat()}:{gap.start.isoformat()}:{manager.id}",
                    expires_at=gap.end,
                    window=window_phrase(gap.start, gap.end, now, "da"),
                    url=current_staff_link(session, runtime, "roster", manager.id, now + ROSTER_LINK_FOR),
                )
    return len(gaps)
