"""Reading flow files: every node knows its file and line; malformed content is refused with file:line: node."""

from __future__ import annotations

import textwrap

import pytest

from ivr_flows.flow_file import MAIN_FLOW, FlowFileError, load_flow

HEAD = "start: a\noverflow: a\nnodes:\n"


def test_every_node_knows_the_line_it_is_written_on(flow):
    lines = MAIN_FLOW.read_text(encoding="utf-8").splitlines()

    for node in flow.nodes.values():
        assert lines[node.line - 1].startswith(f"  {node.id}:"), node.id
        assert node.file == str(MAIN_FLOW)


def test_menu_keys_keep_their_lines_and_defaults_fill_in(flow):
    menu = flow.nodes["main_menu"]
    lines = MAIN_FLOW.read_text(encoding="utf-8").splitlines()

    assert [(e.label, e.target) for e in menu.keys][:2] == [("1", "acute"), ("2", "question")]
    assert lines[menu.keys[0].line - 1].strip() == "1: acute"
    assert (menu.timeout_s, menu.retries, menu.on_silence.key) == (7, 2, "menu.no_input")
    assert flow.nodes["info_sent"].retries == 1


MALFORMED = [
    ("  a: {action: dial}\n", 4, "a",
     "unknown action 'dial'; use one of callback, check_hours, collect_number, connect, goodbye, set_language, "
     "sms_info, voicemail"),
    ("  a: {action: connect, with: {reason: acute}, results: {busy: a}}\n", 4, "a",
     "connect has no result 'busy'; its results are answered, no_answer"),
    ("  a: {action: connect, with: {reason: chat}}\n", 4, "a",
     "reason 'chat' is not known; use acute, question"),
    ("  a: {action: sms_info}\n", 4, "a", "sms_info needs `with: {topic: ...}`"),
    ("  a: {action: set_language, with: {language: fr}, next: a}\n", 4, "a",
     "language 'fr' is not one of the languages (ar, da, en, pl, so, tr, uk); add it to the test languages"),
    ("  a:\n    menu: {yes: a}\n    give_up: a\n", 5, "a",
     "menu key 'True' is not a phone key; use 0-9, or '*' or '#' in quotes"),
    ("  a:\n    menu: {12: a}\n    give_up: a\n", 5, "a",
     "menu key '12' is not a phone key; use 0-9, or '*' or '#' in quotes"),
    ("  a:\n    menu: {1: a}\n    give_up: a\n    timeout: 5\n", 7, "a",
     "unknown field 'timeout' in a menu node; expected give_up, menu, on_invalid, on_silence, retries, say, "
     "timeout_s"),
    ("  a: {branch: is_vip, then: a, else: a}\n", 4, "a",
     "unknown condition 'is_vip'; use number_known, returning_caller"),
    ("  a: {next: a}\n  a: {next: a}\n", 5, "a", "defined twice (first at line 4); rename one of them"),
    ("  A: {next: a}\n", 4, "A", "a node id is lower-case letters, digits and _, starting with a letter"),
    ("  a:\n    say: [{prompt: hello, language: xx}]\n    next: a\n", 5, "a",
     "language 'xx' is not one of the languages (ar, da, en, pl, so, tr, uk); add it to the test languages"),
]  # fmt: skip


@pytest.mark.parametrize(("nodes", "line", "node", "message"), MALFORMED, ids=[m[3][:40] for m in MALFORMED])
def test_malformed_nodes_are_refused_with_their_place(tmp_path, languages, nodes, line, node, message):
    path = tmp_path / "flow.yaml"
    path.write_text(HEAD + nodes, encoding="utf-8")

    with pytest.raises(FlowFileError) as caught:
        load_flow(path, languages)

    assert str(caught.value) == f"{path}:{line}: node {node!r}: {message}"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("nodes: {}\noverflow: a\n", 1, "`start:` is missing; see docs/flows.md for the fields of a flow file"),
        ("start: a\noverflow: a\nnodes: {}\nextra: 1\n", 4,
         "unknown field 'extra' in a flow file; expected fallback_prompts, flow, max_gathers, menu_defaults, "
         "nodes, number_entry, overflow, placeholders, start"),
        ("start: a\n  overflow: [\n", 2, "not valid YAML: mapping values are not allowed here"),
        ("- a\n", 1, "expected a mapping with `start:`, `overflow:` and `nodes:`"),
        (HEAD.replace("nodes:", "max_gathers: 0\nnodes:") + "  a: {next: a}\n", 3,
         "max_gathers must be a whole number of at least 1, not 0"),
    ],
)  # fmt: skip
def test_malformed_files_are_refused_with_their_place(tmp_path, languages, text, line, message):
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(FlowFileError) as caught:
        load_flow(path, languages)

    assert str(caught.value) == f"{path}:{line}: {message}"


def test_a_missing_file_is_named(tmp_path, languages):
    with pytest.raises(FlowFileError, match=r"nowhere\.yaml:0: cannot read the flow file"):
        load_flow(tmp_path / "nowhere.yaml", languages)


def test_number_entry_settings_are_read(tmp_path, languages):
    path = tmp_path / "flow.yaml"
    path.write_text(
        HEAD.replace("nodes:", "number_entry: {length: 6, confirm_key: '#', ask: phone.ask}\nnodes:")
        + textwrap.indent("a: {action: collect_number, results: {ok: a, gave_up: a}}\n", "  "),
        encoding="utf-8",
    )

    entry = load_flow(path, languages).number_entry

    assert (entry.length, entry.confirm_key, entry.ask, entry.country_code) == (6, "#", "phone.ask", "45")


def test_an_unchanged_flow_is_shared_and_a_changed_one_read_again(tmp_path, languages):
    path = tmp_path / "flow.yaml"
    path.write_text(HEAD + "  a: {next: a}\n", encoding="utf-8")
    first = load_flow(path, languages)

    assert load_flow(path, languages) is first
    path.write_text(HEAD + "  a: {next: b}\n  b: {next: a}\n", encoding="utf-8")
    assert sorted(load_flow(path, languages).nodes) == ["a", "b"]
    danish_only = load_flow(path, languages.only(["da"]))
    assert danish_only.languages.enabled() == {"da"}
