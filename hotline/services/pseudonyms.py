"""Pseudonyms for phone numbers past their retention: a keyed hash that lets statistics count distinct relatives
without keeping the number.

`pseudonym(key, "+4567123456")` is `ps:` and the first 24 hex digits of HMAC-SHA256(key, number), where the key
is derived from HOTLINE_SECRET_KEY (in the offline demo without one: the demo signing secret). The same number
always gives the same pseudonym under one key, so "how many different relatives texted in 2026" can still be
counted after the numbers are gone. Under the GDPR a pseudonym is still personal data while the key exists
(recital 26): without the key it cannot be turned back into a number, with it a number can be tested against it.
Changing HOTLINE_SECRET_KEY starts new pseudonyms: numbers purged before and after the change no longer match.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import InstrumentedAttribute

from hotline.services.links import Signer, feed_key

PREFIX = "ps:"
HEX_DIGITS = 24  # 96 bits: no two numbers share one in practice; "ps:" + 24 fits every 32-character column


def pseudonym_key(runtime: Signer) -> bytes:
    """The key pseudonyms are made with, derived from (never equal to) the key that signs links."""
    return hmac.new(feed_key(runtime), b"hotline pseudonyms v1", hashlib.sha256).digest()


def pseudonym(key: bytes, number: str) -> str:
    """The pseudonym of `number` (a pseudonym is returned as it is, so pseudonymising twice changes nothing)."""
    if is_pseudonym(number):
        return number
    return PREFIX + hmac.new(key, number.encode("utf-8"), hashlib.sha256).hexdigest()[:HEX_DIGITS]


def is_pseudonym(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def holds_number(column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """SQL: the column still holds a number (not NULL, not empty, not yet a pseudonym)."""
    return and_(column.is_not(None), column != "", column.not_like(PREFIX + "%"))
