"""`hotline flows check` and `hotline flows graph`: the call flow as managers change it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hotline.cli.common import settings_or_exit
from hotline.config.checks import flow_problems
from hotline.config.voices import languages_from_settings
from ivr_flows.flow_file import MAIN_FLOW, FlowFileError, load_flow
from ivr_flows.graph import to_mermaid
from ivr_flows.prompts import PromptCatalogue


@click.group("flows")
def flows() -> None:
    """The call flow (ivr_flows/flows/*.yaml)."""


@flows.command("check")
@click.option(
    "--languages",
    "codes",
    help="Comma-separated languages to check, e.g. da,so before switching Somali on (default: the enabled ones).",
)
def check(codes: str | None) -> None:
    """Unknown targets, unreachable nodes, dead ends, repeated keys, missing prompts and recordings."""
    problems, warnings = flow_problems(settings_or_exit(), codes.split(",") if codes else None)
    for line in warnings:
        click.echo(f"warning: {line}")
    for line in problems:
        click.echo(f"problem: {line}")
    if warnings:
        click.echo(f"{len(warnings)} recording(s) missing: those languages are not offered to callers yet")
    if problems:
        click.echo(f"{len(problems)} problem(s) in the call flow", err=True)
        sys.exit(1)
    click.echo("ok: the call flow has no problems")


@flows.command("graph")
@click.option("--language", default="da", show_default=True, help="Language of the node labels.")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout."
)
def graph(language: str, output: Path | None) -> None:
    """The flow as a Mermaid diagram (paste into any Mermaid viewer, or GitHub/GitLab markdown)."""
    settings = settings_or_exit()
    prompts = PromptCatalogue.load(default_language=settings.file.languages.default)
    try:
        flow = load_flow(MAIN_FLOW, languages_from_settings(settings, prompts))
    except FlowFileError as error:
        click.echo(f"hotline: {error}", err=True)
        sys.exit(1)
    text = to_mermaid(flow, prompts, language)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text)
