"""`hotline callbacks`: the callback queue from the command line (the console's queue page is the same services:
`services/callback_work.py`, `services/callback_calls.py`)."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import NoReturn

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.cli.common import open_runtime
from hotline.cli.sms import printable
from hotline.db.models import CallbackAttempt, CallbackRequest, CallbackTransition, Recording, utcnow
from routing.numbers import mask_number
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import aside, both, da


@click.group("callbacks")
def callbacks() -> None:
    """The callback queue."""


@callbacks.command("list")
@click.option("--all", "include_closed", is_flag=True, help="Also reached and cancelled callbacks.")
@click.option("--history", is_flag=True, help="Show every state change with who and when.")
def list_callbacks(include_closed: bool, history: bool) -> None:
    """Open callbacks in working order: acute first, then earliest due (times are Copenhagen time); then the
    callbacks the caps refused in the last 24 hours."""
    from hotline.services.callback_queue import queue

    with open_runtime() as runtime, runtime.sessions() as session:
        rows = queue(session, include_closed=include_closed)
        if rows:
            _list_queue(session, rows, history)
        else:
            click.echo(both("callbacks.none_open"))
        _list_refusals(session)


def _list_refusals(session: Session) -> None:
    from hotline.services.callback_queue import refusals

    refused = refusals(session, utcnow() - timedelta(days=1))
    if not refused:
        return
    click.echo(f"\n{both('callbacks.refused_heading')}")
    for r in refused:
        click.echo(
            f"       {r.created_at.astimezone(COPENHAGEN):%Y-%m-%d %H:%M}  {mask_number(r.phone_number):15}  "
            f"{r.reason:15}  {printable(r.call_sid or '-')}  {printable(r.recording_sid or '')}"
        )


def _list_queue(session: Session, rows: list[CallbackRequest], history: bool) -> None:
    click.echo(
        f"{'id':>5}  {da('label.priority'):9}  {da('label.state'):11}  {both('label.due'):16}  "
        f"{both('label.window'):23}  {da('label.number'):15}  {da('label.language'):5}  "
        f"{da('label.assigned'):10}  {da('label.attempts')}"
    )
    for c in rows:
        due = c.due_at.astimezone(COPENHAGEN).strftime("%Y-%m-%d %H:%M")
        window = (
            f"{c.window_start.astimezone(COPENHAGEN):%d/%m %H:%M}-{c.window_end.astimezone(COPENHAGEN):%H:%M}"
        )
        number = mask_number(c.phone_number) if c.phone_number else da("callbacks.withheld")
        click.echo(
            f"{c.id:>5}  {c.priority:9}  {c.state:11}  {due:16}  {window:23}  "
            f"{number:15}  {c.language:5}  {c.assigned_advisor_id or '-':10}  "
            f"{c.attempts}"
        )
        if c.recording_sid:
            recording = session.scalars(
                select(Recording).where(Recording.recording_sid == c.recording_sid)
            ).first()
            seconds = recording.duration_seconds if recording else None
            url = recording.recording_url if recording else None
            click.echo(
                "         "
                + both(
                    "callbacks.recording", recording=c.recording_sid, seconds=seconds or "?", url=url or "-"
                )
            )
        if c.phone_number is None:
            close = f"hotline callbacks close {c.id} --advisor ID"
            click.echo(f"         {both('callbacks.cannot_dial', close=close)}")
        if history:
            for attempt in session.scalars(
                select(CallbackAttempt)
                .where(CallbackAttempt.callback_id == c.id)
                .order_by(CallbackAttempt.id)
            ):
                when = attempt.started_at.astimezone(COPENHAGEN).strftime("%Y-%m-%d %H:%M")
                what = (
                    f"{da('label.note')}: {printable(attempt.note)}"
                    if attempt.note
                    else f"{both('callbacks.attempt')}: {attempt.outcome or '…'}"
                )
                click.echo(f"         {when}  {attempt.advisor_id or '-'}: {what}")
            steps = session.scalars(
                select(CallbackTransition)
                .where(CallbackTransition.callback_id == c.id)
                .order_by(CallbackTransition.id)
            )
            for t in steps:
                click.echo(
                    f"         {t.at.astimezone(COPENHAGEN):%Y-%m-%d %H:%M}  {t.from_state or '-'} → "
                    f"{t.to_state} ({t.event}) {da('callbacks.by', actor=printable(t.actor))}"
                )


@callbacks.command("note")
@click.argument("callback_id", type=int)
@click.argument("text")
@click.option("--advisor", "advisor_id", required=True, help="Who writes the note (the advisor's id).")
def note(callback_id: int, text: str, advisor_id: str) -> None:
    """Leave a note on a callback for the next advisor (it is counted in the shift handover)."""
    from hotline.services.callback_work import QueueError
    from hotline.services.callback_work import note as add_note

    if not text.strip():
        raise click.BadParameter(
            "the note is empty; write what the next advisor should know", param_hint="TEXT"
        )
    with open_runtime() as runtime, runtime.sessions.begin() as session:
        _check_advisor(session, advisor_id)
        try:
            add_note(session, callback_id, advisor_id, text, utcnow())
        except QueueError as error:
            _fail(callback_id, error)
    click.echo(both("callbacks.note_saved", callback=callback_id))


def _check_advisor(session: Session, advisor_id: str) -> None:
    from hotline.db.models import AdvisorRecord

    if session.get(AdvisorRecord, advisor_id) is None:
        click.echo(f"hotline: advisor {advisor_id!r} is not in the roster", err=True)
        sys.exit(1)


def _fail(callback_id: int, error: Exception) -> NoReturn:
    """Say why the queue refused, in the staff catalogue's words, and stop."""
    from hotline.services.callback_work import QueueError

    if isinstance(error, QueueError):
        click.echo(f"hotline: callback {callback_id}: {both(error.message_id, **error.values)}", err=True)
    else:
        click.echo(f"hotline: callback {callback_id}: {error}", err=True)
    sys.exit(1)


@callbacks.command("call")
@click.argument("callback_id", type=int)
@click.option("--advisor", "advisor_id", required=True, help="The advisor's id in the roster.")
def call(callback_id: int, advisor_id: str) -> None:
    """Ring the advisor now; when they press 1, Twilio rings the relative with the hotline's number."""
    from hotline.services.callback_calls import CallbackError, start

    with open_runtime() as runtime:
        try:
            started = start(runtime, callback_id, advisor_id, actor=f"cli:{advisor_id}")
        except CallbackError as error:
            click.echo(f"hotline: {error}", err=True)
            sys.exit(1)
        mode = f" {aside('callbacks.demo_call')}" if runtime.settings.demo_mode else ""
    calling = both("callbacks.calling", advisor=advisor_id)
    click.echo(
        f"{calling}{mode}: {da('callbacks.attempt_no', attempt=started.attempt_id)}, {started.call_sid}"
    )


@callbacks.command("close")
@click.argument("callback_id", type=int)
@click.option("--advisor", "advisor_id", required=True, help="Who closes it (the advisor's id).")
def close(callback_id: int, advisor_id: str) -> None:
    """Close a callback that needs no call (a voicemail from a withheld number, once listened to)."""
    from hotline.services.callback_work import QueueError
    from hotline.services.callback_work import close as close_callback

    with open_runtime() as runtime, runtime.sessions.begin() as session:
        _check_advisor(session, advisor_id)
        try:
            close_callback(session, callback_id, advisor_id, utcnow(), f"cli:{advisor_id}")
        except QueueError as error:
            _fail(callback_id, error)
    click.echo(both("callbacks.closed", callback=callback_id))
