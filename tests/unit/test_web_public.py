"""The public-endpoint kit through HTTP: anonymous forms whose token is bound on the server to
the visitor and the form, filed once per token; anonymous JSON submissions keyed by a UUID;
per-client rate limits with 429 and Retry-After; the public layout and its navigation."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from starlette.responses import RedirectResponse, Response

from services.intake.app import create as create_intake
from shared.web import create_app
from shared.web.public_kit import public_form, public_page, render_form, visitor_cookie
from tests.web_fixtures import assert_problem, client, csrf_from, fast_settings

HTML = {"accept": "text/html"}


def filing_router(filed: list[str], templates: Path) -> APIRouter:
    (templates / "complaint.html").write_text(
        '{% extends "public_base.html" %}{% block content %}'
        '<form method="post" action="/complaints">'
        '<input type="hidden" name="csrf_token" value="{{ form_token }}">'
        '<textarea name="text"></textarea></form>{% endblock %}',
        encoding="utf-8",
    )
    router = APIRouter()

    @router.get("/complaints/new", dependencies=[Depends(public_page)])
    async def new(request: Request) -> Response:
        return render_form(request, "complaint.html", "complaint")

    @router.get("/other/new", dependencies=[Depends(public_page)])
    async def other(request: Request) -> Response:
        return render_form(request, "complaint.html", "other")

    @router.post("/complaints", dependencies=[Depends(public_form("complaint"))])
    async def file(text: Annotated[str, Form(min_length=2)]) -> Response:
        receipt = str(uuid.uuid4())
        filed.append(receipt)
        return RedirectResponse(f"/receipts/{receipt}", status_code=303)

    return router


def filing_app(tmp_path: Path, filed: list[str], **overrides: object) -> FastAPI:
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    return create_app(
        "citizens",
        fast_settings(tmp_path / "var", **overrides),  # type: ignore[arg-type]
        routers=[filing_router(filed, templates)],
        template_dirs=[templates],
    )


async def form_token(c: httpx.AsyncClient, path: str = "/complaints/new") -> str:
    r = await c.get(path, headers=HTML)
    assert r.status_code == 200, r.text
    return csrf_from(r.text)


async def test_a_form_posted_twice_with_one_token_files_once(tmp_path: Path) -> None:
    filed: list[str] = []
    app = filing_app(tmp_path, filed)
    async with client(app) as c:
        token = await form_token(c)
        assert c.cookies.get(visitor_cookie("citizens"))
        first = await c.post("/complaints", data={"text": "窗口无人", "csrf_token": token})
        again = await c.post("/complaints", data={"text": "窗口无人", "csrf_token": token})
        changed = await c.post("/complaints", data={"text": "另一件事", "csrf_token": token})
        fresh = await form_token(c)
        second = await c.post("/complaints", data={"text": "窗口无人", "csrf_token": fresh})
    assert first.status_code == 303 and again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert_problem(changed, 409, "idempotency-key-reused")
    assert second.status_code == 303 and second.headers["location"] != first.headers["location"]
    assert len(filed) == 2  # one per token, not one per post


async def test_a_form_without_its_bound_token_is_refused(tmp_path: Path) -> None:
    filed: list[str] = []
    app = filing_app(tmp_path, filed)
    async with client(app) as alice, client(app) as mallory:
        token = await form_token(alice)
        other_form = await form_token(alice, "/other/new")
        await form_token(mallory)  # mallory has a visitor cookie of her own
        missing = await alice.post("/complaints", data={"text": "窗口无人"})
        forged = await alice.post("/complaints", data={"text": "窗口无人", "csrf_token": "1.a.b"})
        tampered = await alice.post(
            "/complaints", data={"text": "窗口无人", "csrf_token": token[:-2] + "00"}
        )
        wrong_form = await alice.post(
            "/complaints", data={"text": "窗口无人", "csrf_token": other_form}
        )
        # Alice's token is bound to Alice's visitor id: useless from another browser…
        stolen = await mallory.post("/complaints", data={"text": "窗口无人", "csrf_token": token})
    # …and from a cross-site post, which carries no visitor cookie of Alice's choosing.
    async with client(app) as cross_site:
        no_cookie = await cross_site.post(
            "/complaints", data={"text": "窗口无人", "csrf_token": token}
        )
    for r in (missing, forged, tampered, wrong_form, stolen, no_cookie):
        assert_problem(r, 403, "csrf")
    assert filed == []


async def test_an_invalid_field_leaves_the_token_usable(tmp_path: Path) -> None:
    filed: list[str] = []
    app = filing_app(tmp_path, filed)
    async with client(app) as c:
        token = await form_token(c)
        short = await c.post("/complaints", data={"text": "x", "csrf_token": token})
        fixed = await c.post("/complaints", data={"text": "窗口无人", "csrf_token": token})
    assert_problem(short, 422, "validation")
    assert fixed.status_code == 303 and len(filed) == 1


async def test_public_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    filed: list[str] = []
    app = filing_app(tmp_path, filed, public_rate_limit="3/minute")
    near = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("198.51.100.1", 1)), base_url="http://t"
    )
    far = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("198.51.100.2", 1)), base_url="http://t"
    )
    async with near, far:
        for _ in range(3):
            assert (await near.get("/complaints/new")).status_code == 200
        limited = await near.get("/complaints/new")
        elsewhere = await far.get("/complaints/new")
    body = assert_problem(limited, 429, "too-many-requests")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert body["retry_after"] == int(limited.headers["retry-after"])
    assert elsewhere.status_code == 200


async def test_anonymous_json_submission_is_keyed_by_a_uuid(tmp_path: Path) -> None:
    app = create_intake(fast_settings(tmp_path))
    body = {"content": "窗口无人", "contact": None}
    key = str(uuid.uuid4())
    async with client(app) as c:
        first = await c.post(
            "/api/public/demo-submissions", json=body, headers={"Idempotency-Key": key}
        )
        again = await c.post(
            "/api/public/demo-submissions", json=body, headers={"Idempotency-Key": key.upper()}
        )
        guessable = await c.post(
            "/api/public/demo-submissions", json=body, headers={"Idempotency-Key": "1"}
        )
        missing = await c.post("/api/public/demo-submissions", json=body)
    assert first.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert_problem(guessable, 422, "validation")
    assert_problem(missing, 422, "validation")


async def test_public_pages_have_their_own_layout_and_navigation(tmp_path: Path) -> None:
    app = create_intake(fast_settings(tmp_path))
    async with client(app) as c:
        home = await c.get("/public", headers=HTML)
        form = await c.get("/public/demo-form", headers=HTML)
        filed = await c.post(
            "/public/demo-form",
            data={"content": "窗口无人", "csrf_token": csrf_from(form.text)},
            headers=HTML,
        )
        receipt = await c.get(filed.headers["location"], headers=HTML)
        not_a_receipt = await c.get("/public/receipts/13812345678", headers=HTML)
    assert home.status_code == 200
    html = home.text
    assert 'aria-label="公众服务导航"' in html and 'href="/public"' in html
    assert 'href="/public/demo-form"' in html
    assert "退出登录" not in html and "<script" not in html
    assert home.headers["content-security-policy"].startswith("default-src 'none'")
    assert filed.status_code == 303 and filed.headers["location"].startswith("/public/receipts/")
    assert receipt.status_code == 200 and "回执编号" in receipt.text
    assert not_a_receipt.status_code == 422 and "13812345678" not in not_a_receipt.text
