"""Working the queue: taking is decided in the database, so of advisors who take the same callback at the same
moment (their own connections, as two gunicorn workers have) exactly one wins; assign, release, close, notes;
a started call is claimed the same way, so a double click rings one phone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hotline.db.models import CallbackAttempt, CallbackRequest, DemoOutbound, utcnow
from hotline.runtime import Runtime
from hotline.services import callback_work
from hotline.services.callback_calls import CallbackError, Outcome, record_by_hand, start
from hotline.services.callback_work import QueueError
from routing.callbacks import Priority
from tests.helpers import register_callback


@pytest.fixture
def hotline(rostered: Flask) -> Runtime:
    runtime: Runtime = rostered.extensions["hotline"]
    return runtime


def _in_transaction(runtime: Runtime, step: Callable[[Any], object]) -> object:
    with runtime.sessions.begin() as session:
        return step(session)


def test_of_advisors_taking_one_callback_at_once_exactly_one_wins(hotline: Runtime) -> None:
    callback_id = register_callback(hotline, utcnow(), window="asap")
    advisors = ["anna", "bo", "dalia", "carl"] * 2
    barrier = threading.Barrier(len(advisors))
    results: list[str] = []

    def take(advisor: str) -> None:
        barrier.wait()
        try:
            with hotline.sessions.begin() as session:
                callback_work.take(session, callback_id, advisor, utcnow())
            results.append(f"won:{advisor}")
        except QueueError as error:
            results.append(error.message_id)

    threads = [threading.Thread(target=take, args=(a,)) for a in advisors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [r for r in results if r.startswith("won:")]
    # An advisor who clicks twice wins twice (taking one's own is no change); nobody else wins at all.
    assert len(set(winners)) == 1, results
    assert results.count("console.queue.error.taken") == len(advisors) - len(winners)
    with hotline.sessions() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None and f"won:{callback.assigned_advisor_id}" == winners[0]


def test_a_take_waits_for_the_one_before_it_and_then_loses(hotline: Runtime) -> None:
    """The first take holds the row until it commits; the second, on its own connection, waits and then reads
    that someone has it — it does not decide on what it read before."""
    callback_id = register_callback(hotline, utcnow(), window="asap")
    first = hotline.sessions()
    first.begin()
    callback_work.take(first, callback_id, "anna", utcnow())
    outcome: list[str] = []

    def second() -> None:
        try:
            with hotline.sessions.begin() as session:
                callback_work.take(session, callback_id, "bo", utcnow())
            outcome.append("won")
        except QueueError as error:
            outcome.append(error.message_id)

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the second take did not wait for the first"
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert outcome == ["console.queue.error.taken"]


def test_the_contact_person_is_a_suggestion_until_someone_takes_it(hotline: Runtime) -> None:
    callback_id = register_callback(hotline, utcnow(), window="asap")
    with hotline.sessions.begin() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None
        callback.assigned_advisor_id = "anna"  # as registration does for the relative's contact person
    _in_transaction(hotline, lambda s: callback_work.take(s, callback_id, "bo", utcnow()))
    with pytest.raises(QueueError, match="taken"):
        _in_transaction(hotline, lambda s: callback_work.take(s, callback_id, "anna", utcnow()))


def test_assign_and_release_respect_the_holder_and_a_manager_overrides(hotline: Runtime) -> None:
    callback_id = register_callback(hotline, utcnow(), window="asap")
    now = utcnow()
    _in_transaction(hotline, lambda s: callback_work.take(s, callback_id, "anna", now))
    with pytest.raises(QueueError, match="taken"):
        _in_transaction(
            hotline, lambda s: callback_work.assign(s, callback_id, "bo", now, by_advisor="dalia")
        )
    with pytest.raises(QueueError, match="taken"):
        _in_transaction(hotline, lambda s: callback_work.release(s, callback_id, "dalia", now))
    with pytest.raises(QueueError, match="no_advisor"):
        _in_transaction(hotline, lambda s: callback_work.assign(s, callback_id, "x", now, by_advisor="anna"))
    _in_transaction(hotline, lambda s: callback_work.assign(s, callback_id, "bo", now, by_advisor="anna"))
    _in_transaction(
        hotline, lambda s: callback_work.assign(s, callback_id, "dalia", now, by_advisor=None, override=True)
    )
    _in_transaction(hotline, lambda s: callback_work.release(s, callback_id, "dalia", now))
    with hotline.sessions() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None and (callback.assigned_advisor_id, callback.taken_at) == (None, None)


def test_mine_lists_what_i_hold_and_what_i_finished_in_the_last_hour(hotline: Runtime) -> None:
    now = utcnow()
    question = register_callback(hotline, now, window="asap", number="+4567100001")
    acute = register_callback(hotline, now, window="asap", priority=Priority.ACUTE, number="+4567100002")
    closed = register_callback(hotline, now, window="asap", number="+4567100003")
    _in_transaction(hotline, lambda s: callback_work.take(s, question, "anna", now))
    _in_transaction(hotline, lambda s: callback_work.close(s, closed, "anna", now, "test"))
    with hotline.sessions() as session:
        everything = callback_work.listing(session, advisor_id="anna", mine=False, now=now)
        mine = callback_work.listing(session, advisor_id="anna", mine=True, now=now)
    assert [r.id for r in everything] == [acute, question]  # acute first
    assert [(r.id, r.open) for r in mine] == [(question, True), (closed, False)]
    assert everything[0].masked_number == "+45 67 10 ** **"


def test_notes_must_say_something_and_are_kept_on_closed_callbacks(hotline: Runtime) -> None:
    callback_id = register_callback(hotline, utcnow(), window="asap")
    _in_transaction(hotline, lambda s: callback_work.close(s, callback_id, "anna", utcnow(), "test"))
    with pytest.raises(QueueError, match="empty_note"):
        _in_transaction(hotline, lambda s: callback_work.note(s, callback_id, "anna", "  ", utcnow()))
    _in_transaction(
        hotline, lambda s: callback_work.note(s, callback_id, "anna", " Talt med datter ", utcnow())
    )
    with hotline.sessions() as session:
        (entry,) = callback_work.history(session, callback_id)
    assert entry.note == "Talt med datter"


def test_two_starts_at_once_ring_one_phone(hotline: Runtime) -> None:
    callback_id = register_callback(hotline, utcnow(), window="asap")
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def ring(advisor: str) -> None:
        barrier.wait()
        try:
            start(hotline, callback_id, advisor, actor=f"test:{advisor}")
        except CallbackError as error:
            errors.append(error.message_id)

    threads = [threading.Thread(target=ring, args=(a,)) for a in ("anna", "bo")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with hotline.sessions() as session:
        calls = session.scalar(select(func.count()).select_from(DemoOutbound))
        attempts = session.scalar(select(func.count()).select_from(CallbackAttempt))
    assert (calls, attempts) == (1, 1)
    assert errors == ["console.queue.error.taken"]


def test_an_outcome_by_hand_counts_once_beside_the_call_s_own(hotline: Runtime) -> None:
    callback_id = register_callback(hotline, utcnow(), window="asap")
    start(hotline, callback_id, "anna", actor="test")
    settings = hotline.settings.file.callbacks

    def report(advisor: str, outcome: Outcome) -> object:
        return _in_transaction(
            hotline,
            lambda s: record_by_hand(
                s, callback_id, advisor, outcome, now=utcnow(), actor="test", settings=settings
            ),
        )

    with pytest.raises(QueueError, match="taken"):
        report("bo", Outcome.REACHED)
    assert report("anna", Outcome.REACHED) is True
    assert report("anna", Outcome.NOT_REACHED) is False  # already recorded: nothing changes
    with hotline.sessions() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None and (callback.state, callback.attempts) == ("reached", 0)


def test_no_call_puts_the_callback_back_without_using_an_attempt(hotline: Runtime) -> None:
    callback_id = register_callback(hotline, utcnow(), window="asap")
    start(hotline, callback_id, "anna", actor="test")
    with hotline.sessions.begin() as session:
        assert record_by_hand(
            session,
            callback_id,
            "anna",
            Outcome.NO_CALL,
            now=utcnow(),
            actor="test",
            settings=hotline.settings.file.callbacks,
        )
    with hotline.sessions() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None
        assert (callback.state, callback.attempts, callback.assigned_advisor_id) == ("scheduled", 0, "anna")
