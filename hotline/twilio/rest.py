"""The Twilio adapter: the real twilio REST Client, optionally pointed at a Twilio-compatible base URL.

Only this module knows twilio's exceptions; it raises TransportError with a message safe to show staff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from hotline.transport.base import (
    ERASABLE_KINDS,
    MAX_RECORDING_BYTES,
    PlacedCall,
    RecordingAudio,
    SentMessage,
    TransportError,
)
from routing.numbers import mask_number
from routing.wording.catalogue import both, ref

log = logging.getLogger(__name__)

# Twilio error codes after which retrying the same request cannot succeed.
# 21211 invalid 'To', 21214 'To' cannot be reached, 21408 region not enabled, 21610 recipient unsubscribed (STOP),
# 21612 cannot route to this number, 21614 not a mobile number, 30004 blocked, 30005 unknown destination,
# 30006 landline or unreachable carrier, 30007 filtered as spam.
PERMANENT_CODES = frozenset({21211, 21214, 21217, 21408, 21610, 21612, 21614, 30004, 30005, 30006, 30007})


# How many of the newest texts to one number are searched for a text whose send timed out.
RECENT_LOOKUP = 20


class BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no type information
    """Sends every request to `base_url` instead of api.twilio.com (e.g. a local Twilio stand-in)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base = urlsplit(base_url)

    def request(
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method, self.rewrite(url), params, data, headers, auth, timeout, allow_redirects
        )

    def rewrite(self, url: str) -> str:
        """`url` (on api.twilio.com) as it is sent: on the base URL."""
        parts = urlsplit(url)
        return urlunsplit(
            (self._base.scheme, self._base.netloc, self._base.path.rstrip("/") + parts.path, parts.query, "")
        )


class PerThreadHttpClient(HttpClient):  # type: ignore[misc]  # twilio ships no type information
    """One TwilioHttpClient, so one requests.Session with its connections kept alive, per thread: the outbox
    sends a batch from several threads, and neither a requests.Session nor TwilioHttpClient (which keeps the last
    request and response on itself) is safe to share between threads."""

    def __init__(self, make: Callable[[], TwilioHttpClient], timeout: float) -> None:
        super().__init__(logger=log, is_async=False, timeout=timeout)
        self._make = make
        self._local = threading.local()

    def _client(self) -> TwilioHttpClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make()
        return client

    def request(self, *args: Any, **kwargs: Any) -> Response:
        return self._client().request(*args, **kwargs)

    def rewrite(self, url: str) -> str:
        """`url` as this thread's client sends it (on HOTLINE_TWILIO_API_URL when one is set)."""
        client = self._client()
        return client.rewrite(url) if isinstance(client, BaseUrlHttpClient) else url


def make_client(account_sid: str, auth_token: str, api_url: str | None, timeout: float = 10.0) -> Client:
    """A real twilio Client, safe to use from several threads; with `api_url`, its HTTP goes to that base URL."""

    def make() -> TwilioHttpClient:
        return BaseUrlHttpClient(api_url, timeout=timeout) if api_url else TwilioHttpClient(timeout=timeout)

    return Client(account_sid, auth_token, http_client=PerThreadHttpClient(make, timeout))


def _translate(exc: Exception, action: str, shown: str) -> TransportError:
    """`exc` as a TransportError; `action` is `twilio.action.<action>` in the staff catalogue, `shown` names the
    target safely for logs and staff (a masked number, a SID)."""
    what = ref(f"twilio.action.{action}")
    if isinstance(exc, TwilioRestException):
        code = exc.code if isinstance(exc.code, int) else None
        permanent = code in PERMANENT_CODES or (
            400 <= exc.status < 500 and exc.status != 429 and code is not None
        )
        message = both("twilio.refused", action=what, target=shown, code=code, status=exc.status)
        return TransportError(message, permanent=permanent, code=str(code) if code else None)
    if isinstance(exc, requests.Timeout):
        return TransportError(both("twilio.timeout", action=what), permanent=False, code="timeout")
    if isinstance(exc, requests.RequestException):
        return TransportError(both("twilio.unreachable", action=what), permanent=False, code="network")
    return TransportError(both("twilio.failed", action=what, error=type(exc).__name__), permanent=False)


class TwilioTransport:
    """Sends through Twilio's REST API."""

    name = "twilio"

    def __init__(self, client: Client) -> None:
        self._client = client

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        try:
            message = self._client.messages.create(
                to=to,
                from_=from_,
                body=body,
                **({"status_callback": status_callback} if status_callback else {}),
            )
        except (TwilioException, requests.RequestException) as exc:
            error = _translate(exc, "sms", mask_number(to))
            log.warning("sms send failed", extra={"to": mask_number(to), "code": error.code})
            raise error from exc
        return SentMessage(sid=str(message.sid), status=str(message.status))

    def find_sent(self, *, to: str, from_: str, body: str, since: datetime) -> SentMessage | None:
        # Newest first; a text queued seconds ago has no date_sent yet, so match on date_created, not a filter.
        try:
            recent = self._client.messages.list(to=to, from_=from_, limit=RECENT_LOOKUP)
        except (TwilioRestException, requests.RequestException) as exc:
            raise _translate(exc, "lookup", mask_number(to)) from exc
        except TwilioException as exc:  # a page it could not read: twilio raises this, not a REST error
            raise TransportError(
                both("twilio.lookup_failed"),
                permanent=False,
                code="lookup",
            ) from exc
        for message in recent:
            created = message.date_created
            # endswith: a trial account's texts carry Twilio's prefix ("Sent from your Twilio trial account - ").
            same = message.body is not None and (message.body == body or message.body.endswith(f" - {body}"))
            if same and isinstance(created, datetime) and created.astimezone(UTC) >= since:
                return SentMessage(sid=str(message.sid), status=str(message.status))
        return None

    def place_call(
        self, *, to: str, from_: str, url: str, status_callback: str | None, timeout_seconds: int = 20
    ) -> PlacedCall:
        kwargs: dict[str, Any] = {"to": to, "from_": from_, "url": url, "timeout": timeout_seconds}
        if status_callback:
            kwargs.update(status_callback=status_callback, status_callback_event=["answered", "completed"])
        try:
            call = self._client.calls.create(**kwargs)
        except (TwilioException, requests.RequestException) as exc:
            error = _translate(exc, "call", mask_number(to))
            log.warning("call failed", extra={"to": mask_number(to), "code": error.code})
            raise error from exc
        return PlacedCall(sid=str(call.sid), status=str(call.status))

    def erase(self, *, kind: str, sid: str) -> str:
        try:
            if kind == "recording":
                self._client.recordings(sid).delete()
            elif kind == "message":
                # Twilio's redaction: the message stays in the account's log (for billing), without its body.
                self._client.messages(sid).update(body="")
            elif kind == "message_record":
                # Past the numbers' retention the whole record goes: from, to, dates and price.
                self._client.messages(sid).delete()
            elif kind == "call":
                self._client.calls(sid).delete()
            else:
                raise ValueError(f"cannot erase a {kind!r}; one of {', '.join(ERASABLE_KINDS)}")
        except TwilioRestException as exc:
            if exc.status == HTTPStatus.NOT_FOUND:
                return "gone"
            raise _translate(exc, "erase", f"{kind} {sid}") from exc
        except (TwilioException, requests.RequestException) as exc:
            raise _translate(exc, "erase", f"{kind} {sid}") from exc
        return "erased"

    def fetch_recording(self, *, sid: str) -> RecordingAudio:
        """The voicemail's MP3, fetched with the account's credentials (twilio's own HTTP client keeps bodies as
        text, so this one request is made with `requests`, streamed, on the same base URL and timeout). Twilio
        may answer with a redirect to its storage: it is followed here, never handed to a browser."""
        if not sid.startswith("RE") or not sid.isalnum():
            raise TransportError(
                both("twilio.failed", action=ref("twilio.action.recording"), error="sid"), permanent=True
            )
        client = self._client
        url = f"https://api.twilio.com/2010-04-01/Accounts/{client.account_sid}/Recordings/{sid}.mp3"
        http = client.http_client
        if isinstance(http, BaseUrlHttpClient | PerThreadHttpClient):
            url = http.rewrite(url)
        try:
            response = requests.get(
                url,
                auth=(client.username, client.password),
                timeout=getattr(http, "timeout", None) or 10.0,
                stream=True,
                allow_redirects=True,  # requests drops the credentials when the redirect leaves the host
            )
        except requests.RequestException as exc:
            raise _translate(exc, "recording", sid) from exc
        if response.status_code != HTTPStatus.OK:
            response.close()
            status = response.status_code
            log.warning("recording fetch refused", extra={"recording_sid": sid, "status": status})
            message = both(
                "twilio.refused", action=ref("twilio.action.recording"), target=sid, code="-", status=status
            )
            permanent = status in (
                HTTPStatus.NOT_FOUND,
                HTTPStatus.GONE,
                HTTPStatus.UNAUTHORIZED,
                HTTPStatus.FORBIDDEN,
            )
            raise TransportError(message, permanent=permanent, code=str(status))
        length = response.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else None
        if size is not None and size > MAX_RECORDING_BYTES:
            response.close()
            raise TransportError(
                both("twilio.failed", action=ref("twilio.action.recording"), error="size"), permanent=True
            )
        return RecordingAudio(
            content_type=response.headers.get("Content-Type", "audio/mpeg").split(";")[0].strip(),
            chunks=_pieces(response),
            length=size,
        )


def _pieces(response: requests.Response) -> Iterator[bytes]:
    """The body in 64 KiB pieces, at most MAX_RECORDING_BYTES; the connection closed when done or dropped."""
    read = 0
    try:
        for piece in response.iter_content(chunk_size=64 * 1024):
            read += len(piece)
            if read > MAX_RECORDING_BYTES:
                log.warning("recording cut off at the size limit", extra={"bytes": read})
                return
            yield piece
    finally:
        response.close()
