"""Texts: the inbox of threads (unanswered first, each with how long it has waited against the answer its
receipt promised), one relative's thread with each text's delivery, a reply checked before it is sent (guard,
opt-out, segments and encoding) and written to the outbox, quick replies in the relative's language, and a thread
turned into a callback. The logic is `services/threads.py`; this module is the page around it.

Numbers are masked; bodies are shown (answering them is the advisor's job) and never logged. Every view of a
thread, and every reply or callback from one, is in the audit log.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hotline.db.models import Relative, utcnow
from hotline.services import audit, callback_queue, staff_texts, threads
from hotline.services.audit import Action
from hotline.services.threads import ReplyCheck, ThreadSummary
from hotline.staff.console.identity import StaffUser, login_required, signed_in
from hotline.web import current_runtime
from routing.wallclock import COPENHAGEN

bp = Blueprint("texts", __name__, url_prefix="/texts")

# How a text's state reads in the thread, in a few words: the outbox's states while we hold it, Twilio's once it
# has it (accepted or queued there is already "sent" for the advisor: it left the hotline).
OUTBOX_STATE = {
    "pending": "queued",
    "sending": "queued",
    "failed": "failed",
    "refused": "refused",
    "cancelled": "cancelled",
}
TWILIO_STATUS = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}


def _duration(minutes: int) -> str:
    """A wait as people read it: "35 min", "2 t 5 min", "3 d 4 t"."""
    minutes = max(minutes, 0)
    if minutes < 60:
        return str(ngettext("console.texts.minutes", "console.texts.minutes", minutes))
    hours = minutes // 60
    if hours < 24:
        return str(gettext("console.texts.hours_minutes", hours=hours, minutes=minutes % 60))
    return str(gettext("console.texts.days_hours", days=hours // 24, hours=hours % 24))


def _clock(moment: datetime, now: datetime) -> str:
    """A moment in Copenhagen time: "kl. 18:00" today, "6/12 kl. 18:00" another day."""
    local, today = moment.astimezone(COPENHAGEN), now.astimezone(COPENHAGEN)
    time = local.strftime("%H:%M")
    if local.date() == today.date():
        return str(gettext("console.texts.at_today", time=time))
    return str(gettext("console.texts.at_day", day=f"{local.day}/{local.month}", time=time))


def _minutes(later: datetime, earlier: datetime) -> int:
    return int((later - earlier).total_seconds() // 60)


def _wait(summary: ThreadSummary | None, now: datetime) -> dict[str, object] | None:
    """Waited so long, against the promise: late (past it) or the time left."""
    if summary is None or summary.waiting_since is None:
        return None
    wait: dict[str, object] = {
        "waited": _duration(_minutes(now, summary.waiting_since)),
        "count": summary.waiting,
    }
    if summary.promised_by is not None:
        wait["promised"] = _clock(summary.promised_by, now)
        wait["late"] = summary.promised_by < now
        wait["margin"] = _duration(abs(_minutes(summary.promised_by, now)))
    return wait


def _relative(session: Session, relative_id: int) -> Relative:
    relative = session.get(Relative, relative_id)
    if relative is None:
        abort(404)
    return relative


def _audit(session: Session, user: StaffUser, action: Action, relative_id: int, detail: str) -> None:
    audit.record(
        session,
        actor=user.identity.username,
        account_id=user.identity.account_id,
        action=action,
        relative_id=relative_id,
        subject="texts",
        detail=detail,
        remote_addr=request.remote_addr,
    )


@bp.get("")
@login_required
def index() -> str:
    """The inbox: masked numbers, languages and waits; no bodies (those are in the thread, which is audited)."""
    now = utcnow()
    with current_runtime().console_sessions() as session:
        rows = [
            {
                "summary": summary,
                "wait": _wait(summary, now),
                "last": _clock(summary.last_text_at, now),
            }
            for summary in threads.inbox(session)
        ]
    unanswered = [row for row in rows if row["wait"] is not None]
    answered = [row for row in rows if row["wait"] is None]
    return render_template("console/texts.html", unanswered=unanswered, answered=answered)


def _check_values(check: ReplyCheck) -> dict[str, object]:
    return {
        "check": check,
        "guard_reason": f"guard.{check.guard.reason_code.value}",
        "guard_number": check.guard.masked,
        "guard_region": check.guard.region or "?",
    }


def _render_thread(
    relative_id: int,
    *,
    body: str = "",
    draft: str | None = None,
    check: ReplyCheck | None = None,
    status: int = 200,
) -> tuple[str, int]:
    runtime = current_runtime()
    user = signed_in()
    now = utcnow()
    with runtime.console_sessions.begin() as session:
        found = threads.thread(session, runtime.settings, relative_id)
        if found is None:
            abort(404)
        _audit(session, user, Action.VIEWED, relative_id, "thread")
        quick = threads.quick_replies(runtime.settings, found.language)
        chosen = request.args.get("quick", "")
        if not body and chosen in quick:
            body = quick[chosen]
        check = check or threads.check_reply(session, runtime.settings, found.relative, body)
        items = [
            {
                "kind": item.kind,
                "body": item.body,
                "at": _clock(item.at, now),
                "delivery": (
                    None
                    if item.kind == "relative"
                    else (TWILIO_STATUS if item.with_twilio else OUTBOX_STATE).get(item.status)
                ),
                "code": item.failure_code,
            }
            for item in found.items
        ]
        values = {
            "thread": found,
            "relative_id": relative_id,
            "items": items,
            "wait": _wait(found.summary, now),
            "quick": list(quick),
            "quick_da": threads.quick_replies(runtime.settings, "da") if found.language != "da" else None,
            "chosen": chosen if chosen in quick else None,
            "body": body,
            "draft": draft or secrets.token_urlsafe(12),
            "callback": staff_texts.reference(found.open_callback) if found.open_callback else None,
            "submitted": status == 422,
            "outcome": request.args.get("done", ""),
            **_check_values(check),
        }
    return render_template("console/thread.html", **values), status


@bp.get("/<int:relative_id>")
@login_required
def thread(relative_id: int) -> tuple[str, int]:
    return _render_thread(relative_id)


@bp.post("/<int:relative_id>/check")
@login_required
def check(relative_id: int) -> str:
    """The reply as it would go (encoding, segments, what stops it), for htmx to show while the advisor types."""
    runtime = current_runtime()
    with runtime.console_sessions() as session:
        relative = _relative(session, relative_id)
        found = threads.check_reply(session, runtime.settings, relative, request.form.get("body", ""))
    return render_template("console/_reply_check.html", **_check_values(found))


@bp.post("/<int:relative_id>/reply")
@login_required
def reply(relative_id: int) -> BaseResponse | tuple[str, int]:
    """Write the reply to the outbox; back to the thread, where it shows as waiting, sent, then delivered."""
    runtime = current_runtime()
    body = request.form.get("body", "")
    draft = request.form.get("draft", "")[:64] or secrets.token_urlsafe(12)
    refused = None
    with runtime.console_sessions.begin() as session:
        relative = _relative(session, relative_id)
        try:
            threads.send_reply(session, runtime.settings, relative, body, draft=draft, now=utcnow())
        except threads.ReplyRefused as error:
            refused = error.check  # nothing was written
        else:
            _audit(session, signed_in(), Action.CHANGED, relative_id, "advisor_reply")
    if refused is not None:
        return _render_thread(relative_id, body=body, draft=draft, check=refused, status=422)
    return redirect(url_for(".thread", relative_id=relative_id, done="sent", _anchor="texts"), code=303)


@bp.post("/<int:relative_id>/callback")
@login_required
def callback(relative_id: int) -> BaseResponse:
    """Hand the thread to the callback queue (the relative's open callback, or a new one)."""
    runtime = current_runtime()
    user = signed_in()
    with runtime.console_sessions.begin() as session:
        relative = _relative(session, relative_id)
        try:
            registration = threads.to_callback(
                session, runtime.settings, relative, actor=f"staff:{user.identity.username}", now=utcnow()
            )
        except callback_queue.CallbackRefused:
            done = "callback_refused"
        else:
            done = "callback_new" if registration.created else "callback_joined"
            _audit(session, user, Action.CHANGED, relative_id, "callback")
    return redirect(url_for(".thread", relative_id=relative_id, done=done), code=303)
