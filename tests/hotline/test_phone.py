"""`hotline call`, the phone in the terminal: it walks the real app with Twilio-signed requests, handles any
TwiML it is given, and (slow) calls a real `hotline serve` process to a registered callback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, select
from twilio.request_validator import RequestValidator

from hotline.cli import phone as cli_phone
from hotline.cli.phone import TerminalKeypad
from hotline.db.models import Call, CallbackRequest, Recording
from hotline.devtools.phone import (
    WITHHELD,
    CallResult,
    CallSetup,
    HttpAnswer,
    Phone,
    PhoneError,
    ScriptedKeypad,
)
from tests.helpers import HOTLINE, NUMBERS, RELATIVE, REPO, HotlineRunner, dial_in, flask_poster

# Keys that work before and after the IVR menus: Danish at a language menu, then "a question" at the main menu.
QUESTION_KEYS = ["1", "2"]
# The promise names the time ("vi ringer dig op i dag mellem 15 og 19"), or the asap window ("så hurtigt vi kan").
CALLBACK_PROMISE = re.compile(r"ringer dig op\b.*(\b\d{1,2}(\.\d{2})?\b|så hurtigt)", re.IGNORECASE)


def _callbacks(app: Flask) -> list[CallbackRequest]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(CallbackRequest)))


def _call_status(app: Flask, call_sid: str) -> str | None:
    with app.extensions["hotline"].sessions() as session:
        call = session.scalars(select(Call).where(Call.call_sid == call_sid)).one_or_none()
        return call.status if call else None


# --- through the real app -----------------------------------------------------------------------------------


def test_advisor_answers_and_the_call_ends_connected(rostered: Flask) -> None:
    phone, result, output = dial_in(rostered, QUESTION_KEYS, advisors=("answer",))
    assert result.dialled == [NUMBERS["anna"]]
    assert "Tryk 1 for at tage opkaldet" in output  # the whisper, heard on the advisor's leg
    assert "forbundet med rådgiveren (connected to the advisor)" in output
    assert output.endswith("(lagt på / hung up)") and result.ended_by == "hotline"
    assert _callbacks(rostered) == []
    # The closing status callback arrived signed and was applied to the call.
    assert _call_status(rostered, phone.call_sid) == "completed"


@pytest.mark.parametrize(
    ("advisor", "printed"),
    [("ring", "intet svar (no answer)"), ("decline", "optaget (busy)")],
)
def test_nobody_takes_it_the_whole_chain_is_tried_then_a_callback(
    rostered: Flask, advisor: str, printed: str
) -> None:
    _, result, output = dial_in(rostered, QUESTION_KEYS, advisors=(advisor,))
    assert result.dialled == [NUMBERS["anna"], NUMBERS["dalia"], NUMBERS["bo"]]
    assert output.count(printed) == 3
    (callback,) = _callbacks(rostered)
    assert (callback.phone_number, callback.state) == (RELATIVE, "scheduled")
    assert CALLBACK_PROMISE.search(result.heard[-1]), result.heard[-1]
    assert result.ended_by == "hotline"


def test_a_voicemail_box_that_presses_nothing_does_not_take_the_call(rostered: Flask) -> None:
    _, result, output = dial_in(rostered, QUESTION_KEYS, advisors=("voicemail", "answer"))
    assert result.dialled == [NUMBERS["anna"], NUMBERS["dalia"]]
    assert "rådgiveren tog ikke opkaldet" in output and "forbundet med rådgiveren" in output
    assert _callbacks(rostered) == []


def test_withheld_caller_nobody_free_leaves_a_recorded_message(rostered: Flask) -> None:
    phone, result, output = dial_in(rostered, QUESTION_KEYS, advisors=("ring",), caller=WITHHELD)
    assert "(optager besked / recording)" in output
    assert result.ended_by == "hotline"
    with rostered.extensions["hotline"].sessions() as session:
        (recording,) = session.scalars(select(Recording))
    assert recording.call_sid == phone.call_sid and recording.duration_seconds == 12
    assert (recording.recording_url or "").startswith("https://")


def test_the_app_refuses_a_phone_with_the_wrong_secret(rostered: Flask) -> None:
    with pytest.raises(PhoneError, match="HTTP 403"):
        dial_in(rostered, QUESTION_KEYS, secret="not-the-secret")


# --- any TwiML, at the network edge -------------------------------------------------------------------------

SECRET = "s3cret"
BASE = "http://hotline.test:8000"


class FakeHotline:
    """Canned TwiML by path; checks every request's signature exactly as the app does."""

    def __init__(self, pages: Mapping[str, str]) -> None:
        self.pages = dict(pages)
        self.requests: list[tuple[str, dict[str, str]]] = []

    def __call__(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> HttpAnswer:
        assert RequestValidator(SECRET).validate(url, dict(params), headers["X-Twilio-Signature"]), url
        path = url.removeprefix(BASE)
        self.requests.append((path, dict(params)))
        if path in ("/twilio/voice/status", "/leg"):  # status callbacks: no TwiML
            return HttpAnswer(204, "")
        body = self.pages.get(path)
        return HttpAnswer(404, "no such page") if body is None else HttpAnswer(200, body)

    def posted(self, path: str) -> list[dict[str, str]]:
        return [params for p, params in self.requests if p == path]


def fake_call(
    pages: Mapping[str, str], keys: list[str], **setup: object
) -> tuple[FakeHotline, CallResult, str]:
    hotline = FakeHotline(pages)
    lines: list[str] = []
    options = {"base_url": BASE, "hotline_number": HOTLINE, "caller": RELATIVE, "secret": SECRET, **setup}
    phone = Phone(hotline, ScriptedKeypad(keys), CallSetup(**options), out=lines.append)  # type: ignore[arg-type]
    return hotline, phone.call(), "\n".join(lines)


def twiml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


DONE = twiml("<Say>Farvel.</Say><Hangup/>")


@pytest.mark.parametrize(
    ("gather", "keys", "posted", "heard"),
    [
        ('<Gather action="/menu?x=1" numDigits="1">', ["2"], ["2"], "Farvel."),
        ('<Gather action="/menu?x=1" numDigits="1">', ["23"], ["2"], "Farvel."),
        ('<Gather action="/menu?x=1">', ["12#3"], ["12"], "Farvel."),
        ('<Gather action="/menu?x=1" finishOnKey="">', ["12#"], ["12#"], "Farvel."),
        ('<Gather action="/menu?x=1">', [""], [], "Ingen tast."),
        ('<Gather action="/menu?x=1" actionOnEmptyResult="true">', [""], [""], "Farvel."),
        ('<Gather action="/menu?x=1" actionOnEmptyResult="true">', [], [""], "Farvel."),
    ],
    ids=[
        "key",
        "too-many",
        "finish-key",
        "no-finish-key",
        "silence-falls-through",
        "silence-posted",
        "script-out",
    ],
)
def test_gather_keys_and_silence(gather: str, keys: list[str], posted: list[str], heard: str) -> None:
    pages = {
        "/twilio/voice": twiml(f"{gather}<Say>Tryk 2.</Say></Gather><Say>Ingen tast.</Say><Hangup/>"),
        "/menu?x=1": DONE,
    }
    hotline, result, _ = fake_call(pages, keys)
    assert [p["Digits"] for p in hotline.posted("/menu?x=1")] == posted
    assert result.heard[-1] == heard


def test_first_request_rings_then_in_progress_and_the_status_callback_ends_it() -> None:
    hotline, _, output = fake_call(
        {"/twilio/voice": twiml('<Redirect method="POST">/next</Redirect>'), "/next": DONE}, []
    )
    first, second, status = (params for _, params in hotline.requests)
    assert first["CallSid"] == second["CallSid"] == status["CallSid"]
    assert re.fullmatch(r"CA[0-9a-f]{32}", first["CallSid"])
    assert (first["CallStatus"], second["CallStatus"], status["CallStatus"]) == (
        "ringing",
        "in-progress",
        "completed",
    )
    assert first["Direction"] == "inbound" and first["From"] == RELATIVE and first["To"] == HOTLINE
    assert status["CallDuration"] == "1"  # "Farvel." takes half a second to say; Twilio reports at least 1 s
    assert output.endswith("(lagt på / hung up)")


def test_record_posts_a_recording_to_its_action() -> None:
    pages = {
        "/twilio/voice": twiml(
            '<Say>Efter tonen.</Say><Record action="/saved" maxLength="180"/><Say>Intet.</Say>'
        ),
        "/saved": DONE,
    }
    hotline, _, output = fake_call(pages, [])
    (saved,) = hotline.posted("/saved")
    assert re.fullmatch(r"RE[0-9a-f]{32}", saved["RecordingSid"]) and saved["RecordingDuration"] == "12"
    assert saved["RecordingUrl"].startswith("https://") and saved["RecordingUrl"].endswith(
        saved["RecordingSid"]
    )
    assert "(optager besked / recording)" in output


WHISPER = twiml('<Gather action="/accept" numDigits="1"><Say>Tryk 1.</Say></Gather><Hangup/>')
DIAL = twiml(
    '<Dial action="/after" callerId="+4568000000" timeout="20"><Number url="/whisper" statusCallback="/leg" '
    'statusCallbackEvent="answered completed">+4568200001</Number></Dial>'
)


@pytest.mark.parametrize(
    ("advisor", "accepted", "leg_statuses", "dial_status"),
    [
        ("answer", ["1"], ["in-progress", "completed"], "completed"),
        ("voicemail", [], ["in-progress", "completed"], "completed"),
        ("ring", [], ["no-answer"], "no-answer"),
        ("decline", [], ["busy"], "busy"),
    ],
)
def test_dial_plays_the_advisors_side(
    advisor: str, accepted: list[str], leg_statuses: list[str], dial_status: str
) -> None:
    pages = {"/twilio/voice": DIAL, "/whisper": WHISPER, "/accept": twiml(""), "/after": DONE}
    hotline, result, _ = fake_call(pages, [], advisors=(advisor,))
    assert [p["Digits"] for p in hotline.posted("/accept")] == accepted
    assert [p["CallStatus"] for p in hotline.posted("/leg")] == leg_statuses
    (after,) = hotline.posted("/after")
    assert after["DialCallStatus"] == dial_status and after["DialCallSid"].startswith("CA")
    caller_sid = hotline.requests[0][1]["CallSid"]
    for whisper in hotline.posted("/whisper"):
        assert whisper["ParentCallSid"] == caller_sid and whisper["CallSid"] != caller_sid
        assert whisper["From"] == "+4568000000" and whisper["To"] == "+4568200001"
    assert result.dialled == ["+4568200001"]


def test_a_plain_dial_without_action_is_answered_and_the_document_goes_on() -> None:
    pages = {"/twilio/voice": twiml("<Dial>+4568200001</Dial><Say>Efter samtalen.</Say>")}
    _, result, output = fake_call(pages, [], advisors=("ring",))
    assert result.heard == ["Efter samtalen."] and "forbundet (connected)" in output


def test_a_redirect_loop_stops_after_the_request_limit() -> None:
    _, result, output = fake_call(
        {"/twilio/voice": twiml("<Redirect>/twilio/voice</Redirect>")}, [], max_requests=5
    )
    assert result.ended_by == "limit" and "stopped after 5 requests" in output


@pytest.mark.parametrize(
    ("page", "message"),
    [(None, "HTTP 404"), ("<html>oops</html>", "<Response>"), ("not xml", "not TwiML")],
)
def test_an_answer_that_is_not_twiml_stops_the_call(page: str | None, message: str) -> None:
    pages = {"/twilio/voice": twiml("<Redirect>/broken</Redirect>")}
    if page is not None:
        pages["/broken"] = page
    with pytest.raises(PhoneError, match=message):
        fake_call(pages, [])


def test_hanging_up_at_the_keyboard_still_posts_the_status() -> None:
    def eof(prompt: str) -> str:
        raise EOFError

    hotline = FakeHotline({"/twilio/voice": twiml('<Gather action="/menu"><Say>Tryk.</Say></Gather>')})
    lines: list[str] = []
    setup = CallSetup(base_url=BASE, hotline_number=HOTLINE, caller=RELATIVE, secret=SECRET)
    result = Phone(hotline, TerminalKeypad(read=eof), setup, out=lines.append).call()
    assert result.ended_by == "caller" and "(du lagde på / you hung up)" in lines
    assert hotline.posted("/twilio/voice/status")[0]["CallStatus"] == "completed"


def test_typed_keys_are_read_from_the_keyboard() -> None:
    typed = iter(["x", "3"])  # a letter is refused and asked again
    hotline = FakeHotline({"/twilio/voice": twiml('<Gather action="/menu" numDigits="1"/>'), "/menu": DONE})
    setup = CallSetup(base_url=BASE, hotline_number=HOTLINE, caller=RELATIVE, secret=SECRET)
    Phone(hotline, TerminalKeypad(read=lambda prompt: next(typed)), setup, out=lambda line: None).call()
    assert hotline.posted("/menu")[0]["Digits"] == "3"


# --- the command --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--keys", "2,a"], "keys are 0-9, * and #"),
        (["--advisor", "ring,maybe"], "choose from answer, ring, decline, voicemail"),
        (["--from", "not a number", "--keys", "2"], "is not a phone number"),
        (["--keys", "2"], "instance/demo_signing_secret does not exist"),
    ],
    ids=["bad-key", "bad-advisor", "bad-from", "no-secret"],
)
def test_call_command_explains_bad_input(runner: HotlineRunner, args: list[str], message: str) -> None:
    result = runner.invoke(["call", *args])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("args", "exit_code", "printed"),
    [
        (["--keys", "1,2", "--advisor", "ring"], 0, "(lagt på / hung up)"),
        (["--keys", "1,2", "--secret", "wrong"], 1, "403 means the signature was refused"),
        (["--keys", "", "--max-requests", "2"], 1, "stopped after 2 requests"),
    ],
    ids=["callback", "wrong-secret", "request-limit"],
)
def test_call_command_exit_codes(
    runner: HotlineRunner,
    rostered: Flask,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    exit_code: int,
    printed: str,
) -> None:
    monkeypatch.setattr(cli_phone, "http_poster", lambda: flask_poster(rostered.test_client()))
    secret = rostered.extensions["hotline"].signing_secret
    result = runner.invoke(["call", "--url", "http://localhost", "--secret", secret, *args])
    assert result.exit_code == exit_code, result.output
    assert printed in result.output


# --- a real server process ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`hotline serve` in demo mode in `tmp_path` (its instance/ gets the demo secret and roster)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env["HOTLINE_CONFIG"] = str(REPO / "config.yaml")
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the demo server did not become ready within 30 s"
                time.sleep(0.2)
        yield url, env
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


@pytest.mark.slow
def test_calling_the_running_demo_with_no_answer_ends_in_a_registered_callback(
    demo_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = demo_server
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotline",
            "call",
            "--url",
            url,
            "--keys",
            ",".join(QUESTION_KEYS),
            "--advisor",
            "ring",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ringer til (dialling) +4568" in done.stdout  # the demo advisors were rung
    assert "ringer dig op" in done.stdout.lower()  # the caller hears the callback promise
    assert done.stdout.rstrip().endswith("(lagt på / hung up)")
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'hotline.db'}")
    try:
        with engine.connect() as conn:
            phones = conn.execute(select(CallbackRequest.phone_number)).scalars().all()
    finally:
        engine.dispose()
    assert phones == ["+4567123456"]
