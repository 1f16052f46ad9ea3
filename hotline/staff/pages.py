"""The staff pages behind the links in staff texts: the handover (open callbacks, acute first, and the notes left
on them) and the roster's gaps. Read-only; the link is the credential (see hotline.staff.links).

The pages show case references, categories, times and advisors' notes, never a relative's phone number: the
callback dialer rings the advisor first and puts the relative through. Every page is `no-store`, `noindex`,
sends no referrer, and loads nothing from elsewhere. A wrong or expired link gets the same 404.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, Response, render_template
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hotline.db.models import AdvisorRecord, CallbackAttempt, CallbackRequest, utcnow
from hotline.services import callback_queue, rosters
from hotline.services.links import parse_staff_token
from hotline.services.oncall import coverage_hours
from hotline.services.staff_texts import reason_name, reference
from hotline.web import current_runtime
from routing.callbacks import Priority
from routing.gaps import find_gaps
from routing.oncall import coverage
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import da, default_catalogue, known, language_name, ref
from sms.timephrase import window_phrase

log = logging.getLogger(__name__)

bp = Blueprint("staff", __name__, template_folder="templates")

GAP_DAYS = 7
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


@dataclass(frozen=True)
class Note:
    at: str
    author: str
    text: str


@dataclass(frozen=True)
class Case:
    reference: str
    category: str
    acute: bool
    state: str
    due: str
    window: str
    language: str
    assigned: str
    attempts: int
    notes: list[Note]
    recording: str = ""  # the voicemail's reference, when the case came with one
    dialable: bool = True  # False: a voicemail from a withheld number; listen, then close


def _local(moment: datetime, pattern: str = "%d/%m %H:%M") -> str:
    return moment.astimezone(COPENHAGEN).strftime(pattern)


@bp.context_processor
def _wording() -> dict[str, object]:
    """The staff catalogue in the templates: `da(id, ...)`, `both(id, ...)`, `ref(id, ...)` for a message as a
    value, and `code(command)`. Values are escaped, as Flask-Babel's `_()` escapes them."""
    catalogue = default_catalogue()

    def in_language(language: str, message_id: str, values: dict[str, object]) -> Markup:
        return Markup(catalogue.format(message_id, language, values, quote=escape))

    def da_(message_id: str, **values: object) -> Markup:
        return in_language("da", message_id, values)

    def both_(message_id: str, **values: object) -> Markup:
        return Markup(f"{in_language('da', message_id, values)} ({in_language('en', message_id, values)})")

    def code(command: str) -> Markup:
        return Markup("<code>{}</code>").format(command)

    return {"da": da_, "both": both_, "ref": ref, "code": code}


def _page(template: str, status: int = 200, **values: object) -> Response:
    values.setdefault("service_name", current_runtime().settings.file.service.name)
    response = Response(render_template(template, **values), status=status, mimetype="text/html")
    response.headers.update(HEADERS)
    return response


def _not_found() -> Response:
    return _page("staff/gone.html", status=404)


def _state_name(state: str) -> str:
    """A callback's state as staff read it ("venter"); an unknown state as itself."""
    return da(f"callback.state.{state}") if known(f"callback.state.{state}") else state


def _cases(
    callbacks: list[CallbackRequest], names: dict[str, str], notes: dict[int, list[Note]]
) -> list[Case]:
    return [
        Case(
            reference=reference(c),
            category=reason_name(c.reason),
            acute=c.priority == Priority.ACUTE.value,
            state=_state_name(c.state),
            due=_local(c.due_at),
            window=f"{_local(c.window_start)}–{_local(c.window_end, '%H:%M')}",
            language=language_name(c.language),
            assigned=names.get(c.assigned_advisor_id or "", "-"),
            attempts=c.attempts,
            notes=notes.get(c.id, []),
            recording=c.recording_sid or "",
            dialable=c.phone_number is not None,
        )
        for c in callbacks
    ]


@bp.get("/staff/handover/<token>")
def handover(token: str) -> Response:
    runtime = current_runtime()
    now = utcnow()
    advisor_id = parse_staff_token(runtime, "handover", token, now)
    if advisor_id is None:
        return _not_found()
    try:
        with runtime.sessions() as session:
            names: dict[str, str] = {
                row.id: row.name for row in session.execute(select(AdvisorRecord.id, AdvisorRecord.name))
            }
            if advisor_id not in names:
                return _not_found()
            callbacks = callback_queue.queue(session)
            notes: dict[int, list[Note]] = {}
            for attempt in session.scalars(
                select(CallbackAttempt)
                .where(
                    CallbackAttempt.callback_id.in_([c.id for c in callbacks]),
                    CallbackAttempt.note.is_not(None),
                )
                .order_by(CallbackAttempt.id)
            ):
                author = names.get(attempt.advisor_id or "", "-")
                notes.setdefault(attempt.callback_id, []).append(
                    Note(_local(attempt.started_at), author, attempt.note or "")
                )
            cases = _cases(callbacks, names, notes)
    except SQLAlchemyError:
        log.exception("handover page: database unavailable")
        return _page("staff/unavailable.html", status=503)
    log.info("handover page viewed", extra={"advisor": advisor_id, "cases": len(cases)})
    return _page(
        "staff/handover.html",
        advisor=names[advisor_id],
        as_of=_local(now, "%d/%m/%Y %H:%M"),
        cases=cases,
        acute=sum(1 for c in cases if c.acute),
        notes=sum(len(c.notes) for c in cases),
    )


@dataclass(frozen=True)
class Gap:
    when: str
    start: str
    end: str


@dataclass(frozen=True)
class OnCall:
    layer: str
    name: str
    until: str


@bp.get("/staff/roster/<token>")
def roster_page(token: str) -> Response:
    runtime = current_runtime()
    now = utcnow()
    advisor_id = parse_staff_token(runtime, "roster", token, now)
    if advisor_id is None:
        return _not_found()
    try:
        with runtime.sessions() as session:
            roster = rosters.current_roster(session)
    except SQLAlchemyError:
        log.exception("roster page: database unavailable")
        return _page("staff/unavailable.html", status=503)
    if roster is None or not roster.has_advisor(advisor_id):
        return _not_found()
    end = now + timedelta(days=GAP_DAYS)
    gaps = [
        Gap(window_phrase(max(g.start, now), g.end, now, "da"), _local(g.start), _local(g.end))
        for g in find_gaps(roster, now, end, coverage_hours(runtime.settings))
    ]
    on_call = [
        OnCall(da(entry.layer.message_id), entry.advisor.name, _local(entry.end))
        for interval in coverage(roster, now, now + timedelta(seconds=1))
        for entry in interval.entries
    ]
    return _page(
        "staff/roster.html",
        as_of=_local(now, "%d/%m/%Y %H:%M"),
        days=GAP_DAYS,
        gaps=gaps,
        on_call=on_call,
    )
