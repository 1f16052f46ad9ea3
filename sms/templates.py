"""Rendering SMS templates from `sms/templates/<lang>.yaml`, and checking what they cost in segments.

`render("received", "ar", service_name=..., when=..., hotline_phone=...)` gives the Arabic text, or the Danish
one when Arabic lacks the key. Every placeholder the chosen text names must be passed; values it does not name
are ignored, so a caller may pass its common values (service name, phone numbers, URLs) to every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from routing.wording.catalogue import language_name
from sms.catalogue import Catalogue, LanguagePack, TemplateError, default_catalogue
from sms.segments import count_segments, first_non_gsm7
from sms.timephrase import window_phrase

__all__ = ["TemplateError", "check_templates", "render", "render_from", "sample_values"]


class _Values(dict[str, str]):
    def __init__(self, values: Mapping[str, object], key: str, pack: LanguagePack) -> None:
        super().__init__({name: str(value) for name, value in values.items() if value is not None})
        self.none = {name for name, value in values.items() if value is None}
        self.key = key
        self.pack = pack

    def __missing__(self, name: str) -> str:
        if name in self.none:
            raise TemplateError(
                f"{self.pack.path.name}: {self.key}: the value for {{{name}}} is None; pass text"
            )
        raise TemplateError(
            f"{self.pack.path.name}: {self.key} needs a value for {{{name}}}; pass {name}=... to render()"
        )


def render(key: str, language: str | None, /, **values: object) -> str:
    """The text `key` in `language` (falling back to Danish) with its `{placeholders}` filled from `values`."""
    return render_from(default_catalogue(), key, language, values)


def render_from(catalogue: Catalogue, key: str, language: str | None, values: Mapping[str, object]) -> str:
    """`render` from a given catalogue, with the values as a mapping.

    A value of None is refused when the text uses it (an unconfigured URL must not become "None" in a text), and
    ignored when it does not.
    """
    text, pack = catalogue.lookup(key, language)
    try:
        return text.format_map(_Values(values, key, pack))
    except TemplateError:
        raise
    except (ValueError, KeyError, IndexError) as exc:
        raise TemplateError(f"{pack.path.name}: {key}: cannot fill in the text: {exc}") from exc


# A Monday morning, so that the sample windows below include the longest day words (weekday and date).
_SAMPLE_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_SAMPLE_WINDOWS = (
    (datetime(2026, 3, 2, 16, 0, tzinfo=UTC), datetime(2026, 3, 2, 20, 0, tzinfo=UTC)),
    (datetime(2026, 3, 3, 5, 30, tzinfo=UTC), datetime(2026, 3, 3, 7, 0, tzinfo=UTC)),
    (datetime(2026, 3, 4, 13, 30, tzinfo=UTC), datetime(2026, 3, 4, 15, 30, tzinfo=UTC)),
    (datetime(2026, 3, 12, 13, 30, tzinfo=UTC), datetime(2026, 3, 12, 15, 30, tzinfo=UTC)),
)

# Realistic values for placeholders that do not depend on the language; the app passes its configuration instead.
SAMPLE_VALUES: Mapping[str, object] = {
    "service_name": "Pårørendelinjen",
    "hotline_phone": "+45 68 00 00 00",
    "phone": "+45 68 00 00 01",
    "url": "https://www.aarhus.dk/paaroerende/tilbud",
    "minutes": 15,
    "ref": "PL-2026-0123",
    "reason": "aflastning",
    "count": 12,
    "acute": 2,
    "notes": 3,
    "cases": "PL-2026-0123, PL-2026-0124, PL-2026-0125, PL-2026-0126",
}


def sample_values(language: str, catalogue: Catalogue | None = None) -> dict[str, object]:
    """`SAMPLE_VALUES` plus the longest of a few real window phrases in `language` for {when}, {window}, {next}."""
    cat = catalogue or default_catalogue()
    phrases = [
        window_phrase(start, end, _SAMPLE_NOW, language, catalogue=cat) for start, end in _SAMPLE_WINDOWS
    ]
    longest = max(phrases, key=lambda phrase: count_segments(phrase).units)
    return {
        **SAMPLE_VALUES,
        "language": language_name(language),
        "when": longest,
        "window": longest,
        "next": longest,
    }


def check_templates(
    max_segments: int,
    samples: Mapping[str, object] | None = None,
    catalogue: Catalogue | None = None,
    staff_samples: Mapping[str, object] | None = None,
) -> list[str]:
    """Warnings for templates that, rendered with realistic values, take more than `max_segments` segments.

    `samples` override `SAMPLE_VALUES` (pass the configured URLs and phone numbers); `staff_samples` override
    them again for staff texts (whose links differ). Each warning names the file and key, the segment count and
    encoding, and the character that forced UCS-2 if any.
    """
    cat = catalogue or default_catalogue()
    warnings: list[str] = []
    for code in cat.languages():
        pack = cat.packs[code]
        values = {**sample_values(code, cat), **(samples or {})}
        for key in pack.template_keys():
            extra = staff_samples if staff_samples and key in pack.staff_texts else {}
            text = render_from(cat, key, code, {**values, **extra})
            info = count_segments(text)
            if info.segments <= max_segments:
                continue
            warning = (
                f"{_display(pack.path)}: {key}: {info.segments} segments ({info.encoding}, {info.units} units) "
                f"with sample values; the limit is {max_segments}"
            )
            culprit = first_non_gsm7(text)
            if culprit is not None:
                warning += f"; UCS-2 because of {culprit!r} (U+{ord(culprit):04X})"
            warnings.append(warning)
    return warnings


def _display(path: Path) -> str:
    # "sms/templates/da.yaml" reads better in a warning than an absolute path into site-packages.
    return "/".join(path.parts[-3:])
