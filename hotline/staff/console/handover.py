"""The incoming advisor's handover, which the handover text links to: the open callbacks that fall to them (acute
first), every note left on those, how many colleagues on shift hold, and the texts waiting for an answer
(hotline.services.handover decides what falls to whom, for this page and the text alike). The advisor marks the
handover of their shift read; the mark is stored per advisor and shift start.

Each case links to the relative's timeline; showing a relative's case here is a `viewed` row in the audit log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hotline.db.models import CallbackRequest, utcnow
from hotline.services import audit, callback_queue, outbox, rosters
from hotline.services import handover as handovers
from hotline.services import timeline as timelines
from hotline.services.staff_texts import reference
from hotline.staff.console.forms import HandoverReadForm
from hotline.staff.console.identity import login_required, signed_in
from hotline.web import current_runtime
from routing.callbacks import Priority
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import known

log = logging.getLogger(__name__)

bp = Blueprint("handover", __name__)


def _local(moment: datetime, pattern: str = "%d/%m %H:%M") -> str:
    return moment.astimezone(COPENHAGEN).strftime(pattern)


@dataclass(frozen=True)
class Note:
    at: str
    author: str
    text: str


@dataclass(frozen=True)
class Case:
    reference: str
    relative_id: int | None
    reason: str
    acute: bool
    state: str
    due: str
    window: str
    language_id: str | None
    language: str
    assigned: str
    attempts: int
    notes: list[Note] = field(default_factory=list)
    recording_id: int | None = None
    has_recording: bool = False
    dialable: bool = True  # False: a voicemail from a withheld number; listen, then close


def _language(code: str | None) -> tuple[str | None, str]:
    message_id = f"language.{code}"
    return (message_id if code and known(message_id) else None), code or ""


def _case(
    callback: CallbackRequest, names: dict[str, str], notes: list[Note], recording_ids: dict[str, int]
) -> Case:
    language_id, language = _language(callback.language)
    return Case(
        reference=reference(callback),
        relative_id=callback.relative_id,
        reason=callback.reason if known(f"reason.{callback.reason}") else "question",
        acute=callback.priority == Priority.ACUTE.value,
        state=callback.state,
        due=_local(callback.due_at),
        window=f"{_local(callback.window_start)}–{_local(callback.window_end, '%H:%M')}",
        language_id=language_id,
        language=language,
        assigned=names.get(callback.assigned_advisor_id or "", "-"),
        attempts=callback.attempts,
        notes=notes,
        recording_id=recording_ids.get(callback.recording_sid or ""),
        has_recording=callback.recording_sid is not None,
        dialable=callback.phone_number is not None,
    )


@bp.get("/handover")
@login_required
def index() -> str:
    user = signed_in()
    advisor_id = user.identity.advisor_id
    if advisor_id is None:
        return render_template("console/handover.html", advisor=None)
    runtime = current_runtime()
    now = utcnow()
    with runtime.console_sessions.begin() as db:
        roster = rosters.current_roster(db)
        names = timelines.advisor_names(db)
        work = handovers.for_advisor(db, roster, advisor_id, now)
        shift = handovers.current_shift(roster, advisor_id, now)
        read = handovers.read_at(db, advisor_id, shift.start) if shift is not None else None
        recording_ids = timelines.recording_ids(
            db, [c.recording_sid for c in work.callbacks if c.recording_sid]
        )
        cases = [
            _case(
                c,
                names,
                [
                    Note(_local(a.started_at), names.get(a.advisor_id or "", "-"), a.note or "")
                    for a in work.notes.get(c.id, [])
                ],
                recording_ids,
            )
            for c in work.callbacks
        ]
        day_ago = now - timedelta(days=1)
        refused_texts = outbox.refused_since(db, day_ago)
        refused_callbacks = len(callback_queue.refusals(db, day_ago))
        for relative_id in sorted({c.relative_id for c in cases if c.relative_id is not None}):
            audit.record(
                db,
                actor=user.identity.username,
                action=audit.Action.VIEWED,
                account_id=user.identity.account_id,
                relative_id=relative_id,
                subject="handover",
                remote_addr=request.remote_addr,
            )
    default = runtime.settings.file.languages.default  # a relative who never chose one gets it
    texts = [(_local(t.received_at), *_language(t.language or default)) for t in work.texts]
    log.info("console: handover viewed", extra={"cases": len(cases), "texts": len(texts)})
    return render_template(
        "console/handover.html",
        advisor=names.get(advisor_id, user.identity.name or advisor_id),
        as_of=_local(now, "%d/%m/%Y %H:%M"),
        shift=shift,
        shift_start=_local(shift.start) if shift else "",
        shift_end=_local(shift.end) if shift else "",
        shift_key=int(shift.start.timestamp()) if shift else "",
        read=_local(read, "%H:%M") if read else None,
        cases=cases,
        acute=sum(1 for c in cases if c.acute),
        notes=sum(len(c.notes) for c in cases),
        with_colleagues=work.with_colleagues,
        texts=texts,
        refused_texts=refused_texts,
        refused_callbacks=refused_callbacks,
        demo=runtime.transport.name == "demo",
        form=HandoverReadForm(),
    )


@bp.post("/handover/read")
@login_required
def mark_read() -> BaseResponse:
    """Mark the handover of the shift the advisor is on read (the page names the shift; a shift that has ended
    since the page was loaded is not marked)."""
    user = signed_in()
    advisor_id = user.identity.advisor_id
    form = HandoverReadForm()
    if advisor_id is None or not form.validate_on_submit():
        return redirect(url_for("console.handover.index"))
    now = utcnow()
    with current_runtime().console_sessions.begin() as db:
        shift = handovers.current_shift(rosters.current_roster(db), advisor_id, now)
        if shift is None or str(form.shift.data) != str(int(shift.start.timestamp())):
            log.info("console: handover not marked read: not the shift on now")
            return redirect(url_for("console.handover.index"))
        if handovers.mark_read(db, advisor_id, shift.start, now, user.identity.account_id):
            audit.record(
                db,
                actor=user.identity.username,
                action=audit.Action.CHANGED,
                account_id=user.identity.account_id,
                subject="handover",
                detail=f"read: shift from {shift.start.isoformat()}",
                remote_addr=request.remote_addr,
            )
    return redirect(url_for("console.handover.index"))
