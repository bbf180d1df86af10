"""Operators (persons: staff id, body or unit, roles) and their credentials.

Passwords are argon2id hashes. Bearer tokens and session ids are random 256-bit strings of
which only a SHA-256 digest is stored: they carry full entropy, so a slow hash adds nothing,
and a stolen database yields no usable token.

Every credential is checked against its operator on every request (nothing is cached): a
disabled operator's tokens and sessions stop working on the next request, in every process
sharing the file, and disabling also revokes them, so re-enabling brings none back.

Administration (``operator_changes.py`` decides, this file applies): each change runs in one
write transaction with its entry in the record of changes — who (staff id, or ``cli:<user>``),
when, which operator, which fields from what to what; never a password or a hash.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict

from shared.web import sqlite_file
from shared.web.operator_changes import (
    Action,
    Change,
    ChangeOwnPassword,
    Create,
    Disable,
    Enable,
    OperatorCommand,
    OperatorState,
    Refusal,
    ResetPassword,
    SetBody,
    SetRoles,
    decide,
)
from shared.web.password_policy import temporary_password
from shared.web.roles import Role

CredentialKind = Literal["bearer", "session"]


class Operator(BaseModel):
    model_config = ConfigDict(frozen=True)

    staff_id: str
    body: str
    roles: frozenset[Role]
    display_name: str | None = None
    # Set by an administrator's reset (or creation): pages lead to the change-password form
    # and nothing else; no bearer token is issued until the password is changed.
    must_change_password: bool = False

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


@dataclass(frozen=True)
class ChangeRecord:
    """One entry of the record of changes."""

    seq: int
    at: float
    actor: str  # the administrator's staff id, ``cli:<os user>``, or ``system:…``
    staff_id: str  # the operator changed
    action: Action
    fields: dict[str, list[object]]  # name -> [before, after]; never a password or hash


@dataclass(frozen=True)
class Applied:
    """A change made, its entry in the record, and the temporary password it set (to be shown
    once), if any."""

    change: Change
    record: ChangeRecord
    password: str | None = None


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
-- The record of changes: every administrative change, with who made it and when.
CREATE TABLE IF NOT EXISTS operator_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    action TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS operator_changes_staff ON operator_changes(staff_id, seq);
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


# Columns added after the first files were written: (table, column, definition), in order.
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("credentials", "service", "TEXT NOT NULL DEFAULT ''"),  # credentials bound to a service
    ("operators", "must_change_password", "INTEGER NOT NULL DEFAULT 0"),
)

_OPERATOR_COLUMNS = "staff_id, body, roles, display_name, disabled, must_change_password"


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
        # One write transaction, so two processes starting at once cannot both add a column.
        with self._transaction() as db:
            for table, column, definition in _ADDED_COLUMNS:
                columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                if column not in columns:  # a file from before the column existed
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
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
        actor: str = "system:seed",
    ) -> Operator:
        """Seed an operator with a chosen password (demo operators, tests): recorded like any
        change, but without the administrative rules (``operator_changes.py``); administrators
        create operators with :meth:`create`."""
        state = OperatorState(
            staff_id=staff_id, body=body, roles=frozenset(roles), display_name=display_name
        )
        change = Change("created", None, state, sets_password=True)
        with self._transaction() as db:
            self._write(db, change, self.hasher.hash(password), actor)
        return _operator(state)

    def count_operators(self) -> int:
        with self._connect() as db:
            (n,) = db.execute("SELECT COUNT(*) FROM operators").fetchone()
        return int(n)

    def operators(self) -> list[OperatorState]:
        with self._connect() as db:
            return self._states(db)

    def operator(self, staff_id: str) -> OperatorState | None:
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_OPERATOR_COLUMNS} FROM operators WHERE staff_id = ?", (staff_id,)
            ).fetchone()
        return _state(row) if row else None

    @staticmethod
    def _states(db: sqlite3.Connection) -> list[OperatorState]:
        rows = db.execute(f"SELECT {_OPERATOR_COLUMNS} FROM operators ORDER BY staff_id")
        return [_state(row) for row in rows]

    # --- administration ------------------------------------------------------------------------

    def apply(
        self, command: OperatorCommand, actor: str, password_hash: str | None = None
    ) -> Applied | Refusal:
        """Decide ``command`` against the operators as committed and, unless refused, write the
        change, revoke what it revokes and record it, all in one transaction. A refusal writes
        nothing. ``password_hash`` is required by the commands that set a password."""
        with self._transaction() as db:
            current = {op.staff_id: op for op in self._states(db)}
            outcome = decide(current, command)
            if isinstance(outcome, Refusal):
                return outcome
            if outcome.sets_password and password_hash is None:
                raise ValueError(f"{command.kind} needs a password hash")
            return Applied(outcome, self._write(db, outcome, password_hash, actor))

    def create(
        self,
        staff_id: str,
        body: str,
        roles: Iterable[Role],
        actor: str,
        display_name: str | None = None,
    ) -> Applied | Refusal:
        """A new operator with a temporary password (returned once), to be changed at the
        first sign-in."""
        command = Create(
            staff_id=staff_id, body=body, roles=frozenset(roles), display_name=display_name
        )
        return self._with_temporary_password(command, actor)

    def reset_password(self, staff_id: str, actor: str) -> Applied | Refusal:
        """A fresh temporary password (returned once); every token and session ends, and the
        person chooses a new password at the next sign-in."""
        return self._with_temporary_password(ResetPassword(staff_id=staff_id), actor)

    def _with_temporary_password(
        self, command: Create | ResetPassword, actor: str
    ) -> Applied | Refusal:
        password = temporary_password()
        outcome = self.apply(command, actor, self.hasher.hash(password))
        return replace(outcome, password=password) if isinstance(outcome, Applied) else outcome

    def disable(self, staff_id: str, actor: str) -> Applied | Refusal:
        return self.apply(Disable(staff_id=staff_id), actor)

    def enable(self, staff_id: str, actor: str) -> Applied | Refusal:
        return self.apply(Enable(staff_id=staff_id), actor)

    def set_roles(self, staff_id: str, roles: Iterable[Role], actor: str) -> Applied | Refusal:
        return self.apply(SetRoles(staff_id=staff_id, roles=frozenset(roles)), actor)

    def set_body(self, staff_id: str, body: str, actor: str) -> Applied | Refusal:
        return self.apply(SetBody(staff_id=staff_id, body=body), actor)

    def set_disabled(self, staff_id: str, disabled: bool, actor: str = "system") -> None:
        outcome = (self.disable if disabled else self.enable)(staff_id, actor)
        if isinstance(outcome, Refusal):
            raise ValueError(outcome.kind.value)

    def change_own_password(
        self, staff_id: str, new_password: str, keep_session: str | None = None
    ) -> Applied | Refusal:
        """The person's new password: the must-change flag is cleared and every other token and
        session of theirs ends (``keep_session``, the one they are using, stays)."""
        new_hash = self.hasher.hash(new_password)
        with self._transaction() as db:
            current = {op.staff_id: op for op in self._states(db)}
            outcome = decide(current, ChangeOwnPassword(staff_id=staff_id))
            if isinstance(outcome, Refusal):
                return outcome
            kept = token_digest(keep_session) if keep_session else None
            return Applied(outcome, self._write(db, outcome, new_hash, staff_id, kept))

    def _write(
        self,
        db: sqlite3.Connection,
        change: Change,
        password_hash: str | None,
        actor: str,
        kept_credential: str | None = None,
    ) -> ChangeRecord:
        now = self.clock()
        op = change.after
        roles = orjson.dumps(sorted(r.value for r in op.roles)).decode()
        if change.before is None:
            db.execute(
                "INSERT INTO operators(staff_id, body, roles, display_name, password_hash,"
                " disabled, must_change_password, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    op.staff_id,
                    op.body,
                    roles,
                    op.display_name,
                    password_hash,
                    int(op.disabled),
                    int(op.must_change_password),
                    now,
                ),
            )
        else:
            db.execute(
                "UPDATE operators SET body = ?, roles = ?, display_name = ?, disabled = ?,"
                " must_change_password = ?, password_hash = coalesce(?, password_hash)"
                " WHERE staff_id = ?",
                (
                    op.body,
                    roles,
                    op.display_name,
                    int(op.disabled),
                    int(op.must_change_password),
                    password_hash if change.sets_password else None,
                    op.staff_id,
                ),
            )
        if change.revoke_credentials:
            # Every service's credentials of this person (a shared file serves several).
            db.execute(
                "UPDATE credentials SET revoked_at = ? WHERE staff_id = ? AND revoked_at IS NULL"
                " AND token_hash IS NOT ?",
                (now, op.staff_id, kept_credential),
            )
        fields = change.fields()
        cur = db.execute(
            "INSERT INTO operator_changes(at, actor, staff_id, action, fields)"
            " VALUES (?, ?, ?, ?, ?)",
            (now, actor, op.staff_id, change.action, orjson.dumps(fields).decode()),
        )
        assert cur.lastrowid is not None
        return ChangeRecord(cur.lastrowid, now, actor, op.staff_id, change.action, fields)

    def changes(self, staff_id: str | None = None, limit: int = 200) -> list[ChangeRecord]:
        """The record of changes, newest first (of one operator, or of all)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT seq, at, actor, staff_id, action, fields FROM operator_changes"
                " WHERE ? IS NULL OR staff_id = ? ORDER BY seq DESC LIMIT ?",
                (staff_id, staff_id, limit),
            ).fetchall()
        return [
            ChangeRecord(int(seq), float(at), str(actor), str(sid), action, orjson.loads(fields))
            for seq, at, actor, sid, action, fields in rows
        ]

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # --- sign-in -------------------------------------------------------------------------------

    def authenticate(self, staff_id: str, password: str) -> Operator | None:
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_OPERATOR_COLUMNS}, password_hash FROM operators WHERE staff_id = ?",
                (staff_id,),
            ).fetchone()
        stored = row[6] if row else self._dummy_hash
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        state = _state(row[:6])
        if state.disabled:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self._connect() as db:
                db.execute(
                    "UPDATE operators SET password_hash = ? WHERE staff_id = ?",
                    (self.hasher.hash(password), staff_id),
                )
        return _operator(state)

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
                "SELECT o.staff_id, o.body, o.roles, o.display_name, o.disabled,"
                " o.must_change_password, c.expires_at, c.csrf_token"
                " FROM credentials c JOIN operators o ON o.staff_id = c.staff_id"
                " WHERE c.token_hash = ? AND c.kind = ? AND c.service = ?"
                " AND c.revoked_at IS NULL AND o.disabled = 0",
                (token_digest(token), kind, self.service),
            ).fetchone()
        if row is None or row[6] <= self.clock():
            return None
        return ResolvedCredential(
            operator=_operator(_state(row[:6])), expires_at=float(row[6]), csrf_token=row[7]
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


def _state(row: tuple[str, str, str, str | None, int, int]) -> OperatorState:
    staff_id, body, roles, display_name, disabled, must_change = row
    return OperatorState(
        staff_id=staff_id,
        body=body,
        roles=frozenset(Role(r) for r in orjson.loads(roles)),
        display_name=display_name,
        disabled=bool(disabled),
        must_change_password=bool(must_change),
    )


def _operator(state: OperatorState) -> Operator:
    return Operator(
        staff_id=state.staff_id,
        body=state.body,
        roles=state.roles,
        display_name=state.display_name,
        must_change_password=state.must_change_password,
    )
