"""`hotline check` (everything that can be validated without starting the service) and `hotline fallback-twiml`."""

from __future__ import annotations

import sys

import click

from hotline.cli.common import fail, settings_or_exit
from hotline.config.checks import run_checks
from hotline.config.settings import ConfigError, load_settings
from hotline.config.voices import languages_from_settings
from hotline.twilio.fallback import fallback_response
from ivr_flows.prompts import PromptCatalogue


@click.command()
def check() -> None:
    """Validate config, environment and prompts; print every problem; exit 0 when all is well."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(exc.problems, 1)
    problems, warnings = run_checks(settings)
    for line in warnings:
        click.echo(f"warning: {line}")
    for line in problems:
        click.echo(f"problem: {line}")
    if problems:
        sys.exit(1)
    click.echo(f"ok: {settings.config_path or 'the shipped defaults'} and the environment are valid")


@click.command("fallback-twiml")
def fallback_twiml() -> None:
    """Print the fallback answer as static TwiML (for a TwiML Bin: answers even when this server is down)."""
    settings = settings_or_exit()
    base = settings.twiml_url("")
    prompts = PromptCatalogue.load(default_language=settings.file.languages.default)
    click.echo(str(fallback_response(settings, prompts, languages_from_settings(settings, prompts), base)))
