"""Database models: SQLAlchemy 2 typed mappings on one DeclarativeBase with a constraint naming convention, one
module per family of tables. Every table is imported here, so `Base.metadata` (Alembic's env.py) holds them all
and relationships named by string resolve; callers import from `hotline.db.models`."""

from __future__ import annotations

from hotline.db.models.base import NAMING_CONVENTION, Base, UtcDateTime, utcnow
from hotline.db.models.callbacks import (
    CallbackAttempt,
    CallbackCall,
    CallbackRefusal,
    CallbackRequest,
    CallbackTransition,
)
from hotline.db.models.calls import Call, CallEvent, CallRouting, DemoOutbound, Recording
from hotline.db.models.clockwork import ClockworkRun, RemoteErasure, SchedulerHeartbeat
from hotline.db.models.relatives import Relative
from hotline.db.models.rosters import AdvisorRecord, FeedVersion, RosterRequest, RosterVersion
from hotline.db.models.staff import AuditEntry, DataRequest, HandoverRead, StaffAccount
from hotline.db.models.texts import Message, OutboxText, SmsOptOut, SmsStatusEvent

__all__ = [
    "NAMING_CONVENTION",
    "AdvisorRecord",
    "AuditEntry",
    "Base",
    "Call",
    "CallEvent",
    "CallRouting",
    "CallbackAttempt",
    "CallbackCall",
    "CallbackRefusal",
    "CallbackRequest",
    "CallbackTransition",
    "ClockworkRun",
    "DataRequest",
    "DemoOutbound",
    "FeedVersion",
    "HandoverRead",
    "Message",
    "OutboxText",
    "Recording",
    "Relative",
    "RemoteErasure",
    "RosterRequest",
    "RosterVersion",
    "SchedulerHeartbeat",
    "SmsOptOut",
    "SmsStatusEvent",
    "StaffAccount",
    "UtcDateTime",
    "utcnow",
]
