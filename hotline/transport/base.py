"""The protocol every outbound channel implements: place a call, send a text, erase what the network keeps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class TransportError(Exception):
    """Sending failed. `message` is safe to show staff; `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str


@dataclass(frozen=True)
class PlacedCall:
    sid: str
    status: str


@dataclass(frozen=True)
class RecordingAudio:
    """A voicemail's sound as the network hands it over: its media type and its bytes, in pieces as they come
    (`chunks` must be read to the end or closed: it holds the connection)."""

    content_type: str
    chunks: Iterator[bytes]
    length: int | None = None


# The most a voicemail recording may weigh when it is fetched for staff (Twilio's limit is 3 hours of audio).
MAX_RECORDING_BYTES = 50 * 1024 * 1024


# What the network keeps for us that holds personal data: a voicemail recording (deleted), a text's body
# (redacted; the record stays), a text's record with its numbers (deleted), a call (its log deleted).
ERASABLE_KINDS = ("recording", "message", "message_record", "call")


class Transport(Protocol):
    """Outbound calls and texts. Callers pass numbers the toll-fraud guard has already allowed."""

    name: str

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        """Hand a text to the network; raise TransportError on failure."""
        ...

    def find_sent(self, *, to: str, from_: str, body: str, since: datetime) -> SentMessage | None:
        """The text with this `body` from `from_` to `to` that the network took at or after `since`, if any:
        asked after a send whose answer never came (a timeout), before sending it again. Raise TransportError
        when the network cannot say."""
        ...

    def place_call(
        self, *, to: str, from_: str, url: str, status_callback: str | None, timeout_seconds: int = 20
    ) -> PlacedCall:
        """Start a call whose TwiML is fetched from `url`; raise TransportError on failure."""
        ...

    def erase(self, *, kind: str, sid: str) -> str:
        """Erase the network's copy of `kind` (one of ERASABLE_KINDS) `sid`: "erased", or "gone" when it held
        nothing any more (or, in the demo, "demo"); raise TransportError on failure."""
        ...

    def fetch_recording(self, *, sid: str) -> RecordingAudio:
        """The sound of the voicemail `sid`, fetched with the account's credentials (never a URL for a browser);
        raise TransportError when the network cannot give it (permanent: it is not there, or never was)."""
        ...
