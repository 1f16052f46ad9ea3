"""Voicemails into the callback queue: every message left is a task for staff, whoever left it.

A message from a number the hotline may call back is that relative's callback (`reason: voicemail`); from a
withheld number, or one the toll-fraud guard refuses, it is a task without a number that staff listen to and
close. Both the call flow (right after the recording) and the clockwork (messages the fallback answer took while
the database was down) file them here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.config.sections import CallbackSettings
from hotline.db.models import CallbackRequest
from hotline.services import callback_queue, relatives
from routing.callbacks import Priority
from routing.guard import DestinationPolicy, check_destination


def file_voicemail(
    session: Session,
    *,
    recording_sid: str,
    call_sid: str,
    number: str | None,
    language: str,
    settings: CallbackSettings,
    policy: DestinationPolicy,
    now: datetime,
    actor: str,
    keyed_in: bool = False,
) -> CallbackRequest:
    """Put the voicemail `recording_sid` in the queue: the caller's callback, or a task without a number.
    `keyed_in`: the number was typed in on the phone menu; its daily cap may raise CallbackCapped."""
    if number is None or not check_destination(number, policy).allowed:
        return callback_queue.register_task(
            session,
            call_sid=call_sid,
            language=language,
            settings=settings,
            now=now,
            actor=actor,
            recording_sid=recording_sid[:64],
        )
    relative, _ = relatives.find_or_create(session, number)
    relative.language = relative.language or language
    return callback_queue.register(
        session,
        relative=relative,
        call_sid=call_sid or None,
        priority=Priority.QUESTION,
        reason="voicemail",
        language=language,
        window_key="asap",
        settings=settings,
        assigned_advisor_id=relatives.contact_person(relative),
        now=now,
        actor=actor,
        policy=policy,
        recording_sid=recording_sid[:64],
        keyed_in=keyed_in,
    ).callback
