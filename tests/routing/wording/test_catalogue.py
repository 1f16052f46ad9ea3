"""The staff catalogue: every entry in Danish and English with the same placeholders, and the three ways staff
see an entry (one language, Danish (English), an aside)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from routing.wording.catalogue import (
    LANGUAGES,
    WordingError,
    aside,
    both,
    da,
    default_catalogue,
    language_name,
    language_ref,
    load_catalogue,
    ref,
    text,
)
from routing.wording.po import po_file, write_po_files


def catalogue_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "staff.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def problems(tmp_path: Path, body: str) -> str:
    with pytest.raises(WordingError) as raised:
        load_catalogue(catalogue_file(tmp_path, body))
    return str(raised.value)


def test_the_shipped_catalogue_loads_with_danish_and_english_for_every_entry() -> None:
    catalogue = default_catalogue()
    assert len(catalogue.entries) > 100
    for entry in catalogue.entries.values():
        assert set(entry.texts) == set(LANGUAGES), entry.message_id


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a.b: {da: hej}\n", "staff.yaml: a.b: no `en:` text; every message needs Danish and English"),
        ("a.b: {en: hello}\n", "staff.yaml: a.b: no `da:` text"),
        ("a.b: {da: '', en: hello}\n", "staff.yaml: a.b: no `da:` text"),
        (
            "a.b: {da: 'hej %(navn)s', en: 'hello %(name)s'}\n",
            "the placeholders differ: da ['navn'], en ['name']",
        ),
        ("a.b: {da: 'hej %(name)s', en: hello}\n", "the placeholders differ: da ['name'], en []"),
        (
            "a.b: {da: '50 % rabat', en: '50 %% off'}\n",
            "da: a lone % in '50 % rabat'; write %% for a percent sign",
        ),
        ("a.b: {da: 'hej %s', en: 'hello %s'}\n", "a lone %"),
        ("a.b: {da: hej, en: hello, fr: salut}\n", "unknown key 'fr'"),
        ("Ab: {da: hej, en: hello}\n", "an id is lowercase words joined by dots"),
        ("plain: {da: hej, en: hello}\n", "an id is lowercase words joined by dots"),
        ("a.b: {da: {one: en sag, other: '%(num)s sager'}, en: cases}\n", "plural in one language only"),
        (
            "a.b: {da: {one: en, other: flere}, en: {one: one, other: many}}\n",
            "must show the number as %(num)s",
        ),
        ("a.b: {da: {one: en, many: '%(num)s'}, en: {one: one, other: '%(num)s'}}\n", "expected a text, or"),
    ],
)
def test_a_malformed_entry_is_refused_with_its_id_and_the_fix(
    tmp_path: Path, body: str, expected: str
) -> None:
    assert expected in problems(tmp_path, body)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, "a.b: {da: hej}\nc.d: {en: hello}\n")
    assert "a.b: no `en:`" in found and "c.d: no `da:`" in found


def test_an_unknown_id_is_an_error_naming_it() -> None:
    with pytest.raises(WordingError, match=r"no message 'roster\.nothing_like_this'; add it"):
        both("roster.nothing_like_this")


def test_a_missing_value_is_an_error_naming_the_placeholder() -> None:
    with pytest.raises(WordingError, match=r"roster\.import\.version needs a value for version"):
        both("roster.import.version")


def test_only_danish_and_english() -> None:
    with pytest.raises(WordingError, match="no language 'sv'"):
        text("roster.gaps.none", "sv")


def test_the_three_forms() -> None:
    assert da("roster.gaps.none") == "ingen huller"
    assert text("roster.gaps.none", "en") == "no gaps"
    assert both("roster.gaps.none") == "ingen huller (no gaps)"
    assert aside("roster.feeds.inactive") == "(inaktiv / inactive)"


def test_a_message_as_a_value_is_shown_in_the_language_around_it() -> None:
    assert both("chain.speaks", language=ref("language.ar")) == "taler arabisk (speaks Arabic)"


@pytest.mark.parametrize(
    ("num", "expected"),
    [
        (0, "0 huller i vagtplanen (0 gaps in the roster)"),
        (1, "1 hul i vagtplanen (1 gap in the roster)"),
        (2, "2 huller i vagtplanen (2 gaps in the roster)"),
    ],
)
def test_a_plural_message_takes_its_form_from_num(num: int, expected: str) -> None:
    assert both("roster.gaps.found", num=num) == expected


def test_a_plural_message_needs_a_whole_number() -> None:
    with pytest.raises(WordingError, match="needs num= a whole number"):
        both("roster.gaps.found", num="2")


@pytest.mark.parametrize(
    ("code", "danish", "english"),
    [
        ("ar", "arabisk", "Arabic"),
        ("da-DK", "dansk", "Danish"),
        ("SO", "somalisk", "Somali"),
        ("xx", "xx", "xx"),
    ],
)
def test_language_names(code: str, danish: str, english: str) -> None:
    assert (language_name(code), language_name(code, "en")) == (danish, english)
    assert isinstance(language_ref(code), str) is (danish == code)


def test_the_catalogue_as_po_files_for_flask_babel(tmp_path: Path) -> None:
    danish = po_file(default_catalogue(), "da")
    assert 'msgid "roster.gaps.none"\nmsgstr "ingen huller"' in danish
    assert (
        'msgid "roster.gaps.found"\nmsgid_plural "roster.gaps.found"\nmsgstr[0] "%(num)s hul i vagtplanen"'
        in danish
    )
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in danish
    written = write_po_files(default_catalogue(), tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "da/LC_MESSAGES/messages.po",
        "en/LC_MESSAGES/messages.po",
    ]
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (gettext) is not installed; the .po text was checked above")
    for path in written:
        done = subprocess.run(
            [msgfmt, "--check-format", "--check-header", "-o", str(path.with_suffix(".mo")), str(path)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr


def test_every_language_the_hotline_speaks_or_texts_has_a_name_for_staff() -> None:
    from hotline.config.settings import load_settings
    from sms.catalogue import default_catalogue as sms_catalogue

    # The shipped defaults: every language the hotline is configured for.
    voices = load_settings(environ={}).file.languages.voices
    codes = set(sms_catalogue().languages()) | set(voices)
    assert sorted(code for code in codes if language_name(code) == code) == []
