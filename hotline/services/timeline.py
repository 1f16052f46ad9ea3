"""A relative's timeline: every call (the route it took and who answered), text in and out, callback, attempt,
note and voicemail, newest first; their language, opt-out state and contact person, which staff may change.

Who sees the number in full (docs/console.md, "Who sees a relative's number"): managers and admins always; an
advisor only when they are the relative's contact person or hold one of the relative's open callbacks, that is
when the relative is theirs to call. Everyone else sees it masked (`+45 67 12 ** **`): the callback dialer rings
the advisor first and puts the relative through, so the number is not needed to help.

A relative past their retention (number pseudonymised, `ps:...`) has no timeline: their personal data is gone,
and what is left is for statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from hotline.db.models import (
    AdvisorRecord,
    Call,
    CallbackAttempt,
    CallbackRequest,
    CallRouting,
    Message,
    OutboxText,
    Recording,
    Relative,
)
from hotline.services import opt_outs
from hotline.services.callback_queue import OPEN_STATES
from hotline.services.pseudonyms import PREFIX as PSEUDONYM_PREFIX
from hotline.services.staff_accounts import Role
from hotline.transport.base import RecordingAudio, Transport, TransportError

# How many of each kind of record a timeline page shows at most (the newest); a relative with more is rare.
LIMIT = 200
# The first page: the newest events, enough for a night's call; "older" shows up to LIMIT of each kind. An advisor
# reading on a phone needs the last weeks, and a page of hundreds of events is slow to build and to scroll.
FIRST_PAGE = 50


class RecordingUnavailable(Exception):
    """The network could not give a voicemail's sound: `permanent` when it is not there (erased, or the demo)."""

    def __init__(self, message: str, *, permanent: bool, code: str | None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class ContactPersonRefused(ValueError):
    """The advisor named as contact person is unknown or not active in the roster."""


@dataclass(frozen=True)
class CallItem:
    at: datetime
    call_sid: str
    direction: str
    status: str
    duration_seconds: int | None
    reason: str | None  # the menu's choice (acute, question), when the call was put through
    language: str | None
    route: tuple[str, ...]  # the advisors the chain rang, in order, up to where it stopped
    answered_by: str | None
    outcome: str | None  # connected, no_answer, or None (never put through)
    kind: str = "call"


@dataclass(frozen=True)
class TextItem:
    at: datetime
    direction: str  # inbound | outbound
    body: str | None  # None once purged (or a status text not yet worded)
    purged: bool
    status: str  # Twilio's status, or the outbox's state for a text not (yet) sent
    purpose: (
        str | None
    )  # for a text the hotline wrote: its template (received, callback_soon, advisor_reply...)
    kind: str = "text"


@dataclass(frozen=True)
class CallbackItem:
    at: datetime
    callback_id: int
    created_at: datetime
    priority: str
    reason: str
    state: str
    language: str
    window_start: datetime
    window_end: datetime
    due_at: datetime
    assigned: str | None
    attempts: int
    kind: str = "callback"


@dataclass(frozen=True)
class AttemptItem:
    """A try at calling back, or a note (`outcome == "note"`), on one of the relative's callbacks."""

    at: datetime
    callback_id: int
    advisor: str | None
    outcome: str | None
    note: str | None
    kind: str = "attempt"


@dataclass(frozen=True)
class VoicemailItem:
    at: datetime
    recording_id: int
    recording_sid: str
    duration_seconds: int | None
    available: bool  # False once purged: the reference is gone, the sound erased at Twilio
    kind: str = "voicemail"


Item = CallItem | TextItem | CallbackItem | AttemptItem | VoicemailItem


@dataclass(frozen=True)
class Timeline:
    relative: Relative
    opted_out_at: datetime | None  # when the number opted out of texts (STOP); None: it receives them
    items: list[Item] = field(default_factory=list)
    callbacks: dict[int, CallbackRequest] = field(default_factory=dict)


def find(session: Session, relative_id: int) -> Relative | None:
    """The relative with this id, unless they are unknown or past their retention (pseudonymised)."""
    relative = session.get(Relative, relative_id)
    if relative is None or relative.phone_number.startswith(PSEUDONYM_PREFIX):
        return None
    return relative


def find_by_number(session: Session, number: str) -> Relative | None:
    """The relative with this E.164 number (normalised by the caller, at the edge)."""
    if number.startswith(PSEUDONYM_PREFIX):
        return None
    return session.scalars(select(Relative).where(Relative.phone_number == number)).one_or_none()


def number_visible(session: Session, relative: Relative, role: Role, advisor_id: str | None) -> bool:
    """Whether this person sees the relative's number in full (the rule in the module's docstring)."""
    if role in (Role.MANAGER, Role.ADMIN):
        return True
    if advisor_id is None:
        return False
    if relative.contact_person_id == advisor_id:
        return True
    held = session.scalars(
        select(CallbackRequest.id).where(
            CallbackRequest.relative_id == relative.id,
            CallbackRequest.state.in_(OPEN_STATES),
            CallbackRequest.assigned_advisor_id == advisor_id,
        )
    ).first()
    return held is not None


def advisors(session: Session) -> list[AdvisorRecord]:
    """The advisors who can be a contact person: active in the roster in force, by name."""
    return list(
        session.scalars(select(AdvisorRecord).where(AdvisorRecord.active).order_by(AdvisorRecord.name))
    )


def advisor_names(session: Session) -> dict[str, str]:
    """Every advisor's name by id, those gone from the roster too (they may have answered an old call)."""
    return {row.id: row.name for row in session.execute(select(AdvisorRecord.id, AdvisorRecord.name))}


def set_contact_person(
    session: Session, relative: Relative, advisor_id: str | None
) -> tuple[str | None, str | None]:
    """Make `advisor_id` (None: nobody) the relative's contact person; (before, after). Raises
    ContactPersonRefused for an advisor who is unknown or inactive."""
    if advisor_id is not None:
        advisor = session.get(AdvisorRecord, advisor_id)
        if advisor is None or not advisor.active:
            raise ContactPersonRefused(f"advisor {advisor_id!r} is not active in the roster in force")
    before = relative.contact_person_id
    relative.contact_person_id = advisor_id
    session.flush()
    return before, advisor_id


def recording(session: Session, recording_id: int) -> tuple[Recording, int | None] | None:
    """A voicemail and the relative it belongs to (None: a withheld number's task); None when unknown or purged
    (no reference left), or when its relative is past their retention."""
    found = session.get(Recording, recording_id)
    if found is None or found.recording_url is None:
        return None
    relative_id = session.scalars(
        select(Call.relative_id).where(Call.call_sid == found.call_sid, Call.relative_id.is_not(None))
    ).first()
    if relative_id is None:
        relative_id = session.scalars(
            select(CallbackRequest.relative_id).where(
                CallbackRequest.recording_sid == found.recording_sid, CallbackRequest.relative_id.is_not(None)
            )
        ).first()
    if relative_id is not None and find(session, relative_id) is None:
        return None
    return found, relative_id


def fetch_recording(transport: Transport, recording_sid: str) -> RecordingAudio:
    """The voicemail's sound from the network, with the account's credentials; RecordingUnavailable if not."""
    try:
        return transport.fetch_recording(sid=recording_sid)
    except TransportError as error:
        raise RecordingUnavailable(error.message, permanent=error.permanent, code=error.code) from error


def recording_ids(session: Session, sids: list[str]) -> dict[str, int]:
    """The ids of the voicemails with these RecordingSids that can still be played."""
    if not sids:
        return {}
    rows = session.execute(
        select(Recording.recording_sid, Recording.id).where(
            Recording.recording_sid.in_(sids), Recording.recording_url.is_not(None)
        )
    )
    return {sid: rid for sid, rid in rows}


def timeline(session: Session, relative: Relative, *, limit: int = LIMIT) -> Timeline:
    """Everything the hotline knows happened with this relative, newest first."""
    items: list[Item] = []
    calls = list(
        session.scalars(
            select(Call).where(Call.relative_id == relative.id).order_by(Call.created_at.desc()).limit(limit)
        )
    )
    routes = {
        r.call_sid: r
        for r in session.scalars(
            select(CallRouting).where(CallRouting.call_sid.in_([c.call_sid for c in calls]))
        )
    }
    for call in calls:
        route = routes.get(call.call_sid)
        chain = tuple(a for a in route.chain.split(",") if a) if route else ()
        rung = chain[: min(len(chain), route.step + 1)] if route else ()
        items.append(
            CallItem(
                at=call.created_at,
                call_sid=call.call_sid,
                direction=call.direction,
                status=call.status,
                duration_seconds=call.duration_seconds,
                reason=route.reason if route else None,
                language=route.language if route else None,
                route=rung,
                answered_by=route.connected_advisor_id if route else None,
                outcome=route.outcome if route else None,
            )
        )

    outbox_rows = list(
        session.scalars(
            select(OutboxText)
            .where(OutboxText.relative_id == relative.id)
            .order_by(OutboxText.created_at.desc())
            .limit(limit)
        )
    )
    purposes = {row.message_id: row.purpose for row in outbox_rows if row.message_id is not None}
    for message in session.scalars(
        select(Message)
        .where(Message.relative_id == relative.id)
        .order_by(Message.created_at.desc())
        .limit(limit)
    ):
        items.append(
            TextItem(
                at=message.created_at,
                direction=message.direction,
                body=message.body,
                purged=message.body_purged_at is not None,
                status=message.status,
                purpose=purposes.get(message.id),
            )
        )
    for row in outbox_rows:
        if row.message_id is None:  # not sent (yet): pending, sending, failed, cancelled, refused
            items.append(
                TextItem(
                    at=row.created_at,
                    direction="outbound",
                    body=row.body,
                    purged=row.body_purged_at is not None,
                    status=row.state,
                    purpose=row.purpose,
                )
            )

    callbacks = {
        c.id: c
        for c in session.scalars(
            select(CallbackRequest)
            .where(CallbackRequest.relative_id == relative.id)
            .order_by(CallbackRequest.created_at.desc())
            .limit(limit)
        )
    }
    for callback in callbacks.values():
        items.append(
            CallbackItem(
                at=callback.created_at,
                callback_id=callback.id,
                created_at=callback.created_at,
                priority=callback.priority,
                reason=callback.reason,
                state=callback.state,
                language=callback.language,
                window_start=callback.window_start,
                window_end=callback.window_end,
                due_at=callback.due_at,
                assigned=callback.assigned_advisor_id,
                attempts=callback.attempts,
            )
        )
    if callbacks:
        for attempt in session.scalars(
            select(CallbackAttempt)
            .where(CallbackAttempt.callback_id.in_(list(callbacks)))
            .order_by(CallbackAttempt.started_at.desc())
            .limit(limit)
        ):
            items.append(
                AttemptItem(
                    at=attempt.started_at,
                    callback_id=attempt.callback_id,
                    advisor=attempt.advisor_id,
                    outcome=attempt.outcome,
                    note=attempt.note,
                )
            )

    # A voicemail belongs to the call it was left on or to the callback it made (one left while the database was
    # down has no call row, but the clockwork files it as a callback): both by indexed columns.
    call_sids = [c.call_sid for c in calls]
    recording_sids = [c.recording_sid for c in callbacks.values() if c.recording_sid]
    conditions: list[ColumnElement[bool]] = []
    if call_sids:
        conditions.append(Recording.call_sid.in_(call_sids))
    if recording_sids:
        conditions.append(Recording.recording_sid.in_(recording_sids))
    voicemails: list[Recording] = (
        list(
            session.scalars(
                select(Recording).where(or_(*conditions)).order_by(Recording.received_at.desc()).limit(limit)
            )
        )
        if conditions
        else []
    )
    for voicemail in voicemails:
        items.append(
            VoicemailItem(
                at=voicemail.received_at,
                recording_id=voicemail.id,
                recording_sid=voicemail.recording_sid,
                duration_seconds=voicemail.duration_seconds,
                available=voicemail.recording_url is not None,
            )
        )

    # Newest first; at the same instant, the kinds in the order things happen (a call, then what it caused).
    order = {"voicemail": 0, "attempt": 1, "callback": 2, "text": 3, "call": 4}
    items.sort(key=lambda item: (item.at, order[item.kind]), reverse=True)
    return Timeline(relative, opt_outs.opted_out_since(session, relative.phone_number), items, callbacks)
