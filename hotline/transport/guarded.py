"""Every outbound call and text passes the toll-fraud guard; a refusal is logged and raised, never dropped."""

from __future__ import annotations

import logging
from datetime import datetime

from hotline.transport.base import PlacedCall, RecordingAudio, SentMessage, Transport, TransportError
from routing.guard import DestinationPolicy, check_destination

log = logging.getLogger(__name__)


class GuardedTransport:
    """Wraps a transport; refuses destinations the guard does not allow (reason code as the error code)."""

    def __init__(self, inner: Transport, policy: DestinationPolicy) -> None:
        self.inner = inner
        self.policy = policy
        self.name = inner.name

    def _allowed(self, to: str, what: str) -> str:
        decision = check_destination(to, self.policy)
        if not decision.allowed or decision.number is None:
            log.warning(
                "outbound %s refused by the toll-fraud guard",
                what,
                extra={"to": decision.masked, "reason": decision.reason_code.value},
            )
            raise TransportError(
                decision.explanation, permanent=True, code=f"guard:{decision.reason_code.value}"
            )
        return decision.number

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        return self.inner.send_sms(
            to=self._allowed(to, "sms"), from_=from_, body=body, status_callback=status_callback
        )

    def find_sent(self, *, to: str, from_: str, body: str, since: datetime) -> SentMessage | None:
        return self.inner.find_sent(to=to, from_=from_, body=body, since=since)

    def place_call(
        self, *, to: str, from_: str, url: str, status_callback: str | None, timeout_seconds: int = 20
    ) -> PlacedCall:
        return self.inner.place_call(
            to=self._allowed(to, "call"),
            from_=from_,
            url=url,
            status_callback=status_callback,
            timeout_seconds=timeout_seconds,
        )

    def erase(self, *, kind: str, sid: str) -> str:
        return self.inner.erase(kind=kind, sid=sid)

    def fetch_recording(self, *, sid: str) -> RecordingAudio:
        return self.inner.fetch_recording(sid=sid)  # nothing is dialled: the guard has nothing to check
