"""A local spool for what arrives while the database is down: one JSON file per Twilio SID, imported later.

Writing needs only the disk. A file is named by its SID, so a retried webhook overwrites rather than duplicates,
and the import is idempotent (insert-or-ignore on the same SID).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.models import Message, Recording
from hotline.db.session import insert_ignore
from routing.numbers import is_withheld, normalize_number

log = logging.getLogger(__name__)

_SID = re.compile(r"[A-Z]{2}[0-9a-zA-Z]{10,62}")
KINDS = ("recordings", "messages")
# Malformed files are moved here (per kind), out of the import's way, for an operator to look at.
REJECTED = "rejected"


def spool_dir(instance_path: Path, kind: str) -> Path:
    assert kind in KINDS
    return instance_path / "spool" / kind


def write(instance_path: Path, kind: str, sid: str, fields: Mapping[str, str]) -> Path:
    """Durably store `fields` under `sid` (atomic rename, fsync); return the file's path."""
    if not _SID.fullmatch(sid):
        raise ValueError(f"not a Twilio SID: {sid[:8]!r}")
    directory = spool_dir(instance_path, kind)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    record = dict(fields)
    record.setdefault("spooled_at", datetime.now(UTC).isoformat())
    target = directory / f"{sid}.json"
    temporary = directory / f".{sid}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(record, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, target)
    return target


def pending(instance_path: Path) -> int:
    """How many spooled items wait for import."""
    return sum(len(list(spool_dir(instance_path, kind).glob("*.json"))) for kind in KINDS)


def _received(record: Mapping[str, str]) -> datetime:
    try:
        return datetime.fromisoformat(record["spooled_at"]).astimezone(UTC)
    except (KeyError, ValueError):
        return datetime.now(UTC)


def _import_one(session: Session, kind: str, record: Mapping[str, str]) -> bool:
    raw_from = record.get("From")
    from_number = None if is_withheld(raw_from) else normalize_number(raw_from) or (raw_from or "")[:32]
    if kind == "recordings":
        duration = record.get("RecordingDuration", "")
        return insert_ignore(
            session,
            Recording,
            {
                "recording_sid": record["RecordingSid"],
                "call_sid": record.get("CallSid", ""),
                "recording_url": record.get("RecordingUrl"),
                "duration_seconds": int(duration) if duration.isascii() and duration.isdigit() else None,
                "from_number": from_number,
                "source": "fallback",
                "received_at": _received(record),
            },
            ["recording_sid"],
        )
    return insert_ignore(
        session,
        Message,
        {
            "message_sid": record["MessageSid"],
            "direction": "inbound",
            "from_number": from_number,
            "to_number": normalize_number(record.get("To")),
            "body": record.get("Body", ""),
            "status": "received",
            "created_at": _received(record),
            "updated_at": _received(record),
        },
        ["message_sid"],
    )


def _set_aside(path: Path) -> None:
    rejected = path.parent / REJECTED
    rejected.mkdir(exist_ok=True)
    path.replace(rejected / path.name)


def import_spool(instance_path: Path, sessions: sessionmaker[Session]) -> int:
    """Move every spooled item into the database; a file is deleted only after its row is committed."""
    imported = 0
    for kind in KINDS:
        for path in sorted(spool_dir(instance_path, kind).glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                _set_aside(path)
                log.exception("unreadable spool file set aside", extra={"file": path.name, "kind": kind})
                continue
            try:
                with sessions.begin() as session:
                    if _import_one(session, kind, record):
                        imported += 1
            except SQLAlchemyError:
                raise  # the database is (still) down: everything waits for the next run
            except Exception:
                # Something in this one file is malformed: set it aside for the operator, import the rest.
                _set_aside(path)
                log.exception("malformed spool file set aside", extra={"file": path.name, "kind": kind})
                continue
            path.unlink()
            log.info("spooled item imported", extra={"kind": kind, "sid": path.stem})
    return imported
