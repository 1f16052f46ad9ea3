"""The house rule, checked: which part of the code may import which (docs/architecture.md).

Adapters (twilio, staff, jobs, cli) call services; services use the database, the settings and the pure core;
the core imports nothing of `hotline`; the staff catalogue (`routing.wording`) imports nothing of ours, and
everything may read it. Every import counts, also one inside a function or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = {"routing", "sms", "ivr_flows"}
SHELL = {
    "hotline.runtime",
    "hotline.web",
    "hotline.logs",
    "hotline.metrics",
}  # what every adapter may use to find the running app

# part -> the parts it may import (besides itself). A part is a core package, a hotline folder, or a top module.
ALLOWED: dict[str, set[str]] = {
    "routing": set(),
    "routing.wording": {"routing.yaml_parser"},  # the staff catalogue: every part may read it
    # The one clock: Copenhagen wall time comes from routing.wallclock alone (sms reads texts' times with it).
    "sms": {"routing.wallclock", "routing.wording", "routing.yaml_parser"},
    "ivr_flows": {"routing"},
    "hotline.config": CORE,
    "hotline.db": {"hotline.config"} | CORE,
    "hotline.transport": {"hotline.db", "hotline.config"} | CORE,
    "hotline.services": {"hotline.db", "hotline.config", "hotline.transport.base"} | CORE,
    "hotline.twilio": {"hotline.services", "hotline.db", "hotline.config", "hotline.transport"}
    | SHELL
    | CORE,
    "hotline.staff": {"hotline.services", "hotline.db", "hotline.config"} | SHELL | CORE,
    "hotline.jobs": {"hotline.services", "hotline.db", "hotline.config", "hotline.transport"} | SHELL | CORE,
    "hotline.ops": {"hotline.services", "hotline.db", "hotline.config"} | SHELL | CORE,
    "hotline.monitoring": {"hotline.services", "hotline.db", "hotline.config"} | SHELL | CORE,
    "hotline.metrics": set(),
    "hotline.devtools": {"routing.wording"},
    "hotline.logs": CORE,
    "hotline.runtime": {"hotline.config", "hotline.db", "hotline.transport", "hotline.twilio.rest"} | CORE,
    "hotline.web": {"hotline.runtime"},
    "hotline.server": set(),
    # The outer shell wires everything together: the app factory and the command line.
    "hotline.app": {"hotline"} | CORE,
    "hotline.cli": {"hotline"} | CORE,
    "hotline.__main__": {"hotline.cli"},
}


def part_of(module: str) -> str | None:
    """The part a module belongs to: the longest key of ALLOWED that is the module or a package above it."""
    candidates = [p for p in ALLOWED if module == p or module.startswith(p + ".")]
    return max(candidates, key=len) if candidates else None


def may_import(importer: str, imported: str) -> bool:
    part = part_of(importer)
    assert part is not None, f"{importer} belongs to no part of the house; add it to ALLOWED"
    target = part_of(imported) or imported
    if target == part or imported == part or imported.startswith(part + "."):
        return True
    return any(imported == a or imported.startswith(a + ".") for a in ALLOWED[part])


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import of our own packages in the file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name in ("hotline", *CORE) or name.endswith(".") or node.module is None:
                # `from hotline import x`, `from routing import x`, `from . import x`: each name is a module
                found.extend((node.lineno, f"{name}.{alias.name}".lstrip(".")) for alias in node.names)
            else:
                found.append((node.lineno, name))
    ours = CORE | {"hotline"}
    return [(line, name) for line, name in found if name.split(".")[0] in ours]


def source_files() -> list[Path]:
    files: list[Path] = []
    for top in ("hotline", *sorted(CORE)):
        files.extend(p for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts)
    return sorted(files)


def violations() -> list[str]:
    found = []
    for path in source_files():
        module = module_name(path)
        for line, imported in imports_of(path, module):
            if not may_import(module, imported):
                found.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {imported}")
    return found


def test_every_import_follows_the_house_rule() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("hotline.twilio.voice", "hotline.services.callback_queue", True),
        ("hotline.services.outbox", "hotline.db.models", True),
        ("hotline.services.outbox", "hotline.transport.base", True),
        ("hotline.services.outbox", "hotline.transport.guarded", False),
        ("hotline.services.outbox", "hotline.runtime", False),
        ("hotline.services.outbox", "hotline.twilio.rest", False),
        ("hotline.staff.pages", "hotline.jobs.registry", False),
        ("hotline.jobs.scheduler", "hotline.staff.links", False),
        ("hotline.twilio.flow", "hotline.staff.pages", False),
        ("hotline.staff.console.auth", "hotline.services.staff_accounts", True),
        ("hotline.staff.console.home", "hotline.services.workload", True),
        ("hotline.staff.console.blueprint", "hotline.twilio.blueprint", False),
        ("hotline.staff.console.home", "hotline.jobs.registry", False),
        ("hotline.services.staff_accounts", "hotline.staff.console.identity", False),
        ("routing.roster", "hotline.db.models", False),
        ("sms.keywords", "routing.numbers", False),
        ("sms.timephrase", "routing.wallclock", True),
        ("ivr_flows.engine", "routing.numbers", True),
        ("hotline.config.settings", "hotline.db.session", False),
        ("hotline.cli.roster", "hotline.jobs.scheduler", True),
        ("routing.chain", "routing.wording.catalogue", True),
        ("hotline.devtools.phone", "routing.wording.catalogue", True),
        ("routing.wording.catalogue", "routing.roster", False),
        ("routing.wording.catalogue", "hotline.config.settings", False),
    ],
)
def test_the_rule_itself(importer: str, imported: str, allowed: bool) -> None:
    """The checker refuses what the rule forbids (so the test above can fail)."""
    assert may_import(importer, imported) is allowed


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "def f():\n    from hotline import jobs\n    import routing.roster\n    from routing import guard\n"
    )
    found = imports_of(source, "hotline.staff.sample")
    assert found == [(2, "hotline.jobs"), (3, "routing.roster"), (4, "routing.guard")]


def test_no_test_module_imports_another() -> None:
    """Tests share helpers through tests/helpers.py and fixtures through conftest.py, never by importing a test
    module (which runs its module-level code twice and hides where a fixture comes from)."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}: {name}"
                for name in names
                if name.startswith("tests.") and name.rpartition(".")[2].startswith(("test_", "conftest"))
            ]
    assert found == []
