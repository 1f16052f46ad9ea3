"""A relative's timeline: search by number, every call, text, callback, attempt, note and voicemail newest first,
the relative's language, opt-out state and contact person (changed here), and their voicemails played through the
hotline itself. Every view is a `viewed` row in the audit log, every change a `changed` row, in the transaction
that reads or writes the data (hotline.services.timeline holds the queries and the number rule).

The number is searched with a POST (it never appears in a URL, so never in an access log) and normalised to E.164
here, at the edge. A voicemail is fetched from Twilio by the server with the account's credentials, through the
transport, and streamed to the browser: the browser never sees a Twilio URL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hotline.services import audit, staff_texts
from hotline.services import timeline as timelines
from hotline.services.timeline import ContactPersonRefused, RecordingUnavailable
from hotline.staff.console.forms import ContactPersonForm, NumberSearchForm
from hotline.staff.console.identity import StaffUser, login_required, signed_in
from hotline.web import current_runtime
from routing.numbers import display_number, mask_number, normalize_number
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import known

log = logging.getLogger(__name__)

bp = Blueprint("relatives", __name__)


def _local(moment: datetime | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
    return moment.astimezone(COPENHAGEN).strftime(pattern) if moment is not None else ""


def _audit(
    db: Session, user: StaffUser, action: audit.Action, relative_id: int | None, subject: str, detail: str
) -> None:
    audit.record(
        db,
        actor=user.identity.username,
        action=action,
        account_id=user.identity.account_id,
        relative_id=relative_id,
        subject=subject,
        detail=detail,
        remote_addr=request.remote_addr,
    )


@bp.route("/relatives", methods=["GET", "POST"])
@login_required
def search() -> BaseResponse | tuple[str, int] | str:
    form = NumberSearchForm()
    if request.method == "GET":
        return render_template("console/relatives.html", form=form, problem=None)
    if not form.validate_on_submit():
        return render_template("console/relatives.html", form=form, problem="not_a_number"), 400
    number = normalize_number(str(form.number.data))
    if number is None:
        return render_template("console/relatives.html", form=form, problem="not_a_number"), 400
    with current_runtime().console_sessions() as db:
        relative = timelines.find_by_number(db, number)
        found = relative.id if relative is not None else None
    if found is None:
        log.info("console: number search found nobody", extra={"number": mask_number(number)})
        return render_template(
            "console/relatives.html", form=form, problem="not_found", masked=mask_number(number)
        ), 404
    return redirect(url_for("console.relatives.show", relative_id=found))


@bp.get("/relatives/<int:relative_id>")
@login_required
def show(relative_id: int) -> str:
    user = signed_in()
    runtime = current_runtime()
    with runtime.console_sessions.begin() as db:
        relative = timelines.find(db, relative_id)
        if relative is None:
            abort(404)
        full = timelines.number_visible(db, relative, user.role, user.identity.advisor_id)
        older = request.args.get("older") == "1"
        # The first page asks each kind for one more than it shows, so it knows whether older events exist.
        history = timelines.timeline(
            db, relative, limit=timelines.LIMIT if older else timelines.FIRST_PAGE + 1
        )
        items = history.items if older else history.items[: timelines.FIRST_PAGE]
        more = not older and len(history.items) > timelines.FIRST_PAGE
        names = timelines.advisor_names(db)
        choices = [(a.id, a.name) for a in timelines.advisors(db)]
        references = {cid: staff_texts.reference(c) for cid, c in history.callbacks.items()}
        routes = {
            i.call_sid: ", ".join(names.get(a, a) for a in i.route)
            for i in history.items
            if isinstance(i, timelines.CallItem)
        }
        language = relative.language
        number = display_number(relative.phone_number) if full else mask_number(relative.phone_number)
        contact = relative.contact_person_id
        _audit(
            db,
            user,
            audit.Action.VIEWED,
            relative.id,
            subject="timeline",
            detail="number shown" if full else "number masked",
        )
    return render_template(
        "console/relative.html",
        relative_id=relative_id,
        number=number,
        full=full,
        language=language,
        language_id=f"language.{language}" if language and known(f"language.{language}") else None,
        opted_out_at=_local(history.opted_out_at) if history.opted_out_at else None,
        contact=contact,
        choices=choices,
        names=names,
        items=items,
        more=more,
        first_page=timelines.FIRST_PAGE,
        references=references,
        routes=routes,
        demo=runtime.transport.name == "demo",
        local=_local,
        form=ContactPersonForm(advisor=contact or ""),
        saved=request.args.get("saved") == "1",
        refused=request.args.get("refused") == "1",
    )


@bp.post("/relatives/<int:relative_id>/contact")
@login_required
def contact_person(relative_id: int) -> BaseResponse:
    user = signed_in()
    form = ContactPersonForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = str(form.advisor.data or "").strip() or None
    with current_runtime().console_sessions.begin() as db:
        relative = timelines.find(db, relative_id)
        if relative is None:
            abort(404)
        try:
            before, after = timelines.set_contact_person(db, relative, chosen)
        except ContactPersonRefused:
            return redirect(url_for("console.relatives.show", relative_id=relative_id, refused=1))
        if before != after:
            _audit(
                db,
                user,
                audit.Action.CHANGED,
                relative.id,
                subject="contact_person",
                detail=f"{before or '-'} -> {after or '-'}",
            )
    log.info("console: contact person set", extra={"relative": relative_id})
    return redirect(url_for("console.relatives.show", relative_id=relative_id, saved=1))


@bp.get("/recordings/<int:recording_id>")
@login_required
def recording(recording_id: int) -> Response | tuple[str, int]:
    """The voicemail's sound, fetched by the server and streamed; never a redirect to Twilio."""
    user = signed_in()
    runtime = current_runtime()
    if runtime.transport.name == "demo":
        return render_template("console/recording.html", problem="demo"), 404
    with runtime.console_sessions() as db:
        found = timelines.recording(db, recording_id)
        if found is None:
            abort(404)
        voicemail, relative_id = found
        sid = voicemail.recording_sid
    try:
        audio = timelines.fetch_recording(runtime.transport, sid)
    except RecordingUnavailable as error:
        log.warning("console: recording not fetched", extra={"recording_sid": sid, "code": error.code})
        if error.permanent:
            return render_template("console/recording.html", problem="gone"), 404
        return render_template("console/recording.html", problem="unavailable"), 503
    with runtime.console_sessions.begin() as db:
        _audit(db, user, audit.Action.VIEWED, relative_id, subject="recording", detail=sid)
    headers = {"Content-Disposition": f'inline; filename="{sid}.mp3"'}
    if audio.length is not None:
        headers["Content-Length"] = str(audio.length)
    return Response(_stream(audio.chunks), mimetype=audio.content_type, headers=headers)


def _stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
