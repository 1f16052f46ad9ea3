"""The staff console: one blueprint at /console/ with its children (`auth`: sign-in and sign-out; `home`: the
first page), its templates and static files (htmx vendored, no CDN), and what every console response carries:
a strict Content-Security-Policy (scripts and styles from the hotline itself only, nothing inline), no caching,
no framing. Errors on console pages are HTML pages in the reader's language, never a traceback.

Everything here runs inside the web process beside the webhooks but shares nothing with them except the
database pool: a failing console page answers for itself (`_unavailable`, `_error`).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from hotline.staff.console import (
    accounts,
    audit_log,
    auth,
    calendar_view,
    data_requests,
    handover,
    home,
    oidc,
    queue,
    relatives,
    reports,
    retention,
    roster_editor,
    roster_requests,
    roster_versions,
    texts,
)
from hotline.staff.console.i18n import SESSION_KEY, chosen_language
from hotline.staff.console.identity import console_path, refuse_read_only_role
from hotline.web import current_runtime
from routing.wording.catalogue import LANGUAGES

log = logging.getLogger(__name__)

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
bp.register_blueprint(auth.bp)
bp.register_blueprint(oidc.bp)
bp.register_blueprint(home.bp)
bp.register_blueprint(accounts.bp)
bp.register_blueprint(queue.bp)
bp.register_blueprint(relatives.bp)
bp.register_blueprint(handover.bp)
bp.register_blueprint(texts.bp)
bp.register_blueprint(roster_editor.bp)
bp.register_blueprint(roster_versions.bp)
bp.register_blueprint(roster_requests.bp)
bp.register_blueprint(audit_log.bp)
bp.register_blueprint(data_requests.bp)
bp.register_blueprint(retention.bp)
bp.before_request(refuse_read_only_role)
bp.register_blueprint(reports.bp)
bp.register_blueprint(calendar_view.bp)

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "media-src 'self'",  # voicemails, streamed by the console itself (relatives.recording)
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    # same-origin, not no-referrer: Flask-WTF's CSRF check over https compares the Referer with the host.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    if request.endpoint == "console.static":
        response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.context_processor
def _page_values() -> dict[str, object]:
    return {
        "service_name": current_runtime().settings.file.service.name,
        "language": chosen_language(),
        "other_language": next(code for code in LANGUAGES if code != chosen_language()),
        "oidc": _oidc_button(),
    }


def _oidc_button() -> str | None:
    """The identity provider's name for the sign-in button, when OpenID Connect is set up."""
    config = current_runtime().settings.file.console.oidc
    return config.display_name if config.enabled else None


@bp.post("/language")
def language() -> BaseResponse:
    """Switch the console between Danish and English (kept in the session)."""
    chosen = request.form.get("language", "")
    if chosen in LANGUAGES:
        session[SESSION_KEY] = chosen
    return redirect(console_path(request.form.get("next")) or url_for("console.home.index"))


def _error_page(kind: str, status: int) -> tuple[str, int]:
    return render_template("console/error.html", kind=kind), status


@bp.errorhandler(CSRFError)
def _csrf(error: CSRFError) -> tuple[str, int]:
    log.info("console: CSRF check failed (%s)", error.description, extra={"path": request.path})
    return _error_page("csrf", 400)


@bp.errorhandler(SQLAlchemyError)
def _unavailable(error: SQLAlchemyError) -> tuple[str, int]:
    log.error("console: database unavailable (%s)", type(error).__name__, extra={"path": request.path})
    # The page is shown as to someone not signed in: who is signed in cannot be looked up now, and asking the
    # database again from the layout would turn this answer into a 500.
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    return _error_page("unavailable", 503)


@bp.errorhandler(HTTPException)
def _error(error: HTTPException) -> tuple[str, int] | HTTPException:
    pages = {403: "forbidden", 404: "not_found"}
    if error.code in pages:
        return _error_page(pages[error.code], error.code)
    return error


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> tuple[str, int] | HTTPException:
    if isinstance(error, HTTPException):
        return _error(error)
    log.error("console: unexpected error", exc_info=error, extra={"path": request.path})
    return _error_page("unexpected", 500)
