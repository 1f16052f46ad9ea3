"""deploy/smoke.py: the units' commands as real processes on a fresh PostgreSQL database, behind a stand-in load
balancer: two web hosts of two gunicorn workers each, two schedulers; readiness, a signed call, a text sent by the
worker, the leader in /metrics and the per-worker counts adding up; a clean stop. Real time (slow)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.smoke import run
from tests.helpers import BACKEND
from tests.pgprobe import DEFAULT_URL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BACKEND != "postgres", reason="several hosts share one PostgreSQL database"),
]


def test_the_deployment_comes_up_and_its_parts_find_each_other(tmp_path: Path) -> None:
    admin = (os.environ.get("HOTLINE_TEST_POSTGRES_URL") or DEFAULT_URL).replace(
        "postgresql+psycopg://", "postgresql://"
    )
    report = run(admin, tmp_path)
    print("\n".join(report))
    assert report[-1].endswith("stopped cleanly on SIGTERM")
