"""Operations endpoints: /healthz (the process is up) and /readyz (database, schema and scheduler)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, jsonify
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hotline.db.models import SchedulerHeartbeat, utcnow
from hotline.db.session import ping, schema_problem, unreachable_problem
from hotline.services import spool
from hotline.web import current_runtime

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    runtime = current_runtime()
    problems: list[str] = []
    try:
        ping(runtime.engine)
    except SQLAlchemyError as exc:
        problems.append(unreachable_problem(runtime.engine, exc))
    else:
        problem = schema_problem(runtime.engine)
        if problem:
            problems.append(problem)
        else:
            problems.extend(_scheduler_problems())
    waiting = spool.pending(runtime.settings.instance_path)
    body = {"status": "ok" if not problems else "unavailable", "problems": problems, "spooled": waiting}
    body["mode"] = "demo" if runtime.settings.demo_mode else "live"
    return jsonify(body), 200 if not problems else 503


def _scheduler_problems() -> list[str]:
    runtime = current_runtime()
    interval = runtime.settings.file.scheduler.heartbeat_seconds
    with runtime.sessions() as session:
        latest = session.scalars(
            select(SchedulerHeartbeat.beat_at)
            .where(SchedulerHeartbeat.is_leader.is_(True))
            .order_by(SchedulerHeartbeat.beat_at.desc())
            .limit(1)
        ).first()
    if latest is None:
        return ["scheduler not running: no leader heartbeat yet (start `hotline worker` or `hotline serve`)"]
    age = utcnow() - latest
    if age > timedelta(seconds=3 * interval + 5):
        return [f"scheduler not running: last heartbeat {int(age.total_seconds())} s ago"]
    return []
