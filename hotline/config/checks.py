"""`hotline check`: everything that can be validated without starting the service."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hotline.config.settings import Settings
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
    for language in settings.file.languages.enabled:
        if language not in prompts.languages():
            warnings.append(
                f"languages.enabled lists {language!r} but ivr_flows/prompts/{language}.yaml does not exist; "
                "callers choosing it hear Danish"
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
    """(problems, warnings) in the shipped flows for the languages config.yaml enables (or `codes`), one line
    each.

    A missing recording of a recorded language is a warning: that language is simply not offered to callers
    until all its recordings are in place (see hotline.config.voices).
    """
    try:
        prompts = PromptCatalogue.load(default_language=settings.file.languages.default)
    except PromptError as error:
        return [str(error)], []
    try:
        languages = languages_from_settings(settings, prompts).only(codes or settings.file.languages.enabled)
    except LanguageError as error:
        return [str(error)], []
    problems: list[Problem] = check_flows(sorted(FLOWS_DIR.glob("*.yaml")), prompts, languages)
    lines = [_relative(str(problem)) for problem in problems]
    missing = [line for line in lines if any(f"recording {code}/" in line for code in languages.recorded())]
    return [line for line in lines if line not in missing], missing


def _relative(line: str) -> str:
    cwd = f"{Path.cwd()}/"
    return line.removeprefix(cwd)
