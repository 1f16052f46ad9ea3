"""`hotline flows check` and `hotline flows graph`: the call flow as managers change it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hotline.cli_common import _settings
from hotline.settings import Settings
from ivr_flows.check import Problem, check_flows
from ivr_flows.flow_file import FLOWS_DIR, FlowFileError, load_flow
from ivr_flows.graph import to_mermaid
from ivr_flows.prompts import PromptCatalogue, PromptError


def flow_problems(settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, warnings) in the shipped flows for the languages config.yaml enables, one line each.

    A missing recording of a recorded language is a warning: that language is simply not offered to callers
    until all its recordings are in place (see hotline.voice_languages).
    """
    from hotline.voice_languages import languages_from_settings

    try:
        prompts = PromptCatalogue.load(default_language=settings.file.languages.default)
    except PromptError as error:
        return [str(error)], []
    voices = settings.file.languages.voices
    enabled = settings.file.languages.enabled
    audio = [code for code in enabled if voices[code].mode == "audio"]
    languages = languages_from_settings(settings, prompts)
    problems: list[Problem] = check_flows(
        sorted(FLOWS_DIR.glob("*.yaml")), prompts, enabled, audio, languages=languages
    )
    lines = [_relative(str(problem)) for problem in problems]
    missing = [line for line in lines if any(f"recording {code}/" in line for code in audio)]
    return [line for line in lines if line not in missing], missing


def _relative(line: str) -> str:
    cwd = f"{Path.cwd()}/"
    return line.removeprefix(cwd)


@click.group("flows")
def flows() -> None:
    """The call flow (ivr_flows/flows/*.yaml)."""


@flows.command("check")
def check() -> None:
    """Unknown targets, unreachable nodes, dead ends, repeated keys, missing prompts and recordings."""
    problems, warnings = flow_problems(_settings())
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
    settings = _settings()
    try:
        flow = load_flow()
    except FlowFileError as error:
        click.echo(f"hotline: {error}", err=True)
        sys.exit(1)
    text = to_mermaid(flow, PromptCatalogue.load(default_language=settings.file.languages.default), language)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text)
