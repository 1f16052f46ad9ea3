"""The code and the catalogue agree: every id the code or a staff page asks for exists and gets exactly its
placeholders, every entry is used, and no Danish is written inline where staff read it.

Ids built from data (`f"layer.{layer}"`) are checked as families: each member the data can produce must exist.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from hotline.services.staff_accounts import Role
from hotline.transport.base import ERASABLE_KINDS
from routing.callback_states import State
from routing.guard import EXPLANATION_PREFIX, Reason
from routing.roster import Layer
from routing.wording.catalogue import default_catalogue

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("hotline", "routing", "sms", "ivr_flows")
TEMPLATES = ROOT / "hotline" / "staff"  # the staff pages and the console, each with its templates/
FUNCTIONS = {
    "text",
    "da",
    "both",
    "aside",
    "ref",
}  # what wording.catalogue offers; `text` takes (id, language)
# The console asks Flask-Babel for the same ids (hotline/staff/console/i18n.py): `_`/`gettext`, and `ngettext(id,
# id, num)`, which passes `num` itself.
BABEL = {"_", "gettext", "lazy_gettext", "ngettext"}
# Exceptions that carry an id and its values to whoever words them (the command line, the console).
CARRIERS = {"AccountError", "QueueError", "CallbackError", "Notice", "PeriodError"}

# Ids the code builds from data, and every value the data can take.
FAMILIES: dict[str, set[str]] = {
    EXPLANATION_PREFIX: {reason.value for reason in Reason},
    "layer.": {layer.value for layer in Layer},
    "reason.": {"acute", "question", "voicemail"},
    "callback.state.": {state.value for state in State},
    "erasure.kind.": set(ERASABLE_KINDS),
    "twilio.action.": {"sms", "call", "lookup", "erase", "recording"},
    "language.": set(),
    "console.queue.outcome.": {"reached", "not_reached", "no_call"},
    "console.queue.view.": {"all", "mine"},
    "account.role.": {
        role.value for role in Role
    },  # any code; a missing name shows the code (the languages in use: test_catalogue)
}

# String literals with Danish letters that are not staff-facing words: input vocabulary a roster file may use and
# sample data, the service's default name (config), the product's name atop an exported roster file.
DANISH_ALLOWED = {"routing/roster_values.py", "hotline/config/sections.py", "routing/roster_file.py"}


def source_files() -> list[Path]:
    return sorted(p for top in PACKAGES for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts)


def calls_in(path: Path) -> Iterator[tuple[int, str, set[str] | None]]:
    """(line, message id, keyword names or None when `**` is passed) for each call with a literal id."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if (node.module == "routing.wording.catalogue" and alias.name in FUNCTIONS)
        or (node.module == "flask_babel" and alias.name in BABEL)
    } | CARRIERS
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in imported):
            continue
        first = node.args[0] if node.args else None
        choices = (
            [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
        )  # both("a" if x else "b")
        names = {k.arg for k in node.keywords if k.arg is not None} | (
            {"num"} if node.func.id == "ngettext" else set()
        )
        spread = any(k.arg is None for k in node.keywords)
        for choice in choices:
            if isinstance(choice, ast.Constant) and isinstance(choice.value, str):
                yield node.lineno, choice.value, None if spread else names


def template_calls() -> Iterator[tuple[str, str, set[str]]]:
    env = Environment()
    for path in sorted(TEMPLATES.rglob("*.html")):
        for call in env.parse(path.read_text(encoding="utf-8")).find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name in FUNCTIONS | BABEL and call.args:
                first = call.args[0]
                if isinstance(first, nodes.Const) and isinstance(first.value, str):
                    names = {k.key for k in call.kwargs} | (
                        {"num"} if call.node.name == "ngettext" else set()
                    )
                    yield f"{path.relative_to(ROOT)}:{call.lineno}", first.value, names


def all_calls() -> list[tuple[str, str, set[str] | None]]:
    found: list[tuple[str, str, set[str] | None]] = [
        (f"{path.relative_to(ROOT)}:{line}", message_id, names)
        for path in source_files()
        for line, message_id, names in calls_in(path)
    ]
    found += template_calls()
    return found


def test_the_checker_finds_the_calls() -> None:
    places = {place.split(":")[0] for place, *_ in all_calls()}
    assert {
        "routing/chain.py",
        "hotline/cli/roster.py",
        "hotline/staff/templates/staff/roster.html",
        "hotline/staff/console/templates/console/handover.html",
        "hotline/staff/console/templates/console/home.html",
        "hotline/services/staff_accounts.py",
    } <= places


def test_every_id_asked_for_exists_and_gets_its_placeholders() -> None:
    catalogue = default_catalogue()
    problems = []
    for place, message_id, names in all_calls():
        if message_id not in catalogue.entries:
            problems.append(f"{place}: unknown message {message_id!r}")
            continue
        wanted = set(catalogue.entries[message_id].placeholders)
        if names is not None and names != wanted:
            problems.append(f"{place}: {message_id} takes {sorted(wanted)}, the code passes {sorted(names)}")
    assert problems == []


@pytest.mark.parametrize("prefix", sorted(FAMILIES))
def test_every_id_built_from_data_exists(prefix: str) -> None:
    missing = sorted(value for value in FAMILIES[prefix] if prefix + value not in default_catalogue().entries)
    assert missing == []


def test_every_entry_is_used() -> None:
    used = {message_id for _, message_id, _ in all_calls()}
    unused = [
        message_id
        for message_id in default_catalogue().entries
        if message_id not in used and not any(message_id.startswith(prefix) for prefix in FAMILIES)
    ]
    assert unused == []


def danish_literals(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and any(ch in node.value for ch in "æøåÆØÅ")
        ):
            yield node.lineno, node.value


def test_no_danish_is_written_inline_where_staff_read_it() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in source_files()
        if path.relative_to(ROOT).as_posix() not in DANISH_ALLOWED and path.parts[-2] != "sms"
        for line, value in danish_literals(path)
    ]
    assert found == [], "put staff-facing words in routing/wording/staff.yaml"
