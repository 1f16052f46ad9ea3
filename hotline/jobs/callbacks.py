"""Callback jobs: windows that open (the advisor and the relative are told) and callbacks past their due time
(escalated to the advisor on call and the manager). Each is given the time to act as of (`now`, aware UTC).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.db.models import (
    CallbackRequest,
)
from hotline.jobs.runs import once
from hotline.runtime import Runtime
from hotline.services import outbox, rosters
from hotline.services.staff_texts import (
    advisor_phone,
    first_on_call,
    managers,
    reason_name,
    reference,
    staff_text,
)
from routing.callbacks import State
from routing.roster import Roster
from routing.wording.catalogue import language_name
from sms.timephrase import window_phrase

log = logging.getLogger(__name__)


OVERDUE_STATES = (State.REQUESTED.value, State.SCHEDULED.value, State.NOT_REACHED.value)


def open_windows(runtime: Runtime, now: datetime) -> int:
    """Callback windows (and retry times) that have opened: the advisor is told, and the relative who chose a
    later window hears the call is coming. A window that closed while the scheduler was down is left to
    `escalate_overdue`."""
    settings, opened = runtime.settings, 0
    with runtime.sessions.begin() as session:
        rows = session.scalars(
            select(CallbackRequest)
            .where(CallbackRequest.state == State.SCHEDULED.value)
            .where(CallbackRequest.window_start <= now, CallbackRequest.due_at > now)
            .order_by(CallbackRequest.id)
        ).all()
        for callback in rows:
            retry_at = callback.next_attempt_at
            if callback.attempts and (retry_at is None or retry_at > now):
                continue
            if not once(session, "window_open", f"{callback.id}:{callback.attempts}", now):
                continue
            opened += 1
            phone = advisor_phone(session, first_on_call(session, settings, callback, now))
            if phone is None:
                log.warning("callback window opened with nobody to tell", extra={"callback": callback.id})
            else:
                staff_text(
                    session,
                    settings,
                    phone,
                    "advisor_window_open",
                    now,
                    dedup_key=f"callback:{callback.id}:open:{callback.attempts}",
                    expires_at=callback.due_at,
                    ref=reference(callback),
                    # The whole window, as promised ("i aften mellem 17 og 21"), even when caught up late.
                    window=window_phrase(
                        callback.window_start, callback.due_at, min(now, callback.window_start), "da"
                    ),
                    language=language_name(callback.language),
                    reason=reason_name(callback.reason),
                )
            chosen_later = callback.window_start > callback.created_at + timedelta(minutes=1)
            if callback.attempts == 0 and chosen_later and callback.phone_number:
                outbox.enqueue(
                    session,
                    capped=True,
                    to=callback.phone_number,
                    purpose="callback_soon",
                    language=callback.language,
                    now=now,
                    relative_id=callback.relative_id,
                    callback_id=callback.id,
                    dedup_key=outbox.callback_text_key(callback.id, "soon"),
                    expires_at=callback.due_at,
                )
    return opened


def escalate_overdue(runtime: Runtime, now: datetime) -> int:
    """Callbacks past their due time: the advisor on call and the manager get a text, once per due time."""
    settings, escalated = runtime.settings, 0
    with runtime.sessions.begin() as session:
        roster = rosters.current_roster(session) or Roster()
        rows = session.scalars(
            select(CallbackRequest)
            .where(CallbackRequest.state.in_(OVERDUE_STATES), CallbackRequest.due_at <= now)
            .order_by(CallbackRequest.id)
        ).all()
        for callback in rows:
            due = callback.due_at.isoformat()
            if not once(session, "overdue", f"{callback.id}:{due}", now):
                continue
            escalated += 1
            minutes = max(1, int((now - callback.due_at).total_seconds() // 60))
            recipients = {a.id: a.phone for a in managers(roster, now)}
            on_call = first_on_call(session, settings, callback, now)
            phone = advisor_phone(session, on_call)
            if on_call and phone:
                recipients = {on_call: phone, **recipients}
            if not recipients:
                log.error("overdue callback with nobody to escalate to", extra={"callback": callback.id})
            for advisor_id, number in recipients.items():
                staff_text(
                    session,
                    settings,
                    number,
                    "escalation_overdue",
                    now,
                    dedup_key=f"callback:{callback.id}:overdue:{due}:{advisor_id}",
                    expires_at=now + timedelta(hours=1),
                    ref=reference(callback),
                    minutes=minutes,
                )
    return escalated
