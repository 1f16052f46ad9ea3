"""The toll-fraud guard: which numbers the hotline may call or text, and what staff are told when it may not.

Fixture numbers: relatives +45 67 xx xx xx and advisors +45 68 xx xx xx are in the Danish reserve series
(never assigned to a subscriber); 70/80/90 numbers are service ranges written as obvious patterns; the
Swedish mobile +46 70 000 00 00 and the UK numbers are obvious patterns too.
"""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.guard import (
    MAX_INPUT_LENGTH,
    DestinationPolicy,
    GuardDecision,
    Reason,
    check_destination,
    explain,
)

DK = DestinationPolicy()
DK_NO_TOLL_FREE = DestinationPolicy(allow_toll_free=False)
DK_SE = DestinationPolicy(allowed_countries=("DK", "SE"))
DK_GB = DestinationPolicy(allowed_countries=("DK", "GB"))

E164 = re.compile(r"\+[1-9][0-9]{1,14}")

RELATIVE = "+4567000001"
ADVISOR = "+4568000001"

ALLOWED = [
    pytest.param("+4567000001", DK, RELATIVE, id="relative-e164"),
    pytest.param("+45 67 00 00 01", DK, RELATIVE, id="relative-spaced"),
    pytest.param("67 00 00 01", DK, RELATIVE, id="relative-national"),
    pytest.param("67000001", DK, RELATIVE, id="relative-national-compact"),
    pytest.param("0045 67 00 00 01", DK, RELATIVE, id="relative-00-prefix"),
    pytest.param("+45-67-00-00-01", DK, RELATIVE, id="relative-dashes"),
    pytest.param("  +45 67 00 00 01\n", DK, RELATIVE, id="relative-surrounding-whitespace"),
    pytest.param("+45\u00a067\u00a000\u00a000\u00a001", DK, RELATIVE, id="relative-no-break-spaces"),
    pytest.param("+45 68 00 00 01", DK, ADVISOR, id="advisor-landline-range"),
    pytest.param("+45 80 00 00 00", DK, "+4580000000", id="toll-free-allowed-by-default"),
    pytest.param("+46 70 000 00 00", DK_SE, "+46700000000", id="swedish-mobile-with-SE"),
    pytest.param("+45 67 00 00 01", DK_SE, RELATIVE, id="danish-still-allowed-with-SE"),
]


@pytest.mark.parametrize(("raw", "policy", "number"), ALLOWED)
def test_allowed_destinations(raw: str, policy: DestinationPolicy, number: str) -> None:
    decision = check_destination(raw, policy)
    assert decision.allowed
    assert decision.reason_code == Reason.OK
    assert decision.number == number


REFUSED = [
    # Premium rate and shared cost: the classic toll-fraud destinations.
    pytest.param("+45 90 00 00 00", DK, Reason.PREMIUM_RATE, id="dk-premium-90"),
    pytest.param("90 00 00 00", DK, Reason.PREMIUM_RATE, id="dk-premium-90-national"),
    pytest.param("+45 90 10 00 00", DK_SE, Reason.PREMIUM_RATE, id="dk-premium-even-with-more-countries"),
    # phonenumbers calls 70 10 10 10 FIXED_LINE_OR_MOBILE; only the explicit DK 70 rule refuses it.
    pytest.param("+45 70 10 10 10", DK, Reason.SHARED_COST, id="dk-shared-cost-70-valid-in-metadata"),
    pytest.param("+45 70 00 00 00", DK, Reason.SHARED_COST, id="dk-shared-cost-70-not-in-metadata"),
    pytest.param("70 11 11 11", DK, Reason.SHARED_COST, id="dk-shared-cost-70-national"),
    pytest.param("+45 80 00 00 00", DK_NO_TOLL_FREE, Reason.TOLL_FREE, id="toll-free-switched-off"),
    # Emergency and service short codes.
    pytest.param("112", DK, Reason.EMERGENCY, id="112"),
    pytest.param("+45 112", DK, Reason.EMERGENCY, id="112-with-country-code"),
    pytest.param("114", DK, Reason.EMERGENCY, id="114-police"),
    pytest.param("1813", DK, Reason.SHORT_CODE, id="1813-medical-helpline"),
    pytest.param("1818", DK, Reason.SHORT_CODE, id="18xx-service"),
    pytest.param("+45 67 00 00", DK, Reason.SHORT_CODE, id="six-digits-is-a-short-code"),
    # Foreign countries unless configured.
    pytest.param("+46 70 000 00 00", DK, Reason.COUNTRY_NOT_ALLOWED, id="swedish-mobile-by-default"),
    pytest.param("0046 70 000 00 00", DK, Reason.COUNTRY_NOT_ALLOWED, id="swedish-mobile-00-prefix"),
    pytest.param("+44 90 0000 0000", DK_GB, Reason.PREMIUM_RATE, id="uk-premium-with-GB"),
    pytest.param("+44 70 0000 0000", DK_GB, Reason.VOIP_PERSONAL_UAN, id="uk-personal-number-with-GB"),
    pytest.param("+44 56 0000 0000", DK_GB, Reason.VOIP_PERSONAL_UAN, id="uk-voip-with-GB"),
    # International networks, refused whatever the policy.
    pytest.param("+881 6 0000 0000", DK, Reason.INTERNATIONAL_NETWORK, id="satellite-881"),
    pytest.param("+881 6 0000 0000", DK_SE, Reason.INTERNATIONAL_NETWORK, id="satellite-881-with-SE"),
    pytest.param("+882 0000 0000", DK, Reason.INTERNATIONAL_NETWORK, id="international-network-882"),
    pytest.param("+883 0000 0000", DK, Reason.INTERNATIONAL_NETWORK, id="international-network-883"),
    pytest.param("+979 0000 0000", DK, Reason.INTERNATIONAL_NETWORK, id="international-premium-979"),
    pytest.param("+808 0000 0000", DK, Reason.INTERNATIONAL_NETWORK, id="international-shared-cost-808"),
    pytest.param("+800 0000 0000", DK, Reason.INTERNATIONAL_NETWORK, id="uifn-800"),
    # Withheld caller IDs, in the forms carriers send them.
    pytest.param(None, DK, Reason.WITHHELD, id="none"),
    pytest.param("", DK, Reason.WITHHELD, id="empty"),
    pytest.param("   ", DK, Reason.WITHHELD, id="blank"),
    pytest.param("anonymous", DK, Reason.WITHHELD, id="anonymous"),
    pytest.param("Restricted", DK, Reason.WITHHELD, id="restricted"),
    pytest.param("UNKNOWN", DK, Reason.WITHHELD, id="unknown"),
    pytest.param("+266696687", DK, Reason.WITHHELD, id="anonymous-on-keypad"),
    pytest.param("+266 696 687", DK, Reason.WITHHELD, id="anonymous-on-keypad-spaced"),
    pytest.param("0026 6696 687", DK, Reason.WITHHELD, id="anonymous-on-keypad-00-prefix"),
    pytest.param("+7378742833", DK, Reason.WITHHELD, id="restricted-on-keypad"),
    pytest.param("+86282452253", DK, Reason.WITHHELD, id="unavailable-on-keypad"),
    # Not a phone number at all.
    pytest.param("hello", DK, Reason.UNPARSEABLE, id="word"),
    pytest.param("+", DK, Reason.UNPARSEABLE, id="plus-only"),
    pytest.param("+--", DK, Reason.UNPARSEABLE, id="plus-and-separators-only"),
    pytest.param("6", DK, Reason.UNPARSEABLE, id="one-digit"),
    pytest.param("call me on +4567000001", DK, Reason.UNPARSEABLE, id="number-inside-a-sentence"),
    pytest.param("+45 67 00 00 01 ext. 12", DK, Reason.UNPARSEABLE, id="extension"),
    pytest.param("+4567000001,,9", DK, Reason.UNPARSEABLE, id="pause-and-dtmf"),
    pytest.param("+4567000001;DROP", DK, Reason.UNPARSEABLE, id="trailing-junk"),
    pytest.param("++4567000001", DK, Reason.UNPARSEABLE, id="double-plus"),
    pytest.param(
        "+\u0664\u0665\u0666\u0667\u0660\u0660\u0660\u0660\u0660\u0661",
        DK,
        Reason.UNPARSEABLE,
        id="arabic-digits",
    ),
    pytest.param("6" * 10_000, DK, Reason.UNPARSEABLE, id="very-long-digits"),
    pytest.param("+45" + "6" * 30, DK, Reason.UNPARSEABLE, id="too-many-digits"),
    pytest.param("x" * 1_000_000, DK, Reason.UNPARSEABLE, id="megabyte-of-text"),
    # Parses, but no such number exists.
    pytest.param("+45 67 00 00 0", DK, Reason.INVALID, id="seven-digits"),
    pytest.param("+45 6666 6666 6666 6666", DK, Reason.INVALID, id="sixteen-digits"),
    pytest.param("+45 00 00 00 00", DK, Reason.INVALID, id="dk-unassigned-range"),
]


@pytest.mark.parametrize(("raw", "policy", "reason"), REFUSED)
def test_refused_destinations(raw: str | None, policy: DestinationPolicy, reason: Reason) -> None:
    decision = check_destination(raw, policy)
    assert not decision.allowed
    assert decision.reason_code == reason
    assert decision.number is None, "a refused decision must carry nothing that can be dialled"


@pytest.mark.parametrize(
    ("raw", "policy"),
    [
        pytest.param("+45 67 00 00 01", DK, id="allowed"),
        pytest.param("+45 90 00 00 00", DK, id="premium"),
        pytest.param("+45 70 10 10 10", DK, id="shared-cost"),
        pytest.param("+46 70 000 00 00", DK, id="foreign"),
        pytest.param("+44 70 0000 0000", DK_GB, id="personal-number"),
    ],
)
def test_explanation_is_bilingual_and_never_shows_the_full_number(
    raw: str, policy: DestinationPolicy
) -> None:
    decision = check_destination(raw, policy)
    national = str(phonenumbers.parse(raw).national_number)
    for text in (decision.explanation, decision.masked):
        assert national not in re.sub(r"\D", "", text)
    # Danish sentence, English in parentheses after it.
    assert re.fullmatch(r"[^()]+\. \([^()]+\.\)", decision.explanation.replace(f"({_region(raw)})", ""))
    assert "**" in decision.masked


def _region(raw: str) -> str:
    return phonenumbers.region_code_for_number(phonenumbers.parse(raw)) or "?"


def test_country_refusal_names_the_country_for_staff() -> None:
    decision = check_destination("+46 70 000 00 00", DK)
    assert "(SE)" in decision.explanation


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_an_explanation_in_danish_and_english(reason: Reason) -> None:
    # A reason added without its sentence would only fail at the moment a number hits it.
    danish = explain(reason, "da", masked="+45 67 00 ** **", region="SE")
    english = explain(reason, "en", masked="+45 67 00 ** **", region="SE")
    assert danish != english and "%" not in danish + english
    assert explain(reason, masked="+45 67 00 ** **", region="SE") == f"{danish} ({english})"


def test_the_danish_alone_is_there_to_be_spoken() -> None:
    decision = check_destination("+45 90 00 00 00", DK)
    assert decision.explained_in("da") == "Nummeret +45 90 00 ** ** er et overtakseret nummer."
    assert decision.explanation.startswith(decision.explained_in("da") + " (The number +45 90 00 ** ** is")


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        pytest.param(["dk", " se "], ("DK", "SE"), id="list-from-yaml-lowercase"),
        pytest.param("DK", ("DK",), id="bare-string-is-one-country"),
        pytest.param((), (), id="nothing-allowed"),
    ],
)
def test_policy_normalises_configured_countries(configured: object, expected: tuple[str, ...]) -> None:
    assert DestinationPolicy(allowed_countries=configured).allowed_countries == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["XX", "001", "DNK", "Denmark", ""])
def test_policy_rejects_unknown_country_codes(code: str) -> None:
    with pytest.raises(ValueError, match="allowed_countries"):
        DestinationPolicy(allowed_countries=(code,))


def test_nothing_allowed_refuses_even_danish_numbers() -> None:
    decision = check_destination(RELATIVE, DestinationPolicy(allowed_countries=()))
    assert decision.reason_code == Reason.COUNTRY_NOT_ALLOWED


def test_input_length_limit_is_generous_for_formatted_numbers() -> None:
    # The longest sensible form: 00-prefix, a 15-digit E.164 number and a separator between every digit.
    assert len("00 " + " ".join("4" * 15)) <= MAX_INPUT_LENGTH


POLICIES = st.sampled_from(
    [DK, DK_NO_TOLL_FREE, DK_SE, DK_GB, DestinationPolicy(allowed_countries=("US", "NO"))]
)


def _assert_sound(decision: GuardDecision, policy: DestinationPolicy) -> None:
    assert isinstance(decision.reason_code, Reason)
    assert decision.explanation
    if decision.allowed:
        assert decision.reason_code == Reason.OK
        assert decision.number is not None and E164.fullmatch(decision.number)
        parsed = phonenumbers.parse(decision.number)
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.region_code_for_number(parsed) in policy.allowed_countries
        assert decision.number not in decision.explanation
    else:
        assert decision.number is None


@given(raw=st.one_of(st.none(), st.text()), policy=POLICIES)
def test_any_text_gives_a_sound_decision(raw: str | None, policy: DestinationPolicy) -> None:
    _assert_sound(check_destination(raw, policy), policy)


@given(
    raw=st.from_regex(r"\A(\+|00)?[0-9][0-9 \-]{0,18}\Z"),
    policy=POLICIES,
)
def test_any_digit_string_gives_a_sound_decision(raw: str, policy: DestinationPolicy) -> None:
    _assert_sound(check_destination(raw, policy), policy)


@given(prefix=st.sampled_from(["70", "90"]), rest=st.from_regex(r"\A[0-9]{6}\Z"), policy=POLICIES)
def test_no_danish_70_or_90_number_is_ever_allowed(prefix: str, rest: str, policy: DestinationPolicy) -> None:
    decision = check_destination(f"+45{prefix}{rest}", policy)
    assert not decision.allowed
    assert decision.reason_code in {Reason.PREMIUM_RATE, Reason.SHARED_COST}


@given(rest=st.from_regex(r"\A[0-9]{6}\Z"))
def test_every_reserve_series_number_is_allowed_in_denmark(rest: str) -> None:
    for series in ("67", "68"):
        decision = check_destination(f"+45 {series} {rest}", DK)
        assert decision.allowed, decision.explanation
        assert decision.number == f"+45{series}{rest}"
