"""The roster's versions, for managers and admins: every save and import, who made it and when; "undo" makes
an earlier version current again by saving its content as a new version (after the same preview), so the
history is never rewritten."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response as BaseResponse

from hotline.services import roster_changes, rosters
from hotline.staff.console.identity import login_required, roles_required
from hotline.staff.console.roster_editor import MANAGERS, current, local, preview, roster_words
from hotline.web import current_runtime
from routing.roster_edits import Proposal, refused
from routing.roster_file import RosterFileError, load_roster

bp = Blueprint("roster_versions", __name__, url_prefix="/roster/versions")
bp.context_processor(roster_words)


@bp.get("/")
@login_required
@roles_required(*MANAGERS)
def index() -> str:
    with current_runtime().console_sessions() as db:
        newest = rosters.current_version(db)
        rows = [
            {
                "id": v.id,
                "by": v.imported_by,
                "at": local(v.imported_at),
                "source": v.source_name,
                "current": newest is not None and v.id == newest.id,
            }
            for v in roster_changes.versions(db)
        ]
    return render_template("console/roster_versions.html", rows=rows)


@bp.post("/<int:version_id>/restore")
@login_required
@roles_required(*MANAGERS)
def restore(version_id: int) -> BaseResponse | tuple[str, int] | str:
    with current_runtime().console_sessions() as db:
        live, base = current(db)
        old = roster_changes.version(db, version_id)
        if old is None:
            abort(404)
        content = old.content
    try:
        proposal = Proposal(content, load_roster(content))
    except RosterFileError as exc:  # an old version the rules of today refuse
        proposal = refused(content, exc.problems)
    return preview(live, proposal, base, note=f"restore {version_id}")
