"""The toll-fraud guard: the one place that decides whether the hotline may call or text a number.

Every outbound call and text (callbacks, status texts, forwarding to an advisor) asks `check_destination`
first. Toll fraud works by getting a system to dial numbers that pay the fraudster: premium-rate and
shared-cost ranges, satellite and other international networks, and far-away countries. So the guard
allows only ordinary subscriber numbers in the configured countries, and says why in words staff can
read and logs can keep (the number itself is always masked; the words are `guard.*` in routing/wording/staff.yaml).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

from routing.numbers import WITHHELD_FORMS, is_withheld, mask_number
from routing.wording.catalogue import both, text


class Reason(StrEnum):
    """Why a destination was allowed or refused; the value is what the database and logs store."""

    OK = "ok"
    WITHHELD = "withheld"
    UNPARSEABLE = "unparseable"
    INVALID = "invalid"
    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"
    TOLL_FREE = "toll_free"
    SHORT_CODE = "short_code"
    EMERGENCY = "emergency"
    INTERNATIONAL_NETWORK = "satellite_or_international_network"
    VOIP_PERSONAL_UAN = "voip_personal_uan"


# Staff-facing explanations: `guard.<reason>` in the staff catalogue (routing/wording/staff.yaml), Danish and English.
# `number` is always the masked form. A test checks that every reason has its entry.
EXPLANATION_PREFIX = "guard."


def explain(reason: Reason, language: str | None = None, *, masked: str = "***", region: str = "?") -> str:
    """Why the guard decided so, in words staff can read: Danish (English), or one language."""
    message_id = EXPLANATION_PREFIX + reason.value
    if language is None:
        return both(message_id, number=masked, region=region)
    return text(message_id, language, number=masked, region=region)


# Longer input than this is not something a person typed or Twilio sent; refuse before parsing it.
MAX_INPUT_LENGTH = 40

# Only digits, one leading plus and the separators people write. This refuses extensions ("ext. 12",
# ";ext=", ",,12"): dialling digits after the connection is a toll-fraud trick, and phonenumbers would
# otherwise quietly accept them, as it would a number buried in a sentence.
_ALLOWED_INPUT = re.compile(r"\+?[0-9 ().\-]+", re.ASCII)

# Number types that are not an ordinary person's phone. VoIP, personal ("follow-me") and universal access
# numbers can be forwarded anywhere by their owner, which is how fraud reaches premium destinations.
_FORWARDING_TYPES = frozenset(
    {
        PhoneNumberType.VOIP,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.UAN,
        PhoneNumberType.PAGER,
        PhoneNumberType.VOICEMAIL,
    }
)

# National numbers this short are service codes (112, 114, 1813, 18xx), never a relative's phone.
_SHORT_NUMBER_MAX_DIGITS = 6

_DK_COUNTRY_CODE = 45
_NON_GEOGRAPHIC_REGION = "001"  # what phonenumbers calls the region of +800, +881, +882 and friends


@dataclass(frozen=True)
class DestinationPolicy:
    """Where the hotline may call and text.

    `allowed_countries` are ISO 3166 region codes as phonenumbers knows them ("DK", "SE"); a list from
    config.yaml is accepted and normalised to an upper-case tuple. International networks (region "001")
    can never be allowed.
    """

    allowed_countries: tuple[str, ...] = ("DK",)
    allow_toll_free: bool = True

    def __post_init__(self) -> None:
        raw: Iterable[str] = self.allowed_countries
        if isinstance(raw, str):
            # A bare "DK" would otherwise be read as the regions "D" and "K".
            raw = (raw,)
        regions = tuple(str(code).strip().upper() for code in raw)
        for code in regions:
            if code not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(
                    f"allowed_countries: {code!r} is not an ISO region code phonenumbers knows; "
                    'use two letters such as "DK" or "SE"'
                )
        object.__setattr__(self, "allowed_countries", regions)

    def allows_region(self, region: str | None) -> bool:
        """True when numbers in `region` may be called."""
        return region is not None and region in self.allowed_countries


@dataclass(frozen=True)
class GuardDecision:
    """The guard's answer.

    `number` is the E.164 number to dial, and is set only when `allowed` is true, so a refused decision
    cannot be dialled by mistake. `masked` and `explanation` (Danish (English)) are safe to show staff and to
    log; `explained_in("da")` is the Danish alone, to be spoken.
    """

    allowed: bool
    number: str | None
    reason_code: Reason
    explanation: str
    masked: str
    region: str = "?"

    def explained_in(self, language: str) -> str:
        """The explanation in one language (`da`, `en`)."""
        return explain(self.reason_code, language, masked=self.masked, region=self.region)


def check_destination(raw: str | None, policy: DestinationPolicy) -> GuardDecision:
    """Decide whether `raw` (as typed by staff or sent by Twilio) may be called or texted under `policy`.

    Never raises: anything that is not an allowed ordinary subscriber number is refused with a reason.
    National numbers are read as Danish; "00" works as the international prefix.
    """
    if is_withheld(raw):
        return _refuse(Reason.WITHHELD)
    assert raw is not None  # is_withheld(None) is True
    # Any Unicode space (a pasted no-break space) becomes a plain one; everything else must be ASCII.
    text = " ".join(raw.split())
    if len(text) > MAX_INPUT_LENGTH or not _ALLOWED_INPUT.fullmatch(text):
        return _refuse(Reason.UNPARSEABLE)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, "DK")
    except phonenumbers.NumberParseException:
        return _refuse(Reason.UNPARSEABLE)

    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if e164 in WITHHELD_FORMS:
        # Spelt-out withheld forms that arrive with other separators ("0026 6696 687").
        return _refuse(Reason.WITHHELD)

    national = phonenumbers.national_significant_number(parsed)
    home_region = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    valid = phonenumbers.is_valid_number(parsed)

    masked = mask_number(e164)
    if home_region in (phonenumbers.UNKNOWN_REGION, _NON_GEOGRAPHIC_REGION):
        # +800/+808/+870/+878/+881/+882/+883/+888/+979 belong to no country: satellite phones and
        # international networks, billed at rates a fraudster can collect. Refused whatever the policy.
        return _refuse(Reason.INTERNATIONAL_NETWORK, masked)

    if not valid and len(national) <= _SHORT_NUMBER_MAX_DIGITS:
        if shortnumberinfo.is_emergency_number(national, home_region) or (
            shortnumberinfo.connects_to_emergency_number(national, home_region)
        ):
            return _refuse(Reason.EMERGENCY)
        return _refuse(Reason.SHORT_CODE)

    if parsed.country_code == _DK_COUNTRY_CODE and len(national) == 8:
        # Checked before validity so the staff see the real reason even for numbers the metadata
        # has not opened yet (70 00 00 00 is "invalid" to phonenumbers, but it is still a 70-number).
        if national.startswith("90"):
            return _refuse(Reason.PREMIUM_RATE, masked)
        if national.startswith("70"):
            # Danish 70-numbers are company service numbers that can be routed anywhere and are often
            # billed outside mobile flat-rate plans: the Danish form of shared cost. phonenumbers files them
            # under FIXED_LINE_OR_MOBILE (its DK metadata has no shared-cost pattern), so the type check
            # below would let them through; that is why the series is named here explicitly.
            return _refuse(Reason.SHARED_COST, masked)

    if not valid:
        return _refuse(Reason.INVALID, masked)

    number_type = phonenumbers.number_type(parsed)
    if number_type == PhoneNumberType.PREMIUM_RATE:
        return _refuse(Reason.PREMIUM_RATE, masked)
    if number_type == PhoneNumberType.SHARED_COST:
        return _refuse(Reason.SHARED_COST, masked)
    if number_type in _FORWARDING_TYPES:
        return _refuse(Reason.VOIP_PERSONAL_UAN, masked)

    # The region of the number itself, not of its country code: +1 is shared by the USA and the
    # Caribbean, and "US" allowed must not let +1 876 (Jamaica) through.
    region = phonenumbers.region_code_for_number(parsed)
    if not policy.allows_region(region):
        return _refuse(Reason.COUNTRY_NOT_ALLOWED, masked, region=region or "?")
    if number_type == PhoneNumberType.TOLL_FREE and not policy.allow_toll_free:
        return _refuse(Reason.TOLL_FREE, masked)

    return GuardDecision(
        allowed=True,
        number=e164,
        reason_code=Reason.OK,
        explanation=explain(Reason.OK, masked=masked),
        masked=masked,
    )


def _refuse(reason: Reason, masked: str = "***", *, region: str = "?") -> GuardDecision:
    if reason is Reason.WITHHELD:
        masked = "withheld"
    return GuardDecision(
        allowed=False,
        number=None,
        reason_code=reason,
        explanation=explain(reason, masked=masked, region=region),
        masked=masked,
        region=region,
    )
