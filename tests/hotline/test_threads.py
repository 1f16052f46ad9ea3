"""Text threads (services/threads.py, workload.py): a question keeps the promise its receipt made, what counts as
unanswered (an advisor's reply or a callback answers it, a receipt does not), the inbox's order, and a reply's
check and writing: uncapped, within the guard and the opt-out registry, written once per draft."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from hotline.db.models import Message, OutboxText, Relative
from hotline.runtime import Runtime
from hotline.services import inbox, threads, workload
from tests.helpers import RELATIVE, TwilioSigner, new_sid, utc

NOW = utc(2026, 11, 3, 13, 0)  # 14:00 in Copenhagen; ALWAYS_ON_CALL has someone on shift
OTHER, THIRD = "+4567100002", "+4567100003"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hotline(clock: time_machine.Coordinates, rostered: Flask) -> Runtime:
    runtime: Runtime = rostered.extensions["hotline"]
    return runtime


def text_in(twilio: TwilioSigner, body: str, from_: str = RELATIVE) -> None:
    params = {"MessageSid": new_sid("SM"), "AccountSid": "AC" + "0" * 32, "From": from_, "To": "+4568000000"}
    params.update({"Body": body, "NumMedia": "0"})
    assert twilio.post("/twilio/sms", params).status_code == 200


def relative(runtime: Runtime, number: str = RELATIVE) -> Relative:
    with runtime.sessions() as session:
        found = session.scalars(select(Relative).where(Relative.phone_number == number)).one()
        session.expunge(found)
        return found


def unanswered(runtime: Runtime) -> tuple[int, list[str]]:
    """The first page's count and the inbox's unanswered threads (masked numbers): they must agree."""
    with runtime.sessions() as session:
        listed = [s.masked_number for s in threads.inbox(session) if s.unanswered]
        return workload.unanswered_threads(session), listed


def test_a_question_keeps_the_promise_its_receipt_made_and_a_keyword_makes_none(
    hotline: Runtime, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Hvad gør jeg nu?")
    text_in(twilio, "TILBUD", OTHER)
    with hotline.sessions() as session:
        promise = inbox.answer_promise(session, hotline.settings, NOW)
        rows = session.scalars(select(Message).order_by(Message.id)).all()
        assert [(m.from_number, m.answer_due_at) for m in rows] == [(RELATIVE, promise.end), (OTHER, None)]
    assert promise.end == utc(2026, 11, 3, 17, 0)  # 14:00 + 4 hours: "i dag inden kl. 18"


def test_a_receipt_does_not_answer_a_thread_an_advisors_reply_does(
    clock: time_machine.Coordinates, hotline: Runtime, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Hvad gør jeg nu?")
    assert unanswered(hotline) == (1, ["+45 67 12 ** **"])
    clock.shift(timedelta(minutes=1))
    with hotline.sessions.begin() as session:
        person = session.scalars(select(Relative)).one()
        threads.send_reply(session, hotline.settings, person, "Vi ringer dig op.", draft="a", now=NOW)
    assert unanswered(hotline) == (0, [])
    clock.shift(timedelta(minutes=1))
    text_in(twilio, "Tak. Og en ting mere")
    assert unanswered(hotline) == (1, ["+45 67 12 ** **"])


def test_ring_hands_the_text_to_the_callback_queue(hotline: Runtime, twilio: TwilioSigner) -> None:
    text_in(twilio, "RING")
    assert unanswered(hotline) == (0, [])
    with hotline.sessions() as session:
        (message,) = session.scalars(select(Message).where(Message.direction == "inbound")).all()
        assert message.callback_id is not None
        (summary,) = threads.inbox(session)
        assert summary.open_callback and not summary.unanswered


def test_the_inbox_puts_the_earliest_promise_first_then_the_answered(
    clock: time_machine.Coordinates, hotline: Runtime, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Spørgsmål", OTHER)  # 14:00: promised by 18:00
    clock.shift(timedelta(minutes=30))
    text_in(twilio, "STATUS", THIRD)  # a keyword: no promise, listed after those with one
    text_in(twilio, "Spørgsmål")  # 14:30: promised by 19:00
    clock.shift(timedelta(minutes=30))
    text_in(twilio, "Et svar til mig?", "+4567100004")
    with hotline.sessions.begin() as session:
        answered = session.scalars(select(Relative).where(Relative.phone_number == "+4567100004")).one()
        threads.send_reply(
            session, hotline.settings, answered, "Ja.", draft="b", now=NOW + timedelta(hours=1)
        )
    with hotline.sessions() as session:
        numbers = {r.id: r.phone_number for r in session.scalars(select(Relative))}
        listed = [(numbers[s.relative_id], s.unanswered, s.promised_by) for s in threads.inbox(session)]
    assert listed == [
        (OTHER, True, utc(2026, 11, 3, 17, 0)),
        (RELATIVE, True, utc(2026, 11, 3, 18, 0)),
        (THIRD, True, None),
        ("+4567100004", False, None),
    ]


@pytest.mark.parametrize(
    ("number", "body", "problem"),
    [
        (RELATIVE, "Hej", None),
        (RELATIVE, "   ", "empty"),
        (RELATIVE, "x" * 1601, "too_long"),
        ("+4930123456", "Hallo", "guard:country_not_allowed"),
        ("+4590123456", "Hej", "guard:premium_rate"),
    ],
)
def test_a_reply_is_checked_before_it_is_written(
    hotline: Runtime, twilio: TwilioSigner, number: str, body: str, problem: str | None
) -> None:
    text_in(twilio, "Spørgsmål", number)
    person = relative(hotline, number)
    with hotline.sessions.begin() as session:
        check = threads.check_reply(session, hotline.settings, person, body)
        assert check.problem == problem
        if problem is None:
            assert threads.send_reply(session, hotline.settings, person, body, draft="c", now=NOW) is not None
        else:
            with pytest.raises(threads.ReplyRefused):
                threads.send_reply(session, hotline.settings, person, body, draft="c", now=NOW)
    with hotline.sessions() as session:
        written = session.scalars(select(OutboxText).where(OutboxText.purpose == "advisor_reply")).all()
        assert len(written) == (1 if problem is None else 0)


def test_an_opted_out_number_gets_no_reply(hotline: Runtime, twilio: TwilioSigner) -> None:
    text_in(twilio, "STOP")
    person = relative(hotline)
    with hotline.sessions.begin() as session:
        check = threads.check_reply(session, hotline.settings, person, "Hej")
        assert (check.problem, check.opted_out) == ("opted_out", True)


def test_a_reply_is_uncapped_and_written_once_per_draft(hotline: Runtime, twilio: TwilioSigner) -> None:
    text_in(twilio, "Spørgsmål")
    person = relative(hotline)
    with hotline.sessions.begin() as session:
        first = threads.send_reply(session, hotline.settings, person, " Hej med dig ", draft="d", now=NOW)
        again = threads.send_reply(session, hotline.settings, person, " Hej med dig ", draft="d", now=NOW)
        assert first is not None and again is None
        assert (first.capped, first.body, first.purpose, first.in_reply_to_id is not None) == (
            False,
            "Hej med dig",
            "advisor_reply",
            True,
        )


@pytest.mark.parametrize(
    ("body", "encoding", "segments", "first_ucs2"),
    [
        ("Hej, vi ringer kl. 16.", "GSM-7", 1, None),
        ("Pris: 10 €", "GSM-7", 1, None),
        ("y" * 160, "GSM-7", 1, None),
        ("y" * 161, "GSM-7", 2, None),
        ("Tak – vi ringer", "UCS-2", 1, "–"),
        ("مرحبا " * 12, "UCS-2", 2, "م"),
    ],
)
def test_the_check_says_how_the_reply_goes_over_the_air(
    hotline: Runtime, twilio: TwilioSigner, body: str, encoding: str, segments: int, first_ucs2: str | None
) -> None:
    text_in(twilio, "Spørgsmål")
    with hotline.sessions() as session:
        check = threads.check_reply(session, hotline.settings, relative(hotline), body)
    assert (check.segments.encoding, check.segments.segments, check.first_ucs2) == (
        encoding,
        segments,
        first_ucs2,
    )


@pytest.mark.parametrize("language", ["da", "en", "ar", "tr", "uk", "pl", "so"])
def test_quick_replies_come_in_every_language(hotline: Runtime, language: str) -> None:
    replies = threads.quick_replies(hotline.settings, language)
    assert list(replies) == list(threads.QUICK_REPLIES)
    danish = threads.quick_replies(hotline.settings, "da")
    for key, body in replies.items():
        assert body.startswith("Pårørendelinjen") and "{" not in body
        assert (body == danish[key]) == (language == "da")  # translated, not the Danish fallback
