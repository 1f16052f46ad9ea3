"""The managers' reports (/console/reports): the dashboard of one period's figures with its charts, the list behind
each figure (50 rows a page, each linking to the relative's timeline), and CSV exports of the lists and of the
figures. Managers and admins only; the figures are counted by hotline.services.reports, the period maths and the
chart geometry are routing.report_periods and routing.report_charts.

Audit: every list page is a `viewed` row (subject `report:<list>`, the period, the page and whether numbers were
shown), every CSV of a list an `exported` row; the figures' CSV holds no personal data and is not audited.

CSV: UTF-8 with a byte-order mark and `;` between fields, which is what Excel with Danish settings opens
straight away (its decimal separator is the comma, so decimals are written with a comma too); times are
Copenhagen wall-clock with their UTC offset (ISO 8601), so the repeated October hour stays unambiguous.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from hotline.db.models import utcnow
from hotline.services import audit, reports
from hotline.services.reports import Drill, Figures, Kept, TextAnswer
from hotline.services.staff_accounts import Role
from hotline.staff.console.identity import StaffUser, login_required, roles_required, signed_in
from hotline.web import current_runtime
from routing.numbers import display_number, mask_number
from routing.report_charts import bar_chart
from routing.report_periods import Period, PeriodError, Preset, parse_period, preset_period, share
from routing.wallclock import COPENHAGEN

bp = Blueprint("reports", __name__)

BOM = "\ufeff"
DELIMITER = ";"


def _titles() -> dict[Drill, str]:
    return {
        Drill.CALLS: _("console.reports.list.calls"),
        Drill.CALLS_HUMAN: _("console.reports.list.calls_human"),
        Drill.CALLS_MISSED: _("console.reports.list.calls_missed"),
        Drill.CALLS_LANGUAGE: _("console.reports.list.calls_language"),
        Drill.CALLBACKS_KEPT: _("console.reports.list.callbacks_kept"),
        Drill.CALLBACKS_OUTSIDE: _("console.reports.list.callbacks_outside"),
        Drill.CALLBACKS_NOT_REACHED: _("console.reports.list.callbacks_not_reached"),
        Drill.CALLBACKS_OPEN: _("console.reports.list.callbacks_open"),
        Drill.OVERDUE: _("console.reports.list.overdue"),
        Drill.TEXTS_IN_TIME: _("console.reports.list.texts_in_time"),
        Drill.TEXTS_LATE: _("console.reports.list.texts_late"),
        Drill.TEXTS_UNANSWERED: _("console.reports.list.texts_unanswered"),
        Drill.TEXTS_CALLBACK: _("console.reports.list.texts_callback"),
        Drill.FALLBACK: _("console.reports.list.fallback"),
        Drill.OPT_OUTS: _("console.reports.list.opt_outs"),
    }


def _headers(drill: Drill) -> list[str]:
    words = {
        "status": _("console.reports.column.status"),
        "advisor": _("console.reports.column.advisor"),
        "to_human": _("console.reports.column.to_human"),
        "case": _("console.reports.column.case"),
        "state": _("console.reports.column.state"),
        "window_start": _("console.reports.column.window_start"),
        "window_end": _("console.reports.column.window_end"),
        "reached_at": _("console.reports.column.reached_at"),
        "promised": _("console.reports.column.promised"),
        "answered_at": _("console.reports.column.answered_at"),
        "duration": _("console.reports.column.duration"),
        "source": _("console.reports.column.source"),
    }
    return [
        _("console.reports.column.at"),
        _("console.reports.column.number"),
        _("console.reports.column.language"),
        *[words[d] for d in reports.details_of(drill)],
    ]


def _period() -> Period:
    preset = request.args.get("preset")
    if preset:
        try:
            return preset_period(Preset(preset), utcnow())
        except ValueError as error:
            raise PeriodError("console.reports.error.date") from error
    return parse_period(request.args.get("from"), request.args.get("to"), utcnow())


def _local(moment: datetime | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
    return moment.astimezone(COPENHAGEN).strftime(pattern) if moment is not None else ""


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(COPENHAGEN).isoformat(sep=" ", timespec="seconds") if moment is not None else ""


def _decimal(value: float | None) -> str:
    """One decimal, with the comma in Danish (and in the CSV, for Excel), the point in English."""
    if value is None:
        return "–"
    text = f"{value:.1f}"
    return text.replace(".", ",") if _("console.reports.decimal_point") == "," else text


def numbers_visible(user: StaffUser) -> bool:
    """The console's number rule (services/timeline.number_visible): managers and admins see numbers in full;
    the reports are theirs alone, but the rule is stated here so a wider role would see them masked."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def _number(number: str | None, full: bool) -> str:
    if number is None:
        return str(_("console.reports.withheld"))
    if number.startswith("ps:"):
        return str(_("console.reports.pseudonymised"))
    return display_number(number) if full else mask_number(number)


def _audit(db: Session, user: StaffUser, action: audit.Action, subject: str, detail: str) -> None:
    audit.record(
        db,
        actor=user.identity.username,
        action=action,
        account_id=user.identity.account_id,
        subject=subject,
        detail=detail,
        remote_addr=request.remote_addr,
    )


def _charts(figures: Figures) -> dict[str, Any]:
    hours = [f"{h:02d}" for h in range(24)]
    return {
        "hours": bar_chart(hours, figures.by_hour),
        "weekdays": bar_chart(
            [
                _("console.reports.day.1"),
                _("console.reports.day.2"),
                _("console.reports.day.3"),
                _("console.reports.day.4"),
                _("console.reports.day.5"),
                _("console.reports.day.6"),
                _("console.reports.day.7"),
            ],
            figures.by_weekday,
        ),
    }


@bp.get("/reports")
@login_required
@roles_required(Role.MANAGER, Role.ADMIN)
def index() -> tuple[str, int] | str:
    try:
        period = _period()
    except PeriodError as error:
        return render_template(
            "console/reports.html",
            problem=error.message_id,
            raw_from=request.args.get("from", ""),
            raw_to=request.args.get("to", ""),
            period=None,
        ), 400
    now = utcnow()
    with current_runtime().console_sessions() as db:
        figures = reports.figures(db, period, now)
    kept = figures.kept
    texts = figures.texts
    return render_template(
        "console/reports.html",
        problem=None,
        period=period,
        raw_from=period.first.isoformat(),
        raw_to=period.last.isoformat(),
        query=period.query(),
        f=figures,
        Drill=Drill,
        Kept=Kept,
        TextAnswer=TextAnswer,
        kept_share=_decimal(share(kept[Kept.KEPT], figures.kept_cohort)),
        human_share=_decimal(share(figures.human, figures.routed)),
        texts_share=_decimal(share(texts[TextAnswer.IN_TIME], figures.texts_cohort)),
        median=_decimal(figures.to_human[0.5]),
        p90=_decimal(figures.to_human[0.9]),
        charts=_charts(figures),
        weekday_names=[
            _("console.reports.weekday.1"),
            _("console.reports.weekday.2"),
            _("console.reports.weekday.3"),
            _("console.reports.weekday.4"),
            _("console.reports.weekday.5"),
            _("console.reports.weekday.6"),
            _("console.reports.weekday.7"),
        ],
        now=_local(now),
        presets=[
            (Preset.LAST_7.value, _("console.reports.preset.last7")),
            (Preset.LAST_30.value, _("console.reports.preset.last30")),
            (Preset.THIS_MONTH.value, _("console.reports.preset.this_month")),
            (Preset.LAST_MONTH.value, _("console.reports.preset.last_month")),
        ],
    )


def _drill(name: str) -> Drill:
    try:
        return Drill(name)
    except ValueError:
        abort(404)


def _cells(row: reports.Row, full: bool) -> list[str]:
    cells = [_iso(row.at), _number(row.number, full), row.language or ""]
    for value in row.details:
        if isinstance(value, datetime):
            cells.append(_iso(value))
        elif isinstance(value, float):
            cells.append(_decimal(value))
        else:
            cells.append("" if value is None else str(value))
    return cells


@bp.get("/reports/list/<name>")
@login_required
@roles_required(Role.MANAGER, Role.ADMIN)
def drill(name: str) -> tuple[str, int] | str:
    which = _drill(name)
    try:
        period = _period()
    except PeriodError:
        abort(400)
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    language = request.args.get("language") or None
    user = signed_in()
    full = numbers_visible(user)
    now = utcnow()
    with current_runtime().console_sessions.begin() as db:
        total, rows = reports.drill_page(db, which, period, now, page=page, language=language)
        _audit(
            db,
            user,
            audit.Action.VIEWED,
            f"report:{which.value}",
            f"{period.first}..{period.last} page {page}: {len(rows)} of {total} rows, "
            + ("numbers shown" if full else "numbers masked"),
        )
    pages = max(1, -(-total // reports.PAGE_SIZE))
    query: dict[str, Any] = {**period.query(), **({"language": language} if language else {})}
    return render_template(
        "console/report_list.html",
        title=_titles()[which],
        drill=which,
        period=period,
        query=query,
        headers=_headers(which),
        rows=[(row.relative_id, _cells(row, full)) for row in rows],
        total=total,
        page=page,
        pages=pages,
        previous_url=url_for(".drill", name=which.value, page=page - 1, **query) if page > 1 else None,
        next_url=url_for(".drill", name=which.value, page=page + 1, **query) if page < pages else None,
    )


def _csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER)
    yield BOM
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _csv_response(lines: Iterator[str], filename: str) -> Response:
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/reports/list/<name>.csv")
@login_required
@roles_required(Role.MANAGER, Role.ADMIN)
def drill_csv(name: str) -> Response:
    which = _drill(name)
    try:
        period = _period()
    except PeriodError:
        abort(400)
    language = request.args.get("language") or None
    user = signed_in()
    full = numbers_visible(user)
    now = utcnow()
    runtime = current_runtime()
    with runtime.console_sessions.begin() as db:  # the export is recorded before a byte leaves
        total = reports.drill_count(db, which, period, now, language=language)
        _audit(
            db,
            user,
            audit.Action.EXPORTED,
            f"report:{which.value}",
            f"{period.first}..{period.last}: {total} rows as CSV, "
            + ("numbers shown" if full else "numbers masked"),
        )
    headers = _headers(which)

    def rows() -> Iterator[list[str]]:
        yield [*headers, _("console.reports.column.relative")]
        with runtime.console_sessions() as stream:
            for row in reports.drill_rows(stream, which, period, now, language=language):
                yield [*_cells(row, full), "" if row.relative_id is None else str(row.relative_id)]

    return _csv_response(_csv_lines(rows()), f"{which.value}_{period.first}_{period.last}.csv")


@bp.get("/reports/figures.csv")
@login_required
@roles_required(Role.MANAGER, Role.ADMIN)
def figures_csv() -> Response:
    try:
        period = _period()
    except PeriodError:
        abort(400)
    with current_runtime().console_sessions() as db:
        f = reports.figures(db, period, utcnow())
    lines: list[list[str]] = [
        [_("console.reports.column.figure"), _("console.reports.column.value")],
        ["from", period.first.isoformat()],
        ["to", period.last.isoformat()],
        ["calls", str(f.calls)],
        ["calls_routed", str(f.routed)],
        ["calls_human", str(f.human)],
        ["to_human_median_seconds", _decimal(f.to_human[0.5])],
        ["to_human_p90_seconds", _decimal(f.to_human[0.9])],
        *[[f"callbacks_{k.value}", str(n)] for k, n in f.kept.items()],
        ["callbacks_cancelled", str(f.cancelled)],
        ["callbacks_overdue_now", str(f.overdue)],
        *[[f"texts_{a.value}", str(n)] for a, n in f.texts.items()],
        *[[f"language_{lang}", str(n)] for lang, n in f.languages],
        ["fallback_voicemails", str(f.fallback)],
        ["opt_outs", str(f.opt_outs)],
        *[[f"hour_{h:02d}", str(n)] for h, n in enumerate(f.by_hour)],
        *[[f"weekday_{d}", str(n)] for d, n in enumerate(f.by_weekday, start=1)],
    ]
    return _csv_response(_csv_lines(lines), f"figures_{period.first}_{period.last}.csv")
