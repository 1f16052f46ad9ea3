"""`hotline check`: everything that can be validated without starting the service.

Besides the settings themselves, the configuration is held against the call flow and its prompts, so that a
mismatch is found here and not by a caller: a callback window the flow asks for that config.yaml lacks, a
placeholder a prompt needs that nothing fills in (window hours are named after the configured windows), a
language enabled without prompts or unknown to the flow. Each is reported with the file and line to change.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hotline.config.prompt_values import value_names
from hotline.config.settings import Settings, written_at
from hotline.config.voices import languages_from_settings
from ivr_flows.check import Problem, check_flows
from ivr_flows.flow_file import FLOWS_DIR
from ivr_flows.languages import LanguageError
from ivr_flows.prompts import PromptCatalogue, PromptError

REQUIRED_SYSTEM_PROMPTS = (
    "system.fallback",
    "system.emergency",
    "system.fallback_connect",
    "system.fallback_record",
    "system.recording_saved",
    "system.greeting",
)


def run_checks(settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, warnings) about prompts and languages for the given settings."""
    problems: list[str] = []
    warnings: list[str] = []
    try:
        prompts = PromptCatalogue.load(default_language=settings.file.languages.default)
    except PromptError as exc:
        return [str(exc)], warnings
    for language in ("da", "en"):
        for key in REQUIRED_SYSTEM_PROMPTS:
            if not prompts.has(language, key):
                problems.append(
                    f"ivr_flows/prompts/{language}.yaml: prompt {key!r} is missing; the fallback needs it"
                )
    flow_errors, missing_recordings = flow_problems(settings)
    problems.extend(flow_errors)
    warnings.extend(missing_recordings)
    sms_problems, sms_warnings = sms_template_checks(settings)
    problems.extend(sms_problems)
    warnings.extend(sms_warnings)
    if settings.demo_mode:
        warnings.append("no Twilio credentials: the hotline runs in offline demo mode")
    return problems, warnings


def sms_template_checks(settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, warnings) about the SMS texts: files that do not load, and texts that, with this
    configuration's name, numbers and links, run past `sms.max_segments`."""
    from routing.numbers import display_number
    from sms.catalogue import CatalogueError
    from sms.templates import check_templates

    info = settings.file.sms.info
    links = (info.offers_url, info.handbook_url, info.network_url, info.mentor_url)
    # Staff texts link to a signed staff page (hotline.staff.links), as long as a 16-character advisor id makes it.
    base = settings.file.sms.staff_url or f"{settings.base_url}/staff"
    staff_link = f"{base}/handover/{'x' * 16}.{'f' * 8}.{'0' * 32}"
    samples = {
        "service_name": settings.file.service.name,
        "hotline_phone": display_number(settings.file.service.hotline_number),
        "phone": display_number(info.mentor_phone),
        "url": max(links, key=len),
    }
    try:
        warnings = check_templates(settings.file.sms.max_segments, samples, staff_samples={"url": staff_link})
    except CatalogueError as exc:
        return [str(exc)], []
    return [], [f"{line} (sms.max_segments in config.yaml)" for line in warnings]


def flow_problems(settings: Settings, codes: Iterable[str] | None = None) -> tuple[list[str], list[str]]:
    """(problems, warnings) in the shipped flows and prompts, held against config.yaml, for the languages it
    enables (or `codes`), one line each.

    A missing recording of a recorded language is a warning: that language is simply not offered to callers
    until all its recordings are in place (see hotline.config.voices).
    """
    config = settings.file
    try:
        prompts = PromptCatalogue.load(default_language=config.languages.default)
    except PromptError as error:
        return [str(error)], []
    wanted = list(codes or config.languages.enabled)
    try:
        known = languages_from_settings(settings, prompts)
        known.only(wanted)  # names a code that is no language at all
        languages = known.only(code for code in wanted if code in prompts.languages())
    except LanguageError as error:
        return [str(error)], []
    enabled_at = written_at(settings, "languages", "enabled")
    problems = [
        f"language {code!r} has no prompts (ivr_flows/prompts/{code}.yaml does not exist); translate them first"
        if codes
        else f"{enabled_at}: languages.enabled lists {code!r}, but it has no prompts (ivr_flows/prompts/{code}.yaml "
        "does not exist); translate the prompts first, or remove it from the list"
        for code in wanted
        if code not in prompts.languages()
    ]
    windows = [window.key for window in config.callbacks.windows]
    found: list[Problem] = check_flows(
        sorted(FLOWS_DIR.glob("*.yaml")),
        prompts,
        languages,
        values=value_names(config),
        windows=windows,
        windows_at=f"callbacks.windows ({written_at(settings, 'callbacks', 'windows')})",
    )
    lines = [_relative(str(problem)) for problem in found]
    missing = [line for line in lines if any(f"recording {code}/" in line for code in languages.recorded())]
    return [*problems, *(line for line in lines if line not in missing)], missing


def _relative(line: str) -> str:
    cwd = f"{Path.cwd()}/"
    return line.removeprefix(cwd)
