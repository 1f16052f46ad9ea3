"""The staff pages behind the links in staff texts: the roster's gaps, and the handover links texted before the
console, which now lead to the console's handover page (`hotline/staff/console/handover.py`). Read-only; the link
is the credential (see hotline.services.links).

The roster page shows advisors' names and times, never a relative's phone number. Every page is `no-store`, `noindex`,
sends no referrer, and loads nothing from elsewhere. A link is checked against the database at every request: a
wrong, expired or revoked link, or one of an advisor who is inactive or gone from the roster, gets the same 404
("Linket virker ikke længere"), logged with its cause but without the advisor or the token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, Response, redirect, render_template, url_for
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from hotline.db.models import utcnow
from hotline.services import rosters
from hotline.services.links import check_staff
from hotline.services.oncall import coverage_hours
from hotline.web import current_runtime
from routing.gaps import find_gaps
from routing.oncall import coverage
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import da, default_catalogue, ref
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


@bp.get("/staff/handover/<token>")
def handover(token: str) -> BaseResponse:
    """A handover link texted before the console existed: still checked (a wrong, expired or revoked link, or an
    inactive advisor's, is refused as before), then on to the console's handover page, after signing in."""
    runtime = current_runtime()
    try:
        with runtime.sessions() as session:
            advisor = check_staff(session, runtime, "handover", token, utcnow())
    except SQLAlchemyError:
        log.exception("handover link: database unavailable")
        return _page("staff/unavailable.html", status=503)
    if advisor is None:
        return _not_found("handover", "not a current link of an active advisor")
    response = redirect(url_for("console.handover.index"))
    response.headers.update(HEADERS)
    return response


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
