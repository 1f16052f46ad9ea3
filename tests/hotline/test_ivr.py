"""Every path of the shipped call flow, walked through the real app with Twilio-signed requests.

Each row is a caller's key script (an empty string is silence) and what the call must end in: a person
("human"), a registered callback (with its window), a voicemail, or a goodbye after requested information.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, time

import pytest
import time_machine
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hotline.db.models import CallbackRequest, CallbackTransition, OutboxText, Recording, Relative
from hotline.services import rosters
from hotline.twilio.actions import Caller, carry_out
from ivr_flows.call_state import CallState
from ivr_flows.outcome import Action
from routing.wallclock import COPENHAGEN
from tests.helpers import ALWAYS_ON_CALL, NUMBERS, RELATIVE, call_params, dial_in, import_roster, signer

ANSWER, RING = ("answer",), ("ring",)
# The paths are walked on a Monday morning, 10:00 in Copenhagen, so promises that name the time of day ("i dag",
# "i aften", "i nat") are exact; test_asap_promise_names_the_time_of_day walks the rest of the day.
MONDAY_MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _callbacks(app: Flask) -> list[CallbackRequest]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(CallbackRequest)))


def _recordings(app: Flask) -> list[Recording]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(Recording)))


def _info_texts(app: Flask) -> list[str]:
    from hotline.db.models import OutboxText

    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(OutboxText.purpose).where(OutboxText.purpose.startswith("info_"))))


def _outcome(app: Flask, dialled: list[str], advisors: tuple[str, ...]) -> str:
    if _recordings(app):
        return "voicemail"
    callbacks = _callbacks(app)
    if callbacks:
        return f"callback:{callbacks[0].window_key}:{callbacks[0].priority}"
    if dialled and advisors == ANSWER:
        return "human"
    return "nothing"


PATHS = [
    # (id, keys, advisors, expected outcome, something the caller must hear)
    ("da-acute-answered", ["1", "1"], ANSWER, "human", "Tak fordi du ringede"),
    ("da-question-answered", ["1", "2"], ANSWER, "human", "Tak fordi du ringede"),
    ("da-acute-nobody", ["1", "1"], RING, "callback:asap:acute", "forrest i køen"),
    ("da-acute-nobody-time", ["1", "1"], RING, "callback:asap:acute", "og i dag mellem 10 og 10.30"),
    ("da-question-nobody", ["1", "2"], RING, "callback:asap:question", "op i dag mellem 10 og 14"),
    ("da-callback-asap", ["1", "3", "1"], ANSWER, "callback:asap:question", "op i dag mellem 10 og 14"),
    ("da-callback-evening", ["1", "3", "2"], ANSWER, "callback:this_evening:question", "mellem 17 og 21"),
    ("da-callback-morning", ["1", "3", "3"], ANSWER, "callback:tomorrow_morning:question", "mellem 7 og 9"),
    ("da-callback-daytime", ["1", "3", "4"], ANSWER, "callback:tomorrow_daytime:question", "mellem 9 og 15"),
    ("da-repeat-then-question", ["1", "9", "2"], ANSWER, "human", "Tak fordi du ringede"),
    ("da-silence-everywhere", [], ANSWER, "human", "Vi hørte ikke noget tryk"),
    ("da-wrong-keys", ["8", "8", "8"], ANSWER, "human", "Det tryk kender vi ikke"),
    ("da-wrong-then-silence", ["1", "7", "", ""], ANSWER, "human", "Her er valgene igen"),
    ("da-callback-menu-back", ["1", "3", "*", "2"], ANSWER, "human", "Tak fordi du ringede"),
    ("en-question-answered", ["2", "2"], ANSWER, "human", "Thank you for calling"),
    ("en-callback-evening", ["2", "3", "2"], ANSWER, "callback:this_evening:question", "between 17 and 21"),
    ("en-silence", ["2"], ANSWER, "human", "We did not hear"),
    ("ar-question-nobody", ["3", "2"], RING, "callback:asap:question", "سنتصل بك"),
]


@pytest.mark.parametrize(
    ("keys", "advisors", "expected", "heard"), [p[1:] for p in PATHS], ids=[p[0] for p in PATHS]
)
def test_paths(
    rostered: Flask, keys: list[str], advisors: tuple[str, ...], expected: str, heard: str
) -> None:
    with time_machine.travel(MONDAY_MORNING):
        _, result, output = dial_in(rostered, keys, advisors=advisors)
    assert result.ended_by == "hotline", output
    assert _outcome(rostered, result.dialled, advisors) == expected, output
    assert heard.lower() in output.lower(), output


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "heard"),
    [
        pytest.param(_utc(2026, 11, 23, 9, 0), "i dag mellem 10 og 14", id="monday-10.00"),
        pytest.param(_utc(2026, 11, 23, 16, 2), "i aften mellem 17.02 og 21.02", id="monday-17.02"),
        # Four hours would run into the quiet hours (21:30-07:00): the promise stops at 21:30.
        pytest.param(_utc(2026, 11, 23, 18, 0), "i aften mellem 19 og 21.30", id="monday-19.00"),
        # The case: not "i nat mellem 22.44 og 2.44", but the morning.
        pytest.param(_utc(2026, 11, 23, 21, 44), "i morgen tidlig mellem 7 og 11", id="monday-22.44"),
        pytest.param(_utc(2026, 11, 23, 22, 30), "i morgen tidlig mellem 7 og 11", id="monday-23.30"),
        # 00:30 on the March DST Sunday: 07:00 CEST, an hour sooner in real time than on a Saturday.
        pytest.param(_utc(2026, 3, 28, 23, 30), "i dag mellem 7 og 11", id="march-dst-00.30"),
        # 02:30 CET, the second pass of the repeated hour on the October DST Sunday.
        pytest.param(_utc(2026, 10, 25, 1, 30), "i dag mellem 7 og 11", id="october-dst-02.30-second"),
    ],
)
def test_a_silent_question_caller_is_called_back_at_a_humane_hour(
    rostered: Flask, at: datetime, heard: str
) -> None:
    """Nobody answered a question: the caller is offered the windows; silence picks as soon as possible outside
    the quiet hours, and the promise is what the queue holds."""
    with time_machine.travel(at):
        _, _, output = dial_in(rostered, ["1", "2"], advisors=RING)
    assert "Vi kunne desværre ikke få fat i en rådgiver lige nu" in output, output
    assert "taler med andre" not in output
    assert "Tryk 2 for i aften mellem 17 og 21" in output  # the windows were offered
    assert f"Vi ringer dig op {heard}. Farvel." in output, output
    (callback,) = _callbacks(rostered)
    assert (callback.window_key, callback.window_picked) == ("asap", False)
    start = callback.window_start.astimezone(COPENHAGEN)
    end = callback.window_end.astimezone(COPENHAGEN)
    assert time(7) <= start.time() and end.time() <= time(21, 30) and start.date() == end.date()
    assert callback.window_start >= at


def test_language_is_remembered_and_the_menu_skipped(rostered: Flask) -> None:
    _, _, first = dial_in(rostered, ["2", "2"], advisors=ANSWER)
    assert "For English, press 2" in first
    with rostered.extensions["hotline"].sessions() as session:
        relative = session.scalars(select(Relative).where(Relative.phone_number == RELATIVE)).one()
    assert relative.language == "en"
    _, result, second = dial_in(rostered, ["2"], advisors=ANSWER)
    assert "For English, press 2" not in second and "Welcome to" in second
    assert result.dialled == [NUMBERS["anna"]]  # anna speaks English: the language match goes first


def test_a_returning_caller_can_change_language(rostered: Flask) -> None:
    dial_in(rostered, ["2", "2"], advisors=ANSWER)
    _, _, output = dial_in(rostered, ["0", "1", "2"], advisors=ANSWER)
    assert "For dansk, tryk 1" in output
    with rostered.extensions["hotline"].sessions() as session:
        assert session.scalars(select(Relative.language)).one() == "da"


def test_withheld_caller_keys_in_a_number_for_a_callback(rostered: Flask) -> None:
    _, _, output = dial_in(rostered, ["1", "3", "67000003", "1", "2"], caller="anonymous")
    assert "Du tastede 6 7 0 0 0 0 0 3." in output  # read back digit by digit before it is confirmed
    (callback,) = _callbacks(rostered)
    assert (callback.phone_number, callback.window_key) == ("+4567000003", "this_evening")


def test_withheld_caller_whose_number_is_refused_is_asked_again(rostered: Flask) -> None:
    # 90 xx xx xx is premium rate: the toll-fraud guard refuses it; the second number is fine.
    _, _, output = dial_in(rostered, ["1", "3", "90000000", "1", "67000004", "1", "1"], caller="anonymous")
    assert "kan vi desværre ikke ringe" in output
    (callback,) = _callbacks(rostered)
    assert callback.phone_number == "+4567000004"


def test_withheld_caller_who_gives_up_leaves_a_voicemail_that_is_a_task_in_the_queue(rostered: Flask) -> None:
    """No number: nobody can call back, so nobody is promised a call; the message is still a task for staff."""
    _, _, output = dial_in(rostered, ["1", "3", "", "", ""], caller="anonymous")
    (recording,) = _recordings(rostered)
    assert recording.source == "ivr" and recording.from_number is None
    (task,) = _callbacks(rostered)
    assert (task.phone_number, task.relative_id, task.reason) == (None, None, "voicemail")
    assert (task.recording_sid, task.state) == (recording.recording_sid, "scheduled")
    before_the_tone = output[: output.index("●")]  # the phone prints ● when the recording starts
    told = before_the_tone[before_the_tone.rindex("Vi fik ikke et helt nummer") :]
    assert "Vi kan ikke se dit nummer, så vi kan ikke ringe dig op" in told, output
    assert "Sig dit navn, dit telefonnummer" not in told  # not asked for a number we would not use
    assert "Vi kan ikke ringe dig op, fordi dit nummer er skjult" in output, output
    assert "ringer dig op så snart vi kan" not in output
    with rostered.extensions["hotline"].sessions() as session:
        assert session.scalars(select(OutboxText)).all() == []  # nobody to text either


def _open_and_move_steps(app: Flask) -> tuple[CallbackRequest, list[tuple[str, str]]]:
    (callback,) = _callbacks(app)
    with app.extensions["hotline"].sessions() as session:
        steps = session.execute(
            select(CallbackTransition.event, CallbackTransition.actor).order_by(CallbackTransition.id)
        ).all()
    return callback, [tuple(step) for step in steps]


def test_a_later_call_moves_the_open_callback_to_the_picked_window(rostered: Flask) -> None:
    """Called back "as soon as possible" after a morning call, the relative calls again and picks this evening:
    the queue holds this evening (a reschedule step), and the confirmation says what the queue holds."""
    with time_machine.travel(MONDAY_MORNING):
        dial_in(rostered, ["1", "2"], advisors=RING)  # silence after the failed chain: as soon as possible
    with time_machine.travel(_utc(2026, 11, 23, 10, 0)):  # 11:00: a returning caller, straight to the menu
        _, _, output = dial_in(rostered, ["3", "2"])
    callback, steps = _open_and_move_steps(rostered)
    assert callback.window_key == "this_evening" and callback.window_picked
    assert callback.window_start.astimezone(COPENHAGEN).strftime("%d %H:%M") == "23 17:00"
    assert callback.window_end.astimezone(COPENHAGEN).strftime("%d %H:%M") == "23 21:00"
    assert steps == [("request", "system:ivr"), ("schedule", "system:ivr"), ("reschedule", "system:ivr")]
    assert "Vi ringer dig op i aften mellem 17 og 21. Farvel." in output, output
    with rostered.extensions["hotline"].sessions() as session:
        purposes = session.scalars(select(OutboxText.dedup_key).order_by(OutboxText.id)).all()
    assert len(purposes) == 2 and purposes[1] is not None and "rescheduled" in purposes[1]


def test_the_confirmation_is_spoken_from_the_stored_request_not_the_key(rostered: Flask) -> None:
    """An advisor is dialling the relative's open callback right now, so it cannot move: pressing "this evening"
    must not promise this evening."""
    with time_machine.travel(MONDAY_MORNING):
        dial_in(rostered, ["1", "2"], advisors=RING)
    with rostered.extensions["hotline"].sessions.begin() as session:
        (callback,) = session.scalars(select(CallbackRequest)).all()
        callback.state = "in_progress"
    with time_machine.travel(_utc(2026, 11, 23, 10, 0)):
        _, _, output = dial_in(rostered, ["3", "2"])
    callback, steps = _open_and_move_steps(rostered)
    assert callback.window_key == "asap" and [event for event, _ in steps] == ["request", "schedule"]
    assert "Vi ringer dig op i dag mellem 11 og 14. Farvel." in output, output
    assert "i aften mellem 17 og 21. Farvel" not in output


def test_a_question_caller_picks_a_window_after_the_failed_chain(rostered: Flask) -> None:
    """At 22:44 nobody answers: the caller is asked when to be called, and may pick tonight themselves."""
    with time_machine.travel(_utc(2026, 11, 23, 21, 44)):
        _, _, output = dial_in(rostered, ["1", "2", "3"], advisors=RING)
    (callback,) = _callbacks(rostered)
    assert (callback.window_key, callback.window_picked) == ("tomorrow_morning", True)
    assert "Vi ringer dig op i morgen tidlig mellem 7 og 9. Farvel." in output, output


def test_empty_roster_offers_a_callback(app: Flask) -> None:
    _, _, output = dial_in(app, ["1", "2", "1", "2"])
    # Nobody is rostered this week: no invented time, an honest "as soon as an advisor is on duty".
    assert "ingen rådgiver på vagt. Vi er her igen så snart en rådgiver er på vagt" in output
    (callback,) = _callbacks(app)
    assert callback.window_key == "this_evening"


def test_closed_hours_name_the_next_shift(app: Flask) -> None:
    night_only = ALWAYS_ON_CALL.replace(
        'days: daily, start: "07:00", end: "07:00"', 'days: daily, start: "03:00", end: "03:01"'
    )
    with app.extensions["hotline"].sessions.begin() as session:
        rosters.import_roster(session, night_only, source_name="t.yaml", actor="test")
    with time_machine.travel(MONDAY_MORNING):
        _, _, output = dial_in(app, ["1", "2", "1", "2"])
    assert "Vi er her igen i morgen kl. 3." in output, output
    with time_machine.travel(_utc(2026, 11, 23, 22, 0)):  # 23:00: the shift starts in four hours
        _, _, output = dial_in(app, ["1", "2", "1", "2"], caller="+4567123457")
    assert "Vi er her igen i nat kl. 3." in output, output


def test_empty_roster_voicemail_is_saved_into_the_callback_queue(app: Flask) -> None:
    _, _, output = dial_in(app, ["1", "1", "2"])
    (recording,) = _recordings(app)
    (callback,) = _callbacks(app)
    assert callback.recording_sid == recording.recording_sid
    assert callback.reason == "voicemail"
    assert "Tak. Vi har gemt din besked" in output


def test_a_retried_step_does_not_register_twice(rostered: Flask) -> None:
    twilio = signer(rostered)
    params = call_params()
    twilio.post("/twilio/voice", params)
    url = "/twilio/voice/step?v=1&n=callback_menu&f=&l=da"
    for _ in range(2):
        response = twilio.post(url, {**params, "Digits": "2"})
        assert "mellem 17 og 21" in response.get_data(as_text=True)
    assert len(_callbacks(rostered)) == 1


def test_each_empty_app_starts_with_no_callers(
    empty_app: Callable[[], AbstractContextManager[Flask]],
) -> None:
    for _ in range(2):  # the second call must not find the first one's relative, language or callback
        with empty_app() as app:
            import_roster(app, ALWAYS_ON_CALL)
            _, _, output = dial_in(app, ["2", "2"], advisors=RING)
            assert "For English, press 2" in output  # a new caller is asked for a language
            (callback,) = _callbacks(app)
            assert callback.language == "en"


# empty_app is function-scoped, but hands each example a fresh database of its own.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keys=st.lists(
        st.sampled_from(["", "0", "1", "2", "3", "4", "5", "7", "8", "9", "*", "#", "12", "67000005"]),
        max_size=14,
    ),
    advisors=st.sampled_from([ANSWER, RING, ("voicemail",), ("decline",)]),
)
def test_any_keys_end_with_help_and_never_a_500(
    empty_app: Callable[[], AbstractContextManager[Flask]], keys: list[str], advisors: tuple[str, ...]
) -> None:
    """Random keys and silences: the call ends with a person, a callback, a voicemail or info — never a 500.

    Each example calls a hotline of its own, so no example is a returning caller because of an earlier one."""
    with empty_app() as app:
        import_roster(app, ALWAYS_ON_CALL)
        _, result, output = dial_in(app, keys, advisors=advisors)
        assert result.ended_by == "hotline", output
        helped = (
            (result.dialled and advisors == ANSWER) or _callbacks(app) or _recordings(app) or _info_texts(app)
        )
        assert helped, output


def test_whisper_tells_a_new_relative_from_a_returning_one(rostered: Flask) -> None:
    _, _, first = dial_in(rostered, ["1", "2"], advisors=ANSWER)
    assert "fra en ny pårørende" in first
    _, _, second = dial_in(rostered, ["2"], advisors=ANSWER)
    assert "der har ringet før" in second


@pytest.mark.parametrize(
    ("key", "topic"), [("1", "offers"), ("2", "handbook"), ("3", "network"), ("4", "mentor")]
)
def test_information_by_sms_is_queued_once_in_the_callers_language(
    rostered: Flask, key: str, topic: str
) -> None:
    from hotline.db.models import OutboxText

    _, result, output = dial_in(rostered, ["2", "4", key, ""], advisors=ANSWER)
    assert result.ended_by == "hotline"
    assert "Goodbye" in output
    with rostered.extensions["hotline"].sessions() as session:
        (text,) = session.scalars(select(OutboxText)).all()
    assert (text.purpose, text.to_number, text.language) == (f"info_{topic}", RELATIVE, "en")
    assert text.body is not None and "Pårørendelinjen" in text.body


def test_actions_take_the_caller_from_the_adapter_not_the_request(app: Flask) -> None:
    """The flow's actions get the caller's number as a parameter: they run outside any request (as a console or
    job could run them) and text the number they are given, or the confirmed keyed-in one."""
    runtime = app.extensions["hotline"]
    caller = Caller("CA" + "f" * 32, RELATIVE)
    info = Action("sms_info", {"topic": "offers", "language": "da"}, CallState(language="da"))
    keyed = Action("sms_info", {"topic": "handbook", "number": "67000003"}, CallState(language="da"))
    with runtime.sessions.begin() as session:
        assert carry_out(session, runtime, caller, info) == "sent"
        assert carry_out(session, runtime, caller, keyed) == "sent"
        assert carry_out(session, runtime, Caller("CA" + "0" * 32, None), info) == "failed"  # withheld
    with runtime.sessions() as session:
        texts = session.execute(
            select(OutboxText.to_number, OutboxText.purpose).order_by(OutboxText.id)
        ).all()
    assert [tuple(row) for row in texts] == [(RELATIVE, "info_offers"), ("+4567000003", "info_handbook")]


@pytest.mark.parametrize("number", ["+4590123456", "+4930123456"], ids=["premium-rate", "foreign"])
def test_a_caller_the_guard_refuses_is_promised_nothing_and_stored_nowhere(app: Flask, number: str) -> None:
    """A caller ID (or keyed-in number) the toll-fraud guard refuses gets neither a callback nor a text, and no
    relative row is written for it: the flow hears "failed" and says so."""
    runtime = app.extensions["hotline"]
    caller = Caller("CA" + "e" * 32, number)
    state = CallState(language="da")
    callback = Action("callback", {"window": "asap", "reason": "question"}, state)
    info = Action("sms_info", {"topic": "offers"}, state)
    with runtime.sessions.begin() as session:
        assert carry_out(session, runtime, caller, callback) == "failed"
        assert carry_out(session, runtime, caller, info) == "failed"
    with runtime.sessions() as session:
        for model in (Relative, CallbackRequest, OutboxText):
            assert session.scalars(select(model)).all() == []
