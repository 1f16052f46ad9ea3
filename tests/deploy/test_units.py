"""The deploy/ folder holds together: every unit runs a real `hotline` command with options it accepts, every
variable the units and the environment file use is documented in docs/deployment.md, the load balancer example
sends what one trusted proxy must, and the example config is valid."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml

from deploy.units import (
    DEPLOY,
    INSTALLED_HOTLINE,
    Unit,
    command_line,
    read_env_file,
    units,
    variables_used,
)
from hotline.cli.main import main
from hotline.config.settings import ENV_KEYS, load_settings

REPO = DEPLOY.parent
DOC = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
UNITS = units()


def test_the_expected_units_are_there() -> None:
    assert set(UNITS) == {"hotline-web@.service", "hotline-worker.service", "hotline-migrate.service"}


def resolve(words: list[str]) -> tuple[click.Command, list[str], list[str]]:
    """The click command `words` name under `hotline`, the names leading to it, and its own arguments."""
    command: click.Command = main
    names: list[str] = []
    rest = list(words)
    while isinstance(command, click.Group) and rest:
        found = command.get_command(click.Context(command), rest[0])
        assert found is not None, f"`hotline {' '.join([*names, rest[0]])}` is no hotline command"
        names.append(rest.pop(0))
        command = found
    assert not isinstance(command, click.Group), f"`hotline {' '.join(names)}` needs a subcommand"
    return command, names, rest


@pytest.mark.parametrize("name", sorted(UNITS))
def test_every_exec_start_is_a_real_hotline_command(name: str) -> None:
    unit = UNITS[name]
    env = read_env_file()
    (line,) = unit.get("Service", "ExecStart")
    assert line.split()[0] == INSTALLED_HOTLINE
    args = command_line(unit, env, "8000")[3:]  # after `python -m hotline`
    command, names, rest = resolve(args)
    # The options parse as the command would parse them (an unknown or misspelt option fails here).
    command.make_context(" ".join(["hotline", *names]), rest)


def test_a_misspelt_command_or_option_is_caught() -> None:
    with pytest.raises(AssertionError, match="no hotline command"):
        resolve(["serv"])
    command, _, rest = resolve(["serve", "--worker", "4"])
    with pytest.raises(click.UsageError):
        command.make_context("hotline serve", rest)


def documented(name: str) -> bool:
    return re.search(rf"`{re.escape(name)}`", DOC) is not None


def test_every_variable_is_set_and_documented() -> None:
    env = read_env_file()
    used: set[str] = set(env)
    for unit in UNITS.values():
        for line in unit.get("Service", "ExecStart"):
            missing = variables_used(line) - set(env) - set(unit.environment())
            assert not missing, f"{unit.path.name} uses {missing}, which hotline.env.example does not set"
            used |= variables_used(line)
        used |= set(unit.environment())
    undocumented = sorted(name for name in used if not documented(name))
    assert undocumented == [], "document these in docs/deployment.md (as `NAME`)"
    # Every variable the hotline reads is in the example, or said in the document to be left out on purpose.
    for key in ENV_KEYS:
        assert key in env or documented(key), key


def test_every_unit_runs_as_the_hotline_user_with_the_one_environment_file() -> None:
    for unit in UNITS.values():
        assert unit.get("Service", "User") == ["hotline"], unit.path.name
        assert unit.get("Service", "EnvironmentFile") == ["/etc/hotline/hotline.env"], unit.path.name
        assert unit.get("Service", "WorkingDirectory") == ["/var/lib/hotline"], unit.path.name
    web = UNITS["hotline-web@.service"]
    # Each instance counts into its own folder, which systemd makes (and empties) for it.
    assert web.environment()["PROMETHEUS_MULTIPROC_DIR"] == "/run/hotline-web-%i"
    assert web.get("Service", "RuntimeDirectory") == ["hotline-web-%i"]


def test_the_load_balancer_is_one_trusted_proxy_and_keeps_metrics_private() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert re.search(rf"proxy_set_header {header} \$", nginx), header
    assert re.search(r"location = /metrics \{\s*return 404;", nginx)
    config = yaml.safe_load((DEPLOY / "config.yaml").read_text(encoding="utf-8"))
    assert config["web"]["trusted_proxies"] == 1


def test_the_example_config_is_valid() -> None:
    settings = load_settings(environ={}, config_path=DEPLOY / "config.yaml")
    assert settings.file.web.trusted_proxies == 1
    assert "127.0.0.1/32" in settings.file.web.metrics_allow


def test_units_parse_as_unit_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.service"
    broken.write_text("[Service]\nExecStart /opt/hotline/.venv/bin/hotline worker\n")
    with pytest.raises(ValueError, match="Key=Value"):
        Unit.read(broken)
