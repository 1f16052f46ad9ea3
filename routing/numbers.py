"""Phone numbers at the edge: normalise what Twilio or a person hands us to E.164, or recognise it as withheld."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

# What carriers and Twilio put in `From` when the caller hides their number. The numeric forms are the
# "anonymous"/"restricted"/"unknown" strings spelt on a keypad (+266696687 = ANONYMOUS, +7378742833 = RESTRICTED,
# +86282452253 = UNAVAILABLE) which some carriers send instead of the words.
WITHHELD_FORMS = frozenset(
    {
        "",
        "anonymous",
        "restricted",
        "unknown",
        "unavailable",
        "private",
        "withheld",
        "+266696687",
        "266696687",
        "+7378742833",
        "7378742833",
        "+8656696687",
        "+86282452253",
        "86282452253",
    }
)

_SEPARATORS = re.compile(r"[\s\-().]")


def is_withheld(raw: str | None) -> bool:
    """True when `raw` is one of the forms a hidden caller ID arrives in."""
    if raw is None:
        return True
    return _SEPARATORS.sub("", raw.strip()).lower() in WITHHELD_FORMS


@dataclass(frozen=True)
class ParsedNumber:
    """A number parsed once at the edge: its E.164 form and its parts, for storing and for masking in logs."""

    e164: str
    country_code: int
    national: str

    @property
    def masked(self) -> str:
        """`+45 67 12 ** **`: the last four digits hidden."""
        keep = max(0, len(self.national) - 4)
        shown = self.national[:keep]
        pairs = " ".join(shown[i : i + 2] for i in range(0, len(shown), 2))
        hidden = "** **" if len(self.national) - keep == 4 else "*" * (len(self.national) - keep)
        return f"+{self.country_code} {pairs} {hidden}".replace("  ", " ")


def parse_number(raw: str | None, default_region: str = "DK") -> ParsedNumber | None:
    """`raw` parsed (one call of phonenumbers.parse), or None when it is withheld or not a phone number at all.

    A national number without a country code is read in `default_region` (Denmark by default), so
    "67 12 34 56" and "0045 67123456" both become "+4567123456". Validity against the numbering plan is
    the toll-fraud guard's business, not this function's: it only normalises what parses.
    """
    if is_withheld(raw):
        return None
    assert raw is not None
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return ParsedNumber(
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        int(parsed.country_code or 0),
        str(parsed.national_number),
    )


def normalize_number(raw: str | None, default_region: str = "DK") -> str | None:
    """Return `raw` as E.164 (`+4567123456`), or None when it is withheld or not a phone number at all
    (see `parse_number`)."""
    parsed = parse_number(raw, default_region)
    return parsed.e164 if parsed is not None else None


def mask_number(number: str | None) -> str:
    """Mask a phone number for logs: `+4567123456` becomes `+45 67 12 ** **`; anything else keeps no digits."""
    if number is None or is_withheld(number):
        return "withheld"
    parsed = parse_number(number)
    return parsed.masked if parsed is not None else "***"


def display_number(number: str) -> str:
    """An E.164 number as people read it: +4568000000 → +45 68 00 00 00."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
