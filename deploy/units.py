"""The deploy/ unit files and environment file as systemd reads them, and each unit's ExecStart as the command
deploy/smoke.py runs instead (tests/deploy/test_units.py checks the files with these)."""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
INSTALLED_HOTLINE = "/opt/hotline/.venv/bin/hotline"
ENV_FILE = DEPLOY / "hotline.env.example"


@dataclass
class Unit:
    """A systemd unit file, as much of it as the smoke run needs: each key's values in order, by section."""

    path: Path
    sections: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Unit:
        unit = cls(path)
        current: dict[str, list[str]] = {}
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = unit.sections.setdefault(line[1:-1], {})
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"{path}: {raw!r} is neither a [Section] nor Key=Value")
            current.setdefault(key.strip(), []).append(value.strip())
        return unit

    def get(self, section: str, key: str) -> list[str]:
        return self.sections.get(section, {}).get(key, [])

    def service(self, key: str) -> str:
        (value,) = self.get("Service", key)
        return value

    def environment(self) -> dict[str, str]:
        """The unit's own Environment= lines (KEY=VALUE, possibly several per line)."""
        found: dict[str, str] = {}
        for line in self.get("Service", "Environment"):
            for item in shlex.split(line):
                key, _, value = item.partition("=")
                found[key] = value
        return found


def units() -> dict[str, Unit]:
    return {path.name: Unit.read(path) for path in sorted(DEPLOY.glob("*.service"))}


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments and blank lines skipped)."""
    found: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}: {raw!r} is not KEY=VALUE")
        found[key.strip()] = value.strip().strip('"')
    return found


VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def variables_used(command: str) -> set[str]:
    return {a or b for a, b in VARIABLE.findall(command)}


def command_line(unit: Unit, env: Mapping[str, str], instance: str = "") -> list[str]:
    """ExecStart as systemd would run it: %i and ${VAR} expanded, the installed `hotline` replaced by this
    Python running the package from the checkout."""
    line = unit.service("ExecStart").replace("%i", instance)

    def expand(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in env:
            raise KeyError(
                f"{unit.path.name}: ExecStart uses ${name}, which the environment file does not set"
            )
        return env[name]

    words = shlex.split(VARIABLE.sub(expand, line))
    if words[0] != INSTALLED_HOTLINE:
        raise ValueError(f"{unit.path.name}: ExecStart runs {words[0]}, not {INSTALLED_HOTLINE}")
    return [sys.executable, "-m", "hotline", *words[1:]]
