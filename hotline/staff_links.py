"""Signed, expiring links to the staff pages that staff texts point to (the handover, the roster's gaps).

Texts to staff carry no names, numbers or words of relatives; the details are on a page behind the link. Until
the staff console with logins exists, the link itself is the credential, as the calendar feeds are: the token is
`<advisor id>.<expiry, hex Unix seconds>.<mac>`, where `mac` is the first 32 hex digits of
HMAC-SHA256(HOTLINE_SECRET_KEY, "staff:<page>:<advisor id>:<expiry>"). Nothing is stored; a link stops working
at its expiry or when the key changes. With `sms.staff_url` set (the municipality's own staff system, which has
its own logins), texts link there instead, without a token.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from hotline.calendar_feed import feed_key
from hotline.runtime import Runtime

PAGES = ("handover", "roster")
MAC_HEX_DIGITS = 32


def _mac(key: bytes, page: str, advisor_id: str, expiry: str) -> str:
    message = f"staff:{page}:{advisor_id}:{expiry}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:MAC_HEX_DIGITS]


def staff_token(runtime: Runtime, page: str, advisor_id: str, expires: datetime) -> str:
    """The token for `advisor_id`'s view of `page` until `expires`."""
    if page not in PAGES:
        raise ValueError(f"staff page {page!r} must be one of {', '.join(PAGES)}")
    expiry = f"{int(expires.timestamp()):x}"
    return f"{advisor_id}.{expiry}.{_mac(feed_key(runtime), page, advisor_id, expiry)}"


def parse_staff_token(runtime: Runtime, page: str, token: str, now: datetime) -> str | None:
    """The advisor id when `token` is a link to `page` this hotline handed out and it has not expired."""
    rest, sep, mac = token.rpartition(".")
    advisor_id, sep2, expiry = rest.rpartition(".")
    if not (sep and sep2 and advisor_id and page in PAGES):
        return None
    expected = _mac(feed_key(runtime), page, advisor_id, expiry)
    if not hmac.compare_digest(mac.encode("utf-8"), expected.encode("ascii")):
        return None
    try:
        expires = datetime.fromtimestamp(int(expiry, 16), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return advisor_id if now < expires else None


def staff_link(runtime: Runtime, page: str, advisor_id: str, expires: datetime) -> str:
    """The URL a staff text gives `advisor_id` for `page`: signed and expiring, or `sms.staff_url`'s page."""
    settings = runtime.settings
    if settings.file.sms.staff_url:
        return f"{settings.file.sms.staff_url.rstrip('/')}/{page}"
    return f"{settings.base_url}/staff/{page}/{staff_token(runtime, page, advisor_id, expires)}"
