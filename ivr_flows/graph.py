"""The flow as a Mermaid flowchart a manager can read: each step with what the caller hears, each arrow with the
key or result that leads along it. `hotline flows graph > flow.mmd`, then paste into any Mermaid viewer.
"""

from __future__ import annotations

from ivr_flows.flow import ADAPTER_ACTIONS, Exit, Flow, Node
from ivr_flows.prompts import PromptCatalogue

_LABEL_CHARS = 70
_SHAPES = {
    "menu": ('{{"', '"}}'),
    "branch": ('{"', '"}'),
    "check_hours": ('{"', '"}'),
    "goodbye": ('(["', '"])'),
}
_HELPING = ("connect", "callback", "voicemail", "sms_info", "goodbye")


def to_mermaid(flow: Flow, catalogue: PromptCatalogue, language: str = "da") -> str:
    """A Mermaid `flowchart` of `flow`, with prompt text in `language` (the default language where it has none)."""
    lines = ["flowchart TD"]
    for node in flow.nodes.values():
        opening, closing = _SHAPES.get(
            node.kind, ('[["', '"]]') if node.kind in ADAPTER_ACTIONS else ('["', '"]')
        )
        label = "<br/>".join(
            _escape(part) for part in (f"<b>{node.id}</b>", *_summary(node, catalogue, language))
        )
        lines.append(f"  {_id(node.id)}{opening}{label}{closing}")
    for node in flow.nodes.values():
        for exit_ in node.exits:
            if exit_.target in flow.nodes:
                arrow = f'-->|"{_escape(text)}"|' if (text := _edge_label(node, exit_)) else "-->"
                lines.append(f"  {_id(node.id)} {arrow} {_id(exit_.target)}")
    lines.append("  classDef helps fill:#dff3e4,stroke:#2e7d32")
    lines.append("  classDef menu fill:#e8f0fe,stroke:#1a56db")
    for kinds, css in ((_HELPING, "helps"), (("menu", "collect_number"), "menu")):
        members = [_id(n.id) for n in flow.nodes.values() if n.kind in kinds]
        if members:
            lines.append(f"  class {','.join(members)} {css}")
    return "\n".join(lines) + "\n"


def _summary(node: Node, catalogue: PromptCatalogue, language: str) -> list[str]:
    """What the node does, in a few words, and the start of what the caller hears there."""
    params = ", ".join(node.params.values())
    what = {
        "say": "",
        "menu": "",
        "branch": f"{node.params.get('condition', '').replace('_', ' ')}?",
        "check_hours": "anyone on call?",
        "collect_number": "caller keys in their number",
        "set_language": f"language: {params}",
        "goodbye": "hang up",
    }.get(node.kind, f"{node.kind.replace('_', ' ')}: {params}" if params else node.kind)
    heard = []
    for ref in node.say[:1]:
        lang = ref.language or language
        if catalogue.has(lang, ref.key) or catalogue.has(catalogue.default_language, ref.key):
            text = (
                catalogue.texts.get(lang, {}).get(ref.key)
                or catalogue.texts[catalogue.default_language][ref.key]
            )
            text = " ".join(text.split())
            more = "…" if len(text) > _LABEL_CHARS or len(node.say) > 1 else ""
            heard.append(f"«{text[:_LABEL_CHARS].rstrip()}{more}»")
        else:
            heard.append(f"«{ref.key}»")
    return [part for part in (what, *heard) if part]


def _edge_label(node: Node, exit_: Exit) -> str:
    if exit_.is_key:
        return f"key {exit_.label}"
    if exit_.label == "give_up":
        return f"no choice ×{node.retries + 1}" if node.retries else "no choice"
    return {"next": "", "then": "yes", "else": "no"}.get(exit_.label, exit_.label.replace("_", " "))


def _id(node_id: str) -> str:
    return f"n_{node_id}"  # a prefix keeps ids such as `end` clear of Mermaid's keywords


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")
