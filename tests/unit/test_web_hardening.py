"""The smaller mends: credentials bound to the issuing service, HEAD on health endpoints,
/metrics behind a scrape token, no stock Swagger files, the README's problem types equal to the
code's, a CJK font stack for every desktop, idempotency keys stored only as keyed hashes."""

from __future__ import annotations

import re
import sqlite3
import stat
from pathlib import Path

from services.dispatch.app import create as create_dispatch
from services.intake.app import create as create_intake
from shared.web import Role
from shared.web.demo_operators import demo_staff_id
from shared.web.problems import CATALOGUE, PROBLEM_BASE
from shared.web.sessions import session_cookie
from tests.web_fixtures import (
    DEMO_BODY,
    assert_problem,
    bearer,
    build_app,
    client,
    fast_settings,
    sign_in_page,
    token_for,
)

ROOT = Path(__file__).resolve().parents[2]
HTML = {"accept": "text/html"}


async def test_a_token_works_only_on_the_service_that_issued_it(tmp_path: Path) -> None:
    shared_file = tmp_path / "identity.sqlite3"
    intake = create_intake(fast_settings(tmp_path / "i", identity_db_path=shared_file))
    dispatch = create_dispatch(fast_settings(tmp_path / "d", identity_db_path=shared_file))
    admin = demo_staff_id(Role.ADMIN)
    async with client(intake) as ci, client(dispatch) as cd:
        token = await token_for(ci, intake, admin)
        assert (await ci.get("/auth/me", headers=bearer(token))).status_code == 200
        assert_problem(await cd.get("/auth/me", headers=bearer(token)), 401, "unauthenticated")
        await sign_in_page(ci, intake, admin)
        session = ci.cookies.get(session_cookie("intake")) or ""
    # The same session id presented to dispatch (as if under its cookie name) is nobody.
    async with client(dispatch, cookies={session_cookie("dispatch"): session}) as cd:
        assert (await cd.get("/", headers=HTML)).status_code == 303


async def test_head_answers_on_health_endpoints(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with client(app) as c:
        for path in ("/healthz", "/metrics"):
            r = await c.head(path)
            assert r.status_code == 200, path
        ready = await c.head("/readyz")
    assert ready.status_code == 200  # no readiness checks in this app
    doc = app.openapi()
    assert "head" not in doc["paths"]["/healthz"]


async def test_metrics_can_require_a_scrape_token(tmp_path: Path) -> None:
    app = build_app(tmp_path, metrics_token="scrape-SECRET-1")
    async with client(app) as c:
        missing = await c.get("/metrics")
        wrong = await c.get("/metrics", headers=bearer("nope"))
        ok = await c.get("/metrics", headers=bearer("scrape-SECRET-1"))
    assert_problem(missing, 401, "unauthenticated")
    assert_problem(wrong, 401, "unauthenticated")
    assert "SECRET" not in wrong.text
    assert ok.status_code == 200 and "ledger_http_requests" in ok.text


async def test_only_the_swagger_files_docs_uses_are_served(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with client(app) as c:
        docs = await c.get("/docs")
        served = {
            name: await c.get(f"/docs/assets/{name}")
            for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
        }
        stock = [
            await c.get(f"/docs/assets/{name}")
            for name in ("index.html", "swagger-initializer.js", "oauth2-redirect.html")
        ]
        escape = await c.get("/docs/assets/..%2F..%2Fsettings.py")
    assert docs.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "petstore" not in docs.text
    assert all(r.status_code == 200 for r in served.values())
    for r in (*stock, escape):
        assert_problem(r, 404, "not-found")


def test_readme_lists_exactly_the_problem_types_of_the_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Services and sign-in", 1)[1].split("\n### ", 1)[0]
    listed = re.search(r"under `https://ledger\.example/problems/` \(([^)]*)\)", section)
    assert listed, "the README's problem-type list is missing"
    documented = set(re.findall(r"`([a-z-]+)`", listed.group(1)))
    assert documented == {p.slug for p in CATALOGUE}
    assert PROBLEM_BASE == "https://ledger.example/problems/"


def test_pages_name_a_cjk_font_for_every_desktop() -> None:
    css = (ROOT / "shared/web/static/ledger.css").read_text(encoding="utf-8")
    stack = re.search(r"body \{[^}]*font-family:([^;]*);", css)
    assert stack
    fonts = stack.group(1)
    for font in ("Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei"):
        assert f'"{font}"' in fonts  # Windows, macOS, Linux (Noto; WenQuanYi on older ones)
    assert fonts.strip().endswith("sans-serif")


async def test_idempotency_keys_are_stored_as_keyed_hashes(tmp_path: Path) -> None:
    app = create_dispatch(fast_settings(tmp_path))
    key = "13812345678"
    async with client(app) as c:
        token = await token_for(c, app, demo_staff_id(Role.DISPATCH_OFFICER))
        r = await c.post("/api/demo/commands", json=DEMO_BODY, headers=bearer(token, key))
        again = await c.post("/api/demo/commands", json=DEMO_BODY, headers=bearer(token, key))
    assert r.status_code == 201 and again.json() == r.json()
    with sqlite3.connect(tmp_path / "dispatch" / "idempotency.sqlite3") as db:
        dump = "\n".join(db.iterdump())
        [(stored_key,)] = db.execute("SELECT key FROM idempotency").fetchall()
    assert key not in dump and re.fullmatch(r"[0-9a-f]{64}", stored_key)
    secret = tmp_path / "dispatch" / "service-secret.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_bytes()) == 32
    # Another service, another secret: the same key hashes differently.
    other = create_intake(fast_settings(tmp_path))
    assert other.state.ledger.secret.digest("x", key) != app.state.ledger.secret.digest("x", key)


async def test_sign_in_redirect_drops_the_query_string(tmp_path: Path) -> None:
    app = create_intake(fast_settings(tmp_path))
    async with client(app) as c:
        r = await c.get("/?q=110101199003074218", headers=HTML)
        form = await c.get("/signin?next=/%3Fq%3D13812345678", headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2F"
    assert "13812345678" not in form.text
