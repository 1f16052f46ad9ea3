"""An installed copy works outside the checkout: flows, prompts, templates, the demo roster and migrations ship."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_carries_its_data_and_runs_without_the_checkout(tmp_path: Path) -> None:
    # Built as `make` installs it: pip with an isolated build environment (setuptools from the registry).
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(site)
    for needed in (
        "ivr_flows/flows/main.yaml",
        "ivr_flows/prompts/da.yaml",
        "ivr_flows/prompts/routing.da.yaml",
        "sms/templates/da.yaml",
        "sms/keywords.yaml",
        "routing/demo_roster.yaml",
        "routing/wording/staff.yaml",
        "hotline/db/migrations/env.py",
        "hotline/db/migrations/script.py.mako",
        "hotline/db/migrations/versions/0001_foundation.py",
        "hotline/staff/templates/staff/roster.html",
        "hotline/staff/console/templates/console/handover.html",
    ):
        assert needed in names, needed
    # Elsewhere, with no config.yaml: the built-in defaults, a database migrated from the shipped migrations.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env["PYTHONPATH"] = str(site)
    env["PYTHONSAFEPATH"] = "1"  # never import the checkout
    for command in (["check"], ["db", "upgrade"], ["flows", "check"]):
        result = subprocess.run(
            [sys.executable, "-m", "hotline", *command],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    located = subprocess.run(
        [sys.executable, "-c", "import hotline; print(hotline.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert located.stdout.strip().startswith(str(site))
