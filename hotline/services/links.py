"""Signed links that are their own credential: calendar feed URLs and the staff pages' expiring links.

Calendar feeds: `/calendar/<kind>-<id>-<mac>.ics`, where `mac` is the first 32 hex digits of
HMAC-SHA256(key, "<kind>:<id>") and the key is HOTLINE_SECRET_KEY (in the offline demo without one: the demo
signing secret). Once a feed has been revoked (`hotline roster revoke-feed`), its version N > 1 is signed too:
HMAC-SHA256(key, "<kind>:<id>:v<N>"), so the URL changes and every older one stops. The version is kept in
`feed_versions` (no row: version 1, the URLs handed out before versions existed).

Staff pages: texts to staff carry no names, numbers or words of relatives; the details are on a page behind the
link. The handover text now links to the console (`console_link`), which has logins; the handover links texted
before, and the roster page's links (until managers' screens are in the console), are their own credential: the token is
`<advisor id>.<expiry, hex Unix seconds>.<mac>`, where `mac` is the first 32 hex digits of
HMAC-SHA256(HOTLINE_SECRET_KEY, "staff:<page>:<advisor id>:<expiry>"), with ":v<N>" after it when the advisor's
links are at version N > 1 (the same version as their feed, so revoking a person retires both). A link stops
working at its expiry, when the key changes, when the advisor's version is raised, and while the advisor is not
active in the roster in force (checked at every request, not only when the link was signed). With
`sms.staff_url` set (the municipality's own staff system, which has its own logins), texts link there instead,
without a token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.db.models import AdvisorRecord, FeedVersion
from hotline.db.session import insert_ignore

PAGES = ("handover", "roster")
# The console's pages that staff texts link to (behind the console's login, so the link carries no token).
CONSOLE_PAGES = {"handover": "/console/handover"}
MAC_HEX_DIGITS = 32


class Signer(Protocol):
    """What signing needs of the running hotline (a Runtime is one)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def signing_secret(self) -> str: ...


KINDS = ("advisor", "team", "all")
# What an advisor or team id can be (a roster slug, at most the 64 characters the database keeps): anything else
# is refused before the database is asked, so a NUL byte or a 10 kB id in a forged URL never reaches a query.
IDENT = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
ALL_ID = "hotline"  # the id in the whole hotline's feed: all-hotline-<mac>


def feed_key(runtime: Signer) -> bytes:
    """The key feed URLs are signed with: HOTLINE_SECRET_KEY, or the demo signing secret in the offline demo."""
    settings = runtime.settings
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    if settings.demo_mode:
        return runtime.signing_secret.encode("utf-8")
    raise RuntimeError("HOTLINE_SECRET_KEY is not set; calendar feed URLs need it in live mode")


def _versioned(message: str, version: int) -> bytes:
    """Version 1 signs the message as before versions existed, so URLs already handed out keep working."""
    if version < 1:
        raise ValueError(f"link version {version} must be 1 or more")
    return (message if version == 1 else f"{message}:v{version}").encode()


def _feed_mac(key: bytes, kind: str, ident: str, version: int) -> str:
    message = _versioned(f"{kind}:{ident}", version)
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:MAC_HEX_DIGITS]


def feed_token(runtime: Signer, kind: str, ident: str, version: int = 1) -> str:
    """The token for the feed of advisor/team `ident` (kind "advisor" or "team"), or of everyone ("all")."""
    if kind not in KINDS:
        raise ValueError(f"feed kind {kind!r} must be one of {', '.join(KINDS)}")
    return f"{kind}-{ident}-{_feed_mac(feed_key(runtime), kind, ident, version)}"


def parse_token(runtime: Signer, token: str, version: int | None = 1) -> tuple[str, str] | None:
    """(kind, id) when `token` is one this hotline handed out at `version`; None for anything else.

    With `version=None` only the shape is read (the caller then looks up the version and checks again)."""
    kind, sep, rest = token.partition("-")
    ident, sep2, mac = rest.rpartition("-")
    if not (sep and sep2 and ident) or kind not in KINDS:
        return None
    if version is None:
        return kind, ident
    expected = _feed_mac(feed_key(runtime), kind, ident, version)
    if not hmac.compare_digest(mac.encode("utf-8"), expected.encode("ascii")):
        return None
    return kind, ident


def feed_url(runtime: Signer, kind: str, ident: str, version: int = 1) -> str:
    """The full subscription URL (base: HOTLINE_PUBLIC_URL, else http://127.0.0.1:<port>)."""
    return runtime.settings.url(f"/calendar/{feed_token(runtime, kind, ident, version)}.ics")


def _staff_mac(key: bytes, page: str, advisor_id: str, expiry: str, version: int) -> str:
    message = _versioned(f"staff:{page}:{advisor_id}:{expiry}", version)
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:MAC_HEX_DIGITS]


def staff_token(runtime: Signer, page: str, advisor_id: str, expires: datetime, version: int = 1) -> str:
    """The token for `advisor_id`'s view of `page` until `expires`, at the advisor's links `version`."""
    if page not in PAGES:
        raise ValueError(f"staff page {page!r} must be one of {', '.join(PAGES)}")
    expiry = f"{int(expires.timestamp()):x}"
    return f"{advisor_id}.{expiry}.{_staff_mac(feed_key(runtime), page, advisor_id, expiry, version)}"


def parse_staff_token(
    runtime: Signer, page: str, token: str, now: datetime, version: int | None = 1
) -> str | None:
    """The advisor id when `token` is a link to `page` this hotline handed out at `version` and it has not
    expired. With `version=None` only the shape is read, nothing is checked."""
    rest, sep, mac = token.rpartition(".")
    advisor_id, sep2, expiry = rest.rpartition(".")
    if not (sep and sep2 and advisor_id and page in PAGES):
        return None
    if version is None:
        return advisor_id
    expected = _staff_mac(feed_key(runtime), page, advisor_id, expiry, version)
    if not hmac.compare_digest(mac.encode("utf-8"), expected.encode("ascii")):
        return None
    try:
        expires = datetime.fromtimestamp(int(expiry, 16), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return advisor_id if now < expires else None


def staff_link(runtime: Signer, page: str, advisor_id: str, expires: datetime, version: int = 1) -> str:
    """The URL a staff text gives `advisor_id` for `page`: signed and expiring, or `sms.staff_url`'s page."""
    settings = runtime.settings
    if settings.file.sms.staff_url:
        return f"{settings.file.sms.staff_url.rstrip('/')}/{page}"
    return settings.url(f"/staff/{page}/{staff_token(runtime, page, advisor_id, expires, version)}")


def console_link(settings: Settings, page: str) -> str:
    """The URL a staff text gives for the console's `page`: no token, since the console asks who is signing in;
    `sms.staff_url`'s page when the municipality's own staff system is set up."""
    if page not in CONSOLE_PAGES:
        raise ValueError(f"console page {page!r} must be one of {', '.join(CONSOLE_PAGES)}")
    if settings.file.sms.staff_url:
        return f"{settings.file.sms.staff_url.rstrip('/')}/{page}"
    return settings.url(CONSOLE_PAGES[page])


# --- versions in the database, and the checks made at every request --------------------------------------------


def current_version(session: Session, kind: str, ident: str) -> int:
    """The version the links of this feed (or this advisor's links) are signed at now; 1 when never revoked."""
    row = session.get(FeedVersion, (kind, ident))
    return row.version if row is not None else 1


def revoke(session: Session, kind: str, ident: str, now: datetime) -> int:
    """Raise the version of this feed (and, for an advisor, of their staff page links): every URL signed before
    stops working. Returns the new version."""
    if kind not in KINDS:
        raise ValueError(f"feed kind {kind!r} must be one of {', '.join(KINDS)}")
    insert_ignore(
        session,
        FeedVersion,
        {"kind": kind, "ident": ident, "version": 1, "changed_at": now},
        ["kind", "ident"],
    )
    # One statement, so two managers revoking at once raise the version twice rather than once.
    raised = session.execute(
        update(FeedVersion)
        .where(FeedVersion.kind == kind, FeedVersion.ident == ident)
        .values(version=FeedVersion.version + 1, changed_at=now)
        .returning(FeedVersion.version)
    ).scalar_one()
    return int(raised)


def current_feed_url(session: Session, runtime: Signer, kind: str, ident: str) -> str:
    """The subscription URL of this feed as it is valid now (at its current version)."""
    return feed_url(runtime, kind, ident, current_version(session, kind, ident))


def current_feed_urls(
    session: Session, runtime: Signer, feeds: list[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """`current_feed_url` of each (kind, id) in `feeds`, their versions read in one statement (the console's
    list of feeds does not ask the database once per advisor)."""
    if not feeds:
        return {}
    kinds, idents = {k for k, _ in feeds}, {i for _, i in feeds}
    rows = session.execute(
        select(FeedVersion.kind, FeedVersion.ident, FeedVersion.version).where(
            FeedVersion.kind.in_(kinds), FeedVersion.ident.in_(idents)
        )
    )
    versions = {(row.kind, row.ident): row.version for row in rows}
    return {(k, i): feed_url(runtime, k, i, versions.get((k, i), 1)) for k, i in feeds}


def current_staff_link(
    session: Session, runtime: Signer, page: str, advisor_id: str, expires: datetime
) -> str:
    """`staff_link` at the advisor's current links version."""
    return staff_link(runtime, page, advisor_id, expires, current_version(session, "advisor", advisor_id))


def check_feed(session: Session, runtime: Signer, token: str) -> tuple[str, str] | None:
    """(kind, id) when `token` is a feed URL of this hotline at the feed's current version, else None. Whether
    the advisor or team is (still) in the roster is the caller's check."""
    shape = parse_token(runtime, token, version=None)
    if shape is None or not IDENT.fullmatch(shape[1]):
        return None
    return parse_token(runtime, token, current_version(session, *shape))


def check_staff(
    session: Session, runtime: Signer, page: str, token: str, now: datetime
) -> AdvisorRecord | None:
    """The advisor a staff page link belongs to, when it is genuine, current, unexpired, and the advisor is
    active in the roster in force now; None for anything else."""
    advisor_id = parse_staff_token(runtime, page, token, now, version=None)
    if advisor_id is None or not IDENT.fullmatch(advisor_id):
        return None
    current = current_version(session, "advisor", advisor_id)
    if parse_staff_token(runtime, page, token, now, current) is None:
        return None
    advisor = session.get(AdvisorRecord, advisor_id)
    return advisor if advisor is not None and advisor.active else None
