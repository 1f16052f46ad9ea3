"""Templates: every language renders, falls back to Danish, names the service, and fits its segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms.catalogue import Catalogue, CatalogueError, default_catalogue, normalise_language
from sms.segments import count_segments
from sms.templates import TemplateError, check_templates, render, render_from, sample_values

RELATIVE_KEYS = [
    "received",
    "callback_registered",
    "callback_soon",
    "callback_missed",
    "callback_given_up",
    "callback_done",
    "opt_out_confirmed",
    "opt_in_confirmed",
    "help",
    "status_none",
    "status_open",
    "info_offers",
    "info_handbook",
    "info_network",
    "info_mentor",
    # the quick replies an advisor starts from in the console (hotline/services/threads.py QUICK_REPLIES)
    "quick_call_us",
    "quick_we_call",
    "quick_thanks",
]
STAFF_KEYS = ["advisor_window_open", "escalation_overdue", "handover", "roster_gap"]
LANGUAGES = ["da", "en", "ar", "tr", "uk", "pl", "so"]
CATALOGUE = default_catalogue()
SERVICE = "Pårørendelinjen"


def test_all_languages_are_shipped() -> None:
    assert sorted(CATALOGUE.languages()) == sorted(LANGUAGES)


def test_danish_has_every_key_in_its_section() -> None:
    danish = CATALOGUE.default
    assert sorted(danish.texts) == sorted(RELATIVE_KEYS)
    assert sorted(danish.staff_texts) == sorted(STAFF_KEYS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_translates_every_relative_text(language: str) -> None:
    # Relatives must never get Danish because a translation is missing; staff texts may fall back.
    assert sorted(CATALOGUE.packs[language].texts) == sorted(RELATIVE_KEYS)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", RELATIVE_KEYS + STAFF_KEYS)
def test_every_text_renders_with_realistic_values(language: str, key: str) -> None:
    text = render(key, language, **sample_values(language))
    assert text.strip() == text and "{" not in text and "}" not in text
    if key in RELATIVE_KEYS:
        assert SERVICE in text


@pytest.mark.parametrize(
    ("language", "key", "expected"),
    [
        (
            "da",
            "callback_registered",
            "Pårørendelinjen: Tak, vi ringer til dig i aften mellem 17 og 21. Opkaldet kommer fra 70 00 00 00. "
            "Svar STATUS, hvis du vil se tiden igen.",
        ),
        (
            "en",
            "callback_soon",
            "Pårørendelinjen: An advisor will call you within 15 minutes from 70 00 00 00.",
        ),
        # No Arabic staff texts: advisors read Danish.
        (
            "ar",
            "handover",
            "Pårørendelinjen: Vagtskifte. 3 åbne sager, heraf 1 akutte, og 0 noter til dig. Først: PL-2026-0001. "
            "Se overleveringen: https://x",
        ),
        # A language without a file, and a region-tagged code.
        (
            "de",
            "callback_soon",
            "Pårørendelinjen: En rådgiver ringer til dig inden for 15 minutter fra 70 00 00 00.",
        ),
        (
            "EN-gb",
            "callback_soon",
            "Pårørendelinjen: An advisor will call you within 15 minutes from 70 00 00 00.",
        ),
        (
            None,
            "callback_soon",
            "Pårørendelinjen: En rådgiver ringer til dig inden for 15 minutter fra 70 00 00 00.",
        ),
    ],
)
def test_render_fills_in_and_falls_back_to_danish(language: str | None, key: str, expected: str) -> None:
    values = {
        "service_name": SERVICE,
        "window": "i aften mellem 17 og 21",
        "hotline_phone": "70 00 00 00",
        "minutes": 15,
        "count": 3,
        "acute": 1,
        "notes": 0,
        "cases": "PL-2026-0001",
        "url": "https://x",
        "unused": "ignored",
    }
    assert render(key, language, **values) == expected


def test_language_is_a_placeholder_not_a_clash() -> None:
    text = render(
        "advisor_window_open",
        "da",
        service_name=SERVICE,
        ref="PL-7",
        window="i dag mellem 9 og 10",
        language="arabisk",
        reason="aflastning",
    )
    assert "Sprog: arabisk" in text and "PL-7" in text


def test_missing_value_names_file_key_and_placeholder() -> None:
    with pytest.raises(TemplateError) as excinfo:
        render("callback_soon", "en", service_name=SERVICE, minutes=15)
    assert str(excinfo.value) == (
        "en.yaml: callback_soon needs a value for {hotline_phone}; pass hotline_phone=... to render()"
    )


def test_none_value_is_refused_where_used_and_ignored_elsewhere() -> None:
    with pytest.raises(
        TemplateError, match=r"da.yaml: callback_soon: the value for \{hotline_phone\} is None"
    ):
        render("callback_soon", "da", service_name=SERVICE, minutes=5, hotline_phone=None)
    assert render("info_handbook", "da", service_name=SERVICE, url="https://x", phone=None).endswith(
        "https://x"
    )


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(TemplateError, match=r"no template 'recieved' in .*da.yaml \(known keys: received, "):
        render("recieved", "da", service_name=SERVICE)


def test_a_value_with_braces_is_not_expanded_again() -> None:
    text = render("info_handbook", "da", service_name="{url}", url="https://x/{y}")
    assert text == "{url}: I pårørendehåndbogen finder du overblik og gode råd: https://x/{y}"


@pytest.mark.parametrize(
    ("code", "expected"), [("da", "da"), ("DA", "da"), ("da-DK", "da"), ("uk_UA", "uk"), ("", "da")]
)
def test_normalise_language(code: str, expected: str) -> None:
    assert normalise_language(code) == expected


@pytest.mark.parametrize("language", ["da", "en", "so"])
def test_latin_languages_stay_in_gsm7(language: str) -> None:
    # One curly quote or long dash would make every text in the language UCS-2 and double its price.
    pack = CATALOGUE.packs[language]
    for key in pack.template_keys():
        text = render(key, language, **sample_values(language))
        assert count_segments(text).encoding == "GSM-7", f"{pack.path.name}: {key}"


def test_shipped_templates_fit_three_segments_and_latin_ones_two() -> None:
    assert check_templates(3) == []
    over_two = check_templates(2)
    assert not [
        w for w in over_two if w.startswith(("sms/templates/da.", "sms/templates/en.", "sms/templates/so."))
    ]


def test_check_templates_names_file_key_and_cause() -> None:
    warnings = check_templates(1)
    assert any(w.startswith("sms/templates/da.yaml: help: 2 segments (GSM-7, ") for w in warnings)
    arabic = [w for w in warnings if w.startswith("sms/templates/ar.yaml: help: ")]
    assert len(arabic) == 1
    assert "UCS-2 because of" in arabic[0]


def test_check_templates_uses_the_configured_values() -> None:
    assert not [w for w in check_templates(2) if "da.yaml: info_offers" in w]
    long_url = "https://www.aarhus.dk/" + "x" * 300
    assert [w for w in check_templates(2, samples={"url": long_url}) if "da.yaml: info_offers:" in w]


# --- catalogue files -------------------------------------------------------------------------------------------

DANISH_MINIMAL = """\
language: da
texts:
  received: "{service_name}: svar {when}"
staff_texts:
  handover: "{count} sager"
time_phrases:
  today: i dag
  this_evening: i aften
  tonight: i nat
  tomorrow: i morgen
  tomorrow_morning: i morgen tidlig
  tomorrow_evening: i morgen aften
  weekdays: [på mandag, på tirsdag, på onsdag, på torsdag, på fredag, på lørdag, på søndag]
  months: [jan, feb, mar, apr, maj, jun, jul, aug, sep, okt, nov, dec]
  date: "den {day}. {month}"
  between: "{day} mellem {start} og {end}"
  at: "{day} kl. {time}"
  until: "{day} inden kl. {end}"
  from_to: "fra {start_day} kl. {start} til {end_day} kl. {end}"
  time: "{hour}.{minute}"
  time_whole_hour: "{hour}"
  midnight_end: "24"
"""


def _catalogue(tmp_path: Path, files: dict[str, str]) -> Catalogue:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return Catalogue.load(tmp_path)


def test_minimal_catalogue_loads_and_falls_back(tmp_path: Path) -> None:
    catalogue = _catalogue(
        tmp_path,
        {"da.yaml": DANISH_MINIMAL, "en.yaml": 'language: en\ntexts:\n  received: "{service_name}: ok"\n'},
    )
    assert render_from(catalogue, "received", "en", {"service_name": "S"}) == "S: ok"
    assert render_from(catalogue, "handover", "en", {"count": 2}) == "2 sager"
    assert catalogue.time_phrases("en") is catalogue.time_phrases("da")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"en.yaml": "language: en\n"}, "da.yaml is missing; it is the fallback language"),
        ({"da.yaml": DANISH_MINIMAL.replace("language: da", "language: dk")}, "`language: dk` must match"),
        ({"da.yaml": DANISH_MINIMAL.replace("svar {when}", "svar {when:>9}")}, "texts.received: placeholder"),
        ({"da.yaml": DANISH_MINIMAL.replace("svar {when}", "svar {when")}, "da.yaml: texts.received: "),
        ({"da.yaml": DANISH_MINIMAL.replace("  today: i dag\n", "")}, "time_phrases.today is missing"),
        (
            {"da.yaml": DANISH_MINIMAL.replace("{day} kl. {time}", "{day} kl.")},
            "time_phrases.at must use {day}, {time}",
        ),
        (
            {"da.yaml": DANISH_MINIMAL.replace(" på søndag]", "]")},
            "time_phrases.weekdays must be a list of 7",
        ),
        (
            {"da.yaml": DANISH_MINIMAL.split("time_phrases:")[0]},
            "`time_phrases:` is required in the fallback",
        ),
        (
            {"da.yaml": DANISH_MINIMAL, "en.yaml": 'language: en\ntexts:\n  recieved: "{service_name}"\n'},
            "en.yaml: 'recieved' is not a key of da.yaml",
        ),
        (
            {
                "da.yaml": DANISH_MINIMAL,
                "en.yaml": 'language: en\ntexts:\n  received: "{service_name} {name}"\n',
            },
            "en.yaml: received: placeholder {name} is not in da.yaml",
        ),
        (
            {
                "da.yaml": DANISH_MINIMAL,
                "en.yaml": 'language: en\nstaff_texts:\n  received: "{service_name}"\n',
            },
            "en.yaml: 'received' belongs under `texts:`",
        ),
        (
            {"da.yaml": DANISH_MINIMAL, "en.yaml": "language: en\ntexts:\n  received: ''\n"},
            "must be non-empty",
        ),
        ({"da.yaml": DANISH_MINIMAL, "en.yaml": "language: en\ntexts: [\n"}, "en.yaml: not valid YAML"),
    ],
)
def test_bad_catalogue_is_reported_with_file_and_key(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(CatalogueError) as excinfo:
        _catalogue(tmp_path, files)
    assert message in str(excinfo.value)


def test_staff_samples_apply_to_staff_texts_only() -> None:
    long_link = "https://hotline.example.dk/staff/handover/" + "x" * 200
    warned = check_templates(2, staff_samples={"url": long_link})
    keys = {w.split(": ")[1] for w in warned if w.startswith("sms/templates/da.yaml")}
    assert "handover" in keys and "roster_gap" in keys  # staff texts with the long staff link
    assert not keys & {"info_offers", "info_handbook"}  # relatives' texts keep their own links
    assert not any(": handover:" in w for w in check_templates(2))
