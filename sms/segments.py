"""SMS segments: how many parts a text is sent (and billed) as, in GSM-7 or UCS-2.

A text is GSM-7 when every character is in the GSM 03.38 basic set or its extension table (3GPP TS 23.038);
otherwise the whole text is UCS-2. A single GSM-7 message holds 160 septets and each part of a concatenated one
153 (the user data header takes the rest); an extension character (€, [, ], {, }, ^, ~, \\, |, form feed) costs
two septets, an escape and the character. UCS-2 holds 70 UTF-16 code units, 67 per part; a character outside the
Basic Multilingual Plane (most emoji) is a surrogate pair and costs two.

Handsets encode each part on its own, so an escape pair or a surrogate pair is never split across parts: when it
does not fit, the part ends one unit short and the pair starts the next part. `split_segments` models that, and
the count follows from it.

Twilio's optional "smart encoding" (replacing curly quotes and similar with GSM-7 look-alikes) is not modelled:
the count is for the text as given, which is the safe side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# The GSM 03.38 default alphabet in code-point order, 0x00-0x7F, without 0x1B (the escape to the extension table).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# The extension table's characters; each is sent as ESC + character, two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


@dataclass(frozen=True)
class SegmentInfo:
    """How a text goes over the air.

    `units` are septets for GSM-7 and UTF-16 code units for UCS-2; `chars_per_segment` is the capacity of one
    segment in those units (160 or 153 for GSM-7, 70 or 67 for UCS-2). An empty text is 0 segments: there is
    nothing to send, and Twilio refuses an empty body.
    """

    encoding: Encoding
    units: int
    segments: int
    chars_per_segment: int


def is_gsm7(text: str) -> bool:
    """True when every character of `text` can be sent in GSM-7."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def first_non_gsm7(text: str) -> str | None:
    """The first character that forces `text` into UCS-2, or None when it is all GSM-7."""
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            return ch
    return None


def encoding_of(text: str) -> Encoding:
    """The encoding a handset or Twilio would choose for `text`."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _unit_sizes(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _limits(encoding: Encoding) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)


def split_segments(text: str) -> list[str]:
    """The parts `text` is sent as, never splitting an escape pair or a surrogate pair; [] for an empty text."""
    if not text:
        return []
    encoding = encoding_of(text)
    sizes = _unit_sizes(text, encoding)
    single, per_part = _limits(encoding)
    if sum(sizes) <= single:
        return [text]
    parts: list[str] = []
    start = 0
    used = 0
    for index, size in enumerate(sizes):
        if used + size > per_part:
            parts.append(text[start:index])
            start, used = index, 0
        used += size
    parts.append(text[start:])
    return parts


def count_segments(text: str) -> SegmentInfo:
    """Encoding, length in units and number of segments of `text`."""
    encoding = encoding_of(text)
    units = sum(_unit_sizes(text, encoding))
    single, per_part = _limits(encoding)
    segments = len(split_segments(text))
    return SegmentInfo(
        encoding=encoding,
        units=units,
        segments=segments,
        chars_per_segment=single if segments <= 1 else per_part,
    )
