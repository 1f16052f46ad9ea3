"""Keywords: which texts are STOP, START, HJÆLP, ... and which are questions for the advisors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms.catalogue import default_catalogue
from sms.keywords import KeywordAction, KeywordError, KeywordTable, classify, default_table, single_word

OPT_OUT = (KeywordAction.OPT_OUT, None)
OPT_IN = (KeywordAction.OPT_IN, None)
HELP = (KeywordAction.HELP, None)
STATUS = (KeywordAction.STATUS, None)
CALLBACK = (KeywordAction.CALLBACK, None)
OFFERS = (KeywordAction.INFO, "offers")
HANDBOOK = (KeywordAction.INFO, "handbook")
NETWORK = (KeywordAction.INFO, "network")
MENTOR = (KeywordAction.INFO, "mentor")

SPELLINGS = [
    # Opt-out, in every case and dress.
    ("STOP", OPT_OUT),
    ("stop", OPT_OUT),
    ("Stop", OPT_OUT),
    ("sToP", OPT_OUT),
    ("  STOP  ", OPT_OUT),
    ("STOP\n", OPT_OUT),
    ("\tstop\r\n", OPT_OUT),
    ("Stop!", OPT_OUT),
    ("Stop.", OPT_OUT),
    ("STOP!!!", OPT_OUT),
    ('"STOP"', OPT_OUT),
    ("«stop»", OPT_OUT),
    ("(stop)", OPT_OUT),
    ("-stop-", OPT_OUT),
    ("STOP 🛑", OPT_OUT),
    ("🙏 stop 🙏", OPT_OUT),
    ("ＳＴＯＰ", OPT_OUT),  # full-width letters
    ("𝐒𝐓𝐎𝐏", OPT_OUT),  # mathematical bold
    ("ST\u200bOP", OPT_OUT),  # zero-width space inside
    ("\ufeffSTOP", OPT_OUT),  # byte-order mark
    ("\u200fSTOP\u200f", OPT_OUT),  # right-to-left marks around
    ("\u2067STOP\u2069", OPT_OUT),  # right-to-left isolate
    ("stóp", OPT_OUT),
    ("STOPP", OPT_OUT),
    ("stopp", OPT_OUT),
    ("AFMELD", OPT_OUT),
    ("afmeld.", OPT_OUT),
    ("Afmeld", OPT_OUT),
    ("UNSUBSCRIBE", OPT_OUT),
    ("unsubscribe", OPT_OUT),
    # Opt-in.
    ("START", OPT_IN),
    ("start", OPT_IN),
    ("Start!", OPT_IN),
    # Help, with and without the Danish letter.
    ("HJÆLP", HELP),
    ("hjælp", HELP),
    ("Hjælp!", HELP),
    ("HJAELP", HELP),
    ("hjaelp", HELP),
    ("HJALP", HELP),
    ("hjalp?", HELP),
    ("HJA\u0308LP", HELP),  # combining diaeresis: HJÄLP
    ("HELP", HELP),
    ("help", HELP),
    ("Help?", HELP),
    ("¿help?", HELP),
    # Status, callback.
    ("STATUS", STATUS),
    ("status?", STATUS),
    ("Status", STATUS),
    ("RING", CALLBACK),
    ("ring", CALLBACK),
    ("Ring!", CALLBACK),
    ("CALL", CALLBACK),
    ("call", CALLBACK),
    # Information topics.
    ("TILBUD", OFFERS),
    ("tilbud", OFFERS),
    ("OFFERS", OFFERS),
    ("HÅNDBOG", HANDBOOK),
    ("håndbog", HANDBOOK),
    ("HANDBOG", HANDBOOK),
    ("HAANDBOG", HANDBOOK),
    ("haandbog", HANDBOOK),
    ("Ha\u030andbog", HANDBOOK),  # å as a + combining ring
    ("HANDBOOK", HANDBOOK),
    ("NETVÆRK", NETWORK),
    ("netværk", NETWORK),
    ("NETVAERK", NETWORK),
    ("Netværk 👍", NETWORK),
    ("NETWORK", NETWORK),
    ("MENTOR", MENTOR),
    ("mentor.", MENTOR),
    # Questions for the advisors: more than one word, or not a keyword at all.
    ("stop please call me", None),
    ("Stop med at ringe om natten", None),
    ("Kan I ringe i aften?", None),
    ("ring mig op", None),
    ("STOP STOP", None),
    ("STOP!STOP", None),
    ("S T O P", None),
    ("stop-stop", None),
    ("Stop1", None),
    ("1 STOP", None),
    ("STOPPE", None),
    ("STØP", None),
    ("hjælpe", None),
    ("Hej", None),
    ("Tak", None),
    ("Ja", None),
    ("<b>STOP</b>", None),
    ("STOP\nmin mor er faldet", None),
    ("Ѕтор", None),  # Cyrillic look-alikes are not the Latin word
    ("توقف", None),
    ("", None),
    ("   ", None),
    ("!!!", None),
    ("🛑", None),
    ("\u200b", None),
]


@pytest.mark.parametrize(("body", "expected"), SPELLINGS)
def test_classify(body: str, expected: tuple[KeywordAction, str | None] | None) -> None:
    keyword = classify(body)
    assert (None if keyword is None else (keyword.action, keyword.topic)) == expected


@pytest.mark.parametrize(
    ("body", "language"),
    [("HJÆLP", "da"), ("help", "en"), ("RING", "da"), ("call", "en"), ("STOP", None), ("STATUS", None)],
)
def test_keyword_carries_the_language_of_its_spelling(body: str, language: str | None) -> None:
    keyword = classify(body)
    assert keyword is not None
    assert keyword.language == language


def test_every_fixed_reply_is_a_danish_template() -> None:
    danish = default_catalogue().default
    for keyword in default_table().keywords():
        if keyword.reply is not None:
            assert danish.template(keyword.reply) is not None, keyword


_KEYWORD_SPELLINGS = sorted({word for words in default_table().spellings.values() for word in words})
_dressing = st.text(
    alphabet=st.sampled_from(list(" \t\n.,!?;:\"'()«»-*🙏🛑👍\u200b\u200f\ufeff")), max_size=6
)


@given(st.sampled_from(_KEYWORD_SPELLINGS), _dressing, _dressing, st.data())
def test_a_keyword_survives_case_and_surrounding_punctuation(
    word: str, before: str, after: str, data: st.DataObject
) -> None:
    cased = "".join(ch.upper() if data.draw(st.booleans()) else ch.lower() for ch in word)
    assert classify(before + cased + after) == classify(word)
    assert classify(word) is not None


@given(st.sampled_from(_KEYWORD_SPELLINGS), st.from_regex(r"[a-zæøå]{1,12}", fullmatch=True))
def test_a_keyword_followed_by_another_word_is_a_question(word: str, other: str) -> None:
    assert classify(f"{word} {other}") is None
    assert classify(f"{other} {word}") is None


_open_text = st.one_of(
    st.text(),
    st.text(min_size=1500, max_size=1700),
    st.text(alphabet=st.characters(min_codepoint=0x0590, max_codepoint=0x06FF)),  # Hebrew, Arabic
    st.from_regex(r"<[a-z]{1,5}>[^<]{0,40}</[a-z]{1,5}>", fullmatch=True),
    st.text(alphabet=st.characters(categories=["Cf", "Mn", "Zs", "So", "Cs", "Co"])),
)


@given(_open_text)
def test_open_text_is_a_keyword_only_when_it_is_one_spelling(body: str) -> None:
    """Never raises; the answer is the keyword whose spelling the text's one word is, else None (a question)."""
    table = default_table()
    spelt = {table.fold(word): canonical for canonical, words in table.spellings.items() for word in words}
    word = single_word(body)
    expected = spelt.get(table.fold(word)) if word is not None else None
    result = classify(body)
    assert (result.word if result is not None else None) == expected


def test_long_body_is_a_question() -> None:
    assert classify("STOP " + "a" * 1595) is None
    assert classify(" " * 800 + "STOP" + " " * 796) is not None


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keywords.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("keywords: nope", "expected a `keywords:` list"),
        ("keywords: [{action: shout, words: [HEY]}]", "`action` must be one of"),
        ("keywords: [{action: help, words: []}]", "`words` must be a list"),
        ("keywords: [{action: help, words: [PLEASE HELP]}]", "'PLEASE HELP' is not a single word"),
        ("keywords: [{action: info, words: [INFO]}]", "`topic` is required"),
        ("keywords: [{action: help, topic: x, words: [HELP]}]", "`topic` is required"),
        (
            "keywords: [{action: help, words: [HJÆLP]}, {action: opt_out, words: [HJAELP]}]",
            "keyword entry 2: 'HJAELP' is already a spelling of 'HJÆLP'",
        ),
        ("letter_folds: {ab: c}\nkeywords: []", "`letter_folds` must map single letters"),
        ("keywords: [", "not valid YAML"),
    ],
)
def test_bad_keyword_file_is_reported_with_file_and_entry(tmp_path: Path, content: str, message: str) -> None:
    path = _write(tmp_path, "letter_folds: {æ: ae}\n" + content if "letter_folds" not in content else content)
    with pytest.raises(KeywordError) as excinfo:
        KeywordTable.load(path)
    assert message in str(excinfo.value)
    assert str(path) in str(excinfo.value)


def test_a_custom_table_adds_a_keyword(tmp_path: Path) -> None:
    table = KeywordTable.load(_write(tmp_path, "keywords: [{action: opt_out, words: {uk: [СТОП]}}]"))
    keyword = classify("стоп!", table)
    assert keyword is not None
    assert (keyword.action, keyword.language) == (KeywordAction.OPT_OUT, "uk")
    assert classify("STOP", table) is None


_UPPERCASE_WORD = re.compile(r"\b[A-ZÆØÅ]{3,}\b")
_NOT_KEYWORDS = {"SMS"}


@pytest.mark.parametrize("language", default_catalogue().languages())
def test_keywords_named_in_texts_are_recognised(language: str) -> None:
    pack = default_catalogue().packs[language]
    for key in pack.template_keys():
        for word in set(_UPPERCASE_WORD.findall(pack.template(key) or "")) - _NOT_KEYWORDS:
            assert classify(word) is not None, f"{pack.path.name}: {key} tells the relative to send {word}"


def test_docs_list_every_spelling() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "sms.md").read_text(encoding="utf-8")
    missing = [word for word in _KEYWORD_SPELLINGS if word not in docs]
    assert not missing, f"docs/sms.md does not list {missing}; add them to the keyword table"
