"""Staff accounts for the console: who may sign in, in which role, and the lock-out after wrong passwords.

An advisor's account belongs to an advisor of the roster (`advisors.id`); it works only while both the account
and the roster advisor are active. Passwords are hashed with argon2id (argon2-cffi). Wrong passwords are counted
on the account's row with one UPDATE each, so every gunicorn worker counts into the same number; after
`lockout_attempts` in a row the account is locked for `lockout_minutes`. A new password or disabling the account
raises `session_epoch`, which ends every session handed out before.

Errors carry a staff-catalogue id and its values (`AccountError.message_id`), so the command line and the console
each word them in their own way.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.config.sections import ConsoleSettings
from hotline.db.models import AdvisorRecord, StaffAccount
from hotline.services import rosters
from routing.oncall import oncall_at
from routing.roster import Layer

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,99}$")
MIN_PASSWORD_LENGTH = 10


class Role(StrEnum):
    """What an account may do: an advisor works the queue, a manager also the rosters, an admin everything; the
    data-protection officer (databeskyttelsesrådgiver) only reads the audit log and the retention settings."""

    ADVISOR = "advisor"
    MANAGER = "manager"
    ADMIN = "admin"
    DPO = "dpo"

    @property
    def message_id(self) -> str:
        """The role's name in the staff catalogue."""
        return f"account.role.{self.value}"


class AccountError(Exception):
    """A refused change to staff accounts: `message_id` and `values` say what is wrong, in the staff catalogue."""

    def __init__(self, message_id: str, **values: object) -> None:
        super().__init__(message_id, values)
        self.message_id = message_id
        self.values = values


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # unknown user or wrong password: the same answer for both
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Identity:
    """A signed-in account as the console holds it between requests (no ORM object outlives its session)."""

    account_id: int
    username: str
    name: str
    role: Role
    advisor_id: str | None
    session_epoch: int


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    identity: Identity | None = None
    account_id: int | None = None
    locked_until: datetime | None = None


@functools.cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended parameters


@functools.cache
def _dummy_hash() -> str:
    """A hash to check an unknown user's password against, so a wrong name takes as long as a wrong password."""
    return _hasher().hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """The argon2id hash of `password`; refuses one shorter than MIN_PASSWORD_LENGTH."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("account.error.password_short", length=MIN_PASSWORD_LENGTH)
    return _hasher().hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def find(session: Session, username: str) -> StaffAccount | None:
    return session.scalars(
        select(StaffAccount).where(StaffAccount.username == username.strip().lower())
    ).first()


def _account(session: Session, username: str) -> StaffAccount:
    account = find(session, username)
    if account is None:
        raise AccountError("account.error.unknown_user", username=username)
    return account


def create(
    session: Session,
    *,
    username: str,
    name: str,
    role: Role,
    password: str | None,
    advisor_id: str | None = None,
) -> StaffAccount:
    """A new active account. An advisor's account names the roster advisor it belongs to."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError("account.error.bad_username", username=username)
    if find(session, username) is not None:
        raise AccountError("account.error.username_taken", username=username)
    if role is Role.ADVISOR and not advisor_id:
        raise AccountError("account.error.advisor_needed")
    advisor = session.get(AdvisorRecord, advisor_id) if advisor_id is not None else None
    if advisor_id is not None and advisor is None:
        raise AccountError("account.error.unknown_advisor", advisor=advisor_id)
    account = StaffAccount(
        username=username,
        name=name.strip() or (advisor.name if advisor is not None else username),
        role=role.value,
        advisor_id=advisor_id,
        password_hash=hash_password(password) if password is not None else None,
        active=True,
        failed_logins=0,
        session_epoch=0,
    )
    session.add(account)
    session.flush()
    return account


def set_password(session: Session, username: str, password: str) -> StaffAccount:
    """A new password; unlocks the account and ends its sessions elsewhere."""
    account = _account(session, username)
    account.password_hash = hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    account.session_epoch += 1
    return account


def disable(session: Session, username: str) -> StaffAccount:
    """The account can no longer sign in, and its open sessions end at their next request."""
    account = _account(session, username)
    account.active = False
    account.session_epoch += 1
    return account


def _usable(session: Session, account: StaffAccount) -> bool:
    """Active, and for an advisor: tied to a roster advisor who is active in the roster in force."""
    if not account.active:
        return False
    if account.role != Role.ADVISOR.value:
        return True
    advisor = session.get(AdvisorRecord, account.advisor_id) if account.advisor_id else None
    return advisor is not None and advisor.active


def identity_of(account: StaffAccount) -> Identity:
    return Identity(
        account.id,
        account.username,
        account.name,
        Role(account.role),
        account.advisor_id,
        account.session_epoch,
    )


def sign_in(session: Session, username: str, password: str, now: datetime, policy: ConsoleSettings) -> SignIn:
    """Check a password. The caller commits whatever the outcome: a wrong password is counted."""
    account = find(session, username)
    if account is None:
        _verify(None, password)
        return SignIn(Outcome.WRONG)
    if account.locked_until is not None and account.locked_until > now:
        _verify(None, password)
        return SignIn(Outcome.LOCKED, account_id=account.id, locked_until=account.locked_until)
    if not _verify(account.password_hash, password):
        return _count_failure(session, account, now, policy)
    if not _usable(session, account):
        return SignIn(Outcome.DISABLED, account_id=account.id)
    if account.password_hash and _hasher().check_needs_rehash(account.password_hash):
        account.password_hash = _hasher().hash(password)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    return SignIn(Outcome.SIGNED_IN, identity_of(account), account.id)


def sign_in_external(session: Session, username: str, now: datetime) -> SignIn:
    """Sign in someone whose identity provider vouched for `username` (OpenID Connect): no password, and a
    password lock-out does not apply. The caller commits."""
    account = find(session, username) if username else None
    if account is None:
        return SignIn(Outcome.WRONG)
    if not _usable(session, account):
        return SignIn(Outcome.DISABLED, account_id=account.id)
    account.last_login_at = now
    return SignIn(Outcome.SIGNED_IN, identity_of(account), account.id)


def _count_failure(session: Session, account: StaffAccount, now: datetime, policy: ConsoleSettings) -> SignIn:
    # One atomic UPDATE per wrong password: two workers failing at once both count.
    failures = session.execute(
        update(StaffAccount)
        .where(StaffAccount.id == account.id)
        .values(failed_logins=StaffAccount.failed_logins + 1)
        .returning(StaffAccount.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if failures < policy.lockout_attempts:
        session.refresh(account)
        return SignIn(Outcome.WRONG, account_id=account.id)
    until = now + timedelta(minutes=policy.lockout_minutes)
    session.execute(
        update(StaffAccount)
        .where(StaffAccount.id == account.id)
        .values(failed_logins=0, locked_until=until)
        .execution_options(synchronize_session=False)
    )
    session.refresh(account)
    return SignIn(Outcome.LOCKED, account_id=account.id, locked_until=until)


def load(session: Session, account_id: int, epoch: int) -> Identity | None:
    """The identity behind a session, or None when the session must end: the account is gone, disabled, has a
    new password since, or (an advisor) is no longer active in the roster."""
    account = session.get(StaffAccount, account_id)
    if account is None or account.session_epoch != epoch or not _usable(session, account):
        return None
    return identity_of(account)


DEMO_USERNAME = "demo"


def ensure_demo_login(session: Session, now: datetime) -> tuple[str, str] | None:
    """The offline demo's login: an advisor account for the roster's advisor on call now (else its first), with
    a new random password each time the demo starts (only its hash is kept, so it cannot be shown again later);
    (username, password), or None without a roster."""
    roster = rosters.current_roster(session)
    if roster is None or not roster.advisors:
        return None
    on_call = [entry.advisor.id for entry in oncall_at(roster, now) if entry.layer is Layer.PRIMARY]
    advisor_id = on_call[0] if on_call else roster.advisors[0].id
    password = secrets.token_urlsafe(12)
    account = find(session, DEMO_USERNAME)
    if account is None:
        create(
            session,
            username=DEMO_USERNAME,
            name="",
            role=Role.ADVISOR,
            password=password,
            advisor_id=advisor_id,
        )
    else:
        account.advisor_id = advisor_id
        account.active = True
        set_password(session, DEMO_USERNAME, password)
    return DEMO_USERNAME, password


def accounts(session: Session) -> list[StaffAccount]:
    return list(session.scalars(select(StaffAccount).order_by(StaffAccount.username)))
