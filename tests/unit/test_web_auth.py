"""Sign-in for the API: bearer tokens issued, expired, revoked; roles checked once per route;
demo operators; nothing open that is not marked public."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends

from services.dispatch.app import create as create_dispatch
from shared.web import Operator, Role, public, require_roles
from shared.web.demo_operators import demo_staff_id
from tests.web_fixtures import (
    DEMO_BODY,
    assert_problem,
    bearer,
    build_app,
    client,
    demo_passwords,
    fast_settings,
    token_for,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def audited_router() -> APIRouter:
    router = APIRouter()

    @router.get("/reports")
    async def reports(operator: Operator = Depends(require_roles(Role.AUDITOR))) -> dict[str, str]:
        return {"by": operator.staff_id}

    @router.get("/anyone")
    async def anyone(operator: Operator = Depends(require_roles())) -> dict[str, str]:
        return {"by": operator.staff_id}

    return router


async def test_command_without_token_is_refused(tmp_path: Path) -> None:
    app = create_dispatch(fast_settings(tmp_path))
    async with client(app) as c:
        r = await c.post("/api/demo/commands", json=DEMO_BODY, headers={"Idempotency-Key": "k"})
    assert_problem(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_token_is_refused(tmp_path: Path) -> None:
    app = create_dispatch(fast_settings(tmp_path))
    async with client(app) as c:
        r = await c.post("/api/demo/commands", json=DEMO_BODY, headers=bearer("forged", "k"))
        r2 = await c.get("/auth/me", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert_problem(r, 401, "unauthenticated")
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert_problem(r2, 401, "unauthenticated")


async def test_expired_token_is_refused(tmp_path: Path) -> None:
    clock = Clock()
    app = build_app(tmp_path, routers=[audited_router()], clock=clock, token_ttl_seconds=600)
    async with client(app) as c:
        token = await token_for(c, app, demo_staff_id(Role.AUDITOR))
        assert (await c.get("/reports", headers=bearer(token))).status_code == 200
        clock.now += 599
        assert (await c.get("/reports", headers=bearer(token))).status_code == 200
        clock.now += 2
        r = await c.get("/reports", headers=bearer(token))
    assert_problem(r, 401, "unauthenticated")


async def test_revoked_token_is_refused(tmp_path: Path) -> None:
    app = build_app(tmp_path, routers=[audited_router()])
    async with client(app) as c:
        token = await token_for(c, app, demo_staff_id(Role.AUDITOR))
        other = await token_for(c, app, demo_staff_id(Role.AUDITOR))
        assert (await c.get("/auth/me", headers=bearer(token))).json()["roles"] == ["auditor"]
        revoked = await c.post("/auth/revoke", headers=bearer(token))
        assert revoked.status_code == 204
        r = await c.get("/reports", headers=bearer(token))
        again = await c.post("/auth/revoke", headers=bearer(token))
        still = await c.get("/reports", headers=bearer(other))
    assert_problem(r, 401, "unauthenticated")
    assert_problem(again, 401, "unauthenticated")
    assert still.status_code == 200  # revoking one token leaves the person's others alone


async def test_wrong_password_and_unknown_staff_id_get_the_same_refusal(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with client(app) as c:
        wrong = await c.post(
            "/auth/token",
            json={"staff_id": demo_staff_id(Role.ADMIN), "password": "SECRET-guess-1"},
        )
        unknown = await c.post(
            "/auth/token", json={"staff_id": "nobody-SECRET", "password": "SECRET-guess-2"}
        )
    for r in (wrong, unknown):
        body = assert_problem(r, 401, "invalid-credentials")
        assert body["title"] == wrong.json()["title"]
        assert "SECRET" not in r.text


async def test_role_mismatch_is_refused(tmp_path: Path) -> None:
    app = create_dispatch(fast_settings(tmp_path))
    async with client(app) as c:
        clerk = await token_for(c, app, demo_staff_id(Role.INTAKE_CLERK))
        officer = await token_for(c, app, demo_staff_id(Role.DISPATCH_OFFICER))
        refused = await c.post("/api/demo/commands", json=DEMO_BODY, headers=bearer(clerk, "k1"))
        accepted = await c.post("/api/demo/commands", json=DEMO_BODY, headers=bearer(officer, "k1"))
    assert_problem(refused, 403, "forbidden")
    assert accepted.status_code == 201, accepted.text


async def test_role_check_on_a_read_route(tmp_path: Path) -> None:
    app = build_app(tmp_path, routers=[audited_router()])
    async with client(app) as c:
        admin = await token_for(c, app, demo_staff_id(Role.ADMIN))
        refused = await c.get("/reports", headers=bearer(admin))
        allowed = await c.get("/anyone", headers=bearer(admin))
    assert_problem(refused, 403, "forbidden")
    assert allowed.json() == {"by": "demo-admin"}


async def test_public_endpoints_answer_without_sign_in(tmp_path: Path) -> None:
    app = create_dispatch(fast_settings(tmp_path))
    async with client(app) as c:
        # Public, and honest: no ledger here, so no projector runs and the service is not
        # ready (tests/integration/test_service_read_model.py has one that is).
        r = await c.get("/readyz")
        assert r.status_code == 503
        assert "projector_lag" in r.text
        for path in (
            "/healthz",
            "/metrics",
            "/docs",
            "/openapi.json",
            "/signin",
            "/static/ledger.css",
        ):
            r = await c.get(path)
            assert r.status_code == 200, (path, r.status_code)
        assert (await c.get("/auth/me")).status_code == 401
        assert (await c.get("/", headers={"accept": "application/json"})).status_code == 401


def test_a_route_neither_signed_in_nor_public_stops_the_app(tmp_path: Path) -> None:
    forgot = APIRouter()

    @forgot.get("/open")
    async def open_route() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="/open"):
        build_app(tmp_path, routers=[forgot])

    marked = APIRouter()

    @marked.get("/open", dependencies=[Depends(public)])
    async def open_marked() -> dict[str, str]:
        return {}

    build_app(tmp_path / "ok", routers=[marked])


def test_misspelt_role_fails_at_declaration() -> None:
    with pytest.raises(ValueError):
        require_roles("dispatcher")


def test_demo_operators_one_per_role_random_and_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(tmp_path, service="intake")
    printed = capsys.readouterr().out
    path = tmp_path / "intake" / "demo-operators.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passwords = demo_passwords(app)
    assert set(passwords) == {demo_staff_id(r) for r in Role}
    assert len(set(passwords.values())) == len(Role)
    assert all(len(p) >= 16 and p in printed for p in passwords.values())

    other = build_app(tmp_path / "elsewhere", service="intake")
    assert set(demo_passwords(other).values()).isdisjoint(passwords.values())
    capsys.readouterr()

    # Second start on the same var dir: nobody new, nothing printed, file untouched.
    build_app(tmp_path, service="intake")
    assert "demo-admin" not in capsys.readouterr().out
    assert demo_passwords(app) == passwords


def test_demo_operators_can_be_turned_off(tmp_path: Path) -> None:
    app = build_app(tmp_path, demo_operators=False)
    assert app.state.ledger.identity.count_operators() == 0
    assert not (tmp_path / "testsvc" / "demo-operators.txt").exists()


async def test_only_hashes_are_stored(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with client(app) as c:
        token = await token_for(c, app, demo_staff_id(Role.ADMIN))
    db_file = tmp_path / "testsvc" / "identity.sqlite3"
    with sqlite3.connect(db_file) as db:
        hashes = [row[0] for row in db.execute("SELECT password_hash FROM operators")]
        dump = "\n".join(db.iterdump())
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert token not in dump
    for password in demo_passwords(app).values():
        assert password not in dump


async def test_disabled_operator_loses_access(tmp_path: Path) -> None:
    app = build_app(tmp_path, routers=[audited_router()])
    async with client(app) as c:
        token = await token_for(c, app, demo_staff_id(Role.AUDITOR))
        app.state.ledger.identity.set_disabled(demo_staff_id(Role.AUDITOR), True)
        r = await c.get("/reports", headers=bearer(token))
    assert_problem(r, 401, "unauthenticated")


async def test_a_route_added_after_create_app_is_audited_at_start_up(tmp_path: Path) -> None:
    app = build_app(tmp_path)

    @app.get("/late")
    async def late() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="/late"):
        async with app.router.lifespan_context(app):
            pass
