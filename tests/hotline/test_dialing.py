"""Call walks through the real app with Twilio-signed requests: a person answers, or a callback is registered."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from hotline.db.models import CallbackCall, CallbackRequest, CallbackTransition, Relative
from tests.helpers import NUMBERS, RELATIVE, TwilioSigner, call_params, new_sid


def _xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


LANGUAGE_KEYS = {"da": "1", "en": "2", "ar": "3", "tr": "4", "uk": "5", "pl": "6"}
MAIN_KEYS = {"acute": "1", "question": "2"}


class Call:
    """One relative's call, walked step by step as Twilio would: in through /twilio/voice, the language menu
    (a new number) and the main menu, then the on-call chain the flow hands the call to."""

    def __init__(
        self, twilio: TwilioSigner, reason: str = "question", lang: str = "da", from_: str = RELATIVE
    ):
        self.twilio = twilio
        self.params = call_params(from_=from_, CallStatus="in-progress")
        self.dialled: list[str] = []
        doc = self._post("/twilio/voice", self.params)
        self.next = ""
        while self.next == "" or "/voice/connect" not in self.next:
            gather = doc.find("Gather")
            assert gather is not None, ET.tostring(doc)
            menu = parse_qs(urlsplit(gather.get("action", "")).query)["n"][0]
            key = LANGUAGE_KEYS[lang] if menu == "language_menu" else MAIN_KEYS[reason]
            doc = self._post(_path(gather.get("action", "")), {**self.params, "Digits": key})
            redirect = doc.find("Redirect")
            if doc.find("Gather") is None and redirect is not None and redirect.text:
                self.next = _path(redirect.text)

    def _post(self, path: str, params: dict[str, str]) -> ET.Element:
        response = self.twilio.post(path, params)
        assert response.status_code == 200, response.data
        return _xml(response.data)

    def connect(self) -> ET.Element:
        """Post the next step; a hand-back to the call flow is followed to what the caller hears."""
        doc = self._post(self.next, self.params)
        redirect = doc.find("Redirect")
        while redirect is not None and redirect.text and "/voice/step" in redirect.text and len(doc) == 1:
            doc = self._post(_path(redirect.text), self.params)
            redirect = doc.find("Redirect")
        return doc

    def press(self, doc: ET.Element, digits: str) -> ET.Element:
        """Answer the menu `doc` gathers for (an empty string is silence)."""
        gather = doc.find("Gather")
        assert gather is not None, ET.tostring(doc)
        return self._post(_path(gather.get("action", "")), {**self.params, "Digits": digits})

    def ring(self, advisor_presses: str | None, dial_status: str = "completed") -> ET.Element:
        """The current TwiML must be a Dial; play the advisor's side, then post the Dial action."""
        doc = self.connect()
        dial = doc.find("Dial")
        assert dial is not None, ET.tostring(doc)
        assert dial.get("answerOnBridge") == "true" and dial.get("callerId") == "+4568000000"
        number = dial.find("Number")
        assert number is not None and number.text is not None
        self.dialled.append(number.text)
        if advisor_presses is not None:
            leg = call_params(from_="+4568000000", CallStatus="in-progress")
            whisper = _xml(self.twilio.post(_path(number.get("url", "")), leg).data)
            gather = whisper.find("Gather")
            assert gather is not None and "Tryk 1" in "".join(gather.itertext())
            assert whisper.find("Hangup") is not None  # no key: the leg hangs up
            if advisor_presses:
                self.twilio.post(_path(gather.get("action", "")), {**leg, "Digits": advisor_presses})
        doc = self._post(_path(dial.get("action", "")), {**self.params, "DialCallStatus": dial_status})
        redirect = doc.find("Redirect")
        if redirect is not None and redirect.text:
            self.next = _path(redirect.text)
            if "/voice/step" in redirect.text:  # back to the call flow, which says what comes next
                doc = self.connect()
        self.last_action = (_path(dial.get("action", "")), {**self.params, "DialCallStatus": dial_status})
        return doc


def _callbacks(app: Flask) -> list[CallbackRequest]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(CallbackRequest)))


def _known_relative(app: Flask) -> None:
    """The caller as the call flow leaves them before putting them through: remembered, with their language."""
    with app.extensions["hotline"].sessions.begin() as session:
        session.add(Relative(phone_number=RELATIVE, language="da"))


def test_advisor_answers_and_presses_1(rostered: Flask, twilio: TwilioSigner) -> None:
    _known_relative(rostered)
    call = Call(twilio)
    doc = call.ring(advisor_presses="1")
    assert doc.find("Hangup") is not None and "Tak fordi du ringede" in "".join(doc.itertext())
    assert call.dialled == [NUMBERS["anna"]]
    with rostered.extensions["hotline"].sessions() as session:
        relative = session.scalars(select(Relative)).one()
    assert (relative.phone_number, relative.last_advisor_id) == (RELATIVE, "anna")
    assert _callbacks(rostered) == []


def test_the_advisor_who_took_the_last_call_is_tried_first_next_time(
    rostered: Flask, twilio: TwilioSigner
) -> None:
    _known_relative(rostered)
    first = Call(twilio)
    first.ring(advisor_presses=None, dial_status="no-answer")
    first.ring(advisor_presses="1")
    assert first.dialled == [NUMBERS["anna"], NUMBERS["dalia"]]
    twilio.post(  # dalia's leg ends: she is free for the next call
        "/twilio/voice/advisor-status?advisor=dalia",
        {"CallSid": _leg(rostered, "dalia"), "CallStatus": "completed"},
    )
    again = Call(twilio)
    again.ring(advisor_presses="1")
    assert again.dialled == [NUMBERS["dalia"]]


@pytest.mark.parametrize(
    ("presses", "status"),
    [("", "completed"), ("7", "completed"), (None, "no-answer"), (None, "busy"), (None, "failed")],
    ids=["voicemail-answers-no-key", "wrong-key", "no-answer", "busy", "failed"],
)
def test_not_taken_moves_to_the_next_step(
    rostered: Flask, twilio: TwilioSigner, presses: str | None, status: str
) -> None:
    call = Call(twilio)
    doc = call.ring(advisor_presses=presses, dial_status=status)
    assert doc.find("Redirect") is not None
    call.ring(advisor_presses="1")
    assert call.dialled == [NUMBERS["anna"], NUMBERS["dalia"]]


def test_reassurance_between_steps(rostered: Flask, twilio: TwilioSigner) -> None:
    call = Call(twilio)
    call.ring(advisor_presses=None, dial_status="no-answer")
    doc = call.connect()
    assert "Vi prøver stadig at finde en ledig rådgiver" in "".join(doc.itertext())


def test_whole_chain_failing_ends_in_a_callback_with_a_time(rostered: Flask, twilio: TwilioSigner) -> None:
    # 23:40 on a Monday in Copenhagen: an acute callback is due within 30 minutes, which is after midnight.
    with time_machine.travel(datetime(2026, 11, 23, 22, 40, tzinfo=UTC)):
        call = Call(twilio, reason="acute")
        for _ in range(4):  # anna, dalia (primary), bo (backup), carl (manager: acute reaches the manager)
            call.ring(advisor_presses=None, dial_status="no-answer")
        assert call.dialled == [NUMBERS[a] for a in ("anna", "dalia", "bo", "carl")]
        doc = call.connect()
    text = "".join(doc.itertext())
    # The call flow takes the call back and promises the registered callback's own time.
    assert "ringer dig op, så snart der er en ledig, og i nat mellem 23.40 og 0.10." in text, text
    assert "Er det livstruende, så ring 112." in text
    assert doc.find("Hangup") is not None
    (callback,) = _callbacks(rostered)
    assert (callback.state, callback.priority, callback.phone_number) == ("scheduled", "acute", RELATIVE)
    assert (
        callback.assigned_advisor_id is None
    )  # no contact person: the whole team's queue, not the first rung
    with rostered.extensions["hotline"].sessions() as session:
        steps = session.scalars(select(CallbackTransition.to_state).order_by(CallbackTransition.id)).all()
    assert steps == ["requested", "scheduled"]


def test_questions_stop_before_the_manager(rostered: Flask, twilio: TwilioSigner) -> None:
    call = Call(twilio, reason="question")
    for _ in range(3):
        call.ring(advisor_presses=None, dial_status="no-answer")
    assert NUMBERS["carl"] not in call.dialled
    doc = call.connect()
    assert doc.find("Dial") is None
    assert "Hvornår passer det dig" in "".join(doc.itertext())  # the caller picks when to be called
    call.press(doc, "1")
    assert len(_callbacks(rostered)) == 1


def test_the_same_dial_action_twice_creates_one_callback(rostered: Flask, twilio: TwilioSigner) -> None:
    call = Call(twilio)
    for _ in range(3):
        call.ring(advisor_presses=None, dial_status="no-answer")
    path, params = call.last_action
    first = call.connect()
    twilio.post(path, params)  # Twilio retries the last Dial action
    again = call.connect()
    assert first.find("Gather") is not None and again.find("Gather") is not None
    first, again = call.press(first, "2"), call.press(again, "2")  # and the menu's action
    assert first.find("Hangup") is not None and again.find("Hangup") is not None
    assert len(_callbacks(rostered)) == 1
    with rostered.extensions["hotline"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(CallbackCall)) == 1


def test_a_relative_who_calls_again_is_linked_to_the_open_request(
    rostered: Flask, twilio: TwilioSigner
) -> None:
    for _ in range(2):
        call = Call(twilio)
        for _ in range(3):
            call.ring(advisor_presses=None, dial_status="no-answer")
        call.press(call.connect(), "1")
    assert len(_callbacks(rostered)) == 1
    with rostered.extensions["hotline"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(CallbackCall)) == 2


def test_contact_person_is_tried_first(rostered: Flask, twilio: TwilioSigner) -> None:
    with rostered.extensions["hotline"].sessions.begin() as session:
        session.add(Relative(phone_number=RELATIVE, contact_person_id="bo"))
    call = Call(twilio)
    call.ring(advisor_presses="1")
    assert call.dialled == [NUMBERS["bo"]]


def test_a_language_match_is_tried_first(rostered: Flask, twilio: TwilioSigner) -> None:
    call = Call(twilio, lang="ar")
    call.ring(advisor_presses="1")
    assert call.dialled == [NUMBERS["dalia"]]


def test_an_advisor_already_on_a_call_is_skipped(rostered: Flask, twilio: TwilioSigner) -> None:
    first = Call(twilio, from_="+4567000001")
    first.ring(advisor_presses="1")  # anna is now on a call
    second = Call(twilio, from_="+4567000002")
    second.ring(advisor_presses="1")
    assert second.dialled == [NUMBERS["dalia"]]
    # anna's leg ends: she is free again for the next caller.
    twilio.post(
        "/twilio/voice/advisor-status?advisor=anna",
        {"CallSid": _leg(rostered, "anna"), "CallStatus": "completed"},
    )
    third = Call(twilio, from_="+4567000003")
    third.ring(advisor_presses="1")
    assert third.dialled == [NUMBERS["anna"]]


def _leg(app: Flask, advisor_id: str) -> str:
    """The CallSid of the call leg `advisor_id` is busy on."""
    from hotline.db.models import AdvisorRecord

    with app.extensions["hotline"].sessions() as session:
        advisor = session.get(AdvisorRecord, advisor_id)
        assert advisor is not None and advisor.busy_call_sid
        return advisor.busy_call_sid


def test_unsigned_connect_is_refused(rostered: Flask) -> None:
    response = rostered.test_client().post(
        "/twilio/voice/connect?reason=acute", data=call_params(new_sid("CA"))
    )
    assert response.status_code == 403
