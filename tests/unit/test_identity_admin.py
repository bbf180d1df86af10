"""The identity store's administration on a real SQLite file: each action, its credentials,
the record of changes, refusals that write nothing, and the migration of an older file."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from shared.web.identity import Applied, IdentityStore
from shared.web.operator_changes import Refusal, RefusalKind
from shared.web.roles import Role

CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def store(tmp_path: Path, service: str = "svc") -> IdentityStore:
    return IdentityStore(tmp_path / "identity.sqlite3", CHEAP, Clock(), service=service)


def applied(outcome: Applied | Refusal) -> Applied:
    assert isinstance(outcome, Applied), outcome
    return outcome


def seeded(tmp_path: Path) -> IdentityStore:
    s = store(tmp_path)
    s.add_operator("boss", "efficiency-office", [Role.ADMIN], "boss-password-1")
    s.add_operator("clerk", "efficiency-office", [Role.INTAKE_CLERK], "clerk-password-1")
    return s


def dump(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


def test_create_gives_a_temporary_password_that_must_be_changed(tmp_path: Path) -> None:
    s = seeded(tmp_path)
    a = applied(s.create("new1", "efficiency-office", [Role.AUDITOR], "boss", "李四"))
    assert a.password and len(a.password) >= 16
    op = s.authenticate("new1", a.password)
    assert op is not None and op.must_change_password and op.display_name == "李四"
    assert a.record.actor == "boss" and a.record.action == "created"
    assert a.password not in dump(s.path)


def test_disable_ends_every_credential_at_once_and_enable_brings_none_back(
    tmp_path: Path,
) -> None:
    s = seeded(tmp_path)
    clerk = s.authenticate("clerk", "clerk-password-1")
    assert clerk is not None
    token = s.issue("bearer", clerk, 3600).token
    session = s.issue("session", clerk, 3600).token
    # The same person's credential on another service sharing the file ends too.
    other = IdentityStore(s.path, CHEAP, service="other")
    elsewhere = other.issue("bearer", clerk, 3600).token
    applied(s.disable("clerk", "boss"))
    assert s.resolve("bearer", token) is None
    assert s.resolve("session", session) is None
    assert other.resolve("bearer", elsewhere) is None
    assert s.authenticate("clerk", "clerk-password-1") is None
    applied(s.enable("clerk", "boss"))
    assert s.resolve("bearer", token) is None and s.resolve("session", session) is None
    again = s.authenticate("clerk", "clerk-password-1")
    assert again is not None
    assert s.resolve("session", s.issue("session", again, 3600).token) is not None


def test_reset_password_revokes_and_the_old_password_stops(tmp_path: Path) -> None:
    s = seeded(tmp_path)
    clerk = s.authenticate("clerk", "clerk-password-1")
    assert clerk is not None
    token = s.issue("bearer", clerk, 3600).token
    a = applied(s.reset_password("clerk", "boss"))
    assert s.resolve("bearer", token) is None
    assert s.authenticate("clerk", "clerk-password-1") is None
    op = s.authenticate("clerk", a.password or "")
    assert op is not None and op.must_change_password


def test_changing_ones_own_password_keeps_the_session_in_use_only(tmp_path: Path) -> None:
    s = seeded(tmp_path)
    a = applied(s.reset_password("clerk", "boss"))
    op = s.authenticate("clerk", a.password or "")
    assert op is not None
    here = s.issue("session", op, 3600).token
    there = s.issue("session", op, 3600).token
    changed = applied(s.change_own_password("clerk", "a-new-long-password", keep_session=here))
    assert changed.record.actor == "clerk" and changed.record.action == "password_changed"
    kept = s.resolve("session", here)
    assert kept is not None and not kept.operator.must_change_password
    assert s.resolve("session", there) is None
    assert s.authenticate("clerk", a.password or "") is None
    assert s.authenticate("clerk", "a-new-long-password") is not None


def test_roles_and_body_take_effect_on_the_next_request(tmp_path: Path) -> None:
    s = seeded(tmp_path)
    clerk = s.authenticate("clerk", "clerk-password-1")
    assert clerk is not None
    token = s.issue("bearer", clerk, 3600).token
    applied(s.set_roles("clerk", [Role.AUDITOR, Role.SUPERVISOR], "boss"))
    applied(s.set_body("clerk", "city-inspection", "boss"))
    resolved = s.resolve("bearer", token)
    assert resolved is not None
    assert resolved.operator.roles == {Role.AUDITOR, Role.SUPERVISOR}
    assert resolved.operator.body == "city-inspection"


def test_every_change_is_recorded_with_who_when_and_what(tmp_path: Path) -> None:
    s = seeded(tmp_path)
    applied(s.create("h1", "unit:roads", [Role.UNIT_HANDLER], "boss"))
    applied(s.set_roles("clerk", [Role.AUDITOR], "boss"))
    applied(s.disable("clerk", "cli:root"))
    applied(s.enable("clerk", "boss"))
    applied(s.reset_password("clerk", "boss"))
    applied(s.set_body("h1", "unit:water", "boss"))
    record = s.changes()
    assert [(c.action, c.staff_id, c.actor) for c in record] == [
        ("body_changed", "h1", "boss"),
        ("password_reset", "clerk", "boss"),
        ("enabled", "clerk", "boss"),
        ("disabled", "clerk", "cli:root"),
        ("roles_changed", "clerk", "boss"),
        ("created", "h1", "boss"),
        ("created", "clerk", "system:seed"),
        ("created", "boss", "system:seed"),
    ]
    assert [c.seq for c in record] == sorted((c.seq for c in record), reverse=True)
    assert all(a.at > b.at for a, b in itertools.pairwise(record))
    assert record[0].fields == {"body": ["unit:roads", "unit:water"]}
    assert record[4].fields == {"roles": [["intake_clerk"], ["auditor"]]}
    assert record[1].fields == {"must_change_password": [False, True]}
    assert [c.action for c in s.changes("clerk", limit=2)] == ["password_reset", "enabled"]
    text = "\n".join(str(c.fields) for c in record)
    assert "argon2" not in text and "password_hash" not in text


@pytest.mark.parametrize(
    ("act", "kind"),
    [
        (lambda s: s.disable("boss", "boss"), RefusalKind.no_admin_left),
        (lambda s: s.set_roles("boss", [Role.AUDITOR], "boss"), RefusalKind.no_admin_left),
        (lambda s: s.create("clerk", "x", [Role.AUDITOR], "boss"), RefusalKind.duplicate_staff_id),
        (lambda s: s.reset_password("ghost", "boss"), RefusalKind.unknown_operator),
        (lambda s: s.enable("clerk", "boss"), RefusalKind.unchanged),
        (
            lambda s: s.set_roles("clerk", [Role.UNIT_HANDLER], "boss"),
            RefusalKind.roles_do_not_fit_body,
        ),
    ],
)
def test_a_refusal_writes_nothing(tmp_path: Path, act: object, kind: RefusalKind) -> None:
    s = seeded(tmp_path)
    boss = s.authenticate("boss", "boss-password-1")
    assert boss is not None
    token = s.issue("bearer", boss, 3600).token
    before = dump(s.path)
    outcome = act(s)  # type: ignore[operator]
    assert isinstance(outcome, Refusal) and outcome.kind is kind
    assert dump(s.path) == before
    assert s.resolve("bearer", token) is not None


OLD_SCHEMA = """
CREATE TABLE operators (
    staff_id TEXT PRIMARY KEY, body TEXT NOT NULL, roles TEXT NOT NULL, display_name TEXT,
    password_hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
);
CREATE TABLE credentials (
    token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL,
    staff_id TEXT NOT NULL REFERENCES operators(staff_id), issued_at REAL NOT NULL,
    expires_at REAL NOT NULL, revoked_at REAL, csrf_token TEXT
);
"""


def test_an_older_identity_file_is_migrated_in_place_idempotently(tmp_path: Path) -> None:
    path = tmp_path / "identity.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        db.execute(
            "INSERT INTO operators VALUES ('old-admin', 'efficiency-office', '[\"admin\"]',"
            " NULL, ?, 0, 1.0)",
            (CHEAP.hash("old-password-1"),),
        )
    s = IdentityStore(path, CHEAP, service="svc")
    IdentityStore(path, CHEAP, service="svc")  # a second start changes nothing
    with sqlite3.connect(path) as db:
        operators = {row[1] for row in db.execute("PRAGMA table_info(operators)")}
        credentials = {row[1] for row in db.execute("PRAGMA table_info(credentials)")}
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "must_change_password" in operators and "service" in credentials
    assert "operator_changes" in tables
    op = s.authenticate("old-admin", "old-password-1")
    assert op is not None and not op.must_change_password
    assert s.changes() == []
    applied(s.create("new1", "efficiency-office", [Role.AUDITOR], "old-admin"))
    applied(s.disable("new1", "old-admin"))
    assert [c.action for c in s.changes()] == ["disabled", "created"]
