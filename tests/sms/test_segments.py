"""Segment counting: what a text costs, in GSM-7 or UCS-2, including the pairs that must not be split."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    count_segments,
    first_non_gsm7,
    is_gsm7,
    split_segments,
)

DANISH = (
    "Kære pårørende. Vi ringer i aften mellem 17 og 21. Æble, Øl, Århus, café, Müller, señor, smørrebrød."
)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments", "per_segment"),
    [
        ("", "GSM-7", 0, 0, 160),
        ("Hej", "GSM-7", 3, 1, 160),
        (DANISH, "GSM-7", len(DANISH), 1, 160),
        ("ÆØÅæøåéÉüÜäÄöÖñÑàèùìòßÇ§¿¡£¥¤", "GSM-7", 29, 1, 160),
        ("a" * 160, "GSM-7", 160, 1, 160),
        ("a" * 161, "GSM-7", 161, 2, 153),
        ("a" * 306, "GSM-7", 306, 2, 153),
        ("a" * 307, "GSM-7", 307, 3, 153),
        ("ø" * 161, "GSM-7", 161, 2, 153),
        # The extension table costs two septets each.
        ("€", "GSM-7", 2, 1, 160),
        ("[]{}^~\\|€", "GSM-7", 18, 1, 160),
        ("€" * 80, "GSM-7", 160, 1, 160),
        ("a" * 159 + "€", "GSM-7", 161, 2, 153),
        ("a" * 158 + "€", "GSM-7", 160, 1, 160),
        # € at a part boundary moves whole to the next part: 152 | €+151 | 1 = 3 parts, not ceil(306/153) = 2.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3, 153),
        # Characters outside GSM-7 make the whole text UCS-2.
        ("Café crème", "GSM-7", 10, 1, 160),
        ("Crêpe", "UCS-2", 5, 1, 70),
        ("It’s fine", "UCS-2", 9, 1, 70),
        ("17–21", "UCS-2", 5, 1, 70),
        ("Tab\there", "UCS-2", 8, 1, 70),
        ("مرحبا، كيف حالك؟", "UCS-2", 16, 1, 70),
        ("Привіт", "UCS-2", 6, 1, 70),
        ("Dziękuję", "UCS-2", 8, 1, 70),
        ("a" * 69 + "ş", "UCS-2", 70, 1, 70),
        ("a" * 70 + "ş", "UCS-2", 71, 2, 67),
        ("ب" * 134, "UCS-2", 134, 2, 67),
        ("ب" * 135, "UCS-2", 135, 3, 67),
        # Emoji outside the BMP are surrogate pairs: two units each.
        ("😀", "UCS-2", 2, 1, 70),
        ("Tak 🙏", "UCS-2", 6, 1, 70),
        ("😀" * 35, "UCS-2", 70, 1, 70),
        ("😀" * 36, "UCS-2", 72, 2, 67),
        # A surrogate pair at a part boundary moves whole: 66 | 😀+65 | 1 = 3 parts, not ceil(134/67) = 2.
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 134, 3, 67),
        # A BMP emoji (☺) is one unit; its variation selector another.
        ("☺\ufe0f", "UCS-2", 2, 1, 70),
        # Twilio's maximum body: 1,600 characters.
        ("a" * 1600, "GSM-7", 1600, 11, 153),
        ("æ" * 1600, "GSM-7", 1600, 11, 153),
        ("€" * 800, "GSM-7", 1600, 11, 153),
        ("ع" * 1600, "UCS-2", 1600, 24, 67),
        ("😀" * 800, "UCS-2", 1600, 25, 67),
    ],
)
def test_count_segments(text: str, encoding: str, units: int, segments: int, per_segment: int) -> None:
    info = count_segments(text)
    assert (info.encoding, info.units, info.segments, info.chars_per_segment) == (
        encoding,
        units,
        segments,
        per_segment,
    )


def test_gsm7_tables_have_the_standard_sizes() -> None:
    # 128 code points in the default alphabet, one of them the escape; ten characters in the extension table.
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "culprit"),
    [("Hej Åse", None), ("Hej Åse 👋", "👋"), ("naïve", "ï"), ("€ and ’", "’"), ("", None)],
)
def test_first_non_gsm7_names_the_character_that_forces_ucs2(text: str, culprit: str | None) -> None:
    assert first_non_gsm7(text) == culprit
    assert is_gsm7(text) is (culprit is None)


def test_split_keeps_an_extension_pair_in_one_part() -> None:
    parts = split_segments("a" * 152 + "€" + "b" * 10)
    assert parts == ["a" * 152, "€" + "b" * 10]


def _oracle_units(text: str) -> int:
    if is_gsm7(text):
        return len(text) + sum(ch in GSM7_EXTENSION for ch in text)
    return len(text.encode("utf-16-le")) // 2


_messages = st.text(
    alphabet=st.one_of(
        st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION)),
        st.characters(codec="utf-8"),
        st.sampled_from(["😀", "🙏", "\u200d", "ع", "ł"]),
    ),
    max_size=1700,
)


@given(_messages)
def test_parts_rebuild_the_text_and_fit_their_segments(text: str) -> None:
    info = count_segments(text)
    parts = split_segments(text)
    assert "".join(parts) == text
    assert info.segments == len(parts)
    assert info.units == _oracle_units(text)
    if len(parts) > 1:
        assert all(_oracle_units_in(part, info.encoding) <= info.chars_per_segment for part in parts)
        # Not splitting pairs costs at most one part more than dividing evenly would.
        assert math.ceil(info.units / info.chars_per_segment) <= info.segments
        assert info.segments <= math.ceil(info.units / (info.chars_per_segment - 1))
    else:
        assert info.units <= info.chars_per_segment


def _oracle_units_in(part: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return len(part) + sum(ch in GSM7_EXTENSION for ch in part)
    return len(part.encode("utf-16-le")) // 2


@given(_messages, st.characters(codec="utf-8"))
def test_adding_a_character_never_makes_a_text_cheaper(text: str, extra: str) -> None:
    assert count_segments(text + extra).segments >= count_segments(text).segments
