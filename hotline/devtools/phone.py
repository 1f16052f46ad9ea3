"""A phone in the terminal: call a running hotline over HTTP exactly as Twilio would, and follow its TwiML.

`Phone` posts Twilio's form parameters (a new CallSid, From, To, CallStatus ...) signed with X-Twilio-Signature,
prints what the caller hears, takes keys from a `Keypad` at each `<Gather>`, and follows `<Redirect>`, `<Record>`
and `<Dial>` — playing the advisor's side of a `<Dial>` from an advisor script (answer and press 1, let it ring,
decline, or a voicemail box that presses nothing). The HTTP client, the keypad and the speaker are passed in, so
tests drive the phone with Flask's test client and a key script, and `hotline call` (hotline/cli/phone.py) with urllib,
the keyboard and espeak-ng.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from twilio.request_validator import RequestValidator

from hotline.devtools.keypad import Keypad, ScriptedKeypad, _AdvisorKeypad
from routing.wording.catalogue import aside, both, da

API_VERSION = "2010-04-01"
DEMO_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_CALLER = "+4567123456"  # the Danish reserve series: never a real subscriber
WITHHELD = "anonymous"
ADVISOR_BEHAVIOURS = ("answer", "ring", "decline", "voicemail")
KEYS = frozenset("0123456789*#")
SPEECH_CHARS_PER_SECOND = 14  # for the simulated CallDuration: roughly how fast a voice reads


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: str


# (absolute URL, form parameters, headers) -> the answer; the phone signs, the poster only carries.
Poster = Callable[[str, Mapping[str, str], Mapping[str, str]], HttpAnswer]
Speaker = Callable[[str, str | None], None]


class PhoneError(Exception):
    """The call cannot go on: the hotline answered with an error (`status`), or with something not TwiML."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CallSetup:
    """Who calls which hotline, signed with which secret, and how the advisors behave."""

    base_url: str
    hotline_number: str
    caller: str
    secret: str
    account_sid: str = DEMO_ACCOUNT_SID
    advisors: tuple[str, ...] = ("answer",)  # one per `<Dial>`; the last repeats
    max_requests: int = 60


@dataclass
class CallResult:
    ended_by: str  # "hotline" (Hangup or end of TwiML), "caller" (hung up) or "limit" (too many requests)
    requests: int
    heard: list[str] = field(default_factory=list)
    dialled: list[str] = field(default_factory=list)


@dataclass
class _Leg:
    params: dict[str, str]
    keypad: Keypad
    prefix: str
    caller: bool


_HANGUP = "hangup"
_END = "end"
_Next = tuple[str, dict[str, str]]  # the next document to fetch: URL and extra parameters


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def voice_url(base_url: str) -> str:
    """The incoming-call webhook of the hotline at `base_url` (which may already end in /twilio/voice)."""
    base = base_url.rstrip("/")
    return base if base.endswith("/twilio/voice") else base + "/twilio/voice"


class _TooManyRequests(Exception):
    pass


class _CallerHungUp(Exception):
    pass


class Phone:
    """One call to the hotline, start to hang-up."""

    def __init__(
        self,
        post: Poster,
        keypad: Keypad,
        setup: CallSetup,
        out: Callable[[str], None] = print,
        speaker: Speaker | None = None,
        verbose: bool = False,
    ) -> None:
        self._post_raw = post
        self.keypad = keypad
        self.setup = setup
        self.out = out
        self.speaker = speaker
        self.verbose = verbose
        self.validator = RequestValidator(setup.secret)
        self.call_sid = new_sid("CA")
        self.result = CallResult(ended_by="hotline", requests=0)
        self._documents = 0
        self._seconds = 0.0
        self._advisor_step = 0

    # --- HTTP ------------------------------------------------------------------------------------------------

    def post(self, url: str, params: Mapping[str, str]) -> HttpAnswer:
        """POST `params` to `url` signed as Twilio signs; an answer other than 2xx raises PhoneError."""
        form = dict(params)
        signature = self.validator.compute_signature(url, form)
        headers = {"X-Twilio-Signature": str(signature), "User-Agent": "TwilioProxy/1.1 (hotline call)"}
        answer = self._post_raw(url, form, headers)
        self.result.requests += 1
        if self.verbose:
            self.out(f"     POST {_short(url)} → {answer.status}")
        if not 200 <= answer.status < 300:
            failed = both("phone.http_error", status=answer.status, url=url)
            raise PhoneError(f"{failed}:\n{answer.body.strip()[:2000]}", answer.status)
        return answer

    def _document(self, url: str, params: Mapping[str, str]) -> ET.Element:
        self._documents += 1
        if self._documents > self.setup.max_requests:
            raise _TooManyRequests
        body = self.post(url, params).body
        try:
            root = ET.fromstring(body)
        except ET.ParseError as error:
            not_twiml = both("phone.not_twiml", url=url)
            raise PhoneError(f"{not_twiml}: {error}\n{body.strip()[:2000]}") from error
        if root.tag != "Response":
            raise PhoneError(both("phone.not_response", tag=root.tag, url=url))
        return root

    # --- the call ----------------------------------------------------------------------------------------------

    def call(self) -> CallResult:
        """Dial the hotline and follow it until someone hangs up; then post the call's status callback."""
        setup = self.setup
        url = voice_url(setup.base_url)
        calling, from_ = both("phone.calling"), both("label.from")
        self.out(f"☎  {calling} {setup.hotline_number} {from_} {setup.caller} → {url}")
        if self.verbose:
            self.out(f"     CallSid {self.call_sid}")
        params = {
            "CallSid": self.call_sid,
            "AccountSid": setup.account_sid,
            "From": setup.caller,
            "To": setup.hotline_number,
            "Caller": setup.caller,
            "Called": setup.hotline_number,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": API_VERSION,
        }
        leg = _Leg(params, self.keypad, "", caller=True)
        try:
            self._run_leg(leg, url, {})
        except _CallerHungUp:
            self.out(aside("phone.you_hung_up"))
            self.result.ended_by = "caller"
        except _TooManyRequests:
            self.out(aside("phone.stopped", num=setup.max_requests))
            self.result.ended_by = "limit"
        status = {**params, "CallStatus": "completed", "CallDuration": str(max(1, round(self._seconds)))}
        self.post(urljoin(url, "/twilio/voice/status"), status)
        self.out(aside("phone.hung_up"))
        return self.result

    def _run_leg(self, leg: _Leg, url: str, extra: Mapping[str, str]) -> str:
        """Fetch and follow documents on one leg; returns _HANGUP or _END (the TwiML ran out)."""
        root = self._document(url, {**leg.params, **extra})
        leg.params["CallStatus"] = "in-progress"
        while True:
            step = self._verbs(leg, url, root)
            if isinstance(step, str):
                return step
            url, extra = step
            root = self._document(url, {**leg.params, **extra})

    def _verbs(self, leg: _Leg, url: str, root: ET.Element) -> _Next | str:
        for verb in root:
            tag = verb.tag
            if tag in ("Say", "Play", "Pause"):
                self._hear(leg, verb)
            elif tag == "Gather":
                gathered = self._gather(leg, url, verb)
                if gathered is not None:
                    return gathered
            elif tag == "Record":
                return self._record(leg, url, verb)
            elif tag == "Redirect":
                target = urljoin(url, (verb.text or "").strip() or url)
                self.out(f"{leg.prefix}  ↪  {both('phone.redirect')} {_short(target)}")
                return target, {}
            elif tag == "Dial":
                dialled = self._dial(leg, url, verb)
                if dialled is not None:
                    return dialled
            elif tag in ("Hangup", "Reject"):
                return _HANGUP
            else:
                self.out(f"{leg.prefix}  ?  <{tag}> {both('phone.unsupported')}")
        return _END

    def _hear(self, leg: _Leg, verb: ET.Element) -> None:
        if verb.tag == "Pause":
            seconds = verb.get("length", "1")
            self._seconds += int(seconds) if seconds.isdigit() else 1
            self.out(f"{leg.prefix}  …  {da('phone.pause', seconds=seconds)}")
            return
        text = " ".join((verb.text or "").split())
        if verb.tag == "Play":
            self.out(f"{leg.prefix}  ♪  {both('phone.plays')} {text}")
            self._seconds += 5
            return
        language = verb.get("language")
        self._seconds += len(text) / SPEECH_CHARS_PER_SECOND
        self.out(f"{leg.prefix}  »  [{language or '?'}] {text}")
        if leg.caller:
            self.result.heard.append(text)
        if self.speaker is not None:
            self.speaker(text, language)

    def _gather(self, leg: _Leg, url: str, gather: ET.Element) -> _Next | None:
        heard: set[str] = set()
        for nested in gather:
            if nested.tag not in ("Say", "Play", "Pause"):
                continue
            text = " ".join((nested.text or "").split())
            if nested.tag != "Pause" and text in heard:
                continue  # a menu read twice: printed once (a key can be pressed while it is read)
            heard.add(text)
            self._hear(leg, nested)
        keys = leg.keypad.press(gather)
        if keys is None:
            raise _CallerHungUp
        finish = gather.get("finishOnKey", "#")
        if finish and finish in keys:
            keys = keys[: keys.index(finish)]
        limit = gather.get("numDigits", "")
        if limit.isdigit():
            keys = keys[: int(limit)]
        if not leg.caller:
            pressed = keys or f"– {both('phone.nothing')}"
            self.out(f"{leg.prefix}  #  {both('phone.advisor_presses')} {pressed}")
        elif leg.keypad.echoes:
            self.out(f"  #  {both('phone.keys')}: {keys or '– ' + both('phone.silence')}")
        timeout = gather.get("timeout", "5")
        self._seconds += len(keys) if keys else (int(timeout) if timeout.isdigit() else 5)
        if keys or gather.get("actionOnEmptyResult") == "true":
            return urljoin(url, gather.get("action") or url), {"Digits": keys}
        return None  # no key and no actionOnEmptyResult: Twilio goes on with the next verb

    def _record(self, leg: _Leg, url: str, record: ET.Element) -> _Next | str:
        max_length = record.get("maxLength", "3600")
        self.out(f"{leg.prefix}  ●  {aside('phone.recording')}, {both('phone.at_most')} {max_length} s")
        seconds = leg.keypad.record(int(max_length) if max_length.isdigit() else 3600)
        hung_up = seconds is None
        seconds = 5 if seconds is None else seconds
        self._seconds += seconds
        sid = new_sid("RE")
        recording = {
            "RecordingSid": sid,
            "RecordingUrl": f"https://api.twilio.com/{API_VERSION}/Accounts/{self.setup.account_sid}"
            f"/Recordings/{sid}",
            "RecordingDuration": str(seconds),
        }
        self.out(f"{leg.prefix}     {both('phone.recorded')}: {seconds} s")
        status_callback = record.get("recordingStatusCallback")
        if status_callback:
            self.post(
                urljoin(url, status_callback),
                {**leg.params, **recording, "RecordingStatus": "completed", "RecordingChannels": "1"},
            )
        target = urljoin(url, record.get("action") or url)
        if hung_up:  # Twilio still posts the recording when the caller hangs up; the answer is not played
            self.post(target, {**leg.params, **recording, "Digits": "hangup", "CallStatus": "completed"})
            raise _CallerHungUp
        finished = {"Digits": "#"} if "#" in record.get("finishOnKey", "1234567890*#") else {}
        return target, {**recording, **finished}

    # --- <Dial>: the advisor's side ----------------------------------------------------------------------------

    def _next_advisor(self) -> str:
        advisors = self.setup.advisors or ("answer",)
        behaviour = advisors[min(self._advisor_step, len(advisors) - 1)]
        self._advisor_step += 1
        return behaviour

    def _dial(self, leg: _Leg, url: str, dial: ET.Element) -> _Next | None:
        numbers = [n for n in dial if n.tag == "Number"]
        plain = " ".join((dial.text or "").split())
        target = numbers[0] if numbers else None
        number = " ".join(((target.text if target is not None else plain) or "").split())
        timeout = dial.get("timeout", "30")
        if number:
            self.result.dialled.append(number)
        others = [n.tag for n in dial if n.tag != "Number"]
        dialled = number or ", ".join(others) or "?"
        self.out(f"{leg.prefix}  ☎  {both('phone.dialling')} {dialled} – {timeout} s")
        behaviour = self._next_advisor() if target is not None and target.get("url") else "plain"
        child = new_sid("CA")
        child_params = {
            "CallSid": child,
            "ParentCallSid": leg.params["CallSid"],
            "AccountSid": self.setup.account_sid,
            "From": dial.get("callerId") or self.setup.hotline_number,
            "To": number,
            "CallStatus": "in-progress",
            "Direction": "outbound-dial",
            "ApiVersion": API_VERSION,
        }
        talked = 0
        caller_hung_up = False
        if behaviour in ("answer", "voicemail"):
            assert target is not None
            self._leg_status(url, target, "answered", child_params, "in-progress", 0)
            advisor = _Leg(
                dict(child_params),
                _AdvisorKeypad("1" if behaviour == "answer" else ""),
                "     ",
                caller=False,
            )
            self.out(f"     {both('phone.advisor_answers')}:")
            whisper_url = urljoin(url, target.get("url", ""))
            bridged = self._run_leg(advisor, whisper_url, {}) == _END
            if bridged:
                self.out(f"  ✓  {both('phone.connected_advisor')}")
                talk = self.keypad.talk()
                caller_hung_up = talk is None
                talked = 60 if talk is None else talk
                self.out(f"     {both('phone.talk_ends')} {da('time.after_seconds', seconds=talked)}")
            else:
                self.out(f"  ✗  {both('phone.advisor_missed')}")
                talked = 10
            status = "completed"
        elif behaviour == "ring":
            self.out(f"  …  {both('phone.no_answer')} {da('time.after_seconds', seconds=timeout)}")
            status = "no-answer"
            self._seconds += int(timeout) if timeout.isdigit() else 30
        elif behaviour == "decline":
            self.out(f"  ✗  {both('phone.busy')}: {both('phone.declined')}")
            status = "busy"
        else:  # a number without a whisper URL: answered, talked, done
            self.out(f"  ✓  {both('phone.connected')}")
            status, talked = "completed", 60
        self._seconds += talked
        if target is not None:
            self._leg_status(url, target, "completed", child_params, status, talked)
        result = {"DialCallStatus": status, "DialCallSid": child, "DialCallDuration": str(talked)}
        action = dial.get("action")
        if caller_hung_up:
            if action:  # Twilio reports the Dial's end even after the caller hung up; nobody hears the answer
                self.post(urljoin(url, action), {**leg.params, **result, "CallStatus": "completed"})
            raise _CallerHungUp
        if action:
            return urljoin(url, action), result
        return None  # no action: Twilio goes on with the next verb

    def _leg_status(
        self, url: str, number: ET.Element, event: str, params: Mapping[str, str], status: str, seconds: int
    ) -> None:
        """The advisor leg's statusCallback, for the events the `<Number>` asked for (default: completed)."""
        callback = number.get("statusCallback")
        events = (number.get("statusCallbackEvent") or "completed").split()
        if not callback or event not in events:
            return
        extra = {"CallStatus": status}
        if event == "completed":
            extra["CallDuration"] = str(seconds)
        self.post(urljoin(url, callback), {**params, **extra})


def _short(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


__all__ = [
    "CallResult",
    "CallSetup",
    "HttpAnswer",
    "Keypad",
    "Phone",
    "PhoneError",
    "Poster",
    "ScriptedKeypad",
]
