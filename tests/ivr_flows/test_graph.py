"""The flow as a Mermaid chart for managers."""

from __future__ import annotations

import re

from ivr_flows.graph import to_mermaid


def test_every_node_and_every_way_between_them_is_drawn(flow, catalogue):
    chart = to_mermaid(flow, catalogue)

    assert chart.startswith("flowchart TD\n")
    for node in flow.nodes.values():
        assert re.search(rf"^  n_{node.id}[\[{{(]", chart, re.M), node.id
        for exit_ in node.exits:
            assert re.search(rf"^  n_{node.id} -->(\|[^|]*\|)? n_{exit_.target}$", chart, re.M), exit_


def test_labels_show_what_the_caller_hears_and_which_key_leads_where(flow, catalogue):
    chart = to_mermaid(flow, catalogue)

    assert "«Tryk 1, hvis du har brug for råd nu" in chart
    assert 'n_main_menu -->|"key 1"| n_acute' in chart
    assert 'n_main_menu -->|"no choice ×3"| n_question' in chart
    assert 'n_acute_connect -->|"no answer"| n_acute_no_answer' in chart
    assert "connect: acute" in chart


def test_another_language_and_quotes_that_would_break_the_chart(flow, catalogue):
    chart = to_mermaid(flow, catalogue, language="en")

    assert "«Press 1 if you need advice now" in chart
    assert "municipality's" in chart
    assert all(line.count('"') % 2 == 0 for line in chart.splitlines())
