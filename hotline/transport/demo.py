"""The offline demo transport: texts and calls are kept in the database and logged, and never leave the machine."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.models import DemoOutbound
from hotline.transport.base import PlacedCall, RecordingAudio, SentMessage, TransportError
from routing.numbers import mask_number

log = logging.getLogger(__name__)


class DemoTransport:
    """Stands in for the telephone network: it is the 'far end', so it keeps its own records."""

    name = "demo"

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def _record(self, kind: str, to: str, from_: str, body: str | None, url: str | None) -> str:
        sid = ("SM" if kind == "sms" else "CA") + "demo" + uuid.uuid4().hex[:28]
        with self._sessions.begin() as session:
            session.add(DemoOutbound(kind=kind, sid=sid, to_number=to, from_number=from_, body=body, url=url))
        log.info(
            f"demo {kind} recorded, not sent",
            extra={"sid": sid, "to": mask_number(to), "chars": len(body) if body else 0},
        )
        return sid

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        return SentMessage(sid=self._record("sms", to, from_, body, None), status="sent")

    def find_sent(self, *, to: str, from_: str, body: str, since: datetime) -> SentMessage | None:
        with self._sessions() as session:
            sid = session.scalars(
                select(DemoOutbound.sid).where(
                    DemoOutbound.kind == "sms",
                    DemoOutbound.to_number == to,
                    DemoOutbound.from_number == from_,
                    DemoOutbound.body == body,
                    DemoOutbound.created_at >= since,
                )
            ).first()
        return SentMessage(sid=sid, status="sent") if sid else None

    def place_call(
        self, *, to: str, from_: str, url: str, status_callback: str | None, timeout_seconds: int = 20
    ) -> PlacedCall:
        return PlacedCall(sid=self._record("call", to, from_, None, url), status="queued")

    def erase(self, *, kind: str, sid: str) -> str:
        # Nothing left the machine: the demo's own copies are purged with the rest of the database.
        return "demo"

    def fetch_recording(self, *, sid: str) -> RecordingAudio:
        # The terminal phone records nothing: a demo voicemail is a reference without a sound.
        raise TransportError("no recording in the demo", permanent=True, code="demo")
