"""``ledger operators`` on a service's real identity file: each command, the temporary password
printed once, refusals named with a non-zero exit, every change recorded as ``cli:<user>``."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from shared.cli.main import app
from shared.web.identity import IdentityStore
from shared.web.roles import Role

runner = CliRunner()
CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture()
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEDGER_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("LEDGER_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("LEDGER_PASSWORD_MEMORY_KIB", "64")
    monkeypatch.setenv("LEDGER_PASSWORD_PARALLELISM", "1")
    monkeypatch.delenv("LEDGER_IDENTITY_DB_PATH", raising=False)
    return tmp_path


def ledger(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["operators", *args])
    return result.exit_code, result.output


def test_the_cli_administers_a_services_identity_store(var_dir: Path) -> None:
    code, out = ledger(
        "add",
        "-s",
        "intake",
        "boss",
        "--body",
        "efficiency-office",
        "-r",
        "admin",
        "--name",
        "张三",
    )
    assert code == 0, out
    password = out.strip().splitlines()[-1]
    store = IdentityStore(var_dir / "intake" / "identity.sqlite3", CHEAP, service="intake")
    op = store.authenticate("boss", password)
    assert op is not None and op.must_change_password and op.roles == {Role.ADMIN}

    steps = [
        ("add", "-s", "intake", "c1", "--body", "efficiency-office", "-r", "intake_clerk"),
        ("roles", "-s", "intake", "c1", "-r", "auditor", "-r", "supervisor"),
        ("body", "-s", "intake", "c1", "city-inspection"),
        ("disable", "-s", "intake", "c1"),
        ("enable", "-s", "intake", "c1"),
        ("reset-password", "-s", "intake", "c1"),
    ]
    for step in steps:
        code, out = ledger(*step)
        assert code == 0, (step, out)
    reset = out.strip().splitlines()[-1]
    assert store.authenticate("c1", reset) is not None

    code, listing = ledger("list", "-s", "intake")
    assert code == 0 and "c1" in listing and "city-inspection" in listing
    code, record = ledger("changes", "-s", "intake", "--staff-id", "c1")
    assert code == 0
    for action in ("created", "roles_changed", "body_changed", "disabled", "enabled"):
        assert action in record
    actor = f"cli:{getpass.getuser()}"
    changes = store.changes()
    assert {c.actor for c in changes} == {actor}
    assert [c.action for c in changes][:2] == ["password_reset", "enabled"]
    assert password not in record and reset not in record


def test_refusals_and_invalid_input_exit_non_zero_and_write_nothing(var_dir: Path) -> None:
    assert (
        ledger("add", "-s", "dispatch", "boss", "--body", "efficiency-office", "-r", "admin")[0]
        == 0
    )
    store = IdentityStore(var_dir / "dispatch" / "identity.sqlite3", CHEAP, service="dispatch")
    before = store.changes()
    code, out = ledger("disable", "-s", "dispatch", "boss")
    assert code == 1 and "no_admin_left" in out
    code, out = ledger("add", "-s", "dispatch", "boss", "--body", "x", "-r", "auditor")
    assert code == 1 and "duplicate_staff_id" in out
    code, out = ledger("enable", "-s", "dispatch", "ghost")
    assert code == 1 and "unknown_operator" in out
    code, out = ledger(
        "add", "-s", "dispatch", "h1", "--body", "efficiency-office", "-r", "unit_handler"
    )
    assert code == 1 and "roles_do_not_fit_body" in out
    code, out = ledger("add", "-s", "dispatch", "bad/id", "--body", "b", "-r", "auditor")
    assert code == 2 and "staff_id" in out and "bad/id" not in out
    code, out = ledger("roles", "-s", "dispatch", "boss", "-r", "emperor")
    assert code == 2
    assert store.changes() == before


def test_an_unknown_service_is_named(var_dir: Path) -> None:
    code, out = ledger("list", "-s", "nosuch")
    assert code == 2 and "no identity store" in out
    assert not (var_dir / "nosuch").exists()


async def test_a_cli_disable_stops_a_running_apps_token_at_once(var_dir: Path) -> None:
    from tests.web_fixtures import assert_problem, bearer, build_app, client, token_for

    app = build_app(var_dir)  # service "testsvc": not declared, but its identity file exists
    async with client(app) as c:
        token = await token_for(c, app, "demo-auditor")
        assert (await c.get("/auth/me", headers=bearer(token))).status_code == 200
        code, out = ledger("disable", "-s", "testsvc", "demo-auditor")
        assert code == 0, out
        assert_problem(await c.get("/auth/me", headers=bearer(token)), 401, "unauthenticated")
    record = app.state.ledger.identity.changes(limit=1)[0]
    assert (record.action, record.actor) == ("disabled", f"cli:{getpass.getuser()}")
