"""Staff accounts: names, roles, argon2id password hashes, one-time passwords, and who may do what.

`line staff add NAME --role ROLE` makes an account with a one-time password, shown once; the
first login with it asks for the person's own password. Passwords are hashed with argon2id
(argon2-cffi's PasswordHasher, its recommended parameters) and rehashed when those change.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..store.schema import staff
from . import audit

ROLES = ("editor", "reviewer", "admin")
# What each role may do; each role may do what the one before it may.
CAN = {
    "editor": {"edit", "submit"},
    "reviewer": {"edit", "submit", "review", "publish", "rollback", "adopt", "audit"},
    "admin": {"edit", "submit", "review", "publish", "rollback", "adopt", "audit", "people"},
}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,79}")
MIN_PASSWORD = 12
MAX_PASSWORD = 200  # argon2 hashes any length; a bound keeps a login cheap
hasher = PasswordHasher()
_NOBODY = hasher.hash(secrets.token_urlsafe(16))  # checked against when the name is unknown: same time either way


@dataclass(frozen=True)
class Person:
    """A signed-in staff member, as Flask-Login wants a user."""

    id: int
    name: str
    role: str
    one_time: bool
    active: bool

    def can(self, what: str) -> bool:
        return what in CAN.get(self.role, ())

    # Flask-Login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


class AccountError(ValueError):
    """What is wrong with a name, role or password, in words for the person who chose it."""


def _person(row) -> Person | None:
    if row is None:
        return None
    return Person(row["id"], row["name"], row["role"], row["one_time"], row["active"])


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise AccountError("A staff name is 2 to 80 letters, digits, dots, dashes, @ or underscores, like 'ana.lopez'.")
    return name


def check_password(password: str, name: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD} characters (a few words work well).")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"A password is at most {MAX_PASSWORD} characters.")
    if name.lower() in password.lower():
        raise AccountError("The password must not contain your staff name.")


def one_time_password() -> str:
    return "-".join(secrets.token_urlsafe(4) for _ in range(4))


def add(conn: Connection, name: str, role: str, actor: str) -> str:
    """Make an account; its one-time password (to be handed over once, never stored in the clear)."""
    check_name(name)
    if role not in ROLES:
        raise AccountError(f"The role must be one of: {', '.join(ROLES)}.")
    if conn.execute(select(staff.c.id).where(staff.c.name == name)).first() is not None:
        raise AccountError(f"There is already a staff member called {name}.")
    password = one_time_password()
    conn.execute(insert(staff).values(name=name, role=role, pw_hash=hasher.hash(password), one_time=True, active=True,
                                      created_at=datetime.now(timezone.utc)))
    audit.append(conn, actor, "staff added", name, role=role)
    return password


def reset(conn: Connection, name: str, actor: str) -> str:
    """A new one-time password for `name` (a forgotten password); the old one stops working."""
    if by_name(conn, name) is None:
        raise AccountError(f"There is no staff member called {name}.")
    password = one_time_password()
    conn.execute(update(staff).where(staff.c.name == name).values(pw_hash=hasher.hash(password), one_time=True, active=True))
    audit.append(conn, actor, "password reset", name)
    return password


def set_active(conn: Connection, name: str, active: bool, actor: str) -> None:
    if by_name(conn, name) is None:
        raise AccountError(f"There is no staff member called {name}.")
    conn.execute(update(staff).where(staff.c.name == name).values(active=active))
    audit.append(conn, actor, "staff enabled" if active else "staff disabled", name)


def set_password(conn: Connection, person: Person, password: str) -> None:
    check_password(password, person.name)
    conn.execute(update(staff).where(staff.c.id == person.id).values(pw_hash=hasher.hash(password), one_time=False))
    audit.append(conn, person.name, "password set", person.name)


def by_id(conn: Connection, staff_id: int) -> Person | None:
    return _person(conn.execute(select(staff).where(staff.c.id == staff_id)).mappings().first())


def by_name(conn: Connection, name: str) -> Person | None:
    return _person(conn.execute(select(staff).where(staff.c.name == name)).mappings().first())


def everyone(conn: Connection) -> list:
    return list(conn.execute(select(staff).order_by(staff.c.name)).mappings())


def verify(conn: Connection, name: str, password: str) -> Person | None:
    """The active person with this name and password, or None (in about the same time either way)."""
    row = conn.execute(select(staff).where(staff.c.name == name)).mappings().first() if NAME.fullmatch(name or "") else None
    stored = row["pw_hash"] if row is not None else _NOBODY
    try:
        hasher.verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row["active"]:
        return None
    values = {"last_login_at": datetime.now(timezone.utc)}
    if hasher.check_needs_rehash(stored):
        values["pw_hash"] = hasher.hash(password)
    conn.execute(update(staff).where(staff.c.id == row["id"]).values(**values))
    return _person(row)
