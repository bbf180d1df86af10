"""Pages: sign-in form, session cookie, CSRF on every form, sign-out, the zh-CN layout."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from services.intake.app import create as create_intake
from shared.web import Operator, Role, cn_date, cn_datetime, page
from shared.web.context import get_context
from shared.web.demo_operators import demo_staff_id
from shared.web.sessions import safe_next, session_cookie
from tests.web_fixtures import (
    assert_problem,
    build_app,
    client,
    csrf_from,
    demo_passwords,
    fast_settings,
    sign_in_page,
)

HTML = {"accept": "text/html,application/xhtml+xml"}


def form_router(calls: list[str]) -> APIRouter:
    router = APIRouter()

    @router.get("/notes")
    async def notes_page(request: Request, _: Operator = Depends(page())) -> HTMLResponse:
        return get_context(request).pages.render(request, "notes.html")

    @router.post("/notes")
    async def add_note(
        request: Request, operator: Operator = Depends(page(Role.SUPERVISOR))
    ) -> HTMLResponse:
        calls.append(operator.staff_id)
        return HTMLResponse("ok")

    return router


def notes_app(tmp_path: Path, calls: list[str]) -> httpx.AsyncClient:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "notes.html").write_text(
        '{% extends "base.html" %}{% block content %}<form method="post" action="/notes">'
        '<input type="hidden" name="csrf_token" value="{{ csrf_token }}">'
        '<input name="text"><button>保存</button></form>{% endblock %}',
        encoding="utf-8",
    )
    from shared.web import create_app

    app = create_app(
        "notes",
        fast_settings(tmp_path / "var"),
        routers=[form_router(calls)],
        template_dirs=[templates],
    )
    c = client(app)
    c.app = app  # type: ignore[attr-defined]
    return c


async def test_pages_need_sign_in_and_browsers_are_sent_to_the_form(tmp_path: Path) -> None:
    app = create_intake(fast_settings(tmp_path))
    async with client(app) as c:
        r = await c.get("/", headers=HTML)
        api = await c.get("/", headers={"accept": "application/json"})
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?next=%2F"
    assert_problem(api, 401, "unauthenticated")


async def test_sign_in_sets_a_protected_cookie_and_shows_the_layout(tmp_path: Path) -> None:
    app = create_intake(fast_settings(tmp_path))
    staff = demo_staff_id(Role.INTAKE_CLERK)
    async with client(app) as c:
        signed = await sign_in_page(c, app, staff)
        home = await c.get("/", headers=HTML)
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(session_cookie("intake") + "=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert signed.headers["location"] == "/"
    assert home.status_code == 200
    html = home.text
    assert '<html lang="zh-CN">' in html
    assert 'name="viewport"' in html and 'href="/static/ledger.css"' in html
    assert staff in html and "受理员" in html and "退出登录" in html
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", html)
    assert "<script" not in html  # usable without JavaScript
    assert "http://" not in html.replace("http://testserver", "")  # nothing from elsewhere
    assert home.headers["content-security-policy"].startswith("default-src 'none'")
    # The sign-out form carries the session's CSRF token.
    assert csrf_from(html)


async def test_wrong_password_shows_the_form_again_without_echo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_intake(fast_settings(tmp_path))
    async with client(app) as c:
        form = await c.get("/signin", headers=HTML)
        capsys.readouterr()
        r = await c.post(
            "/signin",
            data={
                "staff_id": "SECRET-staff-77",
                "password": "SECRET-pass-77",
                "csrf_token": csrf_from(form.text),
            },
            headers=HTML,
        )
    assert r.status_code == 401
    assert "工号或密码错误" in r.text
    assert "SECRET" not in r.text
    assert session_cookie("intake") not in r.headers.get("set-cookie", "")
    out = capsys.readouterr().out
    assert "signin.failed" in out and "SECRET" not in out


async def test_sign_in_form_without_or_with_wrong_csrf_is_refused(tmp_path: Path) -> None:
    app = create_intake(fast_settings(tmp_path))
    staff = demo_staff_id(Role.INTAKE_CLERK)
    password = demo_passwords(app)[staff]
    async with client(app) as c:
        await c.get("/signin", headers=HTML)  # sets the sign-in cookie
        missing = await c.post("/signin", data={"staff_id": staff, "password": password})
        wrong = await c.post(
            "/signin", data={"staff_id": staff, "password": password, "csrf_token": "forged"}
        )
    for r in (missing, wrong):
        assert r.status_code == 403
        assert session_cookie("intake") + "=" not in r.headers.get("set-cookie", "")


async def test_form_post_without_or_with_wrong_csrf_is_refused(tmp_path: Path) -> None:
    calls: list[str] = []
    c = notes_app(tmp_path, calls)
    app = c.app  # type: ignore[attr-defined]
    staff = demo_staff_id(Role.SUPERVISOR)
    async with c:
        await sign_in_page(c, app, staff)
        form = await c.get("/notes", headers=HTML)
        token = csrf_from(form.text)
        missing = await c.post("/notes", data={"text": "a"})
        wrong = await c.post("/notes", data={"text": "a", "csrf_token": token[:-2] + "xx"})
        html_refusal = await c.post("/notes", data={"text": "a"}, headers=HTML)
        ok = await c.post("/notes", data={"text": "a", "csrf_token": token})
        by_header = await c.post("/notes", data={"text": "b"}, headers={"X-CSRF-Token": token})
    assert_problem(missing, 403, "csrf")
    assert_problem(wrong, 403, "csrf")
    assert html_refusal.status_code == 403 and "表单已失效" in html_refusal.text
    assert ok.status_code == 200 and by_header.status_code == 200
    assert calls == [staff, staff]


async def test_csrf_token_is_tied_to_its_session(tmp_path: Path) -> None:
    calls: list[str] = []
    c = notes_app(tmp_path, calls)
    app = c.app  # type: ignore[attr-defined]
    staff = demo_staff_id(Role.SUPERVISOR)
    async with c, client(app) as other:
        await sign_in_page(c, app, staff)
        await sign_in_page(other, app, staff)
        token_a = csrf_from((await c.get("/notes", headers=HTML)).text)
        token_b = csrf_from((await other.get("/notes", headers=HTML)).text)
        crossed = await other.post("/notes", data={"csrf_token": token_a})
    assert token_a != token_b
    assert_problem(crossed, 403, "csrf")
    assert calls == []


async def test_page_role_check(tmp_path: Path) -> None:
    calls: list[str] = []
    c = notes_app(tmp_path, calls)
    app = c.app  # type: ignore[attr-defined]
    async with c:
        await sign_in_page(c, app, demo_staff_id(Role.AUDITOR))
        token = csrf_from((await c.get("/notes", headers=HTML)).text)
        r = await c.post("/notes", data={"csrf_token": token})
    assert_problem(r, 403, "forbidden")
    assert calls == []


async def test_sign_out_needs_csrf_and_ends_the_session(tmp_path: Path) -> None:
    app = create_intake(fast_settings(tmp_path))
    async with client(app) as c:
        await sign_in_page(c, app, demo_staff_id(Role.ADMIN))
        token = csrf_from((await c.get("/", headers=HTML)).text)
        refused = await c.post("/signout", data={})
        still_in = await c.get("/", headers=HTML)
        out = await c.post("/signout", data={"csrf_token": token})
        after = await c.get("/", headers=HTML)
    assert_problem(refused, 403, "csrf")
    assert still_in.status_code == 200
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert after.status_code == 303  # back to the sign-in form


async def test_a_stolen_cookie_is_dead_after_sign_out(tmp_path: Path) -> None:
    app = create_intake(fast_settings(tmp_path))
    async with client(app) as c:
        await sign_in_page(c, app, demo_staff_id(Role.ADMIN))
        cookie = c.cookies.get(session_cookie("intake"))
        token = csrf_from((await c.get("/", headers=HTML)).text)
        await c.post("/signout", data={"csrf_token": token})
    async with client(app, cookies={session_cookie("intake"): cookie or ""}) as thief:
        r = await thief.get("/", headers=HTML)
    assert r.status_code == 303


async def test_error_page_for_browsers(tmp_path: Path) -> None:
    app = create_intake(fast_settings(tmp_path))
    async with client(app) as c:
        r = await c.get("/no/such/SECRET-path", headers=HTML)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text and "未找到" in r.text
    assert r.headers["x-request-id"] in r.text
    assert "SECRET" not in r.text


async def test_static_css_has_print_and_phone_rules(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with client(app) as c:
        css = (await c.get("/static/ledger.css")).text
    assert "@media print" in css and "@media (max-width" in css
    assert "@import" not in css and "url(" not in css  # no fonts or images from elsewhere


def test_dates_in_chinese_and_shanghai_time() -> None:
    assert cn_date(date(2026, 11, 26)) == "2026年11月26日"
    assert cn_date(date(2026, 1, 5)) == "2026年1月5日"
    # 17:30 UTC on the 25th is already the 26th in Shanghai.
    late = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
    assert cn_date(late) == "2026年11月26日"
    assert cn_datetime(late) == "2026年11月26日 01:30"
    assert cn_datetime(datetime(2026, 11, 26, 6, 5)) == "2026年11月26日 14:05"  # naive = UTC
    ny = timezone(timedelta(hours=-5))
    assert cn_datetime(datetime(2026, 11, 26, 1, 0, tzinfo=ny)) == "2026年11月26日 14:00"
    assert cn_date(None) == ""


def test_only_local_paths_follow_sign_in() -> None:
    # The path only: a query string (what was searched for) does not travel on.
    assert safe_next("/cases?page=2") == "/cases"
    assert safe_next("/cases/C-1") == "/cases/C-1"
    for bad in ("//evil.example/x", "https://evil.example", "/\\evil", "evil", "", None):
        assert safe_next(bad) == "/"
