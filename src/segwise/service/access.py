"""Use cases: accounts and their API keys, signing in with a password or a key.

The first admin is created explicitly (``segwise users add NAME --role admin``); there is
no default account and no default password. Wrong passwords are rate-limited per name
(``SEGWISE_SIGNIN_ATTEMPTS`` in 15 minutes), counted from the audit log, so the limit holds
across dashboard sessions and processes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from segwise.config import Settings, get_settings
from segwise.errors import InputError, SignInError
from segwise.service.audit import Actor, accounts, current_actor, record_event, require
from segwise.store.accounts import ROLES, Role, dummy_hash, hash_password, verify_password
from segwise.store.catalog import now

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD = 10
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class UserInfo:
    """A user as the shells list them (never the hash)."""

    name: str
    role: str
    disabled: bool
    created: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "disabled": self.disabled,
            "created": self.created.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class KeyInfo:
    """An API key as listed: its prefix and owner, never the key."""

    prefix: str
    user: str
    created: datetime
    last_used: datetime | None
    revoked: bool
    key: str | None = None  # the whole key, only in the answer that made it

    def to_dict(self) -> dict[str, Any]:
        found = {
            "prefix": self.prefix,
            "user": self.user,
            "created": self.created.isoformat(timespec="seconds"),
            "last_used": self.last_used.isoformat(timespec="seconds") if self.last_used else None,
            "revoked": self.revoked,
        }
        return found | ({"key": self.key} if self.key else {})


def check_role(role: str) -> Role:
    """``role`` when it is one of viewer, analyst, admin."""
    if role not in ROLES:
        raise InputError(f"role '{role}' is unknown", hint="use viewer, analyst or admin")
    return role  # type: ignore[return-value]


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(
            f"the password is {len(password)} characters long",
            hint=f"use at least {MIN_PASSWORD} (a phrase of a few words is easy to remember)",
        )
    return password


def has_accounts(settings: Settings | None = None) -> bool:
    """Whether any account exists (the dashboard then asks everyone to sign in)."""
    return accounts(settings).count_users() > 0


def add_user(name: str, role: str, password: str, *, settings: Settings | None = None) -> UserInfo:
    """A new account with an argon2 hash of ``password`` (admins only)."""
    require("users")
    if not NAME.match(name):
        raise InputError(
            f"user name '{name}' is not allowed",
            hint="use letters, digits and . _ @ - (up to 100 characters)",
        )
    user = accounts(settings).add_user(
        name, check_role(role), hash_password(_check_password(password))
    )
    record_event("user.add", name, {"role": user.role}, settings=settings)
    return _info(user)


def list_users(*, settings: Settings | None = None) -> list[UserInfo]:
    """Every account, by name (admins only)."""
    require("users")
    return [_info(u) for u in accounts(settings).users()]


def disable_user(name: str, *, enable: bool = False, settings: Settings | None = None) -> UserInfo:
    """Stop (or, with ``enable``, allow again) an account's sign-ins and keys."""
    require("users")
    user = accounts(settings).update_user(name, disabled=not enable)
    record_event("user.enable" if enable else "user.disable", name, settings=settings)
    return _info(user)


def reset_password(name: str, password: str, *, settings: Settings | None = None) -> UserInfo:
    """Give an account a new password (its old one stops working at once)."""
    require("users")
    store = accounts(settings)
    user = store.update_user(name, password_hash=hash_password(_check_password(password)))
    record_event("user.reset-password", name, settings=settings)
    return _info(user)


def create_key(user: str, *, settings: Settings | None = None) -> KeyInfo:
    """A new API key carrying ``user``'s role; the answer holds the key, shown only once."""
    require("users")
    store = accounts(settings)
    owner = store.user(user)
    made = store.create_key(owner)
    record_event("key.create", user, {"prefix": made.prefix}, settings=settings)
    return KeyInfo(made.prefix, user, now(), None, False, key=made.key)


def list_keys(*, settings: Settings | None = None) -> list[KeyInfo]:
    """Every API key by prefix and owner, newest first (never the keys themselves)."""
    require("users")
    return [
        KeyInfo(row.prefix, name, row.created, row.last_used, row.revoked is not None)
        for row, name in accounts(settings).api_keys()
    ]


def revoke_key(prefix: str, *, settings: Settings | None = None) -> KeyInfo:
    """Stop an API key (by its prefix, as listed) from working."""
    require("users")
    row = accounts(settings).revoke_key(prefix)
    record_event("key.revoke", row.prefix, settings=settings)
    return KeyInfo(row.prefix, "", row.created, row.last_used, True)


def sign_in(
    name: str, password: str, *, address: str | None = None, settings: Settings | None = None
) -> Actor:
    """The account's actor when the password is right; a refusal (SignInError) otherwise,
    also when this name had too many wrong passwords lately. Both are audited."""
    settings = settings or get_settings()
    store = accounts(settings)
    name = name.strip()
    failed = store.count_events(name, "signin.failed", now() - LOCKOUT)
    if failed >= settings.signin_attempts:
        store.record(name, "signin.refused", None, {"reason": "rate limit"}, address)
        raise SignInError("too many wrong passwords for this name: wait 15 minutes or ask an admin")
    user = store.find_user(name) if name else None
    ok = verify_password(user.password_hash if user else dummy_hash(), password)
    if user is None or not ok or user.disabled:
        store.record(name or "-", "signin.failed", None, {}, address)
        raise SignInError("wrong name or password")
    store.record(user.name, "signin", None, {"via": "password"}, address)
    return Actor(name=user.name, role=check_role(user.role), via="password", address=address)


def key_actor(
    key: str, *, address: str | None = None, settings: Settings | None = None
) -> Actor | None:
    """The actor of a user's API key (``sw_...``), or None when it is not one that works."""
    user = accounts(settings).key_owner(key)
    if user is None:
        return None
    return Actor(name=user.name, role=check_role(user.role), via="key", address=address)


def whoami() -> Actor:
    """Who is acting now."""
    return current_actor()


def _info(user: Any) -> UserInfo:
    return UserInfo(user.name, user.role, bool(user.disabled), user.created)
