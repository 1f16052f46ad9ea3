"""The callback queue: acute first, then due time; "mine" and "all"; take, give to a colleague, put back; "ring mig
op" (the advisor-first bridge of `hotline callbacks call`); the outcome and a note; a voicemail from a withheld
number closed after listening. The list refreshes itself (htmx polling `/console/queue/list`).

Every step is a service (`services/callback_work.py`, `services/callback_calls.py`); taking is one conditional
UPDATE there, so of two advisors who press "Tag sagen" at once one wins and the other reads that someone else
has it. Lists show masked numbers only; opening a case and every change are written to the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hotline.db.models import AdvisorRecord, CallbackRequest, utcnow
from hotline.services import audit, callback_work
from hotline.services.callback_calls import CallbackError, Outcome, record_by_hand, start
from hotline.services.callback_work import QueueError
from hotline.services.staff_accounts import Role
from hotline.staff.console.identity import console_path, login_required, signed_in
from hotline.web import current_runtime
from routing.wallclock import COPENHAGEN

bp = Blueprint("queue", __name__)

POLL_SECONDS = 10
MANAGERS = (Role.MANAGER, Role.ADMIN)


def clock(at: datetime | None, now: datetime) -> str:
    """A time as an advisor reads it: "17:30" today, "07/12 09:00" on another day (Copenhagen)."""
    if at is None:
        return ""
    local = at.astimezone(COPENHAGEN)
    if local.date() == now.astimezone(COPENHAGEN).date():
        return local.strftime("%H:%M")
    return local.strftime("%d/%m %H:%M")


class Notice:
    """What a step says when it is done: a staff-catalogue id and its values."""

    def __init__(self, message_id: str, **values: object) -> None:
        self.message_id = message_id
        self.values = values


SAID = "queue_said"  # the session key of what the last step said, shown once on the next page


def _say(kind: str, message_id: str, values: dict[str, object]) -> None:
    cookie[SAID] = {"kind": kind, "id": message_id, "values": values}


def _said() -> dict[str, Any] | None:
    said: dict[str, Any] | None = cookie.pop(SAID, None)
    return said


def _view() -> str:
    return "mine" if request.args.get("view") == "mine" else "all"


def _list_values(view: str) -> dict[str, Any]:
    user = signed_in().identity
    now = utcnow()
    with current_runtime().console_sessions() as session:
        rows = callback_work.listing(session, advisor_id=user.advisor_id, mine=view == "mine", now=now)
    return {
        "rows": rows,
        "view": view,
        "me": user.advisor_id,
        "now": now,
        "clock": clock,
        "as_of": now.astimezone(COPENHAGEN).strftime("%H:%M"),
        "poll": POLL_SECONDS,
    }


@bp.get("/queue")
@login_required
def index() -> str:
    return render_template("console/queue.html", said=_said(), **_list_values(_view()))


@bp.get("/queue/list")
@login_required
def rows() -> str:
    """The list alone, for htmx to refresh every few seconds."""
    return render_template("console/_queue_list.html", **_list_values(_view()))


@bp.get("/queue/<int:callback_id>")
@login_required
def case(callback_id: int) -> str:
    """One callback with its attempts and notes, and what the advisor can do with it (audited as a view)."""
    user = signed_in().identity
    now = utcnow()
    with current_runtime().console_sessions.begin() as session:
        callback = session.get(CallbackRequest, callback_id)
        row = callback_work.row(session, callback_id)
        if callback is None or row is None:
            abort(404)
        history = callback_work.history(session, callback_id)
        advisors = [(a.id, a.name) for a in callback_work.active_advisors(session)]
        _audit(session, callback, audit.Action.VIEWED, None)
    return render_template(
        "console/queue_case.html",
        said=_said(),
        row=row,
        history=history,
        advisors=advisors,
        me=user.advisor_id,
        manager=signed_in().role in MANAGERS,
        now=now,
        clock=clock,
    )


def _audit(session: Session, callback: CallbackRequest, action: audit.Action, detail: str | None) -> None:
    user = signed_in().identity
    audit.record(
        session,
        actor=user.username,
        action=action,
        account_id=user.account_id,
        relative_id=callback.relative_id,
        subject=f"callback:{callback.id}",
        detail=detail,
        remote_addr=request.remote_addr,
    )


def _back(callback_id: int) -> BaseResponse:
    return redirect(console_path(request.form.get("next")) or url_for("console.queue.index"))


def _advisor_id() -> str:
    advisor_id = signed_in().identity.advisor_id
    if advisor_id is None:
        raise QueueError("console.queue.error.no_phone")
    return advisor_id


def _changed(callback_id: int, detail: str, step: Any) -> BaseResponse:
    """Run `step(session, now)` (a service call, returning the Notice to show) in one
    transaction with its audit row; a refusal is shown as an alert instead."""
    now = utcnow()
    try:
        with current_runtime().console_sessions.begin() as session:
            said = step(session, now)
            callback = session.get(CallbackRequest, callback_id)
            if callback is not None:
                _audit(session, callback, audit.Action.CHANGED, detail)
    except QueueError as error:
        _say("problem", error.message_id, error.values)
    else:
        _say("done", said.message_id, said.values)
    return _back(callback_id)


@bp.post("/queue/<int:callback_id>/take")
@login_required
def take(callback_id: int) -> BaseResponse:
    def step(session: Session, now: datetime) -> Notice:
        callback_work.take(session, callback_id, _advisor_id(), now)
        return Notice("console.queue.done.taken", callback=callback_id)

    return _changed(callback_id, "take", step)


@bp.post("/queue/<int:callback_id>/release")
@login_required
def release(callback_id: int) -> BaseResponse:
    def step(session: Session, now: datetime) -> Notice:
        manager = signed_in().role in MANAGERS
        callback_work.release(session, callback_id, signed_in().identity.advisor_id, now, override=manager)
        return Notice("console.queue.done.released", callback=callback_id)

    return _changed(callback_id, "release", step)


@bp.post("/queue/<int:callback_id>/assign")
@login_required
def assign(callback_id: int) -> BaseResponse:
    to = request.form.get("advisor", "")[:64]

    def step(session: Session, now: datetime) -> Notice:
        manager = signed_in().role in MANAGERS
        by = signed_in().identity.advisor_id
        callback_work.assign(session, callback_id, to, now, by_advisor=by, override=manager)
        advisor = session.get(AdvisorRecord, to)
        name = advisor.name if advisor else to
        return Notice("console.queue.done.assigned", callback=callback_id, name=name)

    return _changed(callback_id, f"assign:{to}", step)


@bp.post("/queue/<int:callback_id>/close")
@login_required
def close(callback_id: int) -> BaseResponse:
    def step(session: Session, now: datetime) -> Notice:
        me = _advisor_id()
        callback_work.close(session, callback_id, me, now, f"console:{signed_in().identity.username}")
        return Notice("console.queue.done.closed", callback=callback_id)

    return _changed(callback_id, "close", step)


@bp.post("/queue/<int:callback_id>/note")
@login_required
def note(callback_id: int) -> BaseResponse:
    text = request.form.get("note", "")

    def step(session: Session, now: datetime) -> Notice:
        callback_work.note(session, callback_id, _advisor_id(), text, now)
        return Notice("console.queue.done.note")

    return _changed(callback_id, "note", step)


@bp.post("/queue/<int:callback_id>/outcome")
@login_required
def outcome(callback_id: int) -> BaseResponse:
    try:
        reported = Outcome(request.form.get("outcome", ""))
    except ValueError:
        abort(400)
    text = request.form.get("note", "")
    runtime = current_runtime()

    def step(session: Session, now: datetime) -> Notice:
        me = _advisor_id()
        actor = f"console:{signed_in().identity.username}"
        recorded = record_by_hand(
            session, callback_id, me, reported, now=now, actor=actor, settings=runtime.settings.file.callbacks
        )
        if text.strip():
            callback_work.note(session, callback_id, me, text, now)
        if recorded:
            return Notice("console.queue.done.outcome")
        callback = session.get(CallbackRequest, callback_id)
        state = callback.state if callback is not None else ""
        return Notice("console.queue.done.already", state=gettext(f"callback.state.{state}"))

    return _changed(callback_id, f"outcome:{reported.value}", step)


@bp.post("/queue/<int:callback_id>/call")
@login_required
def call(callback_id: int) -> BaseResponse:
    """ "Ring mig op": take the callback (or keep it), then ring the advisor's phone through the transport; when
    they press 1 the relative is rung from the hotline's number (`services/callback_calls.start`)."""
    runtime = current_runtime()
    now = utcnow()
    try:
        with runtime.console_sessions.begin() as session:
            callback_work.take(session, callback_id, _advisor_id(), now)
            callback = session.get(CallbackRequest, callback_id)
            assert callback is not None
            _audit(session, callback, audit.Action.CHANGED, "call")
        start(runtime, callback_id, _advisor_id(), actor=f"console:{signed_in().identity.username}")
    except (QueueError, CallbackError) as error:
        _say("problem", error.message_id, error.values)
    else:
        said = Notice("console.queue.done.calling")
        _say("done", said.message_id, said.values)
    return _back(callback_id)
