"""Operators (persons: staff id, body or unit, roles) and their credentials.

Passwords are argon2id hashes. Bearer tokens and session ids are random 256-bit strings of
which only a SHA-256 digest is stored: they carry full entropy, so a slow hash adds nothing,
and a stolen database yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict

from shared.web import sqlite_file
from shared.web.roles import Role

CredentialKind = Literal["bearer", "session"]


class Operator(BaseModel):
    model_config = ConfigDict(frozen=True)

    staff_id: str
    body: str
    roles: frozenset[Role]
    display_name: str | None = None

    def has_any(self, roles: Iterable[Role]) -> bool:
        return bool(self.roles & frozenset(roles))


@dataclass(frozen=True)
class IssuedCredential:
    token: str  # shown to its holder once, never stored
    expires_at: float
    csrf_token: str | None = None


@dataclass(frozen=True)
class ResolvedCredential:
    operator: Operator
    expires_at: float
    csrf_token: str | None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS operators (
    staff_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    roles TEXT NOT NULL,
    display_name TEXT,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    staff_id TEXT NOT NULL REFERENCES operators(staff_id),
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked_at REAL,
    csrf_token TEXT,
    service TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS credentials_expiry ON credentials(expires_at);
-- Sign-in lockouts, by keyed hashes only (what was typed as a staff id may be anything).
-- client = '' locks the account for every client; account = '' locks a client for every account.
CREATE TABLE IF NOT EXISTS lockouts (
    account TEXT NOT NULL,
    client TEXT NOT NULL,
    locked_at REAL NOT NULL,
    until REAL NOT NULL,
    PRIMARY KEY (account, client)
);
"""


@dataclass(frozen=True)
class Lockout:
    account: str  # keyed hash of the staff id, or '' (every account)
    client: str  # keyed hash of the client address, or '' (every client)
    locked_at: float
    until: float


class IdentityStore:
    """SQLite-backed; every call opens its own connection, so it is safe from any thread."""

    def __init__(
        self,
        path: Path,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
        service: str = "",
    ) -> None:
        self.path = path
        self.hasher = hasher or PasswordHasher()
        self.clock = clock
        # Credentials are bound to the service that issued them: a shared identity file (one
        # directory of persons for several services) must not make one service's token or
        # session work on another.
        self.service = service
        sqlite_file.create(path, _SCHEMA)
        with self._connect() as db:
            columns = {row[1] for row in db.execute("PRAGMA table_info(credentials)")}
            if "service" not in columns:  # a file from before credentials were bound
                db.execute("ALTER TABLE credentials ADD COLUMN service TEXT NOT NULL DEFAULT ''")
        # Verified against when the staff id is unknown, so both paths cost the same time.
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return sqlite_file.connect(self.path)

    # --- operators -----------------------------------------------------------------------------

    def add_operator(
        self,
        staff_id: str,
        body: str,
        roles: Iterable[Role],
        password: str,
        display_name: str | None = None,
    ) -> Operator:
        op = Operator(
            staff_id=staff_id, body=body, roles=frozenset(roles), display_name=display_name
        )
        with self._connect() as db:
            db.execute(
                "INSERT INTO operators(staff_id, body, roles, display_name, password_hash,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    op.staff_id,
                    op.body,
                    orjson.dumps(sorted(r.value for r in op.roles)).decode(),
                    display_name,
                    self.hasher.hash(password),
                    self.clock(),
                ),
            )
        return op

    def count_operators(self) -> int:
        with self._connect() as db:
            (n,) = db.execute("SELECT COUNT(*) FROM operators").fetchone()
        return int(n)

    def set_disabled(self, staff_id: str, disabled: bool) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE operators SET disabled = ? WHERE staff_id = ?", (int(disabled), staff_id)
            )

    @staticmethod
    def _operator(row: tuple[str, str, str, str | None]) -> Operator:
        staff_id, body, roles, display_name = row
        return Operator(
            staff_id=staff_id,
            body=body,
            roles=frozenset(Role(r) for r in orjson.loads(roles)),
            display_name=display_name,
        )

    def authenticate(self, staff_id: str, password: str) -> Operator | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT staff_id, body, roles, display_name, password_hash, disabled"
                " FROM operators WHERE staff_id = ?",
                (staff_id,),
            ).fetchone()
        stored = row[4] if row else self._dummy_hash
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or row[5]:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self._connect() as db:
                db.execute(
                    "UPDATE operators SET password_hash = ? WHERE staff_id = ?",
                    (self.hasher.hash(password), staff_id),
                )
        return self._operator(row[:4])

    # --- credentials ---------------------------------------------------------------------------

    def issue(
        self, kind: CredentialKind, operator: Operator, ttl_seconds: float
    ) -> IssuedCredential:
        now = self.clock()
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32) if kind == "session" else None
        with self._connect() as db:
            # Housekeeping on the way: credentials long past expiry are of no use to anyone.
            db.execute("DELETE FROM credentials WHERE expires_at < ?", (now - 86400,))
            db.execute(
                "INSERT INTO credentials(token_hash, kind, staff_id, issued_at, expires_at,"
                " csrf_token, service) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    token_digest(token),
                    kind,
                    operator.staff_id,
                    now,
                    now + ttl_seconds,
                    csrf,
                    self.service,
                ),
            )
        return IssuedCredential(token=token, expires_at=now + ttl_seconds, csrf_token=csrf)

    def resolve(self, kind: CredentialKind, token: str) -> ResolvedCredential | None:
        if not token or len(token) > 512:
            return None
        with self._connect() as db:
            row = db.execute(
                "SELECT o.staff_id, o.body, o.roles, o.display_name, c.expires_at, c.csrf_token"
                " FROM credentials c JOIN operators o ON o.staff_id = c.staff_id"
                " WHERE c.token_hash = ? AND c.kind = ? AND c.service = ?"
                " AND c.revoked_at IS NULL AND o.disabled = 0",
                (token_digest(token), kind, self.service),
            ).fetchone()
        if row is None or row[4] <= self.clock():
            return None
        return ResolvedCredential(
            operator=self._operator(row[:4]), expires_at=float(row[4]), csrf_token=row[5]
        )

    def revoke(self, kind: CredentialKind, token: str) -> bool:
        with self._connect() as db:
            cur = db.execute(
                "UPDATE credentials SET revoked_at = ? WHERE token_hash = ? AND kind = ?"
                " AND service = ? AND revoked_at IS NULL",
                (self.clock(), token_digest(token), kind, self.service),
            )
        return cur.rowcount > 0

    # --- lockouts (written and read by shared/web/throttle.py) ---------------------------------

    def lock(self, account: str, client: str, until: float) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO lockouts(account, client, locked_at, until) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(account, client) DO UPDATE SET until = max(until, excluded.until)",
                (account, client, self.clock(), until),
            )

    def locked_until(self, account: str, client: str) -> float | None:
        """The latest end of a lockout that applies to this account from this client."""
        with self._connect() as db:
            (until,) = db.execute(
                "SELECT max(until) FROM lockouts WHERE until > ? AND ("
                " (account = ? AND client IN (?, '')) OR (account = '' AND client = ?))",
                (self.clock(), account, client, client),
            ).fetchone()
        return float(until) if until is not None else None

    def end_if_over(self, account: str, client: str) -> bool:
        """Remove this exact lockout if it has ended; whether there was one to remove."""
        with self._connect() as db:
            cur = db.execute(
                "DELETE FROM lockouts WHERE account = ? AND client = ? AND until <= ?",
                (account, client, self.clock()),
            )
        return cur.rowcount > 0

    def lockouts(self) -> list[Lockout]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT account, client, locked_at, until FROM lockouts WHERE until > ?"
                " ORDER BY locked_at",
                (self.clock(),),
            ).fetchall()
        return [Lockout(str(a), str(c), float(at), float(u)) for a, c, at, u in rows]

    def lift(self, account: str | None = None, client: str | None = None) -> int:
        """End the lockouts of an account (every client) or of a client; returns how many."""
        with self._connect() as db:
            cur = db.execute(
                "DELETE FROM lockouts WHERE (? IS NOT NULL AND account = ?)"
                " OR (? IS NOT NULL AND client = ?)",
                (account, account, client, client),
            )
        return cur.rowcount

    def staff_ids(self) -> list[str]:
        with self._connect() as db:
            return [str(r[0]) for r in db.execute("SELECT staff_id FROM operators")]
