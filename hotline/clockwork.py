"""The clockwork's work: what the scheduled jobs do, each given the time to act as of (`now`, aware UTC).

Every job is idempotent and safe to run late: each piece of work is marked done in `clockwork_runs` in the same
transaction as the texts it writes, so a second run (or a second leader after a takeover) writes nothing twice,
and a run after downtime catches up on what is still true (a window still open, a shift still running) and skips
what is over. Daily jobs run on the first run at or after their local time of day, once per local date, so a
daylight-saving change neither skips nor doubles them. Texts to staff are in Danish and hold no personal data:
a case reference, the language, a category.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hotline import callback_queue, erasure, outbox, roster_store
from hotline.db import insert_ignore
from hotline.models import (
    AdvisorRecord,
    Call,
    CallbackAttempt,
    CallbackRequest,
    ClockworkRun,
    DemoOutbound,
    Message,
    OutboxText,
    Recording,
)
from hotline.oncall_service import chain_for, coverage_hours
from hotline.runtime import Runtime
from hotline.settings import Settings
from hotline.staff_links import staff_link
from routing.callbacks import Priority, State
from routing.chain import Reason
from routing.gaps import find_gaps
from routing.oncall import coverage, oncall_at
from routing.roster import Advisor, Layer, OverrideKind, Roster
from routing.wallclock import COPENHAGEN, local_date, wall_to_utc
from sms.templates import language_name, render
from sms.timephrase import window_phrase

log = logging.getLogger(__name__)

SHIFT_LAYERS = (Layer.PRIMARY, Layer.BACKUP)
REASONS_DA = {"acute": "akut", "question": "spørgsmål", "voicemail": "talebesked"}
OVERDUE_STATES = (State.REQUESTED.value, State.SCHEDULED.value, State.NOT_REACHED.value)
MAX_GAPS_PER_REPORT = 5


def _once(session: Session, job: str, key: str, now: datetime, summary: str | None = None) -> bool:
    """Mark `job`'s piece of work `key` done; False when it already was (by an earlier or a concurrent run)."""
    values = {"job": job, "run_key": key[:160], "summary": summary, "ran_at": now}
    return insert_ignore(session, ClockworkRun, values, ["job", "run_key"])


# How many case references a handover text lists (acute first); the staff page has the rest.
HANDOVER_CASES = 4


def reference(callback: CallbackRequest) -> str:
    """The case reference staff see instead of a name or number: PL-<year>-<id>."""
    return f"PL-{callback.created_at.astimezone(COPENHAGEN):%Y}-{callback.id:04d}"


# How long a staff page link works: the handover until well after the shift; the roster page for a week.
HANDOVER_LINK_AFTER_SHIFT = timedelta(hours=12)
ROSTER_LINK_FOR = timedelta(days=8)


def _staff_text(
    session: Session,
    settings: Settings,
    to: str,
    key: str,
    now: datetime,
    *,
    dedup_key: str,
    expires_at: datetime | None,
    **values: object,
) -> None:
    body = render(key, "da", **outbox.common_values(settings), **values)
    outbox.enqueue(
        session,
        to=to,
        purpose=key,
        language="da",
        now=now,
        body=body,
        dedup_key=dedup_key,
        expires_at=expires_at,
    )


def managers(roster: Roster, at: datetime, *, on_call_only: bool = True) -> list[Advisor]:
    """The managers on call at `at` (when `on_call_only` and someone is), else everyone with a manager shift."""
    if on_call_only:
        on_call = {e.advisor.id: e.advisor for e in oncall_at(roster, at) if e.layer is Layer.MANAGER}
        if on_call:
            return list(on_call.values())
    ids = {s.advisor_id for s in roster.shifts if s.layer is Layer.MANAGER}
    ids |= {o.advisor_id for o in roster.overrides if o.kind is OverrideKind.ADD and o.layer is Layer.MANAGER}
    return [roster.advisor(i) for i in sorted(ids) if roster.advisor(i).active]


def _first_on_call(
    session: Session, settings: Settings, callback: CallbackRequest, at: datetime
) -> str | None:
    """The advisor to tell about a callback: its assignee when on call, else the first of the chain now."""
    priority: Reason = "acute" if callback.priority == Priority.ACUTE.value else "question"
    chain = chain_for(
        session,
        settings,
        at=at,
        reason=priority,
        language=callback.language,
        contact_person_id=callback.assigned_advisor_id,
    )
    steps = [s.advisor.id for s in chain.steps if s.layer in SHIFT_LAYERS]
    return steps[0] if steps else callback.assigned_advisor_id


def _phone(session: Session, advisor_id: str | None) -> str | None:
    advisor = session.get(AdvisorRecord, advisor_id) if advisor_id else None
    return advisor.phone_number if advisor is not None and advisor.active else None


def open_windows(runtime: Runtime, now: datetime) -> int:
    """Callback windows (and retry times) that have opened: the advisor is told, and the relative who chose a
    later window hears the call is coming. A window that closed while the scheduler was down is left to
    `escalate_overdue`."""
    settings, opened = runtime.settings, 0
    with runtime.sessions.begin() as session:
        rows = session.scalars(
            select(CallbackRequest)
            .where(CallbackRequest.state == State.SCHEDULED.value)
            .where(CallbackRequest.window_start <= now, CallbackRequest.due_at > now)
            .order_by(CallbackRequest.id)
        ).all()
        for callback in rows:
            retry_at = callback.next_attempt_at
            if callback.attempts and (retry_at is None or retry_at > now):
                continue
            if not _once(session, "window_open", f"{callback.id}:{callback.attempts}", now):
                continue
            opened += 1
            phone = _phone(session, _first_on_call(session, settings, callback, now))
            if phone is None:
                log.warning("callback window opened with nobody to tell", extra={"callback": callback.id})
            else:
                _staff_text(
                    session,
                    settings,
                    phone,
                    "advisor_window_open",
                    now,
                    dedup_key=f"callback:{callback.id}:open:{callback.attempts}",
                    expires_at=callback.due_at,
                    ref=reference(callback),
                    # The whole window, as promised ("i aften mellem 17 og 21"), even when caught up late.
                    window=window_phrase(
                        callback.window_start, callback.due_at, min(now, callback.window_start), "da"
                    ),
                    language=language_name(callback.language),
                    reason=REASONS_DA.get(callback.reason, callback.reason),
                )
            chosen_later = callback.window_start > callback.created_at + timedelta(minutes=1)
            if callback.attempts == 0 and chosen_later:
                outbox.enqueue(
                    session,
                    to=callback.phone_number,
                    purpose="callback_soon",
                    language=callback.language,
                    now=now,
                    relative_id=callback.relative_id,
                    callback_id=callback.id,
                    dedup_key=outbox.callback_text_key(callback.id, "soon"),
                    expires_at=callback.due_at,
                )
    return opened


def escalate_overdue(runtime: Runtime, now: datetime) -> int:
    """Callbacks past their due time: the advisor on call and the manager get a text, once per due time."""
    settings, escalated = runtime.settings, 0
    with runtime.sessions.begin() as session:
        roster = roster_store.current_roster(session) or Roster()
        rows = session.scalars(
            select(CallbackRequest)
            .where(CallbackRequest.state.in_(OVERDUE_STATES), CallbackRequest.due_at <= now)
            .order_by(CallbackRequest.id)
        ).all()
        for callback in rows:
            due = callback.due_at.isoformat()
            if not _once(session, "overdue", f"{callback.id}:{due}", now):
                continue
            escalated += 1
            minutes = max(1, int((now - callback.due_at).total_seconds() // 60))
            recipients = {a.id: a.phone for a in managers(roster, now)}
            on_call = _first_on_call(session, settings, callback, now)
            phone = _phone(session, on_call)
            if on_call and phone:
                recipients = {on_call: phone, **recipients}
            if not recipients:
                log.error("overdue callback with nobody to escalate to", extra={"callback": callback.id})
            for advisor_id, number in recipients.items():
                _staff_text(
                    session,
                    settings,
                    number,
                    "escalation_overdue",
                    now,
                    dedup_key=f"callback:{callback.id}:overdue:{due}:{advisor_id}",
                    expires_at=now + timedelta(hours=1),
                    ref=reference(callback),
                    minutes=minutes,
                )
    return escalated


def shift_starts(runtime: Runtime, now: datetime) -> int:
    """Shifts that began since the last run (up to `jobs.shift_lookback_minutes` ago) and still run: the incoming
    advisor gets the handover; a shift that starts with nobody on it is reported to the manager."""
    settings = runtime.settings
    since = now - timedelta(minutes=settings.file.jobs.shift_lookback_minutes)
    texts = 0
    with runtime.sessions.begin() as session:
        roster = roster_store.current_roster(session)
        if roster is None:
            return 0
        incoming: dict[tuple[str, datetime], tuple[Advisor, datetime]] = {}
        for interval in coverage(roster, since, now + timedelta(seconds=1)):
            for entry in interval.entries:
                if entry.layer in SHIFT_LAYERS and since < entry.start <= now < entry.end:
                    incoming[(entry.advisor.id, entry.start)] = (entry.advisor, entry.end)
        open_callbacks = callback_queue.queue(session) if incoming else []
        acute = sum(1 for c in open_callbacks if c.priority == Priority.ACUTE.value)
        # Acute first, then by due time (the queue's order); references only, never names or numbers.
        cases = ", ".join(reference(c) for c in open_callbacks[:HANDOVER_CASES]) or "-"
        notes = callback_queue.notes_on(session, [c.id for c in open_callbacks])
        for (advisor_id, start), (advisor, end) in sorted(incoming.items(), key=lambda kv: kv[0][1]):
            if not _once(session, "handover", f"{advisor_id}:{start.isoformat()}", now):
                continue
            texts += 1
            _staff_text(
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
                url=staff_link(runtime, "handover", advisor_id, end + HANDOVER_LINK_AFTER_SHIFT),
            )
        for gap in find_gaps(roster, since, now + timedelta(days=7), coverage_hours(settings)):
            if not since < gap.start <= now < gap.end:
                continue
            if not _once(session, "uncovered", gap.start.isoformat(), now):
                continue
            log.error("a shift started with nobody on call", extra={"gap": gap.describe()})
            for manager in managers(roster, now):
                texts += 1
                _staff_text(
                    session,
                    settings,
                    manager.phone,
                    "roster_gap",
                    now,
                    dedup_key=f"uncovered:{gap.start.isoformat()}:{manager.id}",
                    expires_at=gap.end,
                    window=window_phrase(gap.start, gap.end, now, "da"),
                    url=staff_link(runtime, "roster", manager.id, now + ROSTER_LINK_FOR),
                )
    return texts


def daily_due(now: datetime, at: time) -> date | None:
    """Today's local date when a daily job at local time `at` is due at `now` (at or after it), else None."""
    today = local_date(now)
    return today if now >= wall_to_utc(today, at) else None


def gap_report(runtime: Runtime, now: datetime) -> int | None:
    """Every morning: the roster's gaps in the coming days to every manager. None when not due or done today."""
    settings = runtime.settings
    today = daily_due(now, settings.file.jobs.gap_report_at)
    if today is None:
        return None
    with runtime.sessions.begin() as session:
        roster = roster_store.current_roster(session)
        end = now + timedelta(days=settings.file.jobs.gap_report_days)
        gaps = find_gaps(roster, now, end, coverage_hours(settings)) if roster is not None else []
        if not _once(session, "gap_report", today.isoformat(), now, f"{len(gaps)} gaps"):
            return None
        if gaps:
            log.warning("roster gaps ahead", extra={"gaps": len(gaps), "first": gaps[0].describe()})
        for manager in managers(roster, now, on_call_only=False) if roster is not None else []:
            for gap in gaps[:MAX_GAPS_PER_REPORT]:
                _staff_text(
                    session,
                    settings,
                    manager.phone,
                    "roster_gap",
                    now,
                    dedup_key=f"gap_report:{today.isoformat()}:{gap.start.isoformat()}:{manager.id}",
                    expires_at=gap.end,
                    window=window_phrase(gap.start, gap.end, now, "da"),
                    url=staff_link(runtime, "roster", manager.id, now + ROSTER_LINK_FOR),
                )
    return len(gaps)


@dataclass
class Purged:
    """How many items of each kind of personal data one purge removed (the rows, and so the counts, remain)."""

    message_bodies: int = 0
    outbox_bodies: int = 0
    demo_bodies: int = 0
    recordings: int = 0
    callback_recordings: int = 0
    notes: int = 0
    call_numbers: int = 0
    twilio_erasures_queued: int = 0

    def summary(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def purge(runtime: Runtime, now: datetime) -> Purged | None:
    """Every night: personal data past `retention` is purged. None when not due or done today."""
    today = daily_due(now, runtime.settings.file.jobs.purge_at)
    if today is None:
        return None
    with runtime.sessions.begin() as session:
        if not _once(session, "purge", today.isoformat(), now):
            return None
        purged = purge_personal_data(session, runtime.settings, now)
        session.execute(
            update(ClockworkRun)
            .where(ClockworkRun.job == "purge", ClockworkRun.run_key == today.isoformat())
            .values(summary=purged.summary()[:300])
        )
    log.info("personal data purged", extra={"purged": purged.summary()})
    return purged


def purge_personal_data(session: Session, settings: Settings, now: datetime) -> Purged:
    """Blank message bodies, recording references, notes and call records' numbers past their retention."""
    retention = settings.file.retention
    bodies = now - timedelta(days=retention.message_bodies_days)
    recordings = now - timedelta(days=retention.recordings_days)
    notes = now - timedelta(days=retention.notes_days)
    calls = now - timedelta(days=retention.call_records_days)

    def blank(model: Any, age: Any, cutoff: datetime, columns: Sequence[Any], stamped: bool = False) -> int:
        """Set `columns` to NULL on rows older than `cutoff` that still hold any of them; how many rows."""
        values: dict[str, Any] = {column.key: None for column in columns}
        if stamped:
            values["body_purged_at"] = now
        statement = (
            update(model)
            .where(age < cutoff, or_(*(column.is_not(None) for column in columns)))
            .values(**values)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
        return len(session.execute(statement).all())

    # Twilio's copies of the same data are queued for erasure first, in this transaction (hotline.erasure).
    queued = erasure.queue_purged(
        session, now, recordings_before=recordings, bodies_before=bodies, calls_before=calls
    )
    return Purged(
        twilio_erasures_queued=queued,
        message_bodies=blank(Message, Message.created_at, bodies, [Message.body], stamped=True),
        outbox_bodies=blank(OutboxText, OutboxText.created_at, bodies, [OutboxText.body], stamped=True),
        demo_bodies=blank(DemoOutbound, DemoOutbound.created_at, bodies, [DemoOutbound.body]),
        recordings=blank(
            Recording, Recording.received_at, recordings, [Recording.recording_url, Recording.from_number]
        ),
        callback_recordings=blank(
            CallbackRequest, CallbackRequest.created_at, recordings, [CallbackRequest.recording_sid]
        ),
        notes=blank(CallbackAttempt, CallbackAttempt.started_at, notes, [CallbackAttempt.note]),
        call_numbers=blank(Call, Call.created_at, calls, [Call.from_number, Call.to_number]),
    )
