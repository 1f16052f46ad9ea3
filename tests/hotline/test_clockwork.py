"""The clockwork with a controlled clock: windows opening, overdue callbacks, handovers at shift starts, a shift
that starts with nobody on it, the morning gap report and the nightly purge; on ordinary days and both
daylight-saving Sundays (2026-03-29, 2026-10-25), run twice, and run late after downtime."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from hotline.db.models import (
    Call,
    CallbackAttempt,
    CallbackRequest,
    ClockworkRun,
    Message,
    Recording,
)
from hotline.jobs import callbacks, retention, shifts
from hotline.jobs import outbox as send_loop
from hotline.jobs.scheduler import build_scheduler
from hotline.runtime import Runtime
from hotline.services import callback_queue, staff_texts
from routing.callbacks import Priority
from tests.helpers import (
    PHONES,
    RELATIVE,
    AppFactory,
    local,
    register_callback,
    seed_personal_data,
    texts,
    utc,
)

DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2026, 6, 10)]
DAY_IDS = ["march-dst-sunday", "october-dst-sunday", "ordinary-day"]


def to(runtime: Runtime, purpose: str) -> list[str]:
    """Who got texts of `purpose`, by advisor id (or the number for relatives)."""
    names = {phone: name for name, phone in PHONES.items()}
    return [names.get(t.to_number, t.to_number) for t in texts(runtime, purpose)]


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_a_window_opens_at_its_local_time_once(runtime: Runtime, day: date) -> None:
    callback_id = register_callback(runtime, local(day, 10))
    assert callbacks.open_windows(runtime, local(day, 16, 59)) == 0
    assert callbacks.open_windows(runtime, local(day, 17)) == 1
    assert callbacks.open_windows(runtime, local(day, 17, 1)) == 0  # run again: nothing twice
    (advisor,) = texts(runtime, "advisor_window_open")
    assert advisor.to_number == PHONES["dalia"]  # on shift 15-23 and speaks Arabic
    assert advisor.body == (
        f"Pårørendelinjen: Tid til at ringe op på sag PL-2026-{callback_id:04d} (i aften mellem 17 og 21). "
        "Sprog: arabisk. Emne: spørgsmål."
    )
    (soon,) = texts(runtime, "callback_soon")
    assert (soon.to_number, soon.callback_id, soon.body) == (RELATIVE, callback_id, None)
    send_loop.send_due(runtime, local(day, 17))
    with runtime.sessions() as session:
        sent = session.scalars(
            select(Message).where(Message.to_number == RELATIVE).order_by(Message.id)
        ).all()
    assert len(sent) == 2 and "240" in (sent[-1].body or "")  # registered, then "within 240 minutes"


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_a_window_that_opened_during_downtime_is_caught_up_while_still_open(
    runtime: Runtime, day: date
) -> None:
    register_callback(runtime, local(day, 10))
    assert callbacks.open_windows(runtime, local(day, 19, 30)) == 1
    send_loop.send_due(runtime, local(day, 19, 30))
    (soon,) = texts(runtime, "callback_soon")
    assert soon.state == "sent"
    with runtime.sessions() as session:
        message = session.get(Message, soon.message_id)
    assert message is not None and "90" in (message.body or "")


def test_a_window_that_closed_during_downtime_is_escalated_instead(runtime: Runtime) -> None:
    day = date(2026, 10, 25)
    callback_id = register_callback(runtime, local(day, 10))
    late = local(day, 21, 30)
    assert callbacks.open_windows(runtime, late) == 0
    assert texts(runtime, "callback_soon") == []
    assert callbacks.escalate_overdue(runtime, late) == 1
    assert callbacks.escalate_overdue(runtime, late + timedelta(minutes=5)) == 0
    assert sorted(to(runtime, "escalation_overdue")) == ["dalia", "mads"]
    body = texts(runtime, "escalation_overdue")[0].body
    assert body == (
        f"Pårørendelinjen: Opringningen på sag PL-2026-{callback_id:04d} er 30 min. forsinket. "
        "Tag den nu, eller giv den videre."
    )


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_an_overdue_acute_callback_goes_to_the_advisor_on_call_and_the_manager(
    runtime: Runtime, day: date
) -> None:
    register_callback(
        runtime, local(day, 10), window="asap", priority=Priority.ACUTE
    )  # due within 30 minutes
    assert callbacks.escalate_overdue(runtime, local(day, 10, 29)) == 0
    assert callbacks.escalate_overdue(runtime, local(day, 10, 45)) == 1
    assert sorted(to(runtime, "escalation_overdue")) == ["anna", "mads"]
    assert all("15 min." in (t.body or "") for t in texts(runtime, "escalation_overdue"))


@pytest.mark.parametrize(
    ("start", "advisor"),
    [
        (utc(2026, 3, 29, 5, 0), "anna"),  # 07:00 CEST, the first morning of summer time
        (utc(2026, 3, 29, 13, 0), "dalia"),  # 15:00 CEST
        (utc(2026, 3, 29, 21, 0), "bo"),  # 23:00 CEST
        (utc(2026, 10, 25, 6, 0), "anna"),  # 07:00 CET, the first morning of winter time
        (utc(2026, 10, 25, 14, 0), "dalia"),  # 15:00 CET
        (utc(2026, 6, 10, 21, 0), "bo"),  # 23:00 CEST on an ordinary night
    ],
)
def test_the_incoming_advisor_gets_the_handover_at_the_shift_start(
    runtime: Runtime, start: datetime, advisor: str
) -> None:
    register_callback(runtime, start - timedelta(hours=3), window="asap", priority=Priority.ACUTE)
    register_callback(runtime, start - timedelta(hours=3), window="tomorrow_daytime", number="+4567200002")
    shifts.shift_starts(runtime, start - timedelta(minutes=1))
    assert advisor not in to(runtime, "handover")
    assert shifts.shift_starts(runtime, start) == 1
    assert shifts.shift_starts(runtime, start + timedelta(minutes=1)) == 0
    assert to(runtime, "handover") == [advisor]  # the incoming advisor only, once
    (handover,) = (t for t in texts(runtime, "handover") if t.to_number == PHONES[advisor])
    assert handover.body is not None
    assert handover.body.startswith(
        "Pårørendelinjen: Vagtskifte. 2 åbne sager, heraf 1 akutte, og 0 noter til dig."
    )
    # The console's handover page: its login is the credential, so the link carries no token.
    assert handover.body.endswith("Se overleveringen: http://127.0.0.1:8000/console/handover"), handover.body
    assert "+45" not in handover.body  # references only, no numbers


@pytest.mark.parametrize(
    ("late", "handed_over"),
    [(timedelta(minutes=90), True), (timedelta(minutes=119), True), (timedelta(hours=3), False)],
)
def test_a_handover_missed_during_downtime_is_sent_within_the_lookback(
    runtime: Runtime, late: timedelta, handed_over: bool
) -> None:
    shifts.shift_starts(runtime, local(date(2026, 6, 10), 15, 0) + late)
    assert ("dalia" in to(runtime, "handover")) is handed_over


@pytest.mark.parametrize(
    ("night", "start", "phrase"),
    [
        (date(2026, 3, 28), utc(2026, 3, 28, 22, 0), "i nat mellem 23 og 7"),  # ends 07:00 CEST: 7 hours
        (date(2026, 10, 24), utc(2026, 10, 24, 21, 0), "i nat mellem 23 og 7"),  # ends 07:00 CET: 9 hours
    ],
    ids=["into-march-dst-sunday", "into-october-dst-sunday"],
)
def test_a_shift_that_starts_with_nobody_on_it_is_reported_to_the_manager(
    runtime: Runtime, night: date, start: datetime, phrase: str
) -> None:
    assert shifts.shift_starts(runtime, start - timedelta(minutes=1)) == 0
    shifts.shift_starts(runtime, start)
    shifts.shift_starts(runtime, start + timedelta(minutes=30))
    assert to(runtime, "roster_gap") == ["mads"]
    assert "bo" not in to(runtime, "handover")  # off sick
    (alert,) = texts(runtime, "roster_gap")
    assert alert.body is not None
    assert alert.body.startswith(
        f"Pårørendelinjen: Ingen rådgiver er på vagt {phrase}. Find en afløser: http://127.0.0.1:8000/staff/roster/mads."
    )
    next_morning = local(night + timedelta(days=1), 7)
    assert alert.expires_at == next_morning
    assert shifts.shift_starts(runtime, next_morning) == 1  # anna's handover; no second alert
    assert to(runtime, "roster_gap") == ["mads"]


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (utc(2026, 3, 29, 5, 29), False),  # 07:29 CEST
        (utc(2026, 3, 29, 5, 30), True),  # 07:30 CEST
        (utc(2026, 10, 25, 6, 29), False),  # 07:29 CET
        (utc(2026, 10, 25, 6, 30), True),  # 07:30 CET
        (utc(2026, 3, 28, 6, 30), True),  # 07:30 CET, the day before the change
        (utc(2026, 3, 28, 5, 30), False),  # 06:30 CET: an hour early by summer time
    ],
)
def test_the_morning_report_is_due_at_its_local_time_on_every_day(
    runtime: Runtime, now: datetime, due: bool
) -> None:
    assert (shifts.gap_report(runtime, now) is not None) is due
    if due:
        assert shifts.gap_report(runtime, now + timedelta(hours=3)) is None  # once per local date


def test_the_morning_report_lists_the_coming_weeks_gaps_to_the_managers(runtime: Runtime) -> None:
    assert shifts.gap_report(runtime, local(date(2026, 3, 22), 7, 30)) == 1
    assert to(runtime, "roster_gap") == ["mads"]
    body = texts(runtime, "roster_gap")[0].body or ""
    assert "Ingen rådgiver er på vagt på lørdag mellem 23 og 7" in body
    assert shifts.gap_report(runtime, local(date(2026, 3, 22), 11)) is None  # late second run: once a day
    assert shifts.gap_report(runtime, local(date(2026, 3, 23), 9)) == 1  # downtime until 9: caught up
    assert len(texts(runtime, "roster_gap")) == 2


def test_the_nightly_purge_blanks_personal_data_past_retention_and_keeps_counts(runtime: Runtime) -> None:
    now = local(date(2026, 6, 10), 3, 30)
    seed_personal_data(runtime, now)
    assert retention.purge(runtime, now - timedelta(minutes=1)) is None  # not yet: 03:29
    purged = retention.purge(runtime, now)
    assert purged is not None
    assert (purged.message_bodies, purged.outbox_bodies, purged.recordings, purged.notes) == (1, 1, 1, 1)
    assert purged.call_numbers == 1
    assert retention.purge(runtime, now + timedelta(hours=5)) is None  # once per night
    with runtime.sessions() as session:
        bodies = dict(session.execute(select(Message.message_sid, Message.body)).all())
        assert sorted(bodies.values(), key=str) == [None, "hemmelighed 10"]
        assert session.scalar(select(func.count()).select_from(Message)) == 2  # counts survive
        urls = sorted(session.scalars(select(Recording.recording_url)), key=str)
        assert urls == [None, "https://api.twilio.com/rec/10"]
        notes = sorted(session.scalars(select(CallbackAttempt.note)), key=str)
        assert notes == [None, "note 10"]
        callers = sorted(session.scalars(select(Call.from_number)), key=str)
        assert callers[0] == RELATIVE and callers[1].startswith("ps:")  # the number's pseudonym
        assert session.scalar(select(func.count()).select_from(Call)) == 2
        run = session.scalars(select(ClockworkRun).where(ClockworkRun.job == "purge")).one()
        assert run.summary is not None and "message_bodies=1" in run.summary
    assert sorted(t.body or "" for t in texts(runtime, "received")) == ["", "svar 10"]


@pytest.mark.parametrize(
    ("now", "runs"),
    [
        (utc(2026, 3, 29, 0, 59), False),  # 01:59 CET: 02:30 does not exist today ...
        (utc(2026, 3, 29, 1, 0), True),  # ... so it means 03:00 CEST, the first instant after the gap
        (utc(2026, 10, 25, 0, 29), False),  # 02:29 CEST
        (utc(2026, 10, 25, 0, 30), True),  # 02:30 CEST, the first of the two 02:30s
    ],
)
def test_a_nightly_time_in_the_changed_hour_runs_once(
    make_app: AppFactory, now: datetime, runs: bool
) -> None:
    app = make_app({"jobs": {"purge_at": "02:30"}})
    runtime = app.extensions["hotline"]
    assert (retention.purge(runtime, now) is not None) is runs


def test_a_nightly_time_in_the_repeated_october_hour_runs_once(make_app: AppFactory) -> None:
    runtime = make_app({"jobs": {"purge_at": "02:30"}}).extensions["hotline"]
    assert retention.purge(runtime, utc(2026, 10, 25, 0, 30)) is not None  # 02:30 CEST
    assert retention.purge(runtime, utc(2026, 10, 25, 1, 30)) is None  # 02:30 CET, an hour later


def test_every_clockwork_job_is_scheduled(app: Flask) -> None:
    scheduler = build_scheduler(app.extensions["hotline"])
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {
        "heartbeat",
        "import_spool",
        "send_outbox",
        "open_windows",
        "escalate_overdue",
        "shift_starts",
        "gap_report",
        "purge",
        "erase_at_twilio",
    }


def test_the_handover_lists_acute_cases_first_and_counts_notes(runtime: Runtime) -> None:
    start = utc(2026, 6, 10, 21, 0)  # bo's night shift starts at 23:00 CEST
    register_callback(runtime, start - timedelta(hours=3), window="tomorrow_daytime", number="+4567200002")
    register_callback(runtime, start - timedelta(hours=2), window="asap", priority=Priority.ACUTE)
    with runtime.sessions.begin() as session:
        (question, acute) = sorted(session.scalars(select(CallbackRequest)), key=lambda c: c.id)
        callback_queue.add_note(session, question, "anna", "Ring efter kl. 9, datteren er på arbejde", start)
        refs = (staff_texts.reference(acute), staff_texts.reference(question))
    shifts.shift_starts(runtime, start)
    (handover,) = (t for t in texts(runtime, "handover") if t.to_number == PHONES["bo"])
    assert handover.body is not None
    assert "og 1 noter til dig" in handover.body
    assert f"Først: {refs[0]}, {refs[1]}." in handover.body
    assert "datteren" not in handover.body  # the note itself stays on the staff page
