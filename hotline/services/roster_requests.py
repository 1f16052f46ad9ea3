"""Shift swaps and "take a shift" requests: advisors ask, managers approve (a new roster version) or reject.

The request keeps the shift as it was offered (whose, which layer, from and to); approving it is a roster
change like any other (`roster_changes.save`), made in the caller's transaction with the request's new state.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import RosterRequest, utcnow
from routing.roster import Layer
from routing.roster_swaps import OfferedShift, RequestKind


class State(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


def create(
    session: Session,
    *,
    kind: RequestKind,
    account_id: int,
    shift: OfferedShift,
    cover_advisor_id: str,
    reason: str,
) -> RosterRequest:
    request = RosterRequest(
        kind=kind.value,
        requested_by=account_id,
        shift_advisor_id=shift.advisor_id,
        cover_advisor_id=cover_advisor_id,
        layer=shift.layer.value,
        starts_at=shift.start,
        ends_at=shift.end,
        reason=reason[:300],
        state=State.REQUESTED.value,
        created_at=utcnow(),
    )
    session.add(request)
    session.flush()
    return request


def shift_of(request: RosterRequest) -> OfferedShift:
    return OfferedShift(request.shift_advisor_id, Layer(request.layer), request.starts_at, request.ends_at)


def mine(session: Session, account_id: int, limit: int = 50) -> list[RosterRequest]:
    statement = (
        select(RosterRequest)
        .where(RosterRequest.requested_by == account_id)
        .order_by(RosterRequest.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def pending(session: Session) -> list[RosterRequest]:
    statement = (
        select(RosterRequest)
        .where(RosterRequest.state == State.REQUESTED.value)
        .order_by(RosterRequest.starts_at, RosterRequest.id)
    )
    return list(session.scalars(statement))


def decided(session: Session, limit: int = 20) -> list[RosterRequest]:
    statement = (
        select(RosterRequest)
        .where(RosterRequest.state != State.REQUESTED.value)
        .order_by(RosterRequest.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def get(session: Session, request_id: int) -> RosterRequest | None:
    return session.get(RosterRequest, request_id)


def decide(
    request: RosterRequest,
    state: State,
    *,
    actor: str,
    now: datetime,
    note: str = "",
    version_id: int | None = None,
) -> None:
    """Record the decision (approved, rejected or withdrawn) on a request that still waits."""
    if request.state != State.REQUESTED.value:
        raise ValueError(f"request {request.id} is {request.state}, not waiting")
    request.state = state.value
    request.decided_by = actor[:100]
    request.decided_at = now
    request.decision_note = note[:300] or None
    request.roster_version_id = version_id
