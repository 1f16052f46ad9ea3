"""The nightly purge covers every personal field: past each data class's retention no full phone number is left
in any column of any table, here or at Twilio, while counts for statistics stay, open callbacks and active
relatives are untouched, and an opt-out keeps working."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from hotline.db.models import (
    Call,
    CallbackRefusal,
    CallbackRequest,
    DemoOutbound,
    Message,
    OutboxText,
    Recording,
    Relative,
    RemoteErasure,
)
from hotline.jobs import erasure as erase_job
from hotline.jobs import outbox as send_loop
from hotline.jobs import retention
from hotline.runtime import Runtime
from hotline.services import callback_queue, opt_outs, outbox, pseudonyms, relatives
from hotline.services import erasure as erasure_service
from hotline.services import retention as retention_service
from routing.callback_states import Event
from tests.fake_twilio import FakeTwilio
from tests.helpers import DAILY_SHIFTS, HOTLINE, TWILIO_ACCOUNT, import_roster, local, register_callback
from tests.subjects import add_contact, rows_holding, sid

NOW = local(date(2026, 6, 10), 3, 30)  # the nightly purge's time (jobs.purge_at)
OLD = NOW - timedelta(days=400)  # past every default retention
QUIET = "+4567100001"  # a relative not heard from for 400 days
WAITING = "+4567100002"  # a relative whose callback, asked for 400 days ago, is still open
ACTIVE = "+4567100003"  # a relative with old records who called 10 days ago
STOPPED = "+4567100004"  # a relative who texted STOP 400 days ago
ACCOUNT_PATH = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT}"
PERSONAL_TABLES = (
    Call,
    Message,
    OutboxText,
    CallbackRequest,
    CallbackRefusal,
    Relative,
    Recording,
    DemoOutbound,
)


def seed_old_contact(runtime: Runtime, number: str, n: int, at: datetime = OLD) -> None:
    """One relative's texts, outbox rows, call, voicemail, demo copy and closed callback, all as of `at`."""
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, number)
        relative.language, relative.contact_person_id, relative.last_contact_at = "ar", "anna", at
        add_contact(session, relative, n, at)
        sent = outbox.enqueue(
            session,
            capped=True,
            to=number,
            purpose="info_offers",
            language="ar",
            now=at,
            body="tilbud",
            relative_id=relative.id,
        )
        assert sent is not None
        sent.state = outbox.SENT
    callback_id = register_callback(runtime, at, number=number)
    with runtime.sessions.begin() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None
        callback_queue.move(session, callback, Event.CANCEL, "test", at)
        # The cancel queued a status text as of `at`; it went out long ago.
        session.execute(
            update(OutboxText).where(OutboxText.state == outbox.PENDING).values(state=outbox.SENT)
        )
        session.execute(update(Relative).where(Relative.phone_number == number).values(last_contact_at=at))


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in PERSONAL_TABLES
        }


def erasures(runtime: Runtime) -> set[tuple[str, str]]:
    with runtime.sessions() as session:
        return {(kind, sid) for kind, sid in session.execute(select(RemoteErasure.kind, RemoteErasure.sid))}


@pytest.fixture
def seeded(live: Flask) -> Runtime:
    """The live app (real twilio Client, fake Twilio) with four relatives' records, as of NOW."""
    import_roster(live, DAILY_SHIFTS)
    runtime: Runtime = live.extensions["hotline"]
    seed_old_contact(runtime, QUIET, 1)
    seed_old_contact(runtime, ACTIVE, 3)
    seed_old_contact(runtime, STOPPED, 4)
    register_callback(runtime, OLD, number=WAITING)  # never closed
    with runtime.sessions.begin() as session:
        # Its status text went out at the time.
        session.execute(
            update(OutboxText).where(OutboxText.state == outbox.PENDING).values(state=outbox.SENT)
        )
        opt_outs.opt_out(session, STOPPED, source="keyword", now=OLD, message_sid=sid("SM", 40))
        relative, _ = relatives.find_or_create(session, ACTIVE)  # called ten days ago
        relative.language, relative.contact_person_id = "en", "dalia"
        relative.last_contact_at = NOW - timedelta(days=10)
        session.add(
            Call(
                call_sid=sid("CA", 33),
                direction="inbound",
                from_number=ACTIVE,
                to_number=HOTLINE,
                status="completed",
                relative_id=relative.id,
                created_at=NOW - timedelta(days=10),
                updated_at=NOW - timedelta(days=10),
            )
        )
        session.execute(update(Relative).where(Relative.phone_number == WAITING).values(last_contact_at=OLD))
    return runtime


def test_no_full_number_is_left_anywhere_once_every_retention_has_passed(seeded: Runtime) -> None:
    before = counts(seeded)
    purged = retention.purge(seeded, NOW)
    assert purged is not None
    for number in (QUIET, STOPPED):
        assert rows_holding(seeded, number) == ([] if number == QUIET else ["sms_opt_outs.phone_number"])
    # Counts for statistics stay: every call, text, outbox row, callback and relative is still a row.
    assert counts(seeded) == before
    assert (purged.relatives, purged.callback_numbers) == (2, 3)  # QUIET and STOPPED; ACTIVE's callback too
    # The same number has the same pseudonym everywhere, so distinct relatives can still be counted.
    key = pseudonyms.pseudonym_key(seeded)
    alias = pseudonyms.pseudonym(key, QUIET)
    with seeded.sessions() as session:
        relative = session.scalars(select(Relative).where(Relative.phone_number == alias)).one()
        assert (relative.language, relative.contact_person_id) == (None, None)  # forgotten
        assert set(session.scalars(select(Call.from_number).where(Call.relative_id == relative.id))) == {
            alias
        }
        texts = session.execute(
            select(Message.from_number, Message.to_number).where(Message.relative_id == relative.id)
        ).all()
        assert {number for row in texts for number in row} == {alias, pseudonyms.pseudonym(key, HOTLINE)}
        assert session.scalars(
            select(CallbackRequest.phone_number).where(CallbackRequest.relative_id == relative.id)
        ).all() == [alias]
        detail = session.scalars(select(OutboxText.failure_detail).where(OutboxText.failure_code == "21211"))
        assert f"Invalid 'To' Phone Number: {alias}" in set(detail)


def test_open_callbacks_and_relatives_heard_from_lately_are_kept(seeded: Runtime) -> None:
    assert retention.purge(seeded, NOW) is not None
    with seeded.sessions() as session:
        waiting = session.scalars(
            select(CallbackRequest).where(CallbackRequest.phone_number == WAITING)
        ).one()
        assert waiting.open_for_relative is not None  # still open, still the number to call back
        assert (
            session.scalars(select(Relative.phone_number).where(Relative.id == waiting.relative_id)).one()
            == WAITING
        )
        active = session.scalars(select(Relative).where(Relative.phone_number == ACTIVE)).one()
        assert (active.language, active.contact_person_id) == ("en", "dalia")
        recent = session.scalars(select(Call.from_number).where(Call.call_sid == sid("CA", 33))).one()
        assert recent == ACTIVE
    # Their old records went by their own retention all the same.
    assert set(rows_holding(seeded, ACTIVE)) == {"calls.from_number", "relatives.phone_number"}
    assert set(rows_holding(seeded, WAITING)) == {"callback_requests.phone_number", "relatives.phone_number"}


def test_twilio_deletes_the_records_of_texts_and_calls_past_retention(
    seeded: Runtime, fake: FakeTwilio
) -> None:
    assert retention.purge(seeded, NOW) is not None
    queued = erasures(seeded)
    for n in (1, 3, 4):
        assert {
            ("message_record", sid("SM", 10 * n)),
            ("message_record", sid("SM", 10 * n + 1)),
            ("message", sid("SM", 10 * n)),
            ("call", sid("CA", n)),
            ("recording", sid("RE", n)),
        } <= queued
    assert ("call", sid("CA", 33)) not in queued  # ten days old
    report = erase_job.erase_due(seeded, NOW)
    assert report.outcomes == {"erased": len(queued)}
    seen = {(request.method, request.path) for request in fake.requests}
    assert ("DELETE", f"{ACCOUNT_PATH}/Messages/{sid('SM', 10)}.json") in seen
    assert ("DELETE", f"{ACCOUNT_PATH}/Messages/{sid('SM', 11)}.json") in seen
    assert ("DELETE", f"{ACCOUNT_PATH}/Calls/{sid('CA', 1)}.json") in seen


def test_a_second_purge_finds_nothing_to_do(seeded: Runtime) -> None:
    assert retention.purge(seeded, NOW) is not None
    queued = erasures(seeded)
    again = retention.purge(seeded, NOW + timedelta(days=1))
    assert again is not None and again.summary() == "nothing"
    assert erasures(seeded) == queued


def test_an_opt_out_is_honoured_after_everything_else_about_the_number_is_gone(
    seeded: Runtime, fake: FakeTwilio
) -> None:
    assert retention.purge(seeded, NOW) is not None
    with seeded.sessions.begin() as session:
        assert opt_outs.is_opted_out(session, STOPPED)
        # The number comes back: a callback's status text, written a year after the STOP.
        relative, created = relatives.find_or_create(session, STOPPED)
        assert created  # its old relative is a pseudonym now
        outbox.enqueue(
            session,
            capped=True,
            to=STOPPED,
            purpose="received",
            language="da",
            now=NOW,
            body="Hej",
            relative_id=relative.id,
        )
    report = send_loop.send_due(seeded, NOW)
    assert report.cancelled == 1
    assert [r for r in fake.requests if r.path.endswith("/Messages.json")] == []


def test_a_number_that_comes_back_and_goes_quiet_again_stays_one_relative(seeded: Runtime) -> None:
    assert retention.purge(seeded, NOW) is not None
    later = NOW + timedelta(days=30)
    seed_old_contact(seeded, QUIET, 5, at=later)  # a new relative row: the old one holds only the pseudonym
    alias = pseudonyms.pseudonym(pseudonyms.pseudonym_key(seeded), QUIET)
    with seeded.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Relative).where(Relative.phone_number.in_([QUIET, alias]))
            )
            == 2
        )
    purged = retention.purge(seeded, local(date(2027, 7, 20), 3, 30))
    assert purged is not None and purged.relatives == 2  # QUIET's second relative row, and ACTIVE
    with seeded.sessions() as session:
        relative = session.scalars(select(Relative).where(Relative.phone_number == alias)).one()
        callbacks = session.scalars(
            select(CallbackRequest.phone_number).where(CallbackRequest.relative_id == relative.id)
        )
        assert list(callbacks) == [alias, alias]  # both periods' callbacks count for one relative
        assert (
            session.scalar(select(func.count()).select_from(Call).where(Call.relative_id == relative.id)) == 2
        )
    assert rows_holding(seeded, QUIET) == []


def test_the_purge_works_in_batches(seeded: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention_service, "BATCH", 2)
    monkeypatch.setattr(erasure_service, "BATCH", 2)
    purged = retention.purge(seeded, NOW)
    assert purged is not None and purged.message_numbers == 6 and purged.relatives == 2
    assert rows_holding(seeded, QUIET) == []
    assert len([kind for kind, _ in erasures(seeded) if kind == "message_record"]) == 6


@pytest.mark.parametrize(
    ("purge_day", "kept"),
    [(date(2026, 6, 26), True), (date(2026, 6, 27), False)],
    ids=["day-90", "day-91"],
)
@pytest.mark.parametrize("hour", [3, 23], ids=["at-03:30", "late-at-23:30"])
def test_a_text_is_kept_for_whole_copenhagen_days_across_daylight_saving(
    runtime: Runtime, purge_day: date, kept: bool, hour: int
) -> None:
    # Written half an hour after midnight on the Saturday before the March change; 90 days are 90 local dates.
    written = local(date(2026, 3, 28), 0, 30)
    with runtime.sessions.begin() as session:
        session.add(
            Message(
                message_sid=sid("SM", 90),
                direction="inbound",
                from_number=QUIET,
                body="ord",
                status="received",
                created_at=written,
                updated_at=written,
            )
        )
    assert retention.purge(runtime, local(purge_day, hour, 30)) is not None
    with runtime.sessions() as session:
        assert (session.scalars(select(Message.body)).one() is not None) is kept
