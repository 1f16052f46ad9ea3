"""Signed links that are their own credential: calendar feed URLs and the staff pages' expiring links.

Calendar feeds: `/calendar/<kind>-<id>-<mac>.ics`, where `mac` is the first 32 hex digits of
HMAC-SHA256(key, "<kind>:<id>") and the key is HOTLINE_SECRET_KEY (in the offline demo without one: the demo
signing secret). Nothing is stored: the URL proves itself, and changing the key retires every URL handed out.

Staff pages: texts to staff carry no names, numbers or words of relatives; the details are on a page behind the
link. Until the staff console with logins exists, the link itself is the credential: the token is
`<advisor id>.<expiry, hex Unix seconds>.<mac>`, where `mac` is the first 32 hex digits of
HMAC-SHA256(HOTLINE_SECRET_KEY, "staff:<page>:<advisor id>:<expiry>"). A link stops working at its expiry or when
the key changes. With `sms.staff_url` set (the municipality's own staff system, which has its own logins), texts
link there instead, without a token.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Protocol

from hotline.config.settings import Settings

PAGES = ("handover", "roster")
MAC_HEX_DIGITS = 32


class Signer(Protocol):
    """What signing needs of the running hotline (a Runtime is one)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def signing_secret(self) -> str: ...


KINDS = ("advisor", "team", "all")
ALL_ID = "hotline"  # the id in the whole hotline's feed: all-hotline-<mac>


def feed_key(runtime: Signer) -> bytes:
    """The key feed URLs are signed with: HOTLINE_SECRET_KEY, or the demo signing secret in the offline demo."""
    settings = runtime.settings
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    if settings.demo_mode:
        return runtime.signing_secret.encode("utf-8")
    raise RuntimeError("HOTLINE_SECRET_KEY is not set; calendar feed URLs need it in live mode")


def _feed_mac(key: bytes, kind: str, ident: str) -> str:
    return hmac.new(key, f"{kind}:{ident}".encode(), hashlib.sha256).hexdigest()[:MAC_HEX_DIGITS]


def feed_token(runtime: Signer, kind: str, ident: str) -> str:
    """The token for the feed of advisor/team `ident` (kind "advisor" or "team"), or of everyone ("all")."""
    if kind not in KINDS:
        raise ValueError(f"feed kind {kind!r} must be one of {', '.join(KINDS)}")
    return f"{kind}-{ident}-{_feed_mac(feed_key(runtime), kind, ident)}"


def parse_token(runtime: Signer, token: str) -> tuple[str, str] | None:
    """(kind, id) when `token` is one this hotline handed out; None for anything else."""
    kind, sep, rest = token.partition("-")
    ident, sep2, mac = rest.rpartition("-")
    if not (sep and sep2 and ident) or kind not in KINDS:
        return None
    expected = _feed_mac(feed_key(runtime), kind, ident)
    if not hmac.compare_digest(mac.encode("utf-8"), expected.encode("ascii")):
        return None
    return kind, ident


def feed_url(runtime: Signer, kind: str, ident: str) -> str:
    """The full subscription URL (base: HOTLINE_PUBLIC_URL, else http://127.0.0.1:<port>)."""
    return runtime.settings.url(f"/calendar/{feed_token(runtime, kind, ident)}.ics")


def _staff_mac(key: bytes, page: str, advisor_id: str, expiry: str) -> str:
    message = f"staff:{page}:{advisor_id}:{expiry}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:MAC_HEX_DIGITS]


def staff_token(runtime: Signer, page: str, advisor_id: str, expires: datetime) -> str:
    """The token for `advisor_id`'s view of `page` until `expires`."""
    if page not in PAGES:
        raise ValueError(f"staff page {page!r} must be one of {', '.join(PAGES)}")
    expiry = f"{int(expires.timestamp()):x}"
    return f"{advisor_id}.{expiry}.{_staff_mac(feed_key(runtime), page, advisor_id, expiry)}"


def parse_staff_token(runtime: Signer, page: str, token: str, now: datetime) -> str | None:
    """The advisor id when `token` is a link to `page` this hotline handed out and it has not expired."""
    rest, sep, mac = token.rpartition(".")
    advisor_id, sep2, expiry = rest.rpartition(".")
    if not (sep and sep2 and advisor_id and page in PAGES):
        return None
    expected = _staff_mac(feed_key(runtime), page, advisor_id, expiry)
    if not hmac.compare_digest(mac.encode("utf-8"), expected.encode("ascii")):
        return None
    try:
        expires = datetime.fromtimestamp(int(expiry, 16), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return advisor_id if now < expires else None


def staff_link(runtime: Signer, page: str, advisor_id: str, expires: datetime) -> str:
    """The URL a staff text gives `advisor_id` for `page`: signed and expiring, or `sms.staff_url`'s page."""
    settings = runtime.settings
    if settings.file.sms.staff_url:
        return f"{settings.file.sms.staff_url.rstrip('/')}/{page}"
    return settings.url(f"/staff/{page}/{staff_token(runtime, page, advisor_id, expires)}")
