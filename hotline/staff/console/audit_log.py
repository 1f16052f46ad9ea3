"""The audit log for managers, admins and the data-protection officer: `/console/audit/` searched by period
(Copenhagen dates), actor, action, relative (by phone number) and subject, newest first a page at a time, and
`/console/audit/export?format=csv|json` with the same filters (the export is itself a row in the log).

The filters live in the URL (a search can be bookmarked and paged) except the phone number: the form is posted,
the number normalised here and turned into relative ids (hotline.services.audit_search), and the browser sent on
to a URL with the ids only. The number is never put in a URL, a log line or the audit log.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from hotline.db.models import utcnow
from hotline.services import audit, audit_search, spreadsheet
from hotline.services.audit_search import AuditQuery
from hotline.services.pseudonyms import pseudonym_key
from hotline.services.staff_accounts import Role
from hotline.staff.console.identity import login_required, roles_required, signed_in
from hotline.web import current_runtime
from routing.numbers import normalize_number
from routing.wallclock import COPENHAGEN, wall_to_utc

log = logging.getLogger(__name__)

bp = Blueprint("audit", __name__)
READERS = (Role.MANAGER, Role.ADMIN, Role.DPO)
ACTIONS = tuple(action.value for action in audit.Action)
FILTERS = ("since", "until", "actor", "action", "relative", "subject")


class FilterProblem(Exception):
    """A filter that cannot be used: `message_id` says which and why."""

    def __init__(self, message_id: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise FilterProblem("console.audit.error.date") from None


def _query(args: MultiDict[str, str]) -> AuditQuery:
    """The filters in `args` as a query; FilterProblem for one that makes no sense. Dates are Copenhagen
    calendar dates, both included."""
    since, until = _day(args.get("since")), _day(args.get("until"))
    if since and until and until < since:
        raise FilterProblem("console.audit.error.order")
    action = (args.get("action") or "").strip() or None
    if action is not None and action not in ACTIONS:
        raise FilterProblem("console.audit.error.action")
    relatives = args.getlist("relative")
    if not all(value.isdigit() for value in relatives):
        raise FilterProblem("console.audit.error.relative")
    return AuditQuery(
        since=wall_to_utc(since, time(0)) if since else None,
        until=wall_to_utc(until + timedelta(days=1), time(0)) if until else None,
        actor=(args.get("actor") or "").strip()[:100] or None,
        action=action,
        relative_ids=tuple(int(value) for value in relatives),
        subject=(args.get("subject") or "").strip()[:100] or None,
    )


def _filters(args: MultiDict[str, str]) -> list[tuple[str, str]]:
    """The filters in `args` as they go back into a URL (paging, export)."""
    return [(name, value) for name in FILTERS for value in args.getlist(name) if value]


def _local(moment: datetime) -> str:
    return moment.astimezone(COPENHAGEN).strftime("%d/%m/%Y %H:%M:%S")


def _render(args: MultiDict[str, str], problem: str | None = None, status: int = 200) -> tuple[str, int]:
    rows: list[Any] = []
    after = None
    if problem is None:
        try:
            query = _query(args)
        except FilterProblem as error:
            problem, status = error.message_id, 400
        else:
            start = args.get("after", "")
            with current_runtime().console_sessions() as db:
                rows, after = audit_search.page(db, query, after=int(start) if start.isdigit() else None)
    filters = _filters(args)
    return render_template(
        "console/audit.html",
        rows=rows,
        local=_local,
        actions=ACTIONS,
        args=args,
        problem=problem,
        next_url=_url("console.audit.index", [*filters, ("after", str(after))]) if after else None,
        csv_url=_url("console.audit.export", [*filters, ("format", "csv")]),
        json_url=_url("console.audit.export", [*filters, ("format", "json")]),
        number_searched=args.get("by_number") == "1",
    ), status


def _url(endpoint: str, pairs: list[tuple[str, str]]) -> str:
    """The endpoint's URL with `pairs` as its query (a name may repeat: relative=1&relative=2)."""
    return url_for(endpoint) + (f"?{urlencode(pairs)}" if pairs else "")


@bp.route("/audit/", methods=["GET", "POST"])
@login_required
@roles_required(*READERS)
def index() -> BaseResponse | tuple[str, int]:
    if request.method == "GET":
        return _render(request.args)
    # The form, posted: the number (if any) becomes relative ids; everything else goes into the URL as it is.
    form = request.form
    pairs = [(name, form.get(name, "").strip()) for name in FILTERS if name != "relative"]
    pairs = [(name, value) for name, value in pairs if value]
    raw = form.get("number", "").strip()
    if raw:
        number = normalize_number(raw[:40])
        if number is None:
            return _render(MultiDict(pairs), problem="console.timeline.not_a_number", status=400)
        runtime = current_runtime()
        with runtime.console_sessions() as db:
            ids = audit_search.relative_ids_for_number(db, number, pseudonym_key(runtime))
        if not ids:
            return _render(MultiDict(pairs), problem="console.audit.error.nobody", status=404)
        pairs += [("relative", str(rid)) for rid in ids] + [("by_number", "1")]
    return redirect(_url("console.audit.index", pairs))


@bp.get("/audit/export")
@login_required
@roles_required(*READERS)
def export() -> Response | tuple[str, int]:
    """The filtered rows (newest first, at most audit_search.EXPORT_LIMIT) as CSV or JSON; audited."""
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "json"):
        return _render(request.args, problem="console.audit.error.format", status=400)
    try:
        query = _query(request.args)
    except FilterProblem as error:
        return _render(request.args, problem=error.message_id, status=400)
    user = signed_in()
    now = utcnow()
    with current_runtime().console_sessions.begin() as db:
        records = [audit_search.as_record(entry) for entry in audit_search.rows(db, query)]
        audit.record(
            db,
            actor=user.identity.username,
            action=audit.Action.EXPORTED,
            account_id=user.identity.account_id,
            subject="audit_log",
            detail=f"{fmt}, {len(records)} rows; {audit_search.describe(query)}",
            remote_addr=request.remote_addr,
            at=now,
        )
    stamp = now.astimezone(COPENHAGEN).strftime("%Y%m%d-%H%M%S")
    if fmt == "json":
        body = json.dumps({"exported_at": now.isoformat(), "rows": records}, ensure_ascii=False, indent=1)
        mimetype = "application/json"
    else:
        body, mimetype = spreadsheet.to_csv(audit_search.COLUMNS, records), "text/csv"
    log.info("console: audit log exported", extra={"rows": len(records), "format": fmt})
    return Response(
        body.encode("utf-8"),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="revisionslog-{stamp}.{fmt}"'},
    )
