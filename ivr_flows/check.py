"""The flow checker: finds what would strand or confuse a caller before any caller meets it.

`check_flows` reports, each with file:line, node and the fix: malformed files, exits leading to unknown nodes,
unreachable nodes, dead ends, keys used twice in one menu, walks that never wait for the caller, hang-ups before
the caller was helped, an overflow that leads to another menu, prompts missing in an enabled language, unknown
or unrecordable {placeholders}, and missing recordings for recorded languages.

Run it with the hotline's languages: `hotline flows check` (or `hotline check`, which checks the configuration
too); it exits 1 when there are problems.
"""

from __future__ import annotations

import string
from collections import deque
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ivr_flows.flow import HELPED_BY, KIND_EXITS, Exit, Flow, Node, PromptRef
from ivr_flows.flow_file import FlowFileError, load_flow
from ivr_flows.languages import AUDIO_DIR, Languages
from ivr_flows.prompts import PromptCatalogue

# Kinds the engine walks through without waiting for the caller or the adapter.
_PASS_THROUGH = frozenset({"say", "branch", "set_language", "check_hours"})
# Exits written as a field of the node; the others are results (`results: {name: node}`).
_PLAIN_EXITS = frozenset({"next", "give_up", "then", "else"})
_OWN_KEY = "give each choice its own key"
_LINK_IT = "lead a key or an exit to it, or remove it"
_BREAK_LOOP = "put a menu or an action in the loop"
_HELP_FIRST = "lead it to a connect, a callback, a voicemail or information sent first"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing to fix, where it is written, and how to fix it."""

    file: str
    line: int
    node: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: node {self.node!r}: {self.message}" if self.node else f"{where}: {self.message}"


def check_flows(
    flow_paths: Iterable[Path],
    prompt_catalogue: PromptCatalogue,
    languages: Languages,
    audio_dir: Path = AUDIO_DIR,
    *,
    values: Collection[str] | None = None,
    windows: Collection[str] | None = None,
    windows_at: str = "callbacks.windows",
) -> list[Problem]:
    """Every problem in the flows at `flow_paths` for callers in the enabled `languages`, sorted by file and
    line (narrow or widen what is checked with `languages.only(codes)`).

    Recordings are checked for the enabled languages spoken from recordings, in `audio_dir/<language>/`. The
    adapter may say what it supplies: `values`, the placeholder names it fills in (else the flow's own
    `placeholders:` are trusted), and `windows`, the callback windows it knows (written at `windows_at`).
    """
    enabled = languages.enabled()
    recorded = languages.recorded()
    problems: list[Problem] = []
    for path in flow_paths:
        try:
            flow = load_flow(path, languages)
        except FlowFileError as exc:
            problems.append(Problem(exc.file, exc.line, exc.node, exc.message))
            continue
        problems += _graph_problems(flow)
        problems += _prompt_problems(flow, prompt_catalogue, enabled, recorded, audio_dir, values)
        if values is not None:
            problems += _undelivered_placeholders(flow, values)
        if windows is not None:
            problems += _window_problems(flow, windows, windows_at)
    return sorted(problems)


def _undelivered_placeholders(flow: Flow, values: Collection[str]) -> Iterator[Problem]:
    """Placeholders the flow promises its prompts that the adapter does not fill in."""
    for name in flow.placeholders:
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            message = f"placeholder {name!r} is declared, but the hotline fills in no such value (it fills in {known})"
            fix = "rename it (and its uses in the prompts) to one of those, or remove it"
            yield Problem(
                flow.file,
                flow.placeholder_lines.get(name, flow.line_of("placeholders")),
                "",
                f"{message}; {fix}",
            )


def _window_problems(flow: Flow, windows: Collection[str], windows_at: str) -> Iterator[Problem]:
    """Callback actions asking for a window the adapter does not know: the caller would get the fallback."""
    for node in flow.nodes.values():
        window = node.params.get("window") if node.kind == "callback" else None
        if window is not None and window not in windows:
            known = ", ".join(windows) or "none"
            message = f"callback window {window!r} is not one of the windows in {windows_at}: {known}"
            yield _at(
                node,
                node.param_lines.get("window", node.line),
                f"{message}; use one of them, or add it there",
            )


def _graph_problems(flow: Flow) -> Iterator[Problem]:
    for setting, meaning in (
        ("start", "every call begins at"),
        ("overflow", "takes a caller after too many menus"),
    ):
        target = getattr(flow, setting)
        if target not in flow.nodes:
            message = f"{setting} {target!r} is not a node; name the node that {meaning}"
            yield Problem(flow.file, flow.line_of(setting), "", message)
    for node in flow.nodes.values():
        seen: dict[str, int] = {}
        for exit_ in node.exits:
            if exit_.target not in flow.nodes:
                fix = f"add a node {exit_.target!r} or lead it to an existing node"
                yield _at(
                    node,
                    exit_.line,
                    f"{_describe(exit_)} leads to {exit_.target!r}, which is not a node; {fix}",
                )
            if exit_.is_key and exit_.label in seen:
                also = f"also on line {seen[exit_.label]}"
                yield _at(
                    node, exit_.line, f"key {exit_.label} is used twice in this menu ({also}); {_OWN_KEY}"
                )
            seen.setdefault(exit_.label, exit_.line)
        yield from _dead_end(node)
    if flow.start in flow.nodes:
        reached = _reachable(flow, [flow.start, flow.overflow])
        for node in flow.nodes.values():
            if node.id not in reached:
                yield _at(node, node.line, f"cannot be reached from the start {flow.start!r}; {_LINK_IT}")
        yield from _loops(flow)
        yield from _unhelped_hangups(flow)
    if flow.overflow in flow.nodes:
        yield from _overflow_menus(flow)


def _dead_end(node: Node) -> Iterator[Problem]:
    if node.kind == "menu" and not node.keys:
        yield _at(node, node.line, "dead end: this menu has no keys; add `menu: {1: <node>, ...}`")
    for name in KIND_EXITS[node.kind]:
        if node.exit(name) is None:
            field = f"{name}: <node>" if name in _PLAIN_EXITS else f"results: {{{name}: <node>}}"
            yield _at(
                node, node.line, f"dead end: a {node.kind} node needs `{field}`, or the call stops here"
            )


def _reachable(flow: Flow, roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = [root for root in roots if root in flow.nodes]
    while todo:
        node_id = todo.pop()
        if node_id not in seen:
            seen.add(node_id)
            todo += [e.target for e in flow.nodes[node_id].exits if e.target in flow.nodes]
    return seen


def _loops(flow: Flow) -> Iterator[Problem]:
    """Cycles through nodes that never wait: the engine would walk them forever."""
    done: set[str] = set()
    for first in flow.nodes.values():
        path: list[str] = []
        node: Node | None = first
        while node is not None and node.kind in _PASS_THROUGH and node.id not in done:
            if node.id in path:
                cycle = [*path[path.index(node.id) :], node.id]
                message = f"the call loops {' -> '.join(cycle)} without waiting for the caller; {_BREAK_LOOP}"
                yield _at(node, node.line, message)
                break
            path.append(node.id)
            targets = [e.target for e in node.exits if e.target in flow.nodes]
            node = flow.nodes[targets[0]] if len(targets) == 1 else None
        done.update(path)


def _unhelped_hangups(flow: Flow) -> Iterator[Problem]:
    """Exits into a goodbye before the caller got a human, a callback, a voicemail or information."""
    Step = tuple[str, bool]
    parent: dict[Step, Step | None] = {(flow.start, False): None}
    todo = deque([(flow.start, False)])
    reported: set[tuple[str, int]] = set()
    while todo:
        node_id, helped = todo.popleft()
        node = flow.nodes[node_id]
        for exit_ in node.exits:
            target = flow.nodes.get(exit_.target)
            if target is None:
                continue
            now_helped = (
                helped or node.kind == "voicemail" or HELPED_BY.get(node.kind, ("",))[0] == exit_.label
            )
            if target.kind == "goodbye" and not now_helped and (node_id, exit_.line) not in reported:
                reported.add((node_id, exit_.line))
                route, step = [node_id], parent[(node_id, helped)]
                while step is not None:
                    route.append(step[0])
                    step = parent[step]
                via = " -> ".join([*reversed(route), target.id])
                message = (
                    f"{_describe(exit_)} leads to the goodbye {target.id!r} before the caller has been helped"
                )
                yield _at(node, exit_.line, f"{message} ({via}); {_HELP_FIRST}")
            state = (target.id, now_helped)
            if state not in parent:
                parent[state] = (node_id, helped)
                todo.append(state)


def _overflow_menus(flow: Flow) -> Iterator[Problem]:
    for node_id in sorted(_reachable(flow, [flow.overflow])):
        node = flow.nodes[node_id]
        if node.waits_for_caller:
            message = f"the overflow {flow.overflow!r} leads to {node_id!r}, which waits for keys"
            fix = f"after {flow.max_gathers} menus a caller must reach a human or voicemail without another menu"
            yield Problem(flow.file, flow.line_of("overflow"), "", f"{message}; {fix}")


def _prompt_problems(
    flow: Flow,
    catalogue: PromptCatalogue,
    enabled: frozenset[str],
    recorded: frozenset[str],
    audio_dir: Path,
    values: Collection[str] | None,
) -> Iterator[Problem]:
    reported: set[tuple[str, str]] = set()
    for node_id, ref in _prompt_uses(flow, recorded):
        for language in sorted({ref.language} & enabled if ref.language else enabled):
            if (language, ref.key) in reported:
                continue
            reported.add((language, ref.key))
            where = (flow.file, ref.line, node_id)
            if not catalogue.has(language, ref.key):
                yield Problem(
                    *where, f"prompt {ref.key!r} is missing in {language}: add it to prompts/{language}.yaml"
                )
                continue
            yield from _placeholder_problems(
                flow, catalogue, language, ref.key, language in recorded, where, values
            )
            if language in recorded and not (audio_dir / language / f"{ref.key}.mp3").is_file():
                missing = f"the recording {language}/{ref.key}.mp3 is missing from the audio folder"
                fix = f"record the text of {ref.key!r} in prompts/{language}.yaml and save it there"
                yield Problem(*where, f"{missing}; {fix}")


def _placeholder_problems(
    flow: Flow,
    catalogue: PromptCatalogue,
    language: str,
    key: str,
    is_recorded: bool,
    where: tuple[str, int, str],
    values: Collection[str] | None,
) -> Iterator[Problem]:
    place = catalogue.place(language, key) or f"prompts/{language}.yaml"
    try:
        names = [
            name
            for _, name, _, _ in string.Formatter().parse(catalogue.texts[language][key])
            if name is not None
        ]
    except ValueError as exc:
        yield Problem(*where, f"prompt {key!r} in {place} is not valid ({exc}); write {{{{ for a brace")
        return
    filled = set(flow.placeholders if values is None else values)
    allowed = filled | ({"digits"} if key == flow.number_entry.readback else set())
    used = f"prompt {key!r} in {language} ({place}) has"
    for name in names:
        if is_recorded:
            why = f"but {language} is recorded and a recording cannot say changing values"
            yield Problem(*where, f"{used} {{{name}}}, {why}; reword the prompt without it")
        elif name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            fix = f"use one of {known}" + (", or declare it under `placeholders:`" if values is None else "")
            yield Problem(*where, f"{used} {{{name}}}, which nothing fills in; {fix}")


def _prompt_uses(flow: Flow, recorded: frozenset[str]) -> Iterator[tuple[str, PromptRef]]:
    """Every prompt the flow can speak, with the node that speaks it, in file order."""
    for ref in flow.fallback_prompts:
        yield "", ref
    entry = flow.number_entry
    for node in flow.nodes.values():
        yield from ((node.id, ref) for ref in node.say)
        yield from ((node.id, ref) for ref in (node.on_silence, node.on_invalid) if ref is not None)
        if node.kind == "collect_number":
            yield from ((node.id, PromptRef(key, entry.line)) for key in entry.prompts())
            for language in sorted(recorded):
                yield from ((node.id, PromptRef(key, entry.line, language)) for key in entry.digit_prompts())


def _describe(exit_: Exit) -> str:
    if exit_.is_key:
        return f"key {exit_.label}"
    return exit_.label if exit_.label in _PLAIN_EXITS else f"the result {exit_.label}"


def _at(node: Node, line: int, message: str) -> Problem:
    return Problem(node.file, line, node.id, message)
