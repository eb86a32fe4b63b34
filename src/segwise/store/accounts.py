"""Accounts, their API keys, the audit log and the erasure list, as catalog tables.

Passwords are kept as argon2id hashes (``argon2-cffi``, memory-hard); API keys, long random
strings, as their SHA-256 digest beside a short public prefix that finds them. Neither is
ever stored or logged in clear. The audit log is append-only from the application's side:
nothing here updates or deletes an event.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from segwise.errors import InputError, NotFoundError
from segwise.store.catalog import Catalog, now
from segwise.store.schema import Base

Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "analyst", "admin")
KEY_START = "sw_"
"""Every user API key starts so: ``sw_<prefix>_<secret>``."""


class User(Base):
    """A person who signs in: name, role, argon2 hash of the password, disabled or not."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    """An API key of a user: its public prefix, the SHA-256 of the whole key, when used."""

    __tablename__ = "api_keys"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEvent(Base):
    """Who did what, to what, when and from where; ``detail`` holds counts, never data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Erasure(Base):
    """A customer erased on request, as a keyed hash of the id (never the id itself)."""

    __tablename__ = "erasures"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class NewKey:
    """A key just made: the whole key (shown once) and the prefix it is listed by."""

    key: str
    prefix: str


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; the library's recommended parameters)."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches an argon2 hash."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash verified against when a name is unknown, so a wrong name costs as long as a
    wrong password (no telling names apart by timing)."""
    return hash_password(secrets.token_hex(16))


def key_digest(key: str) -> str:
    """The SHA-256 of an API key (keys are long and random: a fast hash is the right one)."""
    return hashlib.sha256(key.strip().encode()).hexdigest()


class Accounts:
    """The account tables of one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # --- users ---------------------------------------------------------------------------
    def count_users(self) -> int:
        with self.catalog.session() as s:
            return int(s.scalar(select(func.count()).select_from(User)) or 0)

    def users(self) -> list[User]:
        with self.catalog.session() as s:
            return list(s.scalars(select(User).order_by(User.name)))

    def user(self, name: str) -> User:
        """The user called ``name``."""
        with self.catalog.session() as s:
            found = s.scalars(select(User).where(User.name == name)).first()
        if found is None:
            raise NotFoundError(f"no user '{name}'; list them with `segwise users list`")
        return found

    def find_user(self, name: str) -> User | None:
        with self.catalog.session() as s:
            return s.scalars(select(User).where(User.name == name)).first()

    def add_user(self, name: str, role: Role, password_hash: str) -> User:
        """A new user; a name already taken is refused."""
        if self.find_user(name) is not None:
            raise InputError(
                f"user '{name}' exists already", hint="pick another name or reset its password"
            )
        user = User(
            name=name, role=role, password_hash=password_hash, disabled=False, created=now()
        )
        self.catalog.add(user)
        return user

    def update_user(self, name: str, **values: Any) -> User:
        """Set fields of a user (role, password hash, disabled) in one transaction."""
        with self.catalog.session() as s:
            user = s.scalars(select(User).where(User.name == name)).first()
            if user is None:
                raise NotFoundError(f"no user '{name}'; list them with `segwise users list`")
            for key, value in values.items():
                setattr(user, key, value)
            return user

    # --- keys ----------------------------------------------------------------------------
    def create_key(self, user: User) -> NewKey:
        """A new random key for ``user``; only its digest is stored."""
        prefix = secrets.token_hex(4)
        key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(30)}"
        row = ApiKeyRow(prefix=prefix, user_id=user.id, digest=key_digest(key), created=now())
        self.catalog.add(row)
        return NewKey(key=key, prefix=prefix)

    def api_keys(self) -> list[tuple[ApiKeyRow, str]]:
        """Every key with its owner's name, newest first."""
        query = (
            select(ApiKeyRow, User.name)
            .join(User, User.id == ApiKeyRow.user_id)
            .order_by(ApiKeyRow.created.desc())
        )
        with self.catalog.session() as s:
            return [(row, name) for row, name in s.execute(query).all()]

    def revoke_key(self, prefix: str) -> ApiKeyRow:
        with self.catalog.session() as s:
            row = s.get(ApiKeyRow, prefix.removeprefix(KEY_START).split("_")[0])
            if row is None:
                raise NotFoundError(f"no API key '{prefix}'; list them with `segwise keys list`")
            row.revoked = row.revoked or now()
            return row

    def key_owner(self, key: str) -> User | None:
        """The enabled user whose unrevoked key this is (compared in constant time), or None;
        marks the key used (at most once a minute, to spare the catalog)."""
        if not key.startswith(KEY_START):
            return None
        prefix = key[len(KEY_START) :].split("_")[0]
        with self.catalog.session() as s:
            row = s.get(ApiKeyRow, prefix)
            if row is None or row.revoked is not None:
                return None
            if not hmac.compare_digest(row.digest, key_digest(key)):
                return None
            user = s.get(User, row.user_id)
            if user is None or user.disabled:
                return None
            stamp = now()
            if row.last_used is None or _aware(row.last_used) < stamp - timedelta(minutes=1):
                row.last_used = stamp
            return user

    # --- audit ---------------------------------------------------------------------------
    def record(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        address: str | None = None,
    ) -> None:
        """Append one event to the audit log."""
        row = {
            "at": now(),
            "actor": actor[:120],
            "action": action,
            "target": None if target is None else target[:200],
            "detail": detail or {},
            "address": None if address is None else address[:64],
        }
        with self.catalog.engine.begin() as con:  # a plain INSERT: no ORM unit of work
            con.execute(insert(AuditEvent), [row])

    def events(
        self, *, since: datetime | None = None, actor: str | None = None, limit: int = 10_000
    ) -> list[AuditEvent]:
        """Audit events, oldest first, from ``since`` and by ``actor`` when given."""
        query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
        if since is not None:
            query = query.where(AuditEvent.at >= since)
        if actor is not None:
            query = query.where(AuditEvent.actor == actor)
        with self.catalog.session() as s:
            return list(s.scalars(query.limit(limit)))

    def count_events(self, actor: str, action: str, since: datetime) -> int:
        """How many ``action`` events ``actor`` has since ``since`` (the sign-in rate limit)."""
        query = (
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.actor == actor, AuditEvent.action == action, AuditEvent.at >= since)
        )
        with self.catalog.session() as s:
            return int(s.scalar(query) or 0)

    # --- erasure list --------------------------------------------------------------------
    def add_erasures(self, digests: list[str]) -> None:
        with self.catalog.session() as s:
            for digest in digests:
                if s.get(Erasure, digest) is None:
                    s.add(Erasure(digest=digest, created=now()))

    def erasures(self) -> set[str]:
        with self.catalog.session() as s:
            return set(s.scalars(select(Erasure.digest)))


def _aware(stamp: datetime) -> datetime:
    """SQLite hands back naive datetimes; the catalog stores UTC."""
    from datetime import UTC

    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
