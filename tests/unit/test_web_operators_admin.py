"""Operator administration through HTTP, on a real app and identity file: a disabled operator's
token and session answer 401 at once and stay dead after re-enabling; a reset password forces a
change at the next sign-in; only administrators get in; bad input is a precise problem that
writes nothing; every change is in the record of changes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI

from shared.web.demo_operators import demo_staff_id
from shared.web.identity import Operator
from shared.web.roles import Role
from shared.web.sessions import page
from tests.web_fixtures import (
    assert_absent,
    assert_problem,
    bearer,
    build_app,
    client,
    csrf_from,
    demo_passwords,
    sign_in_page,
    token_for,
)

ADMIN = demo_staff_id(Role.ADMIN)
AUDITOR = demo_staff_id(Role.AUDITOR)
CLERK = demo_staff_id(Role.INTAKE_CLERK)
HTML = {"accept": "text/html"}


def home_router() -> APIRouter:
    router = APIRouter()

    @router.get("/")
    async def home(operator: Operator = Depends(page())) -> dict[str, str]:
        return {"by": operator.staff_id}

    return router


def admin_app(tmp_path: Path) -> FastAPI:
    return build_app(tmp_path, routers=[home_router()])


class Keys:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, token: str) -> dict[str, str]:
        self.n += 1
        return bearer(token, f"key-{self.n}")


def dump(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


def identity_file(app: FastAPI) -> Path:
    ctx = app.state.ledger
    path: Path = ctx.settings.identity_file(ctx.service)
    return path


async def sign_in_with(c: httpx.AsyncClient, staff_id: str, password: str) -> httpx.Response:
    form = await c.get("/signin", headers=HTML)
    return await c.post(
        "/signin",
        data={
            "staff_id": staff_id,
            "password": password,
            "csrf_token": csrf_from(form.text),
            "next": "/",
        },
        headers=HTML,
    )


async def changes(c: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    r = await c.get("/admin/operator-changes", headers=bearer(token))
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()
    return out


async def test_a_disabled_operators_token_and_session_stop_at_once(tmp_path: Path) -> None:
    app = admin_app(tmp_path)
    key = Keys()
    async with client(app) as admin, client(app) as browser:
        token = await token_for(admin, app, ADMIN)
        auditor_token = await token_for(admin, app, AUDITOR)
        await sign_in_page(browser, app, AUDITOR)
        assert (await admin.get("/auth/me", headers=bearer(auditor_token))).status_code == 200
        assert (await browser.get("/", headers=HTML)).status_code == 200

        r = await admin.post(f"/admin/operators/{AUDITOR}/disable", headers=key(token))
        assert r.status_code == 200, r.text
        assert r.json()["operator"]["status"] == "disabled"
        assert r.json()["change"]["fields"] == {"disabled": [False, True]}
        # The very next request of each credential is refused.
        assert_problem(
            await admin.get("/auth/me", headers=bearer(auditor_token)), 401, "unauthenticated"
        )
        assert_problem(await browser.get("/"), 401, "unauthenticated")
        page = await browser.get("/", headers=HTML)
        assert page.status_code == 303 and page.headers["location"].startswith("/signin")
        refused = await admin.post(
            "/auth/token",
            json={"staff_id": AUDITOR, "password": demo_passwords(app)[AUDITOR]},
        )
        assert_problem(refused, 401, "invalid-credentials")

        r = await admin.post(f"/admin/operators/{AUDITOR}/enable", headers=key(token))
        assert r.status_code == 200 and r.json()["operator"]["status"] == "enabled"
        # Re-enabled: the old token and session stay dead; signing in again works.
        assert_problem(
            await admin.get("/auth/me", headers=bearer(auditor_token)), 401, "unauthenticated"
        )
        assert_problem(await browser.get("/"), 401, "unauthenticated")
        fresh = await token_for(admin, app, AUDITOR)
        assert (await admin.get("/auth/me", headers=bearer(fresh))).status_code == 200
        await sign_in_page(browser, app, AUDITOR)
        assert (await browser.get("/", headers=HTML)).status_code == 200

        record = await changes(admin, token)
    assert [(c["action"], c["staff_id"], c["actor"]) for c in record[:2]] == [
        ("enabled", AUDITOR, ADMIN),
        ("disabled", AUDITOR, ADMIN),
    ]


async def test_a_reset_password_must_be_changed_at_the_next_sign_in(tmp_path: Path) -> None:
    app = admin_app(tmp_path)
    key = Keys()
    async with client(app) as admin, client(app) as browser:
        token = await token_for(admin, app, ADMIN)
        clerk_token = await token_for(admin, app, CLERK)
        r = await admin.post(f"/admin/operators/{CLERK}/reset-password", headers=key(token))
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        temporary = r.json()["temporary_password"]
        assert r.json()["operator"]["must_change_password"] is True
        assert_problem(
            await admin.get("/auth/me", headers=bearer(clerk_token)), 401, "unauthenticated"
        )
        old = demo_passwords(app)[CLERK]
        assert_problem(
            await admin.post("/auth/token", json={"staff_id": CLERK, "password": old}),
            401,
            "invalid-credentials",
        )
        # No API token on a temporary password.
        body = assert_problem(
            await admin.post("/auth/token", json={"staff_id": CLERK, "password": temporary}),
            403,
            "password-change-required",
        )
        assert temporary not in str(body)

        signed = await sign_in_with(browser, CLERK, temporary)
        assert signed.status_code == 303
        # Every page leads to the change-password form first; forms are refused.
        home = await browser.get("/", headers=HTML)
        assert home.status_code == 303
        assert home.headers["location"] == "/account/password?next=%2F"
        form = await browser.get("/account/password", headers=HTML)
        assert form.status_code == 200 and "修改密码" in form.text
        csrf = csrf_from(form.text)
        assert_problem(await browser.get("/"), 403, "password-change-required")

        weak = await browser.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "current_password": temporary,
                "new_password": "short",
                "new_password_again": "short",
                "next": "/",
            },
            headers=HTML,
        )
        assert weak.status_code == 422 and "至少 12 个字符" in weak.text
        wrong = await browser.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "current_password": "not-the-temporary",
                "new_password": "a-good-long-password",
                "new_password_again": "a-good-long-password",
            },
            headers=HTML,
        )
        assert wrong.status_code == 403
        assert (await browser.get("/", headers=HTML)).status_code == 303  # still pending

        done = await browser.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "current_password": temporary,
                "new_password": "a-good-long-password",
                "new_password_again": "a-good-long-password",
                "next": "/",
            },
            headers=HTML,
        )
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert (await browser.get("/", headers=HTML)).status_code == 200
        r = await admin.post(
            "/auth/token", json={"staff_id": CLERK, "password": "a-good-long-password"}
        )
        assert r.status_code == 200, r.text
        record = await changes(admin, token)
    assert [(c["action"], c["actor"]) for c in record[:2]] == [
        ("password_changed", CLERK),
        ("password_reset", ADMIN),
    ]
    assert temporary not in dump(identity_file(app))
    assert "a-good-long-password" not in dump(identity_file(app))


async def test_a_new_operator_gets_a_temporary_password_shown_once(tmp_path: Path) -> None:
    app = admin_app(tmp_path)
    async with client(app) as c:
        token = await token_for(c, app, ADMIN)
        new = {
            "staff_id": "w-0001",
            "body": "unit:roads",
            "roles": ["unit_handler"],
            "display_name": "王五",
        }
        r = await c.post("/admin/operators/create", json=new, headers=bearer(token, "create-1"))
        assert r.status_code == 201, r.text
        assert r.headers["cache-control"] == "no-store"
        password = r.json()["temporary_password"]
        assert r.json()["operator"] == {
            "staff_id": "w-0001",
            "body": "unit:roads",
            "roles": ["unit_handler"],
            "display_name": "王五",
            "status": "enabled",
            "must_change_password": True,
        }
        # The answer is not kept for replay (it holds the password): a retry acts again and
        # finds the operator already there.
        again = await c.post("/admin/operators/create", json=new, headers=bearer(token, "create-1"))
        assert_problem(again, 409, "conflict")
        listed = await c.get("/admin/operators", headers=bearer(token))
        assert {"w-0001", ADMIN} <= {op["staff_id"] for op in listed.json()}
    ctx = app.state.ledger
    assert password not in dump(ctx.settings.idempotency_file(ctx.service))
    assert password not in dump(identity_file(app))


async def test_only_administrators_may_administer(tmp_path: Path) -> None:
    app = admin_app(tmp_path)
    async with client(app) as c, client(app) as browser:
        token = await token_for(c, app, AUDITOR)
        assert_problem(await c.get("/admin/operators", headers=bearer(token)), 403, "forbidden")
        assert_problem(
            await c.get("/admin/operator-changes", headers=bearer(token)), 403, "forbidden"
        )
        r = await c.post(f"/admin/operators/{CLERK}/disable", headers=bearer(token, "k1"))
        assert_problem(r, 403, "forbidden")
        r = await c.post(
            "/admin/operators/create",
            json={"staff_id": "x1", "body": "b", "roles": ["admin"]},
            headers=bearer(token, "k2"),
        )
        assert_problem(r, 403, "forbidden")
        assert_problem(await c.get("/admin/operators"), 401, "unauthenticated")
        await sign_in_page(browser, app, AUDITOR)
        home = await browser.get("/account/password", headers=HTML)
        assert "修改密码" in home.text and "操作员管理" not in home.text
        assert (await browser.get("/operators", headers=HTML)).status_code == 403
        form = await browser.post(
            f"/operators/{CLERK}/disable",
            data={"csrf_token": csrf_from(home.text)},
            headers=HTML,
        )
        assert form.status_code == 403
    assert app.state.ledger.identity.operator(CLERK).disabled is False
    assert [c.action for c in app.state.ledger.identity.changes()] == ["created"] * len(Role)


async def test_bad_input_is_a_precise_problem_that_writes_nothing(tmp_path: Path) -> None:
    app = admin_app(tmp_path)
    key = Keys()
    async with client(app) as c:
        token = await token_for(c, app, ADMIN)
        before = len(app.state.ledger.identity.changes())
        unknown_role = await c.post(
            "/admin/operators/create",
            json={"staff_id": "x-secret-1", "body": "efficiency-office", "roles": ["emperor"]},
            headers=key(token),
        )
        body = assert_problem(unknown_role, 422, "validation")
        assert_absent(["emperor", "x-secret-1"], unknown_role.text)
        assert any(e["location"][:2] == ["body", "roles"] for e in body["errors"])
        duplicate = await c.post(
            "/admin/operators/create",
            json={"staff_id": CLERK, "body": "efficiency-office", "roles": ["auditor"]},
            headers=key(token),
        )
        assert assert_problem(duplicate, 409, "conflict")["reason"] == "duplicate_staff_id"
        last_admin = await c.post(f"/admin/operators/{ADMIN}/disable", headers=key(token))
        assert assert_problem(last_admin, 409, "conflict")["reason"] == "no_admin_left"
        demote = await c.post(
            f"/admin/operators/{ADMIN}/roles", json={"roles": ["auditor"]}, headers=key(token)
        )
        assert assert_problem(demote, 409, "conflict")["reason"] == "no_admin_left"
        ghost = await c.post("/admin/operators/ghost-7/reset-password", headers=key(token))
        assert_problem(ghost, 404, "not-found")
        assert_absent(["ghost-7"], ghost.text)
        misfit = await c.post(
            f"/admin/operators/{CLERK}/roles", json={"roles": ["unit_handler"]}, headers=key(token)
        )
        assert assert_problem(misfit, 409, "conflict")["reason"] == "roles_do_not_fit_body"
        slash = await c.post("/admin/operators/a%2Fb/disable", headers=key(token))
        assert slash.status_code in (404, 422)
        bad_body = await c.post(
            f"/admin/operators/{CLERK}/body", json={"body": "has space"}, headers=key(token)
        )
        assert_problem(bad_body, 422, "validation")
        assert_absent(["has space"], bad_body.text)
        # The administrator is still one, still signed in, and nothing was recorded.
        assert (await c.get("/admin/operators", headers=bearer(token))).status_code == 200
        assert len(await changes(c, token)) == before


async def test_every_change_appears_in_the_record_and_on_the_page(tmp_path: Path) -> None:
    app = admin_app(tmp_path)
    key = Keys()
    async with client(app) as c, client(app) as browser:
        token = await token_for(c, app, ADMIN)
        steps = [
            (
                "/admin/operators/create",
                {"staff_id": "s-1", "body": "efficiency-office", "roles": ["supervisor"]},
            ),
            ("/admin/operators/s-1/roles", {"roles": ["supervisor", "auditor"]}),
            ("/admin/operators/s-1/body", {"body": "city-inspection"}),
            ("/admin/operators/s-1/disable", None),
            ("/admin/operators/s-1/enable", None),
            ("/admin/operators/s-1/reset-password", None),
        ]
        for path, payload in steps:
            r = await c.post(path, json=payload, headers=key(token))
            assert r.status_code in (200, 201), r.text
        record = await changes(c, token)
        mine = [(e["action"], e["actor"]) for e in record if e["staff_id"] == "s-1"]
        assert mine == [
            ("password_reset", ADMIN),
            ("enabled", ADMIN),
            ("disabled", ADMIN),
            ("body_changed", ADMIN),
            ("roles_changed", ADMIN),
            ("created", ADMIN),
        ]
        roles = next(e for e in record if e["action"] == "roles_changed")
        assert roles["fields"] == {"roles": [["supervisor"], ["auditor", "supervisor"]]}
        only = await c.get("/admin/operators/s-1/changes", headers=bearer(token))
        assert [(e["action"], e["actor"]) for e in only.json()] == mine

        await sign_in_page(browser, app, ADMIN)
        own = await browser.get("/account/password", headers=HTML)
        assert 'href="/operators"' in own.text
        page = await browser.get("/operators", headers=HTML)
        assert page.status_code == 200
        assert "变更记录" in page.text and "变更所属机构" in page.text
        assert "city-inspection" in page.text and "督办员 → 审计员、督办员" in page.text


async def test_the_admin_page_forms_change_operators_with_a_csrf_token(tmp_path: Path) -> None:
    app = admin_app(tmp_path)
    async with client(app) as browser, client(app) as api:
        clerk_token = await token_for(api, app, CLERK)
        await sign_in_page(browser, app, ADMIN)
        page = await browser.get("/operators", headers=HTML)
        csrf = csrf_from(page.text)
        forged = await browser.post(f"/operators/{CLERK}/disable", data={}, headers=HTML)
        assert forged.status_code == 403
        assert app.state.ledger.identity.operator(CLERK).disabled is False

        r = await browser.post(
            f"/operators/{CLERK}/disable", data={"csrf_token": csrf}, headers=HTML
        )
        assert r.status_code == 303 and r.headers["location"] == "/operators"
        assert_problem(
            await api.get("/auth/me", headers=bearer(clerk_token)), 401, "unauthenticated"
        )
        listed = await browser.get("/operators", headers=HTML)
        assert "已停用" in listed.text

        created = await browser.post(
            "/operators/create",
            data={
                "csrf_token": csrf,
                "staff_id": "p-9",
                "body": "efficiency-office",
                "roles": ["publication_reviewer", "auditor"],
            },
            headers=HTML,
        )
        assert created.status_code == 200 and "临时密码" in created.text
        assert created.headers["cache-control"] == "no-store"
        op = app.state.ledger.identity.operator("p-9")
        assert op.roles == {Role.PUBLICATION_REVIEWER, Role.AUDITOR} and op.must_change_password

        refused = await browser.post(
            f"/operators/{ADMIN}/disable", data={"csrf_token": csrf}, headers=HTML
        )
        assert refused.status_code == 409 and "没有可用的系统管理员" in refused.text
        invalid = await browser.post(
            "/operators/create",
            data={"csrf_token": csrf, "staff_id": "bad/id", "body": "b", "roles": ["auditor"]},
            headers=HTML,
        )
        assert invalid.status_code == 422 and "工号" in invalid.text
        assert "bad/id" not in invalid.text
        roles = await browser.post(
            "/operators/p-9/roles", data={"csrf_token": csrf, "roles": ["auditor"]}, headers=HTML
        )
        assert roles.status_code == 303
    assert app.state.ledger.identity.operator("p-9").roles == {Role.AUDITOR}
    actions = [c.action for c in app.state.ledger.identity.changes(limit=3)]
    assert actions == ["roles_changed", "created", "disabled"]
