"""The staff pages behind the links in staff texts: an advisor's handover (the open callbacks that fall to them,
acute first, the notes left on those, and the texts waiting; see hotline.services.handover) and the roster's
gaps. Read-only; the link is the credential (see hotline.services.links).

The pages show case references, categories, times and advisors' notes, never a relative's phone number: the
callback dialer rings the advisor first and puts the relative through. Every page is `no-store`, `noindex`,
sends no referrer, and loads nothing from elsewhere. A link is checked against the database at every request: a
wrong, expired or revoked link, or one of an advisor who is inactive or gone from the roster, gets the same 404
("Linket virker ikke længere"), logged with its cause but without the advisor or the token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, Response, render_template
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hotline.db.models import AdvisorRecord, CallbackRequest, utcnow
from hotline.services import callback_queue, outbox, rosters
from hotline.services import handover as handovers
from hotline.services.links import check_staff
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


def _not_found(page: str, cause: str) -> Response:
    log.warning("staff link refused: %s", cause, extra={"page": page})
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


@dataclass(frozen=True)
class Text:
    at: str
    language: str


@bp.get("/staff/handover/<token>")
def handover(token: str) -> Response:
    runtime = current_runtime()
    now = utcnow()
    try:
        with runtime.sessions() as session:
            advisor = check_staff(session, runtime, "handover", token, now)
            if advisor is None:
                return _not_found("handover", "not a current link of an active advisor")
            names: dict[str, str] = {
                row.id: row.name for row in session.execute(select(AdvisorRecord.id, AdvisorRecord.name))
            }
            work = handovers.for_advisor(session, rosters.current_roster(session), advisor.id, now)
            notes = {
                callback_id: [
                    Note(_local(a.started_at), names.get(a.advisor_id or "", "-"), a.note or "")
                    for a in attempts
                ]
                for callback_id, attempts in work.notes.items()
            }
            cases = _cases(work.callbacks, names, notes)
            default = runtime.settings.file.languages.default  # a relative who never chose one gets it
            waiting = [Text(_local(t.received_at), language_name(t.language or default)) for t in work.texts]
            advisor_name = advisor.name
            day_ago = now - timedelta(days=1)
            refused_texts = outbox.refused_since(session, day_ago)
            refused_callbacks = len(callback_queue.refusals(session, day_ago))
    except SQLAlchemyError:
        log.exception("handover page: database unavailable")
        return _page("staff/unavailable.html", status=503)
    log.info("handover page viewed", extra={"cases": len(cases), "texts": len(waiting)})
    return _page(
        "staff/handover.html",
        advisor=advisor_name,
        as_of=_local(now, "%d/%m/%Y %H:%M"),
        cases=cases,
        acute=sum(1 for c in cases if c.acute),
        notes=sum(len(c.notes) for c in cases),
        with_colleagues=work.with_colleagues,
        texts=waiting,
        refused_texts=refused_texts,
        refused_callbacks=refused_callbacks,
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
    try:
        with runtime.sessions() as session:
            advisor = check_staff(session, runtime, "roster", token, now)
            roster = rosters.current_roster(session) if advisor is not None else None
    except SQLAlchemyError:
        log.exception("roster page: database unavailable")
        return _page("staff/unavailable.html", status=503)
    if advisor is None:
        return _not_found("roster", "not a current link of an active advisor")
    if roster is None or not roster.has_advisor(advisor.id) or not roster.advisor(advisor.id).active:
        return _not_found("roster", "not active in the roster in force")
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
